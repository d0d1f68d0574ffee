import type { GlobalOptions } from '../../cli/global-options.js';
import type { PodPathRow, VethPair, VethPeerReport, Overlay, NodeNic } from './analysis.js';
import { renderTable } from '../../render/table.js';
import { renderFindings } from '../common/render-findings.js';
import { renderStructured } from '../../render/structured.js';
import type { Painter } from '../../render/colour.js';
import type { Finding } from '../finding.js';
import { statusText } from '../common/render-findings.js';

export function renderVethPeer(report: VethPeerReport, options: GlobalOptions, colour: Painter): string {
  switch (options.output) {
    case 'json':
    case 'yaml':
      return renderStructured('VethPeerReport', { pods: report.rows, findings: report.findings, problems: report.problems }, options.output);
    case 'dot':
      return renderVethPeerDot(report);
    default:
      return renderVethPeerText(report, options.output === 'wide', options.noHeaders, colour);
  }
}

function renderVethPeerText(report: VethPeerReport, wide: boolean, noHeaders: boolean, colour: Painter): string {
  // Pods on several nodes (-l, smoke's nodes): one line per node, then only the interfaces that
  // are not ok. One node, or -o wide: every interface. json/yaml keep every fact either way.
  const summarise = !wide && new Set(report.rows.map((r) => r.nodeName)).size > 1;
  if (!summarise) return renderVethPeerRows(report, report.rows, wide, noHeaders, colour);
  const notOk = notOkRows(report);
  let out = renderNodeSummary(report.rows, notOk, report.findings, noHeaders, colour);
  if (!noHeaders) out += '(interfaces that are ok are counted, not listed; -o wide lists every one)\n';
  const shown = notOk.rows;
  return shown.length === 0 ? `${out}${renderProblemsAndFindings(report, colour)}` : `${out}\n${renderVethPeerRows(report, shown, wide, noHeaders, colour)}`;
}

/** The rows (and within a pod row, the interfaces) that a finding names or that look broken. */
export function notOkRows(report: VethPeerReport): { rows: PodPathRow[]; count: Map<string, number> } {
  const named = new Set(report.findings.map((f) => f.subject));
  const rows: PodPathRow[] = [];
  const count = new Map<string, number>();
  const note = (row: PodPathRow, n: number) => count.set(row.nodeName, (count.get(row.nodeName) ?? 0) + n);
  for (const row of report.rows) {
    const pod = `pod ${row.namespace}/${row.name}`;
    if (row.kind !== 'pod') {
      if (row.kind === 'unreadable' || named.has(pod)) {
        rows.push(row);
        note(row, 1);
      }
      continue;
    }
    const pairs = row.pairs.filter((pair) => named.has(pod) || named.has(`${pod} ${pair.podInterface.ifname}`) || looksBroken(pair));
    if (pairs.length > 0) {
      rows.push({ ...row, pairs });
      note(row, pairs.length);
    }
  }
  return { rows, count };
}

function looksBroken(pair: VethPair): boolean {
  const h = pair.hostPeer;
  if (!h) return true;
  if (!h.adminUp || h.operState === 'DOWN') return true;
  if (pair.primary && pair.leaveVia.kind === 'none') return true;
  return pair.podInterface.mtuBytes !== null && h.mtuBytes !== null && pair.podInterface.mtuBytes !== h.mtuBytes;
}

function renderNodeSummary(rows: readonly PodPathRow[], notOk: { count: Map<string, number> }, findings: readonly Finding[], noHeaders: boolean, colour: Painter): string {
  const byNode = new Map<string, { pods: number; interfaces: number; subjects: Set<string> }>();
  for (const row of rows) {
    const n = byNode.get(row.nodeName) ?? { pods: 0, interfaces: 0, subjects: new Set<string>() };
    n.pods += 1;
    n.interfaces += row.kind === 'pod' ? row.pairs.length : 0;
    n.subjects.add(`pod ${row.namespace}/${row.name}`);
    byNode.set(row.nodeName, n);
  }
  const table: Array<Array<string | number>> = [];
  for (const [node, n] of [...byNode].sort(([a], [b]) => a.localeCompare(b))) {
    // A finding belongs to the node when it names the node or one of its pods (or their interfaces).
    const own = findings.filter((f) => f.subject === `node ${node}` || n.subjects.has(f.subject) || n.subjects.has(f.subject.split(' ').slice(0, 2).join(' ')));
    const worst = own.reduce<'ok' | Finding['severity']>((w, f) => (RANK[f.severity] > RANK[w] ? f.severity : w), 'ok');
    const broken = notOk.count.get(node) ?? 0;
    table.push([node, n.pods, n.interfaces, broken, statusText(broken > 0 && worst === 'ok' ? 'warn' : worst, colour)]);
  }
  return renderTable(['node', 'pods', 'interfaces', 'not-ok', 'status'], table, { noHeaders });
}

