import type { RenderOptions } from '../../cli/command-runner.js';
import type { ConnCheckReport, ConnDestination, ConnSource } from './analysis.js';
import { renderTable } from '../../render/table.js';
import { renderFindings } from '../common/render-findings.js';
import { renderStructured } from '../../render/structured.js';
import type { Painter } from '../../render/colour.js';

export function renderConnCheck(report: ConnCheckReport, options: RenderOptions, colour: Painter): string {
  switch (options.output) {
    case 'json':
    case 'yaml':
      return renderStructured('ConnCheckReport', structured(report), options.output);
    default:
      return renderConnCheckText(report, options.output === 'wide', options.noHeaders, colour, options.columns);
  }
}

/** Every fact, the rule deltas without their parsed form (the rule text carries it). */
function structured(report: ConnCheckReport): Record<string, unknown> {
  return {
    ...report,
    verdict: { ...report.verdict, finding: undefined },
    deltas: report.deltas.map((d) => ({ ...d, rules: d.rules.map(({ parsed: _parsed, ...rest }) => rest) })),
  };
}

function endText(e: ConnSource | ConnDestination): string {
  switch (e.kind) {
    case 'pod':
      return `pod ${e.namespace}/${e.name} (${e.ip} on ${e.nodeName})`;
    case 'node':
      return `node ${e.nodeName} (${e.ip})`;
    case 'service':
      return `svc ${e.namespace}/${e.name} (${e.clusterIP}:${e.port}, ${e.endpoints.length} ready endpoint${e.endpoints.length === 1 ? '' : 's'})`;
    case 'ip':
      return e.ip;
  }
}

function count(n: number | null): string {
  return n === null ? '-' : String(n);
}

function renderConnCheckText(report: ConnCheckReport, wide: boolean, noHeaders: boolean, colour: Painter, columns: number | undefined): string {
  const sent = report.probe === null ? 'no probes sent' : `${report.count} probe${report.count === 1 ? '' : 's'}`;
  let out = `From ${endText(report.source)}\n  to ${endText(report.destination)}\n  ${report.protocol}${report.port !== null ? ` port ${report.port}` : ''}, ${sent} to ${report.target}\n\n`;
  const headers = ['node', 'hop', 'interface/chain', 'out', 'back'];
  if (wide) headers.push('note');
  out += renderTable(
    headers,
    report.hops.map((h) => {
      const cells: Array<string | number | null> = [h.node, h.hop, h.iface, count(h.out), count(h.back)];
      if (wide) cells.push(h.note);
      else if (h.note && h.hop !== 'drop rule' && h.hop !== 'service NAT') cells[1] = `${h.hop} (${h.note})`;
      return cells;
    }),
    { noHeaders, columns, wrap: 'hop' },
  );
  const v = report.verdict;
  const tag = v.outcome === 'not-probed' ? colour.dim('PATH ONLY') : v.finding.severity === 'error' ? colour.red('FAIL') : v.finding.severity === 'warn' ? colour.yellow('WARN') : colour.green('OK');
  out += `\nVerdict: ${tag} ${v.sentence}\n`;
  if (report.probe) out += `  probes: ${report.probe.detail}\n`;
  if (report.policy) out += `  NetworkPolicy: ${report.policy.summary}\n`;
  if (report.capture) for (const c of report.capture.hops) out += `  capture ${c.nodeName}/${c.iface}: ${c.summary.join('; ')}\n`;
  if (report.problems.length > 0) out += `\nCould not read:\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`;
  out += `\n${renderFindings(report.findings, colour)}`;
  return out;
}
