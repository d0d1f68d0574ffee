// What the simulated API server holds between requests: the lab state read from disk, the fault
// set, the object store built from both, the probe pods created through the API and their exec
// sockets, and the hooks that keep the nodes' NetworkPolicy programming in step with the store.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { release } from 'node:os';
import type { WebSocket } from 'ws';
import type { LabNode, LabState } from '../lab-state.js';
import { LAB_USER_NAME } from './certs.js';
import { ExecReplay } from './exec-replay.js';
import { defaultFaults, isForbidden, parseFaults, type LabFaults } from './faults.js';
import { SimulatedKubelet } from './kubelet.js';
import { buildLabObjects, type KubeObject, type NodeHostInfo } from './objects.js';
import { STATE_RESOURCE_NAMES } from './resources.js';
import { ExecSlots, expandScaleNodes } from './scale.js';
import { LabStats } from './stats.js';
import { forbidden, internalError } from './status.js';
import { ObjectStore } from './store.js';
import type { ApiServerOptions, NetworkPolicyChange, ProbePodSummary } from './server.js';

function readHostInfo(): NodeHostInfo {
  let osImage = 'Debian GNU/Linux 12 (bookworm)';
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) osImage = m[1];
  } catch {
    // keep the default
  }
  return { kernelVersion: release(), osImage };
}

export function parseLabState(text: string, source: string): LabState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`lab state ${source} is not JSON: ${(err as Error).message}`);
  }
  const state = parsed as Partial<LabState>;
  for (const key of ['nodes', 'pods', 'services', 'configMaps', 'namespaces'] as const) {
    if (!Array.isArray(state[key])) throw new Error(`lab state ${source} has no "${key}" list`);
  }
  if (typeof state.createdAt !== 'string') throw new Error(`lab state ${source} has no "createdAt"`);
  return {
    serviceCIDR: '', clusterCIDR: '', clusterDomain: 'cluster.local', dnsServiceIP: '', upstreamDnsIP: '',
    ...state,
  } as LabState;
}

async function readLabState(statePath: string, scaleNodes: number): Promise<LabState> {
  let text: string;
  try {
    text = await readFile(statePath, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the lab state ${statePath} (${(err as NodeJS.ErrnoException).code ?? 'error'}); run the lab builder first or pass --state`);
  }
  return expandScaleNodes(parseLabState(text, statePath), scaleNodes);
}

export class LabCluster {
  faults: LabFaults = defaultFaults();
  readonly store = new ObjectStore();
  readonly probeUids = new Set<string>();
  readonly deletedLabUids = new Set<string>();
  readonly execSessions = new Map<string, Set<WebSocket>>(); // pod uid -> open exec sockets
  readonly openWatches = new Set<ServerResponse>();
  readonly kubelet: SimulatedKubelet;
  readonly stats: LabStats;
  readonly execSlots: ExecSlots;
  readonly execReplay: ExecReplay | null;
  readonly now: () => Date;
  private readonly host: NodeHostInfo;
  // One reprogramming at a time, each with the store as it is when it starts.
  private programming: Promise<void> = Promise.resolve();

  static async open(statePath: string, options: ApiServerOptions): Promise<LabCluster> {
    return new LabCluster(await readLabState(statePath, options.scaleNodes ?? 0), statePath, options);
  }

  private constructor(public state: LabState, private readonly statePath: string, private readonly options: ApiServerOptions) {
    this.now = options.now ?? (() => new Date());
    this.host = options.hostInfo ?? readHostInfo();
    this.kubelet = new SimulatedKubelet({ store: this.store, faults: () => this.faults, labNode: (name) => this.labNode(name), now: this.now });
    this.stats = new LabStats(this.now);
    this.execSlots = new ExecSlots(options.execSlots ?? 0);
    this.execReplay = options.scaleExec === 'replay' ? new ExecReplay() : null;
    this.rebuild();
  }

  labNode(name: string): LabNode | null {
    return this.state.nodes.find((n) => n.name === name) ?? null;
  }

  rebuild(): void {
    const objects = buildLabObjects(this.state, this.faults, this.host, this.deletedLabUids);
    for (const resource of STATE_RESOURCE_NAMES) {
      this.store.sync(resource, objects[resource], (obj) => !(resource === 'pods' && this.probeUids.has(obj.metadata.uid)));
    }
  }

  async reload(): Promise<void> {
    this.state = await readLabState(this.statePath, this.options.scaleNodes ?? 0);
    this.rebuild();
  }

  policiesChanged(): Promise<void> {
    const hook = this.options.onNetworkPoliciesChanged;
    if (!hook) return Promise.resolve();
    const run = async (): Promise<void> => {
      const namespaceLabels = Object.fromEntries(this.store.list('namespaces', null).map((ns) => [ns.metadata.name, { ...(ns.metadata.labels ?? {}) }]));
      const change: NetworkPolicyChange = { state: this.state, policies: this.store.list('networkpolicies', null), namespaceLabels };
      await hook(change);
    };
    this.programming = this.programming.then(run, run);
    return this.programming.catch((err: unknown) => {
      throw internalError(`the lab could not program NetworkPolicy into the nodes: ${(err as Error).message}`);
    });
  }

  setFaults(input: unknown): LabFaults {
    this.faults = parseFaults(input);
    this.rebuild();
    // Namespace labels may have changed what a namespaceSelector selects.
    if (this.store.list('networkpolicies', null).length > 0) void this.policiesChanged().catch(() => undefined);
    return this.faults;
  }

  probePods(): ProbePodSummary[] {
    return this.store.list('pods', null).filter((p) => this.probeUids.has(p.metadata.uid)).map((p: KubeObject) => ({
      namespace: p.metadata.namespace ?? '',
      name: p.metadata.name,
      uid: p.metadata.uid,
      nodeName: (p.spec as { nodeName?: string }).nodeName ?? null,
      phase: (p.status as { phase?: string } | undefined)?.phase ?? 'Pending',
    }));
  }

  checkForbidden(verb: string, resource: string, group: string, namespace: string | null, name: string | null): void {
    if (isForbidden(this.faults, verb, resource, namespace)) throw forbidden({ user: LAB_USER_NAME, verb, resource, group, namespace, name });
  }
}
