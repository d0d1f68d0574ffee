import type { RenderOptions } from '../../cli/command-runner.js';
import type { DnsCheckReport, MatrixCell } from './analysis.js';
import { renderTable } from '../../render/table.js';
import { renderFindings } from '../common/render-findings.js';
import { renderStructured } from '../../render/structured.js';
import type { Painter } from '../../render/colour.js';

export function renderDnsCheck(report: DnsCheckReport, options: RenderOptions, colour: Painter): string {
  switch (options.output) {
    case 'json':
    case 'yaml':
      return renderStructured('DnsCheckReport', { ...report }, options.output);
    default:
      return renderDnsCheckText(report, options.output === 'wide', options.noHeaders, colour, options.columns);
  }
}

/** A matrix cell in a few words: "NOERROR 10.96.0.1 1ms", "NXDOMAIN", "TIMEOUT". */
export function cellText(cell: MatrixCell, wide: boolean): string {
  switch (cell.status) {
    case 'not-run':
      return '-';
    case 'ok': {
      const answers = cell.answers.map((a) => a.replace(/^(A|AAAA) /, ''));
      const shown = wide ? answers.join(',') : `${answers[0] ?? ''}${answers.length > 1 ? ` +${answers.length - 1}` : ''}`;
      return `${cell.rcode ?? 'NOERROR'} ${shown}${cell.latencyMs !== null ? ` ${cell.latencyMs}ms` : ''}`;
    }
    case 'timeout':
      return 'TIMEOUT';
    case 'port-unreachable':
      return 'PORT-UNREACHABLE';
    case 'unreachable':
      return 'NO-ROUTE';
    case 'error':
      return 'ERROR';
    default:
      return (cell.rcode ?? cell.status).toUpperCase();
  }
}

function renderDnsCheckText(report: DnsCheckReport, wide: boolean, noHeaders: boolean, colour: Painter, columns: number | undefined): string {
  const out: string[] = [];
  const r = report.resolver;
  const otherOptions = r.options.filter((o) => !o.startsWith('ndots:')); // ndots is shown on its own
  out.push(`Pod ${report.pod.namespace}/${report.pod.name} on node ${report.pod.nodeName}, dnsPolicy ${report.pod.dnsPolicy}${report.pod.hostNetwork ? ', hostNetwork' : ''}`);
  out.push(`  resolv.conf${r.source === 'assumed' ? ' (not readable; assumed)' : ''}: nameserver ${r.nameservers.join(' ') || '<none>'}; search ${r.search.join(' ') || '<none>'}; ndots:${r.ndots}${otherOptions.length ? `; options ${otherOptions.join(' ')}` : ''}`);
  if (report.service) {
    const eps = report.service.endpoints.map((e) => `${e.address}${e.ready ? '' : '(not ready)'}${e.podName ? ` ${e.podName}` : ''}`).join(', ') || '<none>';
    out.push(`DNS Service ${report.service.namespace}/${report.service.name} ${report.service.clusterIP ?? '<no ClusterIP>'} (${report.service.ports.join(', ')}), endpoints: ${eps}`);
  } else {
    out.push('DNS Service kube-system/kube-dns: not found');
  }
  if (report.nodeLocalDns) out.push('NodeLocal DNSCache: present (169.254.20.10)');
  if (report.corefile) {
    out.push(`Corefile: ${report.corefile.forward.join('; ') || 'no forward'}; loop plugin ${report.corefile.loopPlugin ? 'on' : 'off'}`);
  }
  out.push(`Outside name: ${report.outsideName.status === 'asked' ? report.outsideName.names.join(', ') : `skipped (${report.outsideName.reason})`}`);
  out.push('');
  // resolv.conf: CoreDNS's own file (what `forward . /etc/resolv.conf` reads); node-resolv.conf only for context.
  const corednsHeaders = ['coredns-pod', 'node', 'ip', 'phase', 'ready', 'restarts', 'state', 'resolv.conf', 'node-resolv.conf', 'upstream'];
  const nameservers = (lines: string[] | null) => lines?.filter((l) => l.startsWith('nameserver')).map((l) => l.replace(/^nameserver\s+/, '')).join(',') ?? null;
  out.push(
    renderTable(
      corednsHeaders,
      report.coredns.map((c) => [c.name, c.nodeName, c.podIP, c.phase, c.ready ? 'true' : 'false', c.restarts, c.state, nameservers(c.resolvConf) ?? '?', nameservers(c.nodeResolvConf), `${c.upstreams.join(',')}${c.upstreamSource === 'node' ? ' (assumed)' : ''}`]),
      { noHeaders, columns, wrap: 'upstream' },
    ).trimEnd() || 'CoreDNS pods: none (label k8s-app=kube-dns in kube-system)',
  );
  const logs = report.coredns.flatMap((c) => c.logLines.map((l) => `  ${c.name}: ${l}`));
  if (logs.length > 0) out.push('', 'CoreDNS log lines that matter:', ...logs);

  out.push('', `Query matrix (rows: names as the pod's resolver expands them; from ${report.servers[0]?.queriedFrom ?? 'the pod'}, upstreams from CoreDNS's namespace):`);
  const headers = ['name', 'proto', 'queries', ...report.servers.map((s) => s.label)];
  const rows = report.matrix.map((row) => {
    const first = row.cells.find((c) => c.status !== 'not-run');
    const cost = report.queryCost.find((q) => q.name === row.name);
    const queries = first ? `${first.queries}/${cost?.worstCase ?? first.queries}` : '-';
    return [row.origin === 'full-form' ? `${row.name} (full form)` : row.name, row.protocol, queries, ...row.cells.map((c) => cellText(c, wide))];
  });
  out.push(renderTable(headers, rows, { noHeaders }).trimEnd());

  out.push('', 'Search-list walk (UDP, first pod-side server):');
  for (const q of report.queryCost) {
    const row = report.matrix.find((m) => m.name === q.name && m.protocol === 'udp');
    const c = row?.cells.find((x) => x.status !== 'not-run');
    const steps = c ? c.steps.map((s) => `${s.query} ${s.rcode ?? s.status.toUpperCase()}`).join(' -> ') : 'not queried';
    out.push(`  ${q.name}: ${steps}`);
  }
  if (wide) {
    out.push('', 'Servers:');
    for (const s of report.servers) out.push(`  ${s.label}: ${s.kind}, asked from ${s.queriedFrom} (probe on ${s.nodeName})`);
  }
  if (report.problems.length > 0) out.push('', 'Could not read:', ...report.problems.map((p) => `  ${p}`));
  out.push('', renderFindings(report.findings, colour).trimEnd());
  return `${out.join('\n')}\n`;
}
