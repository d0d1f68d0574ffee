import type { RenderOptions } from '../../cli/command-runner.js';
import type { NodeDiffReport } from './analysis.js';
import { renderTable } from '../../render/table.js';
import { renderFindings } from '../common/render-findings.js';
import { renderStructured } from '../../render/structured.js';
import { statusText } from '../common/render-findings.js';
import type { Painter } from '../../render/colour.js';

export function renderNodeDiff(report: NodeDiffReport, options: RenderOptions, colour: Painter): string {
  if (options.output === 'json' || options.output === 'yaml') {
    return renderStructured('NodeDiffReport', { good: report.good, bad: report.bad, comparedFacts: report.comparedFacts, differences: report.differences, findings: report.findings, problems: report.problems }, options.output);
  }
  let out = `good: ${report.good}   bad: ${report.bad}   facts compared: ${report.comparedFacts}\n\n`;
  if (report.differences.length === 0) {
    out += report.comparedFacts > 0 ? 'No differences.\n' : 'Nothing compared.\n';
  } else {
    const wide = options.output === 'wide';
    const headers = ['rank', 'kind', 'item', 'good', 'bad', 'impact'];
    if (wide) headers.push('evidence');
    const rows = report.differences.map((d) => {
      const cells: string[] = [String(d.rank), d.kind, d.item, d.good, d.bad, statusText(d.severity, colour)];
      if (wide) cells.push(d.detail.join(' | '));
      return cells;
    });
    out += renderTable(headers, rows, { noHeaders: options.noHeaders, columns: options.columns, wrap: 'bad' });
  }
  if (report.problems.length > 0) out += `\nCould not read:\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`;
  out += `\n${renderFindings(report.findings, colour)}`;
  return out;
}
