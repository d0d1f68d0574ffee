import type { GlobalOptions } from '../cli/global-options.js';
import type { PodPathRow, VethPair, VethPeerReport, Overlay, NodeNic } from '../analyze/veth-peer.js';
import { renderTable } from './table.js';
import { renderFindings } from './findings.js';
import { renderStructured } from './structured.js';
import type { Painter } from './colour.js';

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
  const headers = ['namespace', 'pod', 'node', 'iface', 'pod-ip', 'ifindex', 'host-peer', 'peer-ifindex', 'state', 'via', 'mtu', 'cni'];
  if (wide) headers.push('pod-mac', 'peer-mac', 'proxy_arp', 'forwarding', 'rp_filter', 'overlay', 'nic');
  const rows: Array<Array<string | number | null>> = [];
  for (const row of report.rows) {
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
  const paths = report.rows.flatMap((row) => (row.kind === 'pod' ? row.pairs.map((pair) => pathLines(row, pair)) : []));
  if (paths.length > 0) out += `\nPaths:\n${paths.join('\n')}\n`;
  if (report.problems.length > 0) out += `\nCould not read:\n${report.problems.map((p) => `  ${p}`).join('\n')}\n`;
  out += `\n${renderFindings(report.findings, colour)}`;
  return out;
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
