import type { RenderOptions } from '../../cli/command-runner.js';
import type { ArpCheckReport, ArpPodCheck, ArpProbe, ArpSysctls, NeighborView, SysctlValues } from './analysis.js';
import { displayWidth, renderTable } from '../../render/table.js';
import { renderFindings } from '../common/render-findings.js';
import { renderStructured } from '../../render/structured.js';
import type { Painter } from '../../render/colour.js';

export function renderArpCheck(report: ArpCheckReport, options: RenderOptions, colour: Painter): string {
  switch (options.output) {
    case 'json':
    case 'yaml':
      return renderStructured('ArpCheckReport', { pods: report.pods, nodes: report.nodes, findings: report.findings, problems: report.problems }, options.output);
    default:
      // -o dot has no picture for ARP: the table says it all.
      return renderArpCheckText(report, options.output === 'wide', options.noHeaders, colour, options.columns);
  }
}

function renderArpCheckText(report: ArpCheckReport, wide: boolean, noHeaders: boolean, colour: Painter, columns: number | undefined): string {
  const headers = ['namespace', 'pod', 'node', 'pod-ip', 'host-iface', 'gateway', 'node->pod', 'pod->gw', 'proxy_arp', 'arp_ignore', 'arp_announce', 'verdict'];
  if (wide) headers.push('pod-mac', 'node-sees-mac', 'pod-sees-gw-mac', 'forwarding', 'rp_filter', 'node-route-to-pod', 'node-route-to-gw');
  const rows: Array<Array<string | number | null>> = [];
  for (const row of report.pods) {
    if (row.kind !== 'pod') {
      // hostNetwork pods have no veth; unreadable ones say why in the last (unpadded) column.
      const verdict = row.kind === 'host-network' ? 'skipped: hostNetwork' : `unreadable: ${row.note}`;
      const cells: Array<string | number | null> = [row.namespace, row.name, row.nodeName, '-', '-', '-', '-', '-', '-', '-', '-', verdict];
      if (wide) cells.push('-', '-', '-', '-', '-', '-', '-');
      rows.push(cells);
      continue;
    }
    const cells: Array<string | number | null> = [
      row.namespace,
      row.name,
      row.nodeName,
      row.podIP,
      row.hostInterface ? `${row.hostInterface.ifname}${row.hostInterface.bridge ? ` (${row.hostInterface.bridge})` : ''}` : 'NOT FOUND',
      row.gateway.address ? `${row.gateway.address}${row.gateway.style === 'proxy-arp' ? ' (proxy)' : ''}` : 'NONE',
      neighborCell(row.nodeToPod, row.probe.nodeToPod),
      row.podToGateway ? neighborCell(row.podToGateway, row.probe.podToGateway) : '-',
      row.gateway.style === 'proxy-arp' ? onOff(row.proxyArp.effective) : '-',
      `${eff(row.nodeSide?.arpIgnore)}/${eff(row.podSide?.arpIgnore)}`,
      `${eff(row.nodeSide?.arpAnnounce)}/${eff(row.podSide?.arpAnnounce)}`,
      verdictCell(row.verdict, colour),
    ];
    if (wide) {
      cells.push(
        row.podInterface.macAddress,
        row.nodeToPod.macAddress,
        row.podToGateway?.macAddress ?? null,
        onOff(row.forwarding),
        `${eff(row.nodeSide?.rpFilter)}/${eff(row.podSide?.rpFilter)}`,
        row.nodeRouteToPod,
        row.gateway.style === 'proxy-arp' ? (row.nodeRouteToGateway ?? 'NONE') : '-',
      );
    }
    rows.push(cells);
  }
  let out = renderTable(headers, rows, { noHeaders, columns, wrap: 'verdict' });
  out += '  (arp_ignore, arp_announce: effective node/pod = max(conf.all, conf.IFACE); node side on the interface that receives the pod\'s ARP)\n';

  const checks = report.pods.filter((r): r is ArpPodCheck => r.kind === 'pod');
  if (wide && checks.length > 0) {
    out += '\nSysctls (all / interface -> effective):\n';
    for (const c of checks) {
      out += `  ${c.namespace}/${c.name}: node ${sysctlText(c.nodeSide)}\n`;
      out += `  ${' '.repeat(displayWidth(`${c.namespace}/${c.name}:`))} pod  ${sysctlText(c.podSide)}\n`;
    }
  }
  const probes = checks.flatMap((c) => [c.probe.nodeToPod, c.probe.podToGateway]).filter((p): p is ArpProbe => p !== null && p.outcome !== 'not-run');
  if (probes.length > 0) {
    out += '\nARP probes:\n';
    for (const p of probes) out += `  ${p.from} -> ${p.target} on ${p.iface}: ${probeText(p)}\n`;
  }

  if (report.nodes.length > 0) {
    const nodeRows = report.nodes.map((n) => [
      n.nodeName,
      n.role,
      n.internalIP,
      n.readable ? n.nic ?? 'NOT FOUND' : 'unreadable',
      n.nicIPv4.join(','),
      n.readable ? n.defaultRoute ?? 'NONE' : null,
      n.allArpIgnore,
      n.allArpAnnounce,
      n.ipvs ? `${n.ipvs.vips.length} VIPs, ignore ${n.ipvs.arpIgnore ?? '?'} announce ${n.ipvs.arpAnnounce ?? '?'}` : 'no',
    ]);
    out += `\nNodes:\n${renderTable(['node', 'role', 'internal-ip', 'nic', 'nic-ipv4', 'default-route', 'all.arp_ignore', 'all.arp_announce', 'ipvs'], nodeRows, { noHeaders })}`;
  }
  if (report.problems.length > 0) out += `\nCould not read:\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`;
  out += `\n${renderFindings(report.findings, colour)}`;
  return out;
}

function neighborCell(n: NeighborView, probe: ArpProbe | null): string {
  const state = n.state === 'ABSENT' ? 'none' : n.state;
  if (!probe || probe.outcome === 'not-run') return state;
  return `${state}, ${probe.outcome === 'answered' ? 'arp ok' : probe.outcome === 'no-reply' ? 'NO REPLY' : `${probe.macAddresses.length} MACS`}`;
}

function probeText(p: ArpProbe): string {
  const source = p.sourceAddress ? ` (from ${p.sourceAddress})` : '';
  switch (p.outcome) {
    case 'answered':
      return `${p.replies} replies from ${p.macAddresses[0]}${source}`;
    case 'two-macs':
      return `replies from ${p.macAddresses.length} MACs: ${p.macAddresses.join(', ')}${source}`;
    case 'no-reply':
      return `no reply${source}`;
    case 'not-run':
      return 'not run';
  }
}

function verdictCell(verdict: string, colour: Painter): string {
  if (verdict === 'ok') return colour.green('ok');
  return verdict.startsWith('FAIL') ? colour.red(verdict) : colour.yellow(verdict);
}

function eff(v: SysctlValues | undefined): string {
  return v?.effective === null || v?.effective === undefined ? '?' : String(v.effective);
}

function raw(name: string, v: SysctlValues): string {
  const n = (x: number | null) => (x === null ? '?' : String(x));
  return `${name} ${n(v.all)}/${n(v.iface)}->${n(v.effective)}`;
}

function sysctlText(s: ArpSysctls | null): string {
  if (!s) return 'not read';
  return `${s.ifname}: ${raw('arp_ignore', s.arpIgnore)}, ${raw('arp_announce', s.arpAnnounce)}, ${raw('rp_filter', s.rpFilter)}`;
}

function onOff(value: boolean | null | undefined): string | null {
  return value === null || value === undefined ? null : value ? '1' : '0';
}
