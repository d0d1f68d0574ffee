// A private simulated API server per test file: faults set here never touch the shared lab server
// that other engineers' tests use. It serves the real lab's state (.lab/topology.json, copied so a
// test may edit its copy), and its probe pods still exec into the lab's real node namespaces.
// The plugin runs through the real kubectl binary with KUBECONFIG pointing at this server.
//
// The server runs inside the mocha process: never block the event loop while the plugin runs
// (no execFileSync against it), or the server cannot answer.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type LabApiServer, type ProbePodSummary } from '../../lab/api-server/server.js';
import type { LabFaults } from '../../lab/api-server/faults.js';
import { LAB_DIR, REPO, operatorEnv } from './lab-harness.js';

export interface PluginResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export type FaultsInput = { [K in keyof LabFaults]?: LabFaults[K] | (K extends 'rejectPodCreate' ? boolean : never) };

export interface ServerRequest {
  method: string;
  path: string;
}

export interface RunningPlugin {
  child: ChildProcess;
  stderr(): string;
  /** Resolves when stderr matches (or rejects after timeoutMs). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<PluginResult>;
}

export interface PrivateLab {
  server: LabApiServer;
  dir: string;
  kubeconfig: string;
  statePath: string;
  /** Replaces the fault set (like PUT /_lab/faults, same JSON: `rejectPodCreate: true` too); `{}` is clean. */
  setFaults(faults: FaultsInput): void;
  /** Probe pods the server still holds (its own bookkeeping: the authority on leftovers). */
  probePods(): ProbePodSummary[];
  /** Resolves at the next request whose method and path match. */
  nextRequest(method: string, path: RegExp, timeoutMs?: number): Promise<ServerRequest>;
  run(args: readonly string[], options?: RunOptions): Promise<PluginResult>;
  start(args: readonly string[], options?: RunOptions): RunningPlugin;
  /** Real kubectl against this server (asynchronous: the server shares our event loop). */
  kubectl(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * The directory whose kubectl-netdiag kubectl runs: the repo's bin/ (the built dist/), or
 * NETDIAG_TEST_BIN when set (a private build, so another engineer's rebuild cannot pull dist/
 * away mid-run).
 */
export function pluginBinDir(): string {
  return process.env.NETDIAG_TEST_BIN ?? join(REPO, 'bin');
}

export async function startPrivateLab(): Promise<PrivateLab> {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-private-api-'));
  const statePath = join(dir, 'topology.json');
  copyFileSync(join(LAB_DIR, 'topology.json'), statePath);
  const waiters: Array<{ method: string; path: RegExp; resolve: (r: ServerRequest) => void }> = [];
  const server = await startApiServer({
    statePath,
    dir,
    port: 0,
    onRequest: (method, path) => {
      for (const w of [...waiters]) {
        if (w.method === method && w.path.test(path)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve({ method, path });
        }
      }
    },
  });
  const kubeconfig = server.kubeconfigPath;

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    ...operatorEnv(),
    PATH: `${pluginBinDir()}:${process.env.PATH ?? ''}`,
    KUBECONFIG: kubeconfig,
    NO_COLOR: '1',
    ...extra,
  });

  const start = (args: readonly string[], options: RunOptions = {}): RunningPlugin => {
    const started = Date.now();
    const child = spawn('kubectl', ['netdiag', ...args], { env: env(options.env) });
    let stdout = '';
    let stderr = '';
    const stderrListeners = new Set<() => void>();
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      for (const l of [...stderrListeners]) l();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    const done = new Promise<PluginResult>((resolve) => {
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, signal, stdout, stderr, elapsedMs: Date.now() - started });
      });
    });
    const waitForStderr = (pattern: RegExp, timeoutMs = 30_000): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(stderr)) {
            stderrListeners.delete(check);
            clearTimeout(t);
            resolve();
          }
        };
        const t = setTimeout(() => {
          stderrListeners.delete(check);
          reject(new Error(`stderr never matched ${pattern}; it was:\n${stderr}`));
        }, timeoutMs);
        stderrListeners.add(check);
        check();
      });
    return { child, stderr: () => stderr, waitForStderr, done };
  };

  return {
    server,
    dir,
    kubeconfig,
    statePath,
    setFaults: (faults) => void server.faults.set(faults as Partial<LabFaults>), // parsed like the PUT body
    probePods: () => server.probePods(),
    nextRequest: (method, path, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const waiter = { method, path, resolve: (r: ServerRequest) => { clearTimeout(t); resolve(r); } };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no ${method} ${path} request within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      }),
    run: (args, options) => start(args, options).done,
    start,
    kubectl: (args) =>
      new Promise((resolve, reject) => {
        execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
          if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`));
          else resolve(stdout);
        });
      }),
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` holds, polling; rejects with `what` after timeoutMs. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A stack trace or an unhandled-exception dump: never acceptable in the CLI's output. */
export const STACK_TRACE = /^\s+at .+[:(]\d+|node:internal|UnhandledPromiseRejection|TypeError|ReferenceError/m;
