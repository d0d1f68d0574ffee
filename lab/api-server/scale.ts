// A big cluster on the three-node lab: `lab:up --scale-nodes N` makes the API server serve N more
// nodes (lab-sim-0001 ...). Each is an alias of one real lab node, round robin: it carries that
// node's netns, initPid, InternalIP, NIC and labels, so the simulated kubelet runs its probe pods'
// execs in the real node's namespaces and every fact the tool reads still comes from a kernel.
//
// No node of a scaled lab serves spec.podCIDR, the real ones included. A sim node and its real
// node share one kernel, so whichever pod CIDR they list, one sees the other's as a peer CIDR that
// its own kernel routes locally (blackhole or bridge): a true "wrong route" finding on a real
// cluster, a false one here. Nodes without spec.podCIDR are what clusters serve that do not have
// the controller-manager allocate node CIDRs (--allocate-node-cidrs=false; Calico IPAM, which the
// lab's Calico nodes model). node-check then has no peer-route rows to judge, on every node alike.
// The same InternalIP as the real node keeps the NIC check true (the address is on the NIC the
// node script reads). The tool's code stays free of lab special cases; what this costs is in
// docs/lab.md (arp-check sees each InternalIP on several nodes, which is true of the simulation;
// the benchmark does not exercise per-peer route rows).
//
// The agent pods a real node runs (kube-proxy, the CNI's DaemonSet pod) are mirrored onto every
// sim node, so node-check finds "its" kube-proxy as on a real cluster.

import type { LabNode, LabPod, LabState } from '../lab-state.js';

export const SIM_NODE_PREFIX = 'lab-sim-';
export const MAX_SCALE_NODES = 5000;

// Labels of the per-node DaemonSet pods node-check looks for (src/checks/node-check/command.ts).
const AGENT_LABELS: ReadonlyArray<[string, string]> = [
  ['k8s-app', 'kube-proxy'],
  ['k8s-app', 'calico-node'],
  ['app', 'flannel'],
  ['k8s-app', 'cilium'],
];

export class ScaleNodesError extends Error {}

/** "20" -> 20; one clear sentence for anything that is not a whole number in 0..MAX_SCALE_NODES. */
export function parseScaleNodes(text: string, source: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) throw new ScaleNodesError(`${source} must be a whole number of nodes (0..${MAX_SCALE_NODES}), got "${text}"`);
  const n = Number(trimmed);
  if (n > MAX_SCALE_NODES) throw new ScaleNodesError(`${source} must be at most ${MAX_SCALE_NODES}, got ${n}`);
  return n;
}

/** 1 -> "lab-sim-0001"; four digits up to 9999 keep `kubectl get nodes` sorted like the list. */
export function simNodeName(index: number): string {
  return `${SIM_NODE_PREFIX}${String(index).padStart(4, '0')}`;
}

export function isSimNodeName(name: string): boolean {
  return name.startsWith(SIM_NODE_PREFIX);
}

/** The real node a sim node is mapped onto (round robin over the state's real nodes). */
export function realNodeFor(index: number, realNodes: readonly LabNode[]): LabNode {
  const node = realNodes[(index - 1) % realNodes.length];
  if (!node) throw new ScaleNodesError('the lab state has no nodes to map simulated nodes onto');
  return node;
}

export function simNode(index: number, real: LabNode): LabNode {
  const name = simNodeName(index);
  return {
    ...real,
    name,
    podCIDR: '', // see the header: no node serves a pod CIDR in a scaled lab
    labels: {
      // One control plane is enough: sim nodes are workers (the tool reads no role label).
      ...Object.fromEntries(Object.entries(real.labels).filter(([key]) => !key.startsWith('node-role.kubernetes.io/'))),
      'kubernetes.io/hostname': name,
      // Says which real node answers for it: for people reading `kubectl get nodes --show-labels`;
      // the tool does not read it.
      'netdiag-lab/simulated-from': real.name,
    },
  };
}

function isAgentPod(pod: LabPod): boolean {
  return AGENT_LABELS.some(([key, value]) => pod.labels[key] === value);
}

function simPodUid(uid: string, index: number): string {
  // Same shape as a uid, distinct per sim node: the last 4 hex digits carry the index.
  return `${uid.slice(0, -4)}${(index % 0x10000).toString(16).padStart(4, '0')}`;
}

/** The real node's agent pods, renamed as a DaemonSet would name them on the sim node. */
export function mirroredAgentPods(real: LabNode, sim: LabNode, index: number, pods: readonly LabPod[]): LabPod[] {
  return pods
    .filter((p) => p.nodeName === real.name && isAgentPod(p))
    .map((p) => {
      const stem = p.name.replace(/-[a-z0-9]{5}$/, '');
      return { ...p, name: `${stem}-s${String(index).padStart(4, '0')}`, uid: simPodUid(p.uid, index), nodeName: sim.name, labels: { ...p.labels } };
    });
}

/** The state with `count` sim nodes and their agent pods added, and no node's pod CIDR (header). */
export function expandScaleNodes(state: LabState, count: number): LabState {
  if (count <= 0) return state;
  const realNodes = state.nodes.filter((n) => !isSimNodeName(n.name));
  const nodes: LabNode[] = state.nodes.map((n) => ({ ...n, podCIDR: '' }));
  const pods: LabPod[] = [...state.pods];
  for (let index = 1; index <= count; index += 1) {
    const real = realNodeFor(index, realNodes);
    const sim = simNode(index, real);
    nodes.push(sim);
    pods.push(...mirroredAgentPods(real, sim, index, state.pods));
  }
  return { ...state, nodes, pods };
}

/**
 * At most `max` exec commands run at once; the rest wait in arrival order. A real cluster runs
 * each node's script on that node's CPU; on the lab a thousand sim nodes share two cores, and
 * without a bound a thousand concurrent node scripts thrash instead of finishing. Waiting here
 * looks to the client like a busy node (exec open, output later). 0 = no bound.
 */
export class ExecSlots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly max: number) {}

  /** Resolves with a release function once a slot is free. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = (): void => {
        this.running += 1;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.running -= 1;
          this.waiting.shift()?.();
        });
      };
      if (this.max <= 0 || this.running < this.max) grant();
      else this.waiting.push(grant);
    });
  }

  get queued(): number {
    return this.waiting.length;
  }
}
