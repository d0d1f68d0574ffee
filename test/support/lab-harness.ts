// What lab and e2e tests share: whether the lab is up, its state, running the plugin through the
// real kubectl binary, and reading what the kernel itself says (never the lab's bookkeeping).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LabState } from '../../lab/lab-state.js';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const LAB_DIR = join(REPO, '.lab');
export const KUBECONFIG = join(LAB_DIR, 'kubeconfig');
const STATE = join(LAB_DIR, 'topology.json');

/** Why lab tests cannot run here, or null when they can. */
export function labUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'lab tests need root (network namespaces)';
  if (!existsSync(STATE) || !existsSync(KUBECONFIG)) return 'the lab is not up (run: npm run lab:up)';
  return null;
}

export function skipUnlessLab(ctx: Mocha.Context): void {
  const reason = labUnavailableReason();
  if (reason) {
    // mocha marks the test pending; the reason goes to the log once.
    if (!skipUnlessLab.said) process.stderr.write(`skipping lab/e2e tests: ${reason}\n`);
    skipUnlessLab.said = true;
    ctx.skip();
  }
}
skipUnlessLab.said = false;

/** Rebuilds the lab with these profiles (lab:up tears the old one down first); [] is the default lab. */
export function rebuildLab(profiles: readonly string[]): void {
  const args = ['--import', './test/ts-node-register.mjs', 'lab/lab-cli.ts', 'up', ...profiles.flatMap((p) => ['--profile', p])];
  execFileSync(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NDLAB_PROFILES: '' }, timeout: 180_000 });
}

/** Why tests that build their own labs cannot run here (they need root, not a lab already up). */
export function labBuildUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'these tests build their own labs and need root (network namespaces)';
  if (process.env['NETDIAG_SKIP_LAB'] === '1') return 'NETDIAG_SKIP_LAB=1';
  return null;
}

export function labState(): LabState {
  return JSON.parse(readFileSync(STATE, 'utf8')) as LabState;
}

export interface PluginRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment an operator's shell has. CI=true (set by the CI runner around the whole suite)
 * would silence the plugin's progress lines, which the tests read, so it is left out here.
 */
export function operatorEnv(): NodeJS.ProcessEnv {
  const { CI: _ci, ...rest } = process.env;
  return rest;
}

const pluginEnv = (): NodeJS.ProcessEnv => ({
  ...operatorEnv(),
  PATH: `${join(REPO, 'bin')}:${process.env.PATH ?? ''}`,
  KUBECONFIG,
  NO_COLOR: '1',
});

/** `kubectl netdiag ARGS` through the real kubectl binary's plugin mechanism. */
export function runPlugin(args: readonly string[], timeoutMs = 90_000): Promise<PluginRun> {
  return new Promise((done) => {
    const child = spawn('kubectl', ['netdiag', ...args], { env: pluginEnv() });
    collect(child, timeoutMs, done);
  });
}

/** Starts the plugin and hands the child to `during` (to signal it), then resolves at its exit. */
export function runPluginWith(args: readonly string[], during: (child: ChildProcess, stderrSoFar: () => string) => void): Promise<PluginRun> {
  return new Promise((done) => {
    const child = spawn('kubectl', ['netdiag', ...args], { env: pluginEnv() });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    during(child, () => stderr);
    collect(child, 90_000, (r) => done({ ...r, stderr }));
  });
}

function collect(child: ChildProcess, timeoutMs: number, done: (r: PluginRun) => void): void {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    done({ code: code ?? (signal ? 128 : -1), stdout, stderr });
  });
}

export function kubectl(args: readonly string[]): string {
  return execFileSync('kubectl', ['--kubeconfig', KUBECONFIG, ...args], { encoding: 'utf8' });
}

/** Probe pods the simulated API server still holds, asked the way a user would ask. */
export function probePodsLeft(): string[] {
  const list = JSON.parse(kubectl(['get', 'pods', '-A', '-l', 'app.kubernetes.io/managed-by=kubectl-netdiag', '-o', 'json'])) as { items: Array<{ metadata: { namespace: string; name: string } }> };
  return list.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
}

/** PUT the simulated API server's fault settings (see docs/api-server.md). */
export function setFaults(faults: Record<string, unknown>): void {
  const file = join(mkdtempSync(join(tmpdir(), 'netdiag-faults-')), 'faults.json');
  writeFileSync(file, JSON.stringify(faults));
  kubectl(['replace', '--raw', '/_lab/faults', '-f', file]);
}

interface KernelLink {
  ifindex: number;
  ifname: string;
  link_index?: number;
}

/** `ip -j link show` inside a lab network namespace: the kernel's answer, not the lab's notes. */
export function kernelLinks(netns: string): KernelLink[] {
  return JSON.parse(execFileSync('ip', ['-n', netns, '-j', 'link', 'show'], { encoding: 'utf8' })) as KernelLink[];
}
