// Benchmark: big clusters and start-up (issue 17). Figures, not pass/fail; every part prints its
// yardstick from the same run next to it.
//  - scale: for each size, a lab with `--scale-nodes SIZE-3` (three real nodes + simulated ones,
//    lab/api-server/scale.ts); `node-check --all` wall time, API requests by verb (/lab/stats),
//    peak probe pods, peak client RSS (/usr/bin/time %M of the kubectl-netdiag process), probe
//    pods left 15 s after the run; yardstick `kubectl get pods -A -o name` on the same lab.
//    Then the render time of the largest table (the last size's `-o json` report rendered as a
//    table in-process by the measured build's renderNodeCheck).
//  - latency: the plain lab with apiDelayMs 50; `veth-peer web-1`: requests and sequential round
//    trips before the probe pod's create (stats log), and the run's split (start-up, API before
//    create, create to exec, exec to delete, delete to exit) without added latency.
//  - startup: --help, version, explain CODE, `kubectl __complete netdiag ''` vs `kubectl version
//    --client`, in turns, median of RUNS, for the bundle (NETDIAG_BENCH_BUNDLE, else dist-bundle/)
//    and dist/, next to two floors: `node -e 0` and kubectl running an empty node plugin.
//
// usage: node --import ./test/ts-node-register.mjs scripts/bench/scale.ts
//          [--sizes 10,100,1000] [--exec replay|live] [--timeout 240] [--runs 11] [--parts scale,latency,startup] [--single]
//   NETDIAG_BENCH_BIN  directory holding the kubectl-netdiag to measure (default: the repo's bin/)
//   BENCH_MAX_PARALLEL passed as --max-parallel when the client has that flag (else its default)
// The lab parts need root; they take /tmp/ndlab.lock (flock, re-running this script under it)
// and bring their own lab up and down. --exec replay (default) answers repeated execs in one
// kernel from a recording (lab/api-server/exec-replay.ts): the client is measured, not the lab's
// two cores running a thousand node scripts; `live` runs every node script.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sequentialRoundTrips, type LabStatsSnapshot, type LoggedRequest } from '../../lab/api-server/stats.js';
import { median, printUptime, table } from './stats.js';

const REPO = resolve(new URL('../..', import.meta.url).pathname);
const BIN = process.env['NETDIAG_BENCH_BIN'] ?? join(REPO, 'bin');
const KUBECONFIG = join(REPO, '.lab', 'kubeconfig');
const LOCK = '/tmp/ndlab.lock';

interface Options {
  sizes: number[];
  exec: 'replay' | 'live';
  timeoutS: number;
  runs: number;
  parts: Set<string>;
  /** One run per size: no bundle, -o json or Ctrl-C runs at the largest (for --exec live). */
  single: boolean;
}

function readOptions(argv: readonly string[]): Options {
  const value = (flag: string, fallback: string): string => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] ?? fallback : fallback);
  const sizes = value('--sizes', '10,100,1000').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 3)) throw new Error('--sizes: whole numbers >= 3 (the lab has 3 real nodes)');
  const exec = value('--exec', 'replay');
  if (exec !== 'replay' && exec !== 'live') throw new Error('--exec: replay or live');
  return { sizes, exec, timeoutS: Number(value('--timeout', '240')), runs: Number(value('--runs', '11')), parts: new Set(value('--parts', 'scale,latency,startup').split(',')), single: argv.includes('--single') };
}

const labEnv = (): NodeJS.ProcessEnv => ({ ...process.env, KUBECONFIG, PATH: `${BIN}:${process.env['PATH'] ?? ''}` });

function run(file: string, args: readonly string[], input?: string): { code: number; stdout: string; stderr: string; ms: number } {
  const t0 = performance.now();
  const r = spawnSync(file, args, { cwd: REPO, env: labEnv(), encoding: 'utf8', input, maxBuffer: 512 * 1024 * 1024 });
  return { code: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: performance.now() - t0 };
}

function must(file: string, args: readonly string[], input?: string): string {
  const r = run(file, args, input);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return r.stdout;
}

