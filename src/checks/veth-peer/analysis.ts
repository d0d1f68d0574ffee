// veth-peer: from the kernel's own link indexes, each pod interface's host-side peer and the path
// from there to the node's wire. Never predicts names and never assumes ifindex+1.
import type { Finding } from '../finding.js';
import type { PodTarget } from '../common/pod-targets.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import { locatePodNamespace, nodeFailedFinding, readAllNodeFacts, type NodeFacts, type PodNetnsFacts } from '../common/node-facts.js';
import { effectiveRpFilter } from '../../parse/sysctl.js';
import type { NetLink } from '../../parse/ip-addr.js';
import type { RouteEntry } from '../../parse/ip-route.js';

/** What the command resolved through the API (kept in snapshots). */
export interface VethPeerApi {
  pods: PodTarget[];
  /** InternalIP of every node, to ask each probed node for its route toward another node. */
  nodeIPs: Record<string, string>;
}

export type CniKind = 'calico' | 'flannel' | 'cilium' | 'bridge' | 'ptp' | 'unknown';

export interface HostPeer {
  ifname: string;
  ifindex: number;
  macAddress: string | null;
  mtuBytes: number | null;
  operState: string;
  adminUp: boolean;
  master: string | null;
  hairpin: boolean | null; // bridge port hairpin mode, when bridged
  proxyArp: boolean | null; // the interface's own value
  forwarding: boolean | null;
  rpFilter: number | null; // effective: max(all, interface)
}

export interface Overlay {
  ifname: string;
  kind: string; // vxlan, ipip, wireguard, geneve, or the driver kind
  vni: number | null;
  dstPort: number | null;
  mtuBytes: number | null;
  carriesRoutes: string[]; // destinations routed through it
}

export interface NodeNic {
  ifname: string;
  address: string | null;
  mtuBytes: number | null;
  towards: string; // the address whose route chose it
}

export type LeaveVia =
  | { kind: 'bridge'; bridge: string; bridgeMtuBytes: number | null }
  | { kind: 'route'; route: string } // "10.244.1.5 dev cali1234 scope link"
  | { kind: 'none' };

export interface VethPair {
  podInterface: {
    ifname: string;
    ifindex: number;
    iflink: number | null; // the peer's ifindex as the pod's namespace reports it
    macAddress: string | null;
    addresses: string[];
    mtuBytes: number | null;
    operState: string;
  };
  hostPeer: HostPeer | null;
  /** Holds the pod IP the API reports: the CNI's interface. Others (Multus net1) are secondary. */
  primary: boolean;
  leaveVia: LeaveVia;
  cni: CniKind;
  tcpdump: string | null;
}

export type PodPathRow =
  | { kind: 'pod'; namespace: string; name: string; nodeName: string; pairs: VethPair[]; overlays: Overlay[]; nic: NodeNic | null; pidMethod: string }
  | { kind: 'host-network'; namespace: string; name: string; nodeName: string; note: string }
  | { kind: 'unreadable'; namespace: string; name: string; nodeName: string; note: string };

export interface VethPeerReport {
  rows: PodPathRow[];
  findings: Finding[];
  problems: string[];
}

const OVERLAY_KINDS = new Set(['vxlan', 'ipip', 'geneve', 'wireguard', 'gre', 'gretap', 'sit']);
const OVERLAY_NAMES = /^(flannel\.\d+|vxlan\.calico|vxlan-v6\.calico|tunl0|cilium_vxlan|cilium_geneve|wg0|wireguard\.cali|weave|nodelocaldns)$/;

