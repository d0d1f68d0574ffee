import type { RenderOptions } from '../../cli/command-runner.js';
import type { CheckStatus, NodeCheckReport } from './analysis.js';
import { renderTable } from '../../render/table.js';
import { renderFindings, statusText } from '../common/render-findings.js';
import { renderStructured } from '../../render/structured.js';
import type { Painter } from '../../render/colour.js';

export function renderNodeCheck(report: NodeCheckReport, options: RenderOptions, colour: Painter): string {
  if (options.output === 'json' || options.output === 'yaml') {
    return renderStructured('NodeCheckReport', { nodes: report.nodes, serviceCidr: report.serviceCidr, findings: report.findings, problems: report.problems }, options.output);
  }
  // Several nodes: one line per node and only its checks that are not ok, so 1,000 healthy nodes
  // are 1,000 lines, not 16,000. One node, or -o wide: every check.
  const summarise = options.output !== 'wide' && report.nodes.length > 1;
  const rows: Array<Array<string | null>> = [];
  for (const node of report.nodes) {
    if (!node.ok) {
      rows.push([node.nodeName, 'probe', 'could not collect facts', statusText('error', colour)]);
      continue;
    }
    const shown = summarise ? node.rows.filter((r) => NOT_OK.has(r.status)) : node.rows;
    if (summarise) rows.push([node.nodeName, 'all checks', checkCounts(node.rows), statusText(worstStatus(node.rows), colour)]);
    for (const row of shown) rows.push([node.nodeName, row.check, row.value, statusText(row.status, colour)]);
  }
  let out = renderTable(['node', 'check', 'value', 'status'], rows, { noHeaders: options.noHeaders, columns: options.columns, wrap: 'value' });
  if (summarise && !options.noHeaders) out += '(checks that are ok or not applicable are counted, not listed; -o wide lists every check)\n';
  if (report.problems.length > 0) out += `\nCould not read:\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`;
  out += `\n${renderFindings(report.findings, colour)}`;
  return out;
}

const NOT_OK = new Set<CheckStatus>(['info', 'warn', 'error']);
const STATUS_RANK: Record<CheckStatus, number> = { 'n/a': 0, ok: 1, info: 2, warn: 3, error: 4 };

function worstStatus(rows: ReadonlyArray<{ status: CheckStatus }>): CheckStatus {
  return rows.reduce<CheckStatus>((worst, r) => (STATUS_RANK[r.status] > STATUS_RANK[worst] ? r.status : worst), 'n/a');
}

/** "16 checks: 15 ok, 1 n/a" in a fixed order, zero counts left out. */
export function checkCounts(rows: ReadonlyArray<{ status: CheckStatus }>): string {
  const order: CheckStatus[] = ['error', 'warn', 'info', 'ok', 'n/a'];
  const parts = order.map((st) => [st, rows.filter((r) => r.status === st).length] as const).filter(([, n]) => n > 0).map(([st, n]) => `${n} ${st}`);
  return `${rows.length} checks: ${parts.join(', ')}`;
}
