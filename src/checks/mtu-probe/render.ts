import type { GlobalOptions } from '../../cli/global-options.js';
import type { MtuProbeReport, PathMtuMeasurement, MssClampRule } from './analysis.js';
import { renderTable } from '../../render/table.js';
import { renderFindings } from '../common/render-findings.js';
import { renderStructured } from '../../render/structured.js';
import type { Painter } from '../../render/colour.js';

export function renderMtuProbe(report: MtuProbeReport, options: GlobalOptions, colour: Painter): string {
  switch (options.output) {
    case 'json':
    case 'yaml':
      return renderStructured('MtuProbeReport', { ...report }, options.output);
    default:
      return renderMtuProbeText(report, options.output === 'wide', options.noHeaders, colour);
  }
}

function renderMtuProbeText(report: MtuProbeReport, wide: boolean, noHeaders: boolean, colour: Painter): string {
  let out = `From ${report.source} to ${report.target}${report.targetChoice ? `\n  (target: ${report.targetChoice})` : ''}\n\n`;
  const headers = ['node', 'interface', 'role', 'kind', 'mtu', 'overhead', 'usable'];
  if (wide) headers.push('side', 'note');
  out += renderTable(
    headers,
    report.hops.map((h) => {
      const cells: Array<string | number | null> = [h.nodeName, h.ifname, h.role, h.kind, h.mtuBytes, h.overheadBytes, h.usableBytes];
      if (wide) cells.push(h.side, h.note);
      return cells;
    }),
    { noHeaders },
  );
  out += `(usable: the largest pod packet the hop carries = MTU - overhead; configured path MTU ${report.configuredPathMtuBytes ?? 'unknown'})\n`;

  if (report.directions.length > 0) {
    out += `\nPath MTU (don't-fragment pings, binary search over the payload):\n`;
    out += renderTable(
      ['from', 'to', 'path-mtu', 'largest-payload', 'first-failing', 'icmp', 'probes'],
      report.directions.map((d) => [d.from, d.to, d.pathMtuBytes ?? d.status, d.largestPassingPayloadBytes, d.smallestFailingPayloadBytes ?? '-', icmpText(d), d.probeCount]),
      { noHeaders },
    );
    if (wide) {
      for (const d of report.directions) {
        out += `  ${d.from} -> ${d.to}: ${d.probes.map((p) => `${p.payloadBytes}${p.outcome === 'passed' ? '✓' : p.outcome === 'failed' ? '✗' : '!'}`).join(' ')}\n`;
      }
    }
  } else {
    out += '\nPath MTU: not probed (--no-probe)\n';
  }

  out += `\nTCP MSS clamping: ${report.mssClamps.length === 0 ? 'none on the probed nodes' : ''}\n`;
  for (const c of report.mssClamps) out += `  ${mssText(c)}\n`;

  const v = report.verdict;
  const tag = v.status === 'ok' ? colour.green('OK') : v.status === 'limited' ? colour.red('LIMITED') : colour.yellow('UNKNOWN');
  out += `\nVerdict: ${tag} ${v.summary}\n`;
  if (v.action) out += `  change: ${v.action}\n`;
  if (report.problems.length > 0) out += `\nCould not read:\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`;
  out += `\n${renderFindings(report.findings, colour)}`;
  return out;
}

function icmpText(d: PathMtuMeasurement): string {
  if (d.status !== 'measured') return d.note ?? '-';
  if (d.icmpSignal) return `${d.icmpSignal.kind}${d.icmpSignal.mtuBytes !== null ? ` mtu=${d.icmpSignal.mtuBytes}` : ''}`;
  if (d.smallestFailingPayloadBytes === null) return '-';
  return 'none (black hole)';
}

function mssText(c: MssClampRule): string {
  const action = c.action.kind === 'set-mss' ? `--set-mss ${c.action.mssBytes}` : '--clamp-mss-to-pmtu';
  return `node ${c.nodeName} ${c.table}/${c.chain}: ${action}   (${c.raw})`;
}