export function diagnoseVethPeer(api: VethPeerApi, nodes: readonly NodeCollection[]): VethPeerReport {
  const { facts, problems, failed } = readAllNodeFacts(nodes);
  const findings: Finding[] = failed.map((n) => nodeFailedFinding(n.nodeName, n.error));

  const rows: PodPathRow[] = [];
  for (const pod of api.pods) {
    const base = { namespace: pod.namespace, name: pod.name, nodeName: pod.nodeName };
    const where = locatePodNamespace(pod, facts);
    if (where.kind === 'host-network') {
      rows.push({ kind: 'host-network', ...base, note: "uses the node's network namespace; no veth" });
      continue;
    }
    if (where.kind !== 'found') {
      rows.push({ kind: 'unreadable', ...base, note: where.note });
      if (where.kind === 'netns-missing') {
        findings.push({
          code: 'veth.netns-not-found',
          severity: 'warn',
          subject: `pod ${pod.namespace}/${pod.name}`,
          message: `no process on node ${pod.nodeName} belongs to this pod's container or holds its IP`,
          evidence: where.evidence,
          remedy: 'the pod may have restarted or be terminating; run again, or check the container runtime on the node',
        });
      }
      continue;
    }
    rows.push(diagnosePod(pod, where.node, where.podNs, api, findings));
  }
  findings.push(...siblingBridgeFindings(rows));
  return { rows, findings, problems };
}

