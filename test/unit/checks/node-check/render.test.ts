// node-check's table for many nodes: one line per node and its checks that are not ok; -o wide
// and json keep every check. On a terminal the VALUE column wraps to its width; a pipe and -o wide
// print one line per check, as the golden files show.
import { expect } from 'chai';
import { join } from 'node:path';
import { runCli } from '../../../../src/cli/cli.js';
import { displayWidth } from '../../../../src/render/table.js';
import { fakeDeps } from '../../../support/fake-deps.js';
import { REPO } from '../../../support/lab-harness.js';
import { renderNodeCheck, checkCounts } from '../../../../src/checks/node-check/render.js';
import { readGlobalOptions } from '../../../../src/cli/global-options.js';
import { paint } from '../../../../src/render/colour.js';
import type { NodeCheckReport, NodeCheckRow } from '../../../../src/checks/node-check/analysis.js';

const healthyRows = (): NodeCheckRow[] => [
  { check: 'ip_forward', value: '1', status: 'ok' },
  { check: 'bridge-nf-call-iptables', value: '1 (no bridge CNI)', status: 'n/a' },
  { check: 'conntrack', value: '10/262144 (0.0%)', status: 'ok' },
];

function report(): NodeCheckReport {
  const nodes = Array.from({ length: 50 }, (_, i) => ({ nodeName: `node-${String(i + 1).padStart(2, '0')}`, ok: true, cni: null, rows: healthyRows() }));
  nodes[6]!.rows[0] = { check: 'ip_forward', value: '0', status: 'error' };
  nodes[6]!.rows[2] = { check: 'conntrack', value: '250000/262144 (95.4%)', status: 'warn' };
  nodes[9] = { nodeName: 'node-10', ok: false, cni: null, rows: [] };
  return { nodes, serviceCidr: null, findings: [], problems: [] };
}

const options = (output: string) => readGlobalOptions({ output });
const lines = (text: string) => text.split('\n');

describe('node-check table for many nodes', () => {
  it('prints one line per node, then only the checks that are not ok', () => {
    const out = renderNodeCheck(report(), options('table'), paint(false));
    const nodeLines = lines(out).filter((l) => /^node-\d\d /.test(l));
    // 50 summary lines (node-10's is "could not collect facts") and the two bad checks of node-07.
    expect(nodeLines).to.have.length(52);
    expect(nodeLines.filter((l) => l.startsWith('node-07 '))).to.deep.equal([
      'node-07   all checks   3 checks: 1 error, 1 warn, 1 n/a   ERROR',
      'node-07   ip_forward   0                                  ERROR',
      'node-07   conntrack    250000/262144 (95.4%)              WARN',
    ]);
    expect(nodeLines.find((l) => l.startsWith('node-01 '))).to.equal('node-01   all checks   3 checks: 2 ok, 1 n/a              ok');
    expect(nodeLines.find((l) => l.startsWith('node-10 '))).to.match(/^node-10\s+probe\s+could not collect facts\s+ERROR$/);
    expect(out).to.contain('-o wide lists every check');
  });

  it('-o wide lists every check of every node', () => {
    const out = renderNodeCheck(report(), options('wide'), paint(false));
    expect(lines(out).filter((l) => /^node-\d\d /.test(l))).to.have.length(49 * 3 + 1);
    expect(out).not.to.contain('all checks');
  });

  it('json keeps every fact', () => {
    const parsed = JSON.parse(renderNodeCheck(report(), options('json'), paint(false))) as { nodes: Array<{ rows: unknown[] }> };
    expect(parsed.nodes).to.have.length(50);
    expect(parsed.nodes.reduce((n, node) => n + node.rows.length, 0)).to.equal(49 * 3);
  });

  it('one node shows all its checks', () => {
    const single = { ...report(), nodes: report().nodes.slice(0, 1) };
    expect(lines(renderNodeCheck(single, options('table'), paint(false))).filter((l) => l.startsWith('node-01 '))).to.have.length(3);
  });

  it('counts in a fixed order, leaving zeros out', () => {
    expect(checkCounts([{ status: 'ok' }, { status: 'warn' }, { status: 'ok' }])).to.equal('3 checks: 1 warn, 2 ok');
  });
});

const SNAPSHOT = join(REPO, 'test/fixtures/snapshots/node-check/node-2-broken');

async function run(args: string[], stdout: { isTTY: boolean; columns?: number }): Promise<{ code: number; lines: string[] }> {
  let text = '';
  const deps = { ...fakeDeps(), stdout: { ...stdout, write: (t: string) => void (text += t) } };
  const code = await runCli(['node-check', '--from-snapshot', SNAPSHOT, ...args], deps);
  return { code, lines: text.split('\n') };
}

describe('node-check table width', () => {
  it('wraps VALUE on a 90-column terminal so that every table line fits, keeping each value', async () => {
    const piped = await run([], { isTTY: false });
    const terminal = await run([], { isTTY: true, columns: 90 });
    expect(piped.code).to.equal(1);
    expect(terminal.code).to.equal(1);
    const table = (lines: string[]) => lines.slice(0, lines.indexOf(''));
    const wrapped = table(terminal.lines);
    const oneLine = table(piped.lines);
    expect(oneLine.length).to.be.greaterThan(1);
    expect(oneLine.some((l) => displayWidth(l) > 90)).to.equal(true);
    expect(wrapped.length).to.be.greaterThan(oneLine.length);
    expect(wrapped.filter((l) => displayWidth(l) > 90)).to.deep.equal([]);
    // Each check's VALUE, read back from its line and the lines under it (whitespace aside: a
    // wrap drops the space it breaks at).
    expect(values(wrapped)).to.deep.equal(values(oneLine));
    // Below the table (findings) nothing changes.
    expect(terminal.lines.slice(wrapped.length)).to.deep.equal(piped.lines.slice(oneLine.length));
  });

  it('prints the same as into a pipe with -o wide on a terminal, and into a pipe whatever its width', async () => {
    expect((await run(['-o', 'wide'], { isTTY: true, columns: 90 })).lines).to.deep.equal((await run(['-o', 'wide'], { isTTY: false })).lines);
    expect((await run([], { isTTY: false, columns: 90 })).lines).to.deep.equal((await run([], { isTTY: false })).lines);
  });
});

function values(table: string[]): string[] {
  const start = table[0]!.indexOf('VALUE');
  const end = table[0]!.indexOf('STATUS');
  const out: string[] = [];
  for (const line of table.slice(1)) {
    if (line.startsWith(' ')) out[out.length - 1] += line.slice(start);
    else out.push(line.slice(start, end));
  }
  return out.map((v) => v.replace(/\s+/g, ''));
}