function labUp(simNodes: number, exec: string): void {
  const args = ['run', '--silent', 'lab:up', '--'];
  if (simNodes > 0) args.push('--scale-nodes', String(simNodes), '--scale-exec', exec);
  must('npm', args);
}

function labDown(): void {
  run('npm', ['run', '--silent', 'lab:down']);
}

const stats = (log = false): LabStatsSnapshot => JSON.parse(must('kubectl', ['get', '--raw', `/lab/stats${log ? '?log=true' : ''}`])) as LabStatsSnapshot;
const resetStats = (): void => void must('kubectl', ['delete', '--raw', '/lab/stats']);
const setFaults = (faults: Record<string, unknown>): void => void must('kubectl', ['replace', '--raw', '/_lab/faults', '-f', '-'], JSON.stringify(faults));

function maxParallelArgs(): { args: string[]; text: string } {
  const help = run(join(BIN, 'kubectl-netdiag'), ['node-check', '--help']).stdout;
  if (!help.includes('--max-parallel')) return { args: [], text: 'client has no --max-parallel' };
  const wanted = process.env['BENCH_MAX_PARALLEL'];
  if (wanted) return { args: ['--max-parallel', wanted], text: `--max-parallel ${wanted}` };
  const def = /--max-parallel[^\n]*\[default: "?(\d+)"?\]/.exec(help)?.[1];
  return { args: [], text: `--max-parallel default ${def ?? '?'}` };
}

interface TimedRun {
  code: number;
  ms: number;
  maxRssMb: number | null;
  stdout: string;
  timedOut: boolean;
}

