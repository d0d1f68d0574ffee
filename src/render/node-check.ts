import type { GlobalOptions } from '../cli/global-options.js';
import type { CheckStatus, NodeCheckReport } from '../analyze/node-check.js';
import { renderTable } from './table.js';
import { renderFindings } from './findings.js';
import { renderStructured } from './structured.js';
import type { Painter } from './colour.js';

export function renderNodeCheck(report: NodeCheckReport, options: GlobalOptions, colour: Painter): string {
  if (options.output === 'json' || options.output === 'yaml') {
    return renderStructured('NodeCheckReport', { nodes: report.nodes, serviceCidr: report.serviceCidr, findings: report.findings, problems: report.problems }, options.output);
  }
  const rows: Array<Array<string | null>> = [];
  for (const node of report.nodes) {
    if (!node.ok) {
      rows.push([node.nodeName, 'probe', 'could not collect facts', statusText('error', colour)]);
      continue;
    }
    for (const row of node.rows) rows.push([node.nodeName, row.check, row.value, statusText(row.status, colour)]);
  }
  let out = renderTable(['node', 'check', 'value', 'status'], rows, { noHeaders: options.noHeaders });
  if (report.problems.length > 0) out += `\nCould not read:\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`;
  out += `\n${renderFindings(report.findings, colour)}`;
  return out;
}

export function statusText(status: CheckStatus, colour: Painter): string {
  switch (status) {
    case 'ok':
      return colour.green('ok');
    case 'error':
      return colour.red('ERROR');
    case 'warn':
      return colour.yellow('WARN');
    case 'info':
      return colour.dim('info');
    default:
      return '-';
  }
}