const RANK = { ok: 0, info: 1, warn: 2, error: 3 } as const;

function renderProblemsAndFindings(report: VethPeerReport, colour: Painter): string {
  let out = '';
  if (report.problems.length > 0) out += `\nCould not read:\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`;
  return `${out}\n${renderFindings(report.findings, colour)}`;
}

function renderVethPeerRows(report: VethPeerReport, shownRows: readonly PodPathRow[], wide: boolean, noHeaders: boolean, colour: Painter): string {
  const headers = ['namespace', 'pod', 'node', 'iface', 'pod-ip', 'ifindex', 'host-peer', 'peer-ifindex', 'state', 'via', 'mtu', 'cni'];
  if (wide) headers.push('pod-mac', 'peer-mac', 'proxy_arp', 'forwarding', 'rp_filter', 'overlay', 'nic');
  const rows: Array<Array<string | number | null>> = [];
  for (const row of shownRows) {
    if (row.kind !== 'pod') {
      const cells: Array<string | number | null> = [row.namespace, row.name, row.nodeName, '-', '-', '-', row.note, '-', '-', '-', '-', '-'];
      if (wide) cells.push('-', '-', '-', '-', '-', '-', '-');
      rows.push(cells);
      continue;
    }
    for (const pair of row.pairs) {
      const h = pair.hostPeer;
      const cells: Array<string | number | null> = [
        row.namespace,
        row.name,
        row.nodeName,
        pair.podInterface.iflink !== null ? `${pair.podInterface.ifname}@if${pair.podInterface.iflink}` : pair.podInterface.ifname,
        pair.podInterface.addresses.map((a) => a.split('/')[0]).join(','),
        pair.podInterface.ifindex,
        h?.ifname ?? null,
        h?.ifindex ?? null,
        h ? (h.adminUp ? h.operState : 'DOWN(admin)') : null,
        viaText(pair),
        mtuText(pair),
        pair.cni,
      ];
      if (wide) {
        cells.push(
          pair.podInterface.macAddress,
          h?.macAddress ?? null,
          onOff(h?.proxyArp),
          onOff(h?.forwarding),
          h?.rpFilter ?? null,
          row.overlays.filter((o) => o.carriesRoutes.length > 0).map(overlayText).join(',') || null,
          row.nic ? `${row.nic.ifname} ${row.nic.address ?? ''} mtu ${row.nic.mtuBytes ?? '?'}`.replace('  ', ' ') : null,
        );
      }
      rows.push(cells);
    }
  }
  let out = renderTable(headers, rows, { noHeaders });
  const paths = shownRows.flatMap((row) => (row.kind === 'pod' ? row.pairs.map((pair) => pathLines(row, pair)) : []));
  if (paths.length > 0) out += `\nPaths:\n${paths.join('\n')}\n`;
  return out + renderProblemsAndFindings(report, colour);
}

function onOff(value: boolean | null | undefined): string | null {
  return value === null || value === undefined ? null : value ? '1' : '0';
}

function viaText(pair: VethPair): string {
  switch (pair.leaveVia.kind) {
    case 'bridge':
      return `bridge ${pair.leaveVia.bridge}${pair.hostPeer?.hairpin ? ' (hairpin)' : ''}`;
    case 'route':
      return `route ${pair.leaveVia.route.split(' ')[0]}`;
    case 'none':
      return pair.hostPeer ? (pair.primary ? 'NO ROUTE' : 'secondary') : '-';
  }
}

function mtuText(pair: VethPair): string {
  const p = pair.podInterface.mtuBytes ?? '?';
  const h = pair.hostPeer?.mtuBytes ?? '?';
  return p === h ? String(p) : `${p}/${h}`;
}

function overlayText(o: Overlay): string {
  const detail = [o.vni !== null ? `vni ${o.vni}` : '', o.dstPort !== null ? `port ${o.dstPort}` : '', o.mtuBytes !== null ? `mtu ${o.mtuBytes}` : '']
    .filter(Boolean)
    .join(' ');
  return `${o.ifname}(${o.kind}${detail ? ` ${detail}` : ''})`;
}

function nicText(nic: NodeNic): string {
  return `${nic.ifname}${nic.address ? ` ${nic.address}` : ''}${nic.mtuBytes !== null ? ` mtu ${nic.mtuBytes}` : ''}`;
}

