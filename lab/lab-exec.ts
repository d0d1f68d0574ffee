// Running the lab's commands: always argument arrays, never shell text. Every command that acts
// inside a lab namespace goes through `ip netns exec` (or `ip -n`), so the root namespace's
// interfaces, routes and firewall are never touched.
import { execa } from 'execa';

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class LabCommandError extends Error {
  constructor(
    readonly command: readonly string[],
    readonly result: CommandResult,
  ) {
    super(`${command.join(' ')} exited ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'LabCommandError';
  }
}

export interface RunOptions {
  input?: string;
  allowFailure?: boolean; // resolve with the result instead of throwing on a non-zero exit
  timeoutMs?: number;
}

export async function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const child = await execa(file, args, {
    reject: false,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
    timeout: options.timeoutMs ?? 30_000,
    stripFinalNewline: false,
  });
  const result: CommandResult = {
    stdout: String(child.stdout ?? ''),
    stderr: String(child.stderr ?? ''),
    exitCode: typeof child.exitCode === 'number' ? child.exitCode : -1,
  };
  if (result.exitCode !== 0 && !options.allowFailure) throw new LabCommandError([file, ...args], result);
  return result;
}

/** `ip -n NETNS ARGS...`: an iproute2 command inside a lab namespace. */
export function ipIn(netns: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return runCommand('ip', ['-n', netns, ...args], options);
}

/** `bridge -n NETNS ARGS...` */
export function bridgeIn(netns: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return runCommand('bridge', ['-n', netns, ...args], options);
}

/** `ip netns exec NETNS FILE ARGS...`: any program inside a lab namespace (and its /etc/netns view). */
export function execIn(netns: string, file: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return runCommand('ip', ['netns', 'exec', netns, file, ...args], options);
}

/** Sets sysctls inside a namespace; keys may use dots or slashes (slashes for names like vxlan.calico). */
export async function setSysctlsIn(netns: string, values: Record<string, string | number>): Promise<void> {
  const args = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  if (args.length === 0) return;
  await execIn(netns, 'sysctl', ['-q', '-w', ...args]);
}

export async function readSysctlIn(netns: string, key: string): Promise<string> {
  const r = await execIn(netns, 'sysctl', ['-n', key]);
  return r.stdout.trim();
}

export async function listNetns(): Promise<string[]> {
  const r = await runCommand('ip', ['netns', 'list'], { allowFailure: true });
  return r.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.length > 0);
}

export async function netnsPids(netns: string): Promise<number[]> {
  const r = await runCommand('ip', ['netns', 'pids', netns], { allowFailure: true });
  return r.stdout
    .split('\n')
    .map((s) => Number.parseInt(s.trim(), 10))
    .filter((n) => Number.isInteger(n) && n > 0);
}
