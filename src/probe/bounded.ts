// A FIFO bound on how many probe pods (and their exec streams) one run has alive at once: a
// 1,000-node cluster must not get 1,000 privileged pods and 1,000 websockets in the same second.
import { InterruptedError } from '../errors.js';

/**
 * Why 25: every slot is a pod create, a watch event stream share, an exec websocket (its own TLS
 * connection, which the API server proxies to the kubelet) and a delete. 25 keeps the client's
 * sockets and memory small and the API server far below its default 400 in-flight requests, and
 * still finishes 1,000 nodes in a few minutes when a probe pod takes about a second per node.
 */
export const DEFAULT_MAX_PARALLEL = 25;

export interface SlotCounts {
  running: number;
  queued: number;
}

export interface Limiter {
  /** Runs task once a slot is free; tasks start in the order they were given. */
  run<T>(task: () => Promise<T>): Promise<T>;
  counts(): SlotCounts;
  /** Queued tasks that have not started reject with `reason`; running ones finish. */
  close(reason: unknown): void;
}

export function createLimiter(maxParallel: number, signal?: AbortSignal): Limiter {
  if (!Number.isInteger(maxParallel) || maxParallel < 1) throw new RangeError(`maxParallel must be a positive integer, not ${maxParallel}`);
  let running = 0;
  let closed: { reason: unknown } | null = null;
  const waiting: Array<{ start: () => void; reject: (err: unknown) => void }> = [];
  const release = () => {
    running -= 1;
    const next = waiting.shift();
    if (next) next.start();
  };
  const close = (reason: unknown) => {
    if (closed) return;
    closed = { reason };
    for (const w of waiting.splice(0)) w.reject(reason);
  };
  signal?.addEventListener('abort', () => close(new InterruptedError('signal')), { once: true });
  if (signal?.aborted) close(new InterruptedError('signal'));
  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const start = () => {
          running += 1;
          let result: Promise<T>;
          try {
            result = task();
          } catch (err) {
            result = Promise.reject(err);
          }
          result.then(resolve, reject).finally(release);
        };
        if (closed) reject(closed.reason);
        else if (running < maxParallel) start();
        else waiting.push({ start, reject });
      });
    },
    counts: () => ({ running, queued: waiting.length }),
    close,
  };
}
