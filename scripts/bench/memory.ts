// Benchmark: the client's memory for a whole-cluster node-check, without a cluster. A snapshot of
// N nodes is made from the lab's healthy-all node-check snapshot (node i is lab-node-(i mod 3 + 1)'s
// raw output with its name and token rewritten; like the lab's simulated nodes they have no
// spec.podCIDR, so there are no per-peer route rows), then `node-check --from-snapshot` runs on it per
// output format: max RSS (/usr/bin/time %M) and wall time, median of RUNS. What the API and the
// exec streams add on top is in scale.ts (it needs the lab).
//
// usage: node --import ./test/ts-node-register.mjs scripts/bench/memory.ts [--nodes 1000] [--runs 3]
//   NETDIAG_BENCH_BIN  directory holding the kubectl-netdiag to measure (default: the repo's bin/)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, printUptime, table } from './stats.js';

const REPO = resolve(new URL('../..', import.meta.url).pathname);
const BIN = process.env['NETDIAG_BENCH_BIN'] ?? join(REPO, 'bin');
const SOURCE = join(REPO, 'test', 'fixtures', 'snapshots', 'node-check', 'healthy-all');

interface SnapshotNode { nodeName: string; ok: boolean; token?: string; podName?: string; rawFile?: string }
interface Snapshot {
  api: { nodes: Array<{ name: string; internalIP: string; podCIDRs: string[] }>; checked: string[]; agents: Array<{ name: string; nodeName: string | null }> };
  nodes: SnapshotNode[];
}

/** Writes an N-node snapshot into dir. */
export function synthesiseSnapshot(dir: string, count: number): void {
  const source = JSON.parse(readFileSync(join(SOURCE, 'snapshot.json'), 'utf8')) as Snapshot & Record<string, unknown>;
  const raws = source.nodes.map((n) => readFileSync(join(SOURCE, n.rawFile!), 'utf8'));
  const name = (i: number) => `sim-node-${String(i).padStart(4, '0')}`;
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  const nodes: SnapshotNode[] = [];
  const apiNodes: Snapshot['api']['nodes'] = [];
  const agents: Snapshot['api']['agents'] = [];
  for (let i = 0; i < count; i += 1) {
    const k = i % source.nodes.length;
    const from = source.nodes[k]!;
    const token = (from.token ?? '').slice(0, 16) + i.toString(16).padStart(8, '0');
    const raw = raws[k]!.split(from.token!).join(token).split(from.nodeName).join(name(i));
    writeFileSync(join(dir, 'nodes', `${name(i)}.txt`), raw);
    nodes.push({ ...from, nodeName: name(i), token, podName: `netdiag-${name(i)}-bench`, rawFile: `nodes/${name(i)}.txt` });
    apiNodes.push({ ...source.api.nodes[k]!, name: name(i), internalIP: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, podCIDRs: [] });
    for (const a of source.api.agents.filter((x) => x.nodeName === from.nodeName)) agents.push({ ...a, name: `${a.name}-${i}`, nodeName: name(i) });
  }
  const api = { ...source.api, nodes: apiNodes, checked: apiNodes.map((n) => n.name), agents };
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify({ ...source, api, nodes }));
}

function measure(dir: string, output: string): { ms: number; rssMb: number; code: number; lines: number } {
  const rss = join(dir, `rss-${output}`);
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-o', rss, '-f', '%M', join(BIN, 'kubectl-netdiag'), 'node-check', '--from-snapshot', dir, '-o', output], { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - t0;
  const kb = Number(/(\d+)\s*$/.exec(readFileSync(rss, 'utf8'))?.[1] ?? NaN);
  return { ms, rssMb: kb / 1024, code: r.status ?? 128, lines: (r.stdout ?? '').split('\n').length - 1 };
}

function main(argv: string[]): void {
  const value = (flag: string, fallback: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] ?? fallback : fallback);
  const count = Number(value('--nodes', '1000'));
  const runs = Number(value('--runs', '3'));
  printUptime('client memory, node-check --from-snapshot');
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-bench-mem-'));
  try {
    synthesiseSnapshot(dir, count);
    const rows: string[][] = [];
    for (const output of ['table', 'wide', 'json']) {
      const all = Array.from({ length: runs }, () => measure(dir, output));
      rows.push([String(count), output, String(all[0]!.code), String(all[0]!.lines), median(all.map((m) => m.ms)).toFixed(0), median(all.map((m) => m.rssMb)).toFixed(0), all.map((m) => m.rssMb.toFixed(0)).join(' ')]);
    }
    process.stdout.write(table(['nodes', '-o', 'exit', 'lines', 'wall ms', 'max RSS MB', 'runs MB'], rows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) main(process.argv.slice(2));