function diagnosePod(pod: PodTarget, node: NodeFacts, podNs: PodNetnsFacts, api: VethPeerApi, findings: Finding[]): PodPathRow {
  const hostLinks = node.host.links ?? [];
  const hostRoutes = node.host.routes ?? [];
  const subject = (ifname: string) => `pod ${pod.namespace}/${pod.name} ${ifname}`;
  const overlays = findOverlays(hostLinks, hostRoutes);
  const nic = findNic(node, api, hostLinks);
  const pairs: VethPair[] = [];

  for (const link of podNs.links ?? []) {
    // Pod interfaces worth a row: veths and anything with a peer, plus eth0/netN (Multus) even
    // when they have none, so a missing peer is reported; tunl0@NONE and friends are skipped.
    const hasPeer = link.peer?.ifindex != null || podNs.ethtoolPeerIfindex.has(link.ifname);
    if (link.ifname === 'lo' || !(link.kind === 'veth' || hasPeer || /^(eth|net)\d+$/.test(link.ifname))) continue;
    // The peer's ifindex: ip's link_index, else ethtool's peer_ifindex (older iproute2).
    const iflink = link.peer?.ifindex ?? podNs.ethtoolPeerIfindex.get(link.ifname) ?? null;
    const host = iflink === null ? undefined : hostLinks.find((h) => h.ifindex === iflink && (h.peer?.ifindex == null || h.peer.ifindex === link.ifindex));
    // Link-local IPv6 (fe80::) is on every interface and says nothing about the pod.
    const addresses = link.addresses.filter((a) => a.scope !== 'link').map((a) => `${a.address}/${a.prefixLength}`);
    const podInterface = {
      ifname: link.ifname,
      ifindex: link.ifindex,
      iflink,
      macAddress: link.macAddress,
      addresses,
      mtuBytes: link.mtuBytes,
      operState: link.operState,
    };
    if (!host) {
      pairs.push({ podInterface, hostPeer: null, primary: link.addresses.some((a) => pod.podIPs.includes(a.address)), leaveVia: { kind: 'none' }, cni: 'unknown', tcpdump: null });
      findings.push({
        code: 'veth.peer-not-found',
        severity: link.kind === 'veth' ? 'error' : 'info',
        subject: subject(link.ifname),
        message: iflink === null
          ? `${link.ifname} reports no peer interface (kind ${link.kindRaw ?? 'unknown'}), so it has no host-side veth`
          : `no interface with ifindex ${iflink} exists in node ${pod.nodeName}'s network namespace`,
        evidence: [link.raw.slice(0, 300)],
        remedy: link.kind === 'veth' ? "the peer lives in another namespace (nested or Multus network): check the CNI's own tooling" : 'nothing to do for non-veth interfaces',
      });
      continue;
    }
    const podIPv4 = link.addresses.filter((a) => a.family === 'inet').map((a) => a.address);
    const primary = link.addresses.some((a) => pod.podIPs.includes(a.address));
    const conf = node.host.sysctl?.ipv4Conf[host.ifname];
    const hostPeer: HostPeer = {
      ifname: host.ifname,
      ifindex: host.ifindex,
      macAddress: host.macAddress,
      mtuBytes: host.mtuBytes,
      operState: host.operState,
      adminUp: host.adminUp,
      master: host.master,
      hairpin: host.bridgePort?.hairpin ?? null,
      proxyArp: conf?.proxyArp ?? null,
      forwarding: conf?.forwarding ?? null,
      rpFilter: effectiveRpFilter(node.host.sysctl?.ipv4Conf['all'], conf),
    };
    const leaveVia = leaveViaFor(host, hostLinks, hostRoutes, podIPv4);
    const cni = classifyCni(host, leaveVia);
    pairs.push({ podInterface, hostPeer, primary, leaveVia, cni, tcpdump: podIPv4[0] ? `tcpdump -i ${host.ifname} -nn host ${podIPv4[0]}` : `tcpdump -i ${host.ifname} -nn` });

    if (!host.adminUp || host.operState === 'DOWN' || host.operState === 'LOWERLAYERDOWN') {
      findings.push({
        code: 'veth.peer-down',
        severity: 'error',
        subject: subject(link.ifname),
        message: `the host side ${host.ifname} is ${host.adminUp ? host.operState : 'administratively down'}, so nothing reaches the pod`,
        evidence: [`${host.ifname} ifindex ${host.ifindex} flags ${host.flags.join(',')} state ${host.operState}`],
        remedy: `bring it up on node ${pod.nodeName}: ip link set ${host.ifname} up (and find out what took it down: CNI agent logs)`,
      });
    }
    // Only the interface holding the pod IP must be routed by the node; a Multus net1 may not be.
    if (leaveVia.kind === 'none' && primary) {
      findings.push({
        code: 'veth.no-route-to-pod',
        severity: 'error',
        subject: subject(link.ifname),
        message: `node ${pod.nodeName} has no route to ${podIPv4.join(', ')} through ${host.ifname}, and ${host.ifname} is not in a bridge: replies to the pod go elsewhere`,
        evidence: hostRoutes.filter((r) => r.dev === host.ifname).map((r) => r.raw).slice(0, 5).concat([`no route for ${podIPv4[0]}/32 dev ${host.ifname}`]),
        remedy: `restore the CNI's /32 route (ip route add ${podIPv4[0]}/32 dev ${host.ifname} scope link) or restart the CNI agent on the node`,
      });
    }
    for (const overlay of overlays.filter((o) => primary && o.carriesRoutes.length > 0)) {
      if (link.mtuBytes !== null && overlay.mtuBytes !== null && link.mtuBytes > overlay.mtuBytes) {
        findings.push({
          code: 'veth.mtu-exceeds-overlay',
          severity: 'error',
          subject: subject(link.ifname),
          message: `${link.ifname} MTU ${link.mtuBytes} is larger than the overlay ${overlay.ifname} MTU ${overlay.mtuBytes}: full-size packets to other nodes are dropped or fragmented`,
          evidence: [`pod ${link.ifname} mtu ${link.mtuBytes}`, `node ${overlay.ifname} (${overlay.kind}) mtu ${overlay.mtuBytes}`],
          remedy: `set the CNI MTU to at most ${overlay.mtuBytes} (and recreate the pod), or raise the node NIC MTU so the overlay can grow`,
        });
      }
    }
  }
  return { kind: 'pod', namespace: pod.namespace, name: pod.name, nodeName: pod.nodeName, pairs, overlays, nic, pidMethod: podNs.pidMethod };
}

function leaveViaFor(host: NetLink, links: readonly NetLink[], routes: readonly RouteEntry[], podIPv4: readonly string[]): LeaveVia {
  if (host.master) {
    const bridge = links.find((l) => l.ifname === host.master);
    return { kind: 'bridge', bridge: host.master, bridgeMtuBytes: bridge?.mtuBytes ?? null };
  }
  for (const ip of podIPv4) {
    const r = routes.find((route) => route.dst === `${ip}/32` && route.dev === host.ifname && route.table === 'main');
    if (r) return { kind: 'route', route: `${r.dstRaw} dev ${r.dev}${r.scope ? ` scope ${r.scope}` : ''}` };
  }
  return { kind: 'none' };
}

