// An in-memory API server for the probe lifecycle: pods that start after a virtual delay and are
// announced on watches, request counts, pods alive at once, and a virtual clock whose sleeps
// complete in time order once nothing else is left to run.
import type { ClusterApi, Node, Pod, PodWatchHandlers, WatchEventType } from '../../src/kube/cluster-api.js';

export class VirtualClock {
  nowMs = 1_700_000_000_000;
  private timers: Array<{ at: number; seq: number; resolve: () => void }> = [];
  private seq = 0;
  private pumping = false;
  now = (): number => this.nowMs;
  sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = { at: this.nowMs + Math.max(0, ms), seq: this.seq++, resolve };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => {
        this.timers = this.timers.filter((t) => t !== timer);
        resolve();
      }, { once: true });
      this.pump();
    });
  /** Runs fn at virtual time now+ms. */
  later(ms: number, fn: () => void): void {
    void this.sleep(ms).then(fn);
  }
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    // setImmediate runs after every pending promise job: only then is the program idle.
    const step = () => {
      if (this.timers.length === 0) {
        this.pumping = false;
        return;
      }
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      this.nowMs = Math.max(this.nowMs, next.at);
      next.resolve();
      setImmediate(step);
    };
    setImmediate(step);
  }
}

export interface FakeClusterOptions {
  nodes: string[];
  podStartMs?: number;
  /** The watch is refused with this HTTP status (the client must poll). */
  watchRefused?: number;
  /** createPod answers with this HTTP status. */
  createRefused?: number;
  /** The dry run passes although real creates are refused (a webhook that skips dry runs). */
  dryRunPasses?: boolean;
  /** Pods created on these nodes are deleted (by "someone else") before they run. */
  deletedBeforeRunning?: string[];
  /** Every request waits this long (virtual time) before it is answered: a remote API server. */
  latencyMs?: number;
  /** At these virtual times (ms after the cluster was made) every open watch is cut (a dropped connection). */
  dropWatchesAtMs?: number[];
  /**
   * How a watch from an old resourceVersion is answered once events after it exist: 'replay' sends
   * what it missed; 'gone-event' an ERROR event with a 410 Status, then the stream ends; 'gone-status'
   * refuses the request with HTTP 410 (both: "resourceVersion too old", the history was compacted).
   */
  oldResourceVersion?: 'replay' | 'gone-event' | 'gone-status';
}

const apiError = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });

export class FakeCluster {
  readonly clock = new VirtualClock();
  readonly requests: string[] = [];
  readonly pods = new Map<string, Pod>();
  alivePeak = 0;
  createdTotal = 0;
  private watches = new Set<{ selector: [string, string]; handlers: PodWatchHandlers }>();
  /** Every event so far; a pod's resourceVersion is the index of its last event, counted from 1. */
  private history: Array<{ type: WatchEventType; pod: Pod }> = [];
  /** The resourceVersion each watch request asked for (undefined: from the current state). */
  readonly watchFrom: Array<string | undefined> = [];