/** kubectl-netdiag ARGS with a wall-clock bound (SIGINT, then SIGKILL 15 s later) and its max RSS. */
async function timedPlugin(args: readonly string[], timeoutS: number, entry = join(BIN, 'kubectl-netdiag')): Promise<TimedRun> {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-bench-'));
  const rssFile = join(dir, 'rss');
  const outFile = join(dir, 'out');
  try {
    const t0 = performance.now();
    const code = await new Promise<number>((done) => {
      const child = spawn('bash', ['-c', '/usr/bin/time -o "$1" -f %M timeout --signal=INT --kill-after=15 "$2" "${@:3}" >"$0"', outFile, rssFile, String(timeoutS), entry, ...args], { cwd: REPO, env: labEnv(), stdio: ['ignore', 'ignore', 'ignore'] });
      child.on('close', (c) => done(c ?? 128));
    });
    const ms = performance.now() - t0;
    const rssKb = Number(/(\d+)\s*$/.exec(readFileSync(rssFile, 'utf8'))?.[1] ?? NaN);
    return { code, ms, maxRssMb: Number.isFinite(rssKb) ? rssKb / 1024 : null, stdout: readFileSync(outFile, 'utf8'), timedOut: code === 124 || code === 137 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function probePodsLeft(waitMs: number): Promise<number> {
  const until = Date.now() + waitMs;
  let left = stats().probePods.current;
  while (left > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    left = stats().probePods.current;
  }
  return left;
}

const verbs = (s: LabStatsSnapshot): string => Object.entries(s.requests.byVerb).map(([v, n]) => `${v} ${n}`).join(', ');

async function scalePart(o: Options): Promise<void> {
  const parallel = maxParallelArgs();
  process.stdout.write(`== scale: node-check --all, exec ${o.exec}, ${parallel.text}, bound ${o.timeoutS} s\n`);
  const rows: string[][] = [];
  const detail: string[] = [];
  let largestReport: string | null = null;
  for (const size of o.sizes) {
    labUp(size - 3, o.exec);
    try {
      const yardstick = median([0, 1, 2].map(() => run('kubectl', ['get', 'pods', '-A', '-o', 'name']).ms));
      resetStats();
      const r = await timedPlugin(['node-check', '--all', ...parallel.args], o.timeoutS);
      const s = stats();
      const left = await probePodsLeft(15_000);
      rows.push([
        String(size), r.timedOut ? `>${o.timeoutS}000 (stopped)` : r.ms.toFixed(0), String(r.code), String(s.requests.total), (s.requests.total / size).toFixed(2),
        String(s.probePods.peak), String(s.connections.opened), r.maxRssMb === null ? '?' : r.maxRssMb.toFixed(0), String(left), yardstick.toFixed(0),
      ]);
      detail.push(`${size} nodes: ${verbs(s)}; by resource: ${Object.entries(s.requests.byVerbAndResource).map(([k, n]) => `${k} ${n}`).join(', ')}; exec replayed ${s.execSessions.replayed}/${s.execSessions.opened}`);
      if (size === Math.max(...o.sizes) && !r.timedOut && !o.single) {
        // The shipped form (the bundle) next to dist/: same run, same lab.
        const bundle = bundleEntry();
        if (bundle) {
          resetStats();
          const b = await timedPlugin(['node-check', '--all', ...parallel.args], o.timeoutS, bundle);
          detail.push(`${size} nodes, the bundle (what npm and krew ship): exit ${b.code}, wall ${b.ms.toFixed(0)} ms, max RSS ${b.maxRssMb?.toFixed(0) ?? '?'} MB, ${stats().requests.total} requests`);
          await probePodsLeft(15_000);
        }
        const json = await timedPlugin(['node-check', '--all', '-o', 'json', ...parallel.args], o.timeoutS);
        detail.push(`${size} nodes, -o json (dist/): exit ${json.code}, wall ${json.ms.toFixed(0)} ms, max RSS ${json.maxRssMb?.toFixed(0) ?? '?'} MB`);
        if (!json.timedOut) largestReport = json.stdout;
        await probePodsLeft(15_000);
        detail.push(await interruptedRun(size, parallel.args));
      }
    } finally {
      labDown();
    }
  }
  process.stdout.write(table(['nodes', 'wall ms', 'exit', 'API requests', 'per node', 'peak probe pods', 'TLS conns', 'max RSS MB', 'pods left 15 s after', 'kubectl get pods -A ms'], rows));
  for (const d of detail) process.stdout.write(`  ${d}\n`);
  process.stdout.write(await renderTiming(largestReport));
}

/** Ctrl-C once half the probe pods were created (or after 10 s): how long until none is left. */
async function interruptedRun(size: number, parallelArgs: readonly string[]): Promise<string> {
  resetStats();
  const child = spawn(join(BIN, 'kubectl-netdiag'), ['node-check', '--all', ...parallelArgs], { cwd: REPO, env: labEnv(), stdio: 'ignore' });
  const exited = new Promise<number>((done) => child.on('close', (c) => done(c ?? 128)));
  const started = Date.now();
  while (Date.now() - started < 10_000 && stats().probePods.created < size / 2) await new Promise((r) => setTimeout(r, 100));
  const at = stats().probePods;
  const signalled = Date.now();
  child.kill('SIGINT');
  let left = at.current;
  while (left > 0 && Date.now() - signalled < 30_000) {
    await new Promise((r) => setTimeout(r, 100));
    left = stats().probePods.current;
  }
  const toZero = Date.now() - signalled;
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(killer);
  return `Ctrl-C at ${size} nodes, ${((signalled - started) / 1000).toFixed(1)} s in (${at.created} probe pods created, ${at.current} alive): ${left === 0 ? `0 left after ${(toZero / 1000).toFixed(1)} s` : `${left} still alive 30 s later`}, exit ${code} ${((Date.now() - signalled) / 1000).toFixed(1)} s after the signal`;
}

/** Renders the largest report as a table with the measured build's renderer, median of 5. */
async function renderTiming(reportJson: string | null): Promise<string> {
  if (reportJson === null) return 'render: no report from the largest size (timed out or failed)\n';
  try {
    const dist = resolve(BIN, '..', 'dist');
    const { renderNodeCheck } = (await import(pathToFileURL(join(dist, 'checks', 'node-check', 'render.js')).href)) as { renderNodeCheck: (r: unknown, o: unknown, c: unknown) => string };
    const { paint } = (await import(pathToFileURL(join(dist, 'render', 'colour.js')).href)) as { paint: (on: boolean) => unknown };
    const report = JSON.parse(reportJson) as { nodes: unknown[] };
    const times: number[] = [];
    let lines = 0;
    for (let i = 0; i < 5; i += 1) {
      const t0 = performance.now();
      const text = renderNodeCheck(report, { output: 'table', noHeaders: false }, paint(false));
      times.push(performance.now() - t0);
      lines = text.split('\n').length;
    }
    return `render: node-check table of ${report.nodes.length} nodes, ${lines} lines: median ${median(times).toFixed(1)} ms (runs ${times.map((t) => t.toFixed(0)).join(' ')})\n`;
  } catch (err) {
    return `render: not measured (${(err as Error).message})\n`;
  }
}

function splitOf(log: readonly LoggedRequest[], startedAt: number, endedAt: number): string {
  const first = log[0];
  const create = log.find((e) => e.verb === 'create' && e.resource === 'pods');
  const exec = log.find((e) => e.resource === 'pods/exec');
  const del = log.find((e) => e.verb === 'delete' && e.resource === 'pods');
  if (!first || !create || !exec || !del) return 'split: the run did not create, exec and delete a probe pod';
  const ms = (a: number, b: number) => `${Math.round(b - a)}`;
  // The delete goes out when the exec stream ends and is awaited before analysis starts.
  const deleted = del.doneAt ?? del.at;
  return `split ms: start-up ${ms(startedAt, first.at)}, API before create ${ms(first.at, create.at)}, create + pod start + watch event ${ms(create.at, exec.at)}, exec (node script and stream) ${ms(exec.at, del.at)}, delete ${ms(del.at, deleted)}, analysis + render + exit ${ms(deleted, endedAt)}; total ${ms(startedAt, endedAt)}`;
}

async function latencyPart(): Promise<void> {
  process.stdout.write('== latency: veth-peer web-1 on the plain lab\n');
  const builds: Array<[string, string]> = [['dist/', join(BIN, 'kubectl-netdiag')]];
  const bundle = bundleEntry();
  if (bundle) builds.push(['bundle', bundle]);
  labUp(0, 'live');
  try {
    for (const [name, entry] of builds) {
      for (const delay of [0, 50]) {
        setFaults({ apiDelayMs: delay });
        resetStats();
        const startedAt = Date.now();
        const r = await timedPlugin(['veth-peer', 'web-1'], 60, entry);
        const endedAt = Date.now();
        const s = stats(true);
        const log = s.log ?? [];
        const createAt = log.findIndex((e) => e.verb === 'create' && e.resource === 'pods');
        const before = createAt < 0 ? 'no create' : `${createAt} requests (${log.slice(0, createAt).map((e) => `${e.verb} ${e.resource}`).join(', ')}), ${sequentialRoundTrips(log, createAt)} sequential round trips`;
        process.stdout.write(`${name} apiDelayMs ${delay}: exit ${r.code}, wall ${r.ms.toFixed(0)} ms, ${s.requests.total} requests, ${s.connections.opened} TLS connections; before the create: ${before}\n`);
        process.stdout.write(`  ${splitOf(log, startedAt, endedAt)}\n`);
      }
    }
  } finally {
    setFaults({ apiDelayMs: 0 });
    labDown();
  }
}

function bundleEntry(): string | null {
  const bundle = process.env['NETDIAG_BENCH_BUNDLE'] ?? join(REPO, 'dist-bundle', 'kubectl-netdiag.mjs');
  return existsSync(bundle) ? bundle : null;
}

/** A PATH directory with `kubectl-netdiag` (and its completion helper) pointing at `entry`. */
function pluginDir(entry: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-bench-path-'));
  symlinkSync(entry, join(dir, 'kubectl-netdiag'));
  symlinkSync(join(REPO, 'bin', 'kubectl_complete-netdiag'), join(dir, 'kubectl_complete-netdiag'));
  return dir;
}

function startupPart(runs: number): void {
  // Floors: node itself, and kubectl running a node plugin that does nothing (kubectl's plugin
  // lookup + /usr/bin/env + node start): no node plugin run through kubectl can beat the latter.
  const floorDir = mkdtempSync(join(tmpdir(), 'netdiag-bench-floor-'));
  writeFileSync(join(floorDir, 'kubectl-nodefloor'), '#!/usr/bin/env node\n', { mode: 0o755 });
  const builds: Array<[string, string]> = [['dist/', join(BIN, 'kubectl-netdiag')]];
  const bundle = bundleEntry();
  if (bundle) builds.unshift(['bundle', bundle]);
  const commands: Array<[string, string[], string?]> = [
    ['kubectl version --client', ['kubectl', 'version', '--client']],
    ['node -e 0', [process.execPath, '-e', '0']],
    ['kubectl nodefloor (empty node plugin)', ['kubectl', 'nodefloor'], floorDir],
  ];
  const dirs = [floorDir];
  for (const [name, entry] of builds) {
    const dir = pluginDir(entry);
    dirs.push(dir);
    commands.push(
      [`kubectl netdiag --help (${name})`, ['kubectl', 'netdiag', '--help'], dir],
      [`kubectl netdiag version (${name})`, ['kubectl', 'netdiag', 'version'], dir],
      [`kubectl netdiag explain node.nic-multiple-ipv4 (${name})`, ['kubectl', 'netdiag', 'explain', 'node.nic-multiple-ipv4'], dir],
      [`kubectl __complete netdiag '' (${name})`, ['kubectl', '__complete', 'netdiag', ''], dir],
    );
  }
  process.stdout.write(`== startup: median of ${runs}, the commands in turns (one run of each per round, after a warm-up round); bundle: ${bundle ?? 'not built'}\n`);
  const times = commands.map(() => [] as number[]);
  try {
    for (let round = -1; round < runs; round += 1) {
      commands.forEach(([, argv, dir], i) => {
        const t0 = performance.now();
        spawnSync(argv[0]!, argv.slice(1), { cwd: REPO, stdio: 'ignore', env: { ...process.env, PATH: `${dir ?? BIN}:${process.env['PATH'] ?? ''}` } });
        if (round >= 0) times[i]!.push(performance.now() - t0);
      });
    }
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  const base = median(times[0]!);
  process.stdout.write(table(['command', 'median ms', 'x kubectl version --client', 'runs ms'], commands.map(([label], i) => {
    const m = median(times[i]!);
    return [label, m.toFixed(0), (m / base).toFixed(2), times[i]!.map((t) => t.toFixed(0)).join(' ')];
  })));
}

async function main(argv: string[]): Promise<void> {
  const o = readOptions(argv);
  const labParts = ['scale', 'latency'].filter((p) => o.parts.has(p));
  if (process.env['NDLAB_LOCK_HELD'] !== '1') {
    printUptime('big clusters and start-up');
    if (o.parts.has('startup')) startupPart(o.runs);
    if (labParts.length === 0) return;
    if (process.getuid?.() !== 0) {
      process.stdout.write('skip: the scale and latency parts need root (the lab)\n');
      return;
    }
    // The lab is machine-global: the lab parts run under the lab lock, in a child holding it.
    const rest = argv.filter((_, i) => argv[i - 1] !== '--parts' && argv[i] !== '--parts');
    const child = spawnSync('flock', [LOCK, process.execPath, ...process.execArgv, new URL(import.meta.url).pathname, ...rest, '--parts', labParts.join(',')], { cwd: REPO, env: { ...process.env, NDLAB_LOCK_HELD: '1' }, stdio: 'inherit' });
    process.exitCode = child.status ?? 1;
    return;
  }
  const stop = (): void => {
    labDown();
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (o.parts.has('scale')) await scalePart(o);
  if (o.parts.has('latency')) await latencyPart();
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (process.env['NDLAB_LOCK_HELD'] === '1') labDown(); // only the lock holder's lab is ours
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exit(1);
});
