// Benchmark: the largest tables a 1,000-node run prints, rendered through src/render/table.ts
// (cli-table3), against two yardsticks in the same run: the hand-padded renderer the project
// had before issue 18 (kept below, verbatim) and cli-table3 for every row (no plain-row path).
//   node-check --all -o wide: every check of every node (the snapshot of memory.ts, 1,000 nodes)
//   node-check --all:         one summary line per node
//   every check wrapped to a 100-column terminal: not a real output, the worst case for wrapping
//   smoke --matrix -o wide:   1,000 pod pairs and 1,000 Service checks, 11 columns (synthesised)
//   node-check --all -o wide where nodes have spec.podCIDR: a route row per peer, a million rows
// Also checks that the new renderer prints what the old one printed for the same rows.
//
// usage: node --import ./test/ts-node-register.mjs scripts/bench/tables.ts [--nodes 1000] [--reps 3]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSnapshot } from '../../src/cli/command-runner.js';
import type { Deps } from '../../src/cli/deps.js';
import type { GlobalOptions } from '../../src/cli/global-options.js';
import { diagnoseNodeCheck, PEER_ROUTE_ROWS, type NodeCheckReport, type NodeFleetApi } from '../../src/checks/node-check/analysis.js';
import { checkCounts, renderNodeCheck } from '../../src/checks/node-check/render.js';
import { statusText } from '../../src/checks/common/render-findings.js';
import { paint } from '../../src/render/colour.js';
import { renderTable, type Cell, type TableOptions } from '../../src/render/table.js';
import { synthesiseSnapshot } from './memory.js';
import { median, printUptime, table } from './stats.js';

type Rows = ReadonlyArray<ReadonlyArray<Cell>>;

/** The renderer before issue 18 (src/render/table.ts at 6e7f418): plain padding by string length. */
function handPaddedTable(headers: readonly string[], rows: Rows, options: { noHeaders?: boolean } = {}): string {
  const cells = rows.map((row) => headers.map((_, i) => (row[i] === null || row[i] === undefined || row[i] === '' ? '<none>' : String(row[i]))));
  const all = options.noHeaders ? cells : [headers.map((h) => h.toUpperCase()), ...cells];
  if (all.length === 0) return '';
  // eslint-disable-next-line no-control-regex
  const width = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths = headers.map(() => 0);
  for (const r of all) r.forEach((c, i) => (widths[i] = Math.max(widths[i]!, width(c))));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c) + 3))).join('').trimEnd()).join('\n') + '\n';
}

function time(reps: number, run: () => string): { ms: number[]; text: string } {
  const ms: number[] = [];
  let text = '';
  for (let i = 0; i < reps; i += 1) {
    const t0 = performance.now();
    text = run();
    ms.push(performance.now() - t0);
  }
  return { ms, text };
}

