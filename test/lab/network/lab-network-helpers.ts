// Shared by the lab network tests: load the running lab (or say why the suite is skipped) and
// run probes inside the lab's namespaces. Only lab addresses are ever contacted.
import { existsSync } from 'node:fs';
import { execIn, ipIn, type CommandResult } from '../../../lab/lab-exec.js';
import type { LabPod, LabState } from '../../../lab/lab-state.js';
import { labPaths, readLabState } from '../../../lab/netns-lab.js';

/** Why the lab tests cannot run here, or null when they can. */
export function labUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'lab tests need root';
  if (!existsSync(labPaths().topologyFile)) return '.lab/topology.json is missing: run `npm run lab:up` first';
  return null;
}

/** Call from a `before` hook: skips the whole suite with a printed reason when the lab is not up. */
export function requireLab(ctx: Mocha.Context): LabState {
  const reason = labUnavailableReason();
  if (reason !== null) {
    process.stderr.write(`  (skipping lab network tests: ${reason})\n`);
    ctx.skip();
  }
  return readLabState();
}

export function appPods(state: LabState): LabPod[] {
  return state.pods.filter((p) => !p.hostNetwork);
}

export function podByName(state: LabState, name: string): LabPod {
  const pod = state.pods.find((p) => p.name === name);
  if (!pod) throw new Error(`no pod ${name} in the lab state`);
  return pod;
}

export function podNetns(pod: LabPod): string {
  if (pod.netns === null) throw new Error(`${pod.name} is hostNetwork`);
  return pod.netns;
}

export async function ping(netns: string, ip: string, extra: string[] = []): Promise<boolean> {
  const r = await execIn(netns, 'ping', ['-c', '1', '-W', '2', '-q', ...extra, ip], { allowFailure: true });
  return r.exitCode === 0;
}

export async function dig(netns: string, args: string[]): Promise<CommandResult> {
  return execIn(netns, 'dig', ['+time=2', '+tries=1', ...args], { allowFailure: true, timeoutMs: 15_000 });
}

// A fixed program (no input pasted into it): GET http://HOST:PORT/ and print the body.
const HTTP_GET_SCRIPT = `
const [host, port] = process.argv.slice(-2);
const req = require('node:http').get({ host, port: Number(port), path: '/', timeout: 2000 }, (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => { process.stdout.write(body); process.exit(0); });
});
req.on('timeout', () => { process.stdout.write('ERR timeout'); process.exit(1); });
req.on('error', (e) => { process.stdout.write('ERR ' + e.code); process.exit(1); });
`;

/** HTTP GET from inside a namespace: { ok, body } where body is the pod name or "ERR <code>". */
export async function httpGetFrom(netns: string, host: string, port: number): Promise<{ ok: boolean; body: string }> {
  const r = await execIn(netns, process.execPath, ['-e', HTTP_GET_SCRIPT, host, String(port)], { allowFailure: true, timeoutMs: 10_000 });
  return { ok: r.exitCode === 0, body: r.stdout.trim() };
}

export interface IpLink {
  ifindex: number;
  link_index?: number;
  ifname: string;
  mtu: number;
  address: string;
  master?: string;
}

export async function ipLinks(netns: string): Promise<IpLink[]> {
  const r = await ipIn(netns, ['-j', 'link', 'show']);
  return JSON.parse(r.stdout) as IpLink[];
}