  constructor(private readonly options: FakeClusterOptions) {
    for (const at of options.dropWatchesAtMs ?? []) {
      this.clock.later(at, () => {
        const open = [...this.watches];
        this.watches.clear();
        for (const w of open) w.handlers.ended(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      });
    }
  }

  /** Virtual time at which each request was sent. */
  readonly sentAt: Array<{ what: string; atMs: number }> = [];
  private count(what: string): Promise<void> {
    this.requests.push(what);
    this.sentAt.push({ what, atMs: this.clock.nowMs });
    return this.options.latencyMs ? this.clock.sleep(this.options.latencyMs) : Promise.resolve();
  }
  countOf(what: string): number {
    return this.requests.filter((r) => r === what).length;
  }

  private announce(type: WatchEventType, pod: Pod): void {
    this.history.push({ type, pod: structuredClone(pod) });
    pod.metadata = { ...pod.metadata, resourceVersion: String(this.history.length) };
    this.history.at(-1)!.pod.metadata = { ...pod.metadata };
    for (const w of this.watches) {
      if (pod.metadata?.labels?.[w.selector[0]] === w.selector[1]) w.handlers.event(type, structuredClone(pod));
    }
  }

  private node(name: string): Node {
    return { metadata: { name, labels: { 'kubernetes.io/os': 'linux' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  }

  api(): ClusterApi {
    const unused = (what: string) => () => Promise.reject(new Error(`${what} is not used by the probe lifecycle`));
    const api: ClusterApi = {
      server: 'https://fake:6443',
      contextName: 'fake',
      defaultNamespace: 'default',
      readPod: async (_ns, name) => {
        await this.count('get pods');
        const pod = this.pods.get(name);
        if (!pod) throw apiError(404);
        return structuredClone(pod);
      },
      listPods: async () => {
        await this.count('list pods');
        return [];
      },
      readNode: async (name) => {
        await this.count('get nodes');
        if (!this.options.nodes.includes(name)) throw apiError(404);
        return this.node(name);
      },
      listNodes: async () => {
        await this.count('list nodes');
        return this.options.nodes.map((n) => this.node(n));
      },
      readService: unused('readService'),
      listServices: unused('listServices'),
      listEndpointSlices: unused('listEndpointSlices'),
      readConfigMap: unused('readConfigMap'),
      readPodLog: unused('readPodLog'),
      readNamespace: async (name) => {
        await this.count('get namespaces');
        return { metadata: { name } };
      },
      listNamespaces: unused('listNamespaces'),
      listNetworkPolicies: unused('listNetworkPolicies'),
      createPod: async (_ns, pod, opts) => {
        if (opts?.dryRun) {
          // Admission is asked, nothing is stored (dryRun=All).
          await this.count('create pods (dry run)');
          if (this.options.createRefused && !this.options.dryRunPasses) throw apiError(this.options.createRefused);
          return structuredClone(pod);
        }
        await this.count('create pods');
        if (this.options.createRefused) throw apiError(this.options.createRefused);
        const name = pod.metadata!.name!;
        const stored: Pod = structuredClone({ ...pod, status: { phase: 'Pending' } });
        this.pods.set(name, stored);
        this.createdTotal += 1;
        this.alivePeak = Math.max(this.alivePeak, this.pods.size);
        this.announce('ADDED', stored);
        const node = pod.spec?.nodeName ?? '';
        this.clock.later(this.options.podStartMs ?? 300, () => {
          const current = this.pods.get(name);
          if (!current) return;
          if (this.options.deletedBeforeRunning?.includes(node)) {
            this.pods.delete(name);
            this.announce('DELETED', current);
            return;
          }
          current.status = { phase: 'Running', containerStatuses: [{ name: 'probe', ready: true, restartCount: 0, image: '', imageID: '', state: { running: { startedAt: new Date(this.clock.nowMs) } } }] };
          this.announce('MODIFIED', current);
        });
        return structuredClone(stored);
      },
      deletePod: async (_ns, name) => {
        await this.count('delete pods');
        const pod = this.pods.get(name);
        if (!pod) return;
        this.pods.delete(name);
        this.announce('DELETED', pod);
      },
      watchPods: (_ns, labelSelector, rv, handlers) => {
        void this.count('watch pods');
        this.watchFrom.push(rv);
        const [key = '', value = ''] = labelSelector.split('=');
        const entry = { selector: [key, value] as [string, string], handlers };
        const matches = (pod: Pod) => pod.metadata?.labels?.[key] === value;
        if (this.options.watchRefused) {
          const code = this.options.watchRefused;
          this.clock.later(0, () => handlers.ended(apiError(code)));
          return { stop: () => undefined };
        }
        const missed = rv === undefined ? [] : this.history.slice(Number(rv)).filter((e) => matches(e.pod));
        const how = this.options.oldResourceVersion ?? 'replay';
        if (missed.length > 0 && how !== 'replay') {
          this.clock.later(0, () => {
            if (how === 'gone-status') return handlers.ended(apiError(410));
            handlers.event('ERROR', { kind: 'Status', status: 'Failure', code: 410, reason: 'Expired', message: `too old resource version: ${rv}` } as Pod);
            handlers.ended(null);
          });
          return { stop: () => undefined };
        }
        this.watches.add(entry);
        this.clock.later(0, () => {
          if (!this.watches.has(entry)) return;
          // From a resourceVersion: what happened since. Without one: the current state as ADDED.
          if (rv !== undefined) for (const e of missed) handlers.event(e.type, structuredClone(e.pod));
          else for (const pod of this.pods.values()) if (matches(pod)) handlers.event('ADDED', structuredClone(pod));
        });
        return { stop: () => void this.watches.delete(entry) };
      },
      exec: async (_ns, pod) => {
        await this.count('create pods/exec');
        if (!this.pods.has(pod)) throw apiError(404);
        await this.clock.sleep(100);
        return { exitCode: 0, stdout: `output of ${pod}\n`, stderr: '', stdoutBytes: 0 };
      },
    };
    return api;
  }
}
