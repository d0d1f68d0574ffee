// smoke --matrix output: by default one line per failed check and a summary line (a big cluster
// has thousands of pairs), every check with -o wide, everything in json/yaml, and JUnit with one
// case per pair.
import type { GlobalOptions } from '../../cli/global-options.js';
import { pairText, targetText, type MatrixResult, type SkippedNode, type SmokeMatrixReport } from './matrix-analysis.js';
import { renderTable } from '../../render/table.js';
import { renderStructured } from '../../render/structured.js';
import type { Painter } from '../../render/colour.js';

const count = (n: number) => n.toLocaleString('en-US');
// A big cluster can have hundreds of nodes without pods: the default output names a few.
const SKIPPED_NAMED = 5;

/** "9 pod pairs (all of 9) and 3 Service checks ...: 8 ok, 1 failed" */
export function matrixSummary(report: SmokeMatrixReport): string {
  const pods = report.results.filter((r) => r.kind === 'pod');
  const services = report.results.filter((r) => r.kind === 'service');
  const tally = (rs: readonly MatrixResult[]) => {
    const by = (s: MatrixResult['status']) => rs.filter((r) => r.status === s).length;
    return [`${by('ok')} ok`, `${by('failed')} failed`, ...(by('not-run') ? [`${by('not-run')} not run`] : []), ...(by('skipped') ? [`${by('skipped')} skipped`] : [])].join(', ');
  };
  const scope = report.sampled
    ? `${count(pods.length)} pod pairs sampled of ${count(report.possiblePairs)} (--matrix-limit ${count(report.limit)}; every node is a source and a destination)`
    : `${count(pods.length)} pod pairs (all of ${count(report.possiblePairs)})`;
  const svc = report.service
    ? `${services.length} Service checks to ${report.service.namespace}/${report.service.name} ${report.service.address}:${report.service.port}: ${tally(services)}`
    : `no Service checks (${report.serviceNote ?? 'no Service'})`;
  const named = report.skipped.slice(0, SKIPPED_NAMED).map((s) => s.nodeName).join(', ');
  const skipped = report.skipped.length > 0 ? `; ${report.skipped.length} node(s) skipped (no usable pod): ${named}${report.skipped.length > SKIPPED_NAMED ? ', ...' : ''}` : '';
  return `matrix: ${report.nodes.length} nodes, ${report.attempts} attempt(s) per check; ${scope}: ${tally(pods)}; ${svc}${skipped}\n`;
}

function failureLine(r: MatrixResult, colour: Painter): string {
  const tag = r.status === 'failed' ? colour.red('FAILED ') : colour.yellow('NOT RUN');
  const why = r.status === 'failed' ? `${r.reason}: ${r.detail}` : r.detail;
  return `${tag} ${pairText(r)}: ${why}\n${r.explanation ? `        hop: ${r.explanation}\n` : ''}`;
}

export function renderSmokeMatrix(report: SmokeMatrixReport, options: GlobalOptions, colour: Painter): string {
  if (options.output === 'json' || options.output === 'yaml') {
    return renderStructured('SmokeMatrixReport', { ...report }, options.output);
  }
  const skippedLine = (s: SkippedNode) => `${colour.dim('SKIPPED')} node ${s.nodeName}: ${s.reason}\n`;
  if (options.output === 'wide') {
    const skippedLines = report.skipped.map(skippedLine).join('');
    const rows = report.results.map((r) => [r.kind, r.sourceNode, r.source, r.destinationNode ?? '-', r.destination, targetText(r), r.method, r.status, r.reason, r.detail, r.explanation]);
    const table = renderTable(['kind', 'source node', 'source', 'dest node', 'destination', 'address', 'method', 'result', 'reason', 'detail', 'hop'], rows, { noHeaders: options.noHeaders });
    return `${table}${skippedLines}${matrixSummary(report)}`;
  }
  const failures = report.results.filter((r) => r.status === 'failed' || r.status === 'not-run').map((r) => failureLine(r, colour)).join('');
  const more = report.skipped.length > SKIPPED_NAMED ? `${colour.dim('SKIPPED')} ${report.skipped.length - SKIPPED_NAMED} more node(s); -o wide lists them all\n` : '';
  return `${failures}${report.skipped.slice(0, SKIPPED_NAMED).map(skippedLine).join('')}${more}${matrixSummary(report)}`;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');

/**
 * JUnit: a testsuite per source node (classname netdiag.smoke-matrix.NODE) with one testcase per
 * pair and Service check, failed with the finding code as type; checks that could not run are
 * errors; skipped nodes and skipped same-node pairs are skipped cases.
 */
export function renderMatrixJunit(report: SmokeMatrixReport): string {
  const bySource = new Map<string, MatrixResult[]>();
  for (const r of report.results) {
    const list = bySource.get(r.sourceNode);
    if (list) list.push(r);
    else bySource.set(r.sourceNode, [r]);
  }
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const [node, results] of bySource) {
    const cases = results.map((r) => {
      const name = `${r.destination}${r.destinationNode ? ` (${r.destinationNode})` : ''} ${targetText(r)} from ${r.source}`;
      const open = `    <testcase classname="netdiag.smoke-matrix.${xml(node)}" name="${xml(name)}" time="0">`;
      const body = `${r.detail}${r.explanation ? `\nhop: ${r.explanation}` : ''}`;
      if (r.status === 'failed') return `${open}\n      <failure type="${r.kind === 'pod' ? 'smoke.pod-pair-failed' : 'smoke.service-failed'}" message="${xml(`${r.reason}: ${r.detail}`)}">${xml(body)}</failure>\n    </testcase>`;
      if (r.status === 'not-run') return `${open}\n      <error message="${xml(r.detail)}"/>\n    </testcase>`;
      if (r.status === 'skipped') return `${open}\n      <skipped message="${xml(r.detail)}"/>\n    </testcase>`;
      return `${open}</testcase>`;
    });
    const f = results.filter((r) => r.status === 'failed').length;
    const e = results.filter((r) => r.status === 'not-run').length;
    const s = results.filter((r) => r.status === 'skipped').length;
    tests += results.length;
    failures += f;
    errors += e;
    skipped += s;
    suites.push(`  <testsuite name="${xml(`matrix from node ${node}`)}" tests="${results.length}" failures="${f}" errors="${e}" skipped="${s}" time="0">\n${cases.join('\n')}\n  </testsuite>`);
  }
  if (report.skipped.length > 0) {
    const cases = report.skipped.map((s) => `    <testcase classname="netdiag.smoke-matrix.${xml(s.nodeName)}" name="${xml(`node ${s.nodeName} takes part`)}" time="0">\n      <skipped message="${xml(s.reason)}"/>\n    </testcase>`);
    tests += cases.length;
    skipped += cases.length;
    suites.push(`  <testsuite name="matrix skipped nodes" tests="${cases.length}" failures="0" errors="0" skipped="${cases.length}" time="0">\n${cases.join('\n')}\n  </testsuite>`);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kubectl-netdiag smoke --matrix" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}">\n${suites.join('\n')}\n</testsuites>\n`;
}