/** The compact path line under the table, and the tcpdump to run on the host side. */
function pathLines(row: Extract<PodPathRow, { kind: 'pod' }>, pair: VethPair): string {
  const pi = pair.podInterface;
  const hops = [`${row.namespace}/${row.name} ${pi.ifname}(${pi.addresses[0] ?? 'no address'}, if${pi.ifindex}, mtu ${pi.mtuBytes ?? '?'})`];
  if (pair.hostPeer) {
    hops.push(`${pair.hostPeer.ifname}(if${pair.hostPeer.ifindex}, mtu ${pair.hostPeer.mtuBytes ?? '?'}, ${pair.hostPeer.adminUp ? pair.hostPeer.operState : 'DOWN'})`);
    if (pair.leaveVia.kind === 'bridge') hops.push(`bridge ${pair.leaveVia.bridge}(mtu ${pair.leaveVia.bridgeMtuBytes ?? '?'})`);
    else if (pair.leaveVia.kind === 'route') hops.push(`route ${pair.leaveVia.route}`);
    else hops.push(pair.primary ? 'NO ROUTE' : 'secondary network (not routed by the CNI)');
    const used = row.overlays.filter((o) => o.carriesRoutes.length > 0);
    if (pair.primary && used.length > 0) hops.push(used.map(overlayText).join(' | '));
    if (pair.primary && row.nic) hops.push(`${nicText(row.nic)} [node ${row.nodeName}]`);
  } else {
    hops.push('? (no host-side peer found)');
  }
  let line = `  ${hops.join(' -> ')}`;
  if (pair.tcpdump) line += `\n    on node ${row.nodeName}: ${pair.tcpdump}`;
  return line;
}

/** -o dot: one cluster per node, one chain per pod interface. */
export function renderVethPeerDot(report: VethPeerReport): string {
  const lines = ['digraph netdiag_veth_peer {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];'];
  // Pods on one bridge share its node and edges: each statement once.
  const seen = new Set<string>();
  const push = (...statements: string[]) => {
    for (const st of statements) {
      if (st.trim() === '}' || !seen.has(st)) lines.push(st);
      seen.add(st);
    }
  };
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  const byNode = new Map<string, Array<Extract<PodPathRow, { kind: 'pod' }>>>();
  for (const row of report.rows) {
    if (row.kind !== 'pod') continue;
    byNode.set(row.nodeName, [...(byNode.get(row.nodeName) ?? []), row]);
  }
  let n = 0;
  for (const [nodeName, rows] of byNode) {
    push(`  subgraph ${q(`cluster_${nodeName}`)} {`, `    label=${q(`node ${nodeName}`)};`);
    const nic = rows[0]?.nic;
    const nicId = q(`${nodeName}/nic`);
    if (nic) push(`    ${nicId} [label=${q(nicText(nic))}];`);
    const overlayIds = new Map<string, string>();
    for (const o of rows[0]?.overlays.filter((x) => x.carriesRoutes.length > 0) ?? []) {
      const id = q(`${nodeName}/${o.ifname}`);
      overlayIds.set(o.ifname, id);
      push(`    ${id} [label=${q(overlayText(o))}, shape=hexagon];`);
      if (nic) push(`    ${id} -> ${nicId};`);
    }
    for (const row of rows) {
      for (const pair of row.pairs) {
        const podId = q(`p${n++}`);
        push(`    ${podId} [label=${q(`${row.namespace}/${row.name}\n${pair.podInterface.ifname} ${pair.podInterface.addresses[0] ?? ''}\nmtu ${pair.podInterface.mtuBytes ?? '?'}`)}, shape=ellipse];`);
        if (!pair.hostPeer) continue;
        const peerId = q(`${nodeName}/${pair.hostPeer.ifname}`);
        push(`    ${peerId} [label=${q(`${pair.hostPeer.ifname}\nif${pair.hostPeer.ifindex} mtu ${pair.hostPeer.mtuBytes ?? '?'}`)}${pair.hostPeer.adminUp && pair.hostPeer.operState !== 'DOWN' ? '' : ', color=red'}];`);
        push(`    ${podId} -> ${peerId} [label="veth"];`);
        let next = peerId;
        if (pair.leaveVia.kind === 'bridge') {
          const bridgeId = q(`${nodeName}/${pair.leaveVia.bridge}`);
          push(`    ${bridgeId} [label=${q(`bridge ${pair.leaveVia.bridge}`)}, shape=box3d];`, `    ${peerId} -> ${bridgeId};`);
          next = bridgeId;
        }
        const targets = !pair.primary ? [] : overlayIds.size > 0 ? [...overlayIds.values()] : nic ? [nicId] : [];
        for (const t of targets) push(`    ${next} -> ${t}${pair.leaveVia.kind === 'route' ? ` [label=${q('route')}]` : ''};`);
      }
    }
    push('  }');
  }
  push('}');
  return `${lines.join('\n')}\n`;
}