async function nodeCheckReport(count: number): Promise<NodeCheckReport> {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-bench-tables-'));
  try {
    synthesiseSnapshot(dir, count);
    const deps = { readFile: async (path: string) => readFileSync(path, 'utf8') } as unknown as Deps;
    const collected = await loadSnapshot<NodeFleetApi>(deps, dir, 'node-check');
    return diagnoseNodeCheck(collected.api, collected.nodes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** smoke --matrix -o wide rows for N nodes: N pod pairs and N Service checks, all ok. */
function matrixRows(count: number): string[][] {
  const node = (i: number) => `sim-node-${String(i % count).padStart(4, '0')}`;
  const rows: string[][] = [];
  for (let i = 0; i < count; i += 1) {
    const ip = (k: number) => `10.244.${(k >> 8) & 255}.${k & 255}`;
    rows.push(['pod', node(i), `netdiag/matrix-${node(i)}`, node(i + 1), `netdiag/matrix-${node(i + 1)}`, `${ip(i + 1)}:8080`, 'tcp', 'ok', '-', 'connected in 3 ms (3/3 attempts)', '']);
    rows.push(['service', node(i), `netdiag/matrix-${node(i)}`, '-', 'default/web', '10.96.0.10:80', 'tcp', 'ok', '-', `answered by ${ip(i)} (3/3 attempts)`, '']);
  }
  return rows;
}

const MATRIX_HEADERS = ['kind', 'source node', 'source', 'dest node', 'destination', 'address', 'method', 'result', 'reason', 'detail', 'hop'];

async function main(argv: string[]): Promise<void> {
  const value = (flag: string, fallback: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] ?? fallback : fallback);
  const count = Number(value('--nodes', '1000'));
  const reps = Number(value('--reps', '3'));
  if (!argv.includes('--cold')) printUptime(`tables of a ${count}-node run (ms per table, median of ${reps}; first of them in brackets)`);
  const report = await nodeCheckReport(count);
  const colour = paint(false);
  const wideRows = report.nodes.flatMap((n) => (n.ok ? n.rows.map((r) => [n.nodeName, r.check, r.value, statusText(r.status, colour)]) : []));
  const options = { output: 'wide', noHeaders: false } as GlobalOptions;
  const cases: Array<{ name: string; headers: string[]; rows: Rows; options: TableOptions; whole?: () => string; cliTableOnly?: false }> = [
    { name: 'node-check -o wide', headers: ['node', 'check', 'value', 'status'], rows: wideRows, options: {}, whole: () => renderNodeCheck(report, options, colour) },
    { name: 'node-check (summary)', headers: ['node', 'check', 'value', 'status'], rows: summaryRows(report), options: {} },
    // Not an output users get (-o wide never wraps): the worst case, long rows going to cli-table3 to wrap.
    { name: 'every check, wrapped to 100 cols', headers: ['node', 'check', 'value', 'status'], rows: wideRows, options: { columns: 100, wrap: 'value' } },
    { name: 'smoke --matrix -o wide', headers: MATRIX_HEADERS, rows: matrixRows(count), options: {} },
    { name: 'node-check -o wide, podCIDRs', headers: ['node', 'check', 'value', 'status'], rows: withPeerRoutes(wideRows, count, false), options: {} },
    { name: 'same, every peer route gone', headers: ['node', 'check', 'value', 'status'], rows: withPeerRoutes(wideRows, count, true), options: {} },
  ];
  const coldCase = value('--cold', '');
  if (coldCase !== '') {
    // Alone in a fresh process, as a user's run renders its table once: the first call's time.
    const c = cases.find((x) => x.name === coldCase)!;
    const first = argv.includes('--yardstick')
      ? time(1, () => handPaddedTable(c.headers, c.rows, c.options))
      : time(1, () => (c.whole ? c.whole() : renderTable(c.headers, c.rows, c.options)));
    process.stdout.write(`${JSON.stringify(first.ms[0])}\n`);
    return;
  }
  const out: string[][] = [];
  for (const c of cases) {
    const coldRun = (...extra: string[]) => {
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--nodes', String(count), '--cold', c.name, ...extra], { encoding: 'utf8' });
      return Number(child.stdout.trim().split('\n').pop()).toFixed(0);
    };
    const cold = `${coldRun()} (${coldRun('--yardstick')})`;
    const yardstick = time(reps, () => handPaddedTable(c.headers, c.rows, c.options));
    // Some cases skip cli-table3 for every row: 0.2 ms a row, too slow to repeat.
    const cliTableOnly = c.cliTableOnly === false ? null : time(reps, () => renderTable(c.headers, c.rows, { ...c.options, plainRowsAbove: Infinity }));
    const ours = time(reps, () => renderTable(c.headers, c.rows, c.options));
    const whole = c.whole ? time(reps, c.whole) : null;
    const same = cliTableOnly === null
      ? (ours.text === yardstick.text ? 'as before' : 'DIFFERS from before')
      : ours.text !== cliTableOnly.text ? 'DIFFERS from cli-table3' : ours.text === yardstick.text ? 'as cli-table3, as before' : 'as cli-table3 (wrapped)';
    const fmt = (t: { ms: number[] } | null) => (t ? `${median(t.ms).toFixed(0)} [${t.ms[0]!.toFixed(0)}]` : '-');
    out.push([c.name, String(c.rows.length), fmt(yardstick), fmt(cliTableOnly), fmt(ours), fmt(whole), cold, same]);
  }
  process.stdout.write(table(['table', 'rows', 'hand-padded (before)', 'cli-table3 every row', 'renderTable', 'whole render', 'cold (before)', 'output'], out));
  process.stdout.write('cold: the first call in a fresh process (whole render where there is one, else renderTable), as a run pays it; (before): the hand-padded renderer, likewise\n');
}

/**
 * -o wide where the nodes have spec.podCIDR (the synthesised snapshot's nodes have none): past
 * PEER_ROUTE_ROWS peers node-check counts the good routes in one row and lists at most
 * PEER_ROUTE_ROWS bad ones (before it printed a row per peer: a million rows for 1,000 nodes).
 * `missing`: every peer route gone on every node, the largest table a 1,000-node run can print.
 */
function withPeerRoutes(rows: Rows, count: number, missing: boolean): string[][] {
  const name = (i: number) => `sim-node-${String(i).padStart(4, '0')}`;
  const cidr = (j: number) => `10.${244 + (j >> 8)}.${j & 255}.0/24`;
  const out: string[][] = [];
  const byNode = new Map<string, string[][]>();
  for (const r of rows) byNode.set(String(r[0]), [...(byNode.get(String(r[0])) ?? []), r.map(String)]);
  for (let i = 0; i < count; i += 1) {
    out.push(...(byNode.get(name(i)) ?? []));
    if (!missing) {
      out.push([name(i), 'routes to peer pod CIDRs', `${count - 1} of ${count - 1} through flannel.1`, 'ok']);
      continue;
    }
    for (let j = 0, shown = 0; j < count && shown < PEER_ROUTE_ROWS; j += 1) {
      if (j === i) continue;
      out.push([name(i), `route to ${name(j)} ${cidr(j)}`, 'only the default route (default via 192.168.77.1 dev eth0)', 'error']);
      shown += 1;
    }
    out.push([name(i), 'routes to peer pod CIDRs', `0 of ${count - 1} through no device; ${count - 1 - PEER_ROUTE_ROWS} more without one not listed`, 'n/a']);
  }
  return out;
}

/** The table node-check prints for several healthy nodes: one line per node. */
function summaryRows(report: NodeCheckReport): string[][] {
  return report.nodes.map((n) => [n.nodeName, 'all checks', n.ok ? checkCounts(n.rows) : 'could not collect facts', 'ok']);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main(process.argv.slice(2));