export function classifyCni(host: NetLink, via: LeaveVia): CniKind {
  if (host.ifname.startsWith('cali')) return 'calico';
  if (host.ifname.startsWith('lxc')) return 'cilium';
  if (via.kind === 'bridge') return via.bridge === 'cni0' ? 'flannel' : 'bridge';
  if (via.kind === 'route') return 'ptp';
  return 'unknown';
}

function findOverlays(links: readonly NetLink[], routes: readonly RouteEntry[]): Overlay[] {
  return links
    .filter((l) => OVERLAY_KINDS.has(l.kindRaw ?? '') || OVERLAY_NAMES.test(l.ifname))
    .map((l) => ({
      ifname: l.ifname,
      kind: l.kindRaw ?? 'unknown',
      vni: l.vxlan?.vni ?? null,
      dstPort: l.vxlan?.dstPort ?? null,
      mtuBytes: l.mtuBytes,
      carriesRoutes: routes.filter((r) => r.dev === l.ifname && r.table === 'main' && r.type === 'unicast' && r.scope !== 'link').map((r) => r.dst),
    }));
}

function findNic(node: NodeFacts, api: VethPeerApi, links: readonly NetLink[]): NodeNic | null {
  // The NIC is what the node uses toward another node, as `ip route get` says; else the default route.
  for (const [addr, route] of node.routeGets) {
    if (!route.dev) continue;
    const link = links.find((l) => l.ifname === route.dev);
    return { ifname: route.dev, address: route.prefsrc, mtuBytes: link?.mtuBytes ?? null, towards: addr };
  }
  const def = (node.host.routes ?? []).find((r) => r.isDefault && r.family === 'inet' && r.table === 'main');
  if (def?.dev) {
    const link = links.find((l) => l.ifname === def.dev);
    const own = api.nodeIPs[node.nodeName] ?? null;
    return { ifname: def.dev, address: link?.addresses.find((a) => a.family === 'inet')?.address ?? own, mtuBytes: link?.mtuBytes ?? null, towards: 'default route' };
  }
  return null;
}

/** A veth peer enslaved to a different bridge than the other pods' peers on the same node. */
function siblingBridgeFindings(rows: readonly PodPathRow[]): Finding[] {
  const byNode = new Map<string, Array<{ pod: string; peer: string; bridge: string }>>();
  for (const row of rows) {
    if (row.kind !== 'pod') continue;
    for (const pair of row.pairs) {
      if (pair.leaveVia.kind !== 'bridge' || !pair.hostPeer || pair.podInterface.ifname !== 'eth0') continue;
      const list = byNode.get(row.nodeName) ?? [];
      list.push({ pod: `${row.namespace}/${row.name}`, peer: pair.hostPeer.ifname, bridge: pair.leaveVia.bridge });
      byNode.set(row.nodeName, list);
    }
  }
  const findings: Finding[] = [];
  for (const [nodeName, list] of byNode) {
    const counts = new Map<string, number>();
    for (const e of list) counts.set(e.bridge, (counts.get(e.bridge) ?? 0) + 1);
    if (counts.size < 2) continue;
    const majority = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    for (const e of list.filter((x) => x.bridge !== majority)) {
      findings.push({
        code: 'veth.bridge-mismatch',
        severity: 'warn',
        subject: `pod ${e.pod}`,
        message: `its host veth ${e.peer} is in bridge ${e.bridge}, while the other pods on node ${nodeName} use ${majority}`,
        evidence: list.map((x) => `${x.pod}: ${x.peer} master ${x.bridge}`),
        remedy: `move it back (ip link set ${e.peer} master ${majority}) or recreate the pod; find what re-plugged it`,
      });
    }
  }
  return findings;
}
