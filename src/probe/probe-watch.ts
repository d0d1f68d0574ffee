// One watch on the run's label instead of reading every probe pod every 250 ms: the pods' states
// arrive as events and each waiting node is woken when its pod changes. The watch is restarted
// from the last resourceVersion when it ends (from the current state after 410 Gone); if it cannot run at all (no watch permission, a
// proxy that cuts streams), waiting nodes fall back to reading their pod (every 250 ms).
import type { ClusterApi, Pod } from '../kube/cluster-api.js';
import { httpStatusOf } from '../kube/api-error.js';

export type PodSeen = { kind: 'pod'; pod: Pod; atMs: number } | { kind: 'deleted'; atMs: number };

export interface ProbePodBoard {
  latest(podName: string): PodSeen | undefined;
  /** What a direct read found, so waiters and the board agree. */
  record(podName: string, seen: PodSeen): void;
  /** True while the watch is (or is being) established; false once it gave up. */
  watching(): boolean;
  /** Resolves when podName changes, the watch state changes, at untilMs, or on abort. */
  changed(podName: string, untilMs: number, signal: AbortSignal): Promise<void>;
  stop(): void;
}

export interface BoardDeps {
  api: ClusterApi;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const RESTART_BACKOFF_MS = [250, 1000, 2000, 5000];

export function watchProbePods(namespace: string, labelSelector: string, deps: BoardDeps): ProbePodBoard {
  const seen = new Map<string, PodSeen>();
  const waiters = new Map<string, Set<() => void>>();
  const stopped = new AbortController();
  let resourceVersion: string | undefined;
  let giveUp = false;
  let failures = 0;
  let current: { stop(): void } | null = null;

  const wake = (podName: string | null) => {
    const sets = podName === null ? [...waiters.values()] : [waiters.get(podName) ?? new Set<() => void>()];
    for (const set of sets) for (const w of [...set]) w();
  };
  const start = () => {
    if (stopped.signal.aborted) return;
    current = deps.api.watchPods(namespace, labelSelector, resourceVersion, {
      event: (type, obj) => {
        failures = 0;
        if (type === 'ERROR') {
          // 410 Gone: our resourceVersion is too old; start over with the current state.
          resourceVersion = undefined;
          return;
        }
        const rv = obj.metadata?.resourceVersion;
        if (rv) resourceVersion = rv;
        const name = obj.metadata?.name;
        if (type === 'BOOKMARK' || !name) return;
        seen.set(name, type === 'DELETED' ? { kind: 'deleted', atMs: deps.now() } : { kind: 'pod', pod: obj, atMs: deps.now() });
        wake(name);
      },
      ended: (err) => {
        if (stopped.signal.aborted) return;
        const status = err === null ? null : httpStatusOf(err) ?? (err as { statusCode?: number }).statusCode ?? null;
        // Not allowed or not served: polling is the only way; a dropped stream is worth a restart.
        if (status === 401 || status === 403 || status === 404 || status === 405) giveUp = true;
        // 410 as the answer itself (not as an ERROR event): resuming from this version can never
        // work again, so the next watch starts from the current state (it lists every pod first).
        if (status === 410) resourceVersion = undefined;
        failures += err === null ? 0 : 1;
        if (failures > RESTART_BACKOFF_MS.length) giveUp = true;
        wake(null);
        if (giveUp) return;
        const delay = RESTART_BACKOFF_MS[Math.max(0, failures - 1)] ?? 5000;
        void deps.sleep(err === null ? 0 : delay, stopped.signal).then(start);
      },
    });
  };
  start();

  return {
    latest: (podName) => seen.get(podName),
    record: (podName, s) => {
      const prior = seen.get(podName);
      if (!prior || prior.atMs <= s.atMs) seen.set(podName, s);
    },
    watching: () => !giveUp,
    changed: (podName, untilMs, signal) =>
      new Promise<void>((resolve) => {
        const timer = new AbortController();
        let set = waiters.get(podName);
        if (!set) waiters.set(podName, (set = new Set()));
        const done = () => {
          set!.delete(done);
          if (set!.size === 0) waiters.delete(podName);
          timer.abort();
          signal.removeEventListener('abort', done);
          resolve();
        };
        set.add(done);
        signal.addEventListener('abort', done, { once: true });
        void deps.sleep(Math.max(0, untilMs - deps.now()), AbortSignal.any([timer.signal, signal])).then(() => {
          if (!timer.signal.aborted) done();
        });
      }),
    stop: () => {
      stopped.abort();
      current?.stop();
      wake(null);
    },
  };
}
