// Every side effect a command may have, built once in the entry point (main.ts) and passed in.
// Nothing else reads process.*, the clock or randomness, so tests drive commands with plain values.
import type { ClusterApi } from '../kube/cluster-api.js';
import type { KubeconfigOptions } from '../kube/kubeconfig.js';

import type { OutputStream } from '../render/output-stream.js';

export type { OutputStream };

export interface ConnectOptions extends KubeconfigOptions {
  requestTimeoutMs: number | null;
}

export interface Deps {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
  now(): number;
  randomSuffix(): string; // 5 chars of [a-z0-9], like kubectl's name suffixes
  randomToken(): string; // frames the node script's output
  /** Aborted on SIGINT/SIGTERM; everything long-running listens to it. */
  signal: AbortSignal;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  connect(options: ConnectOptions): Promise<ClusterApi>;
  readFile(path: string): Promise<string>;
  writeFile(path: string, text: string): Promise<void>;
  mkdir(path: string): Promise<void>;
}
