// node-diff GOOD BAD: the same facts from two nodes, compared after taking out what is naturally
// per-node (addresses, own pod CIDR, veth names and counts, ifindexes, MACs, counters), shown
// only where they differ and ranked by how likely the difference breaks pod networking.
import type { Finding, Severity, FindingCode } from '../finding.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import { nodeFailedFinding } from '../common/node-facts.js';
import {
  agentOnNode,
  buildNodeNetwork,
  normaliseOtherRoute,
  normaliseOwnRoute,
  routeLine,
  singleAgentRole,
  type AgentRole,
  type NodeFleetApi,
  type NodeNetwork,
} from '../node-check/analysis.js';
import { cidrCoversCidr, isLinkLocalIpv4 } from '../../net/ip.js';

export type DiffKind = (typeof DIFF_RANKING)[number]['kind'];

// How likely a difference of each kind breaks pod networking, most likely first. This order is
// the output order and each entry's severity sets the exit code (error/warn: 1 with the default
// --fail-on error only for error). Rationale, from the seed incidents:
//   - ip_forward off or kube-proxy rules missing break every pod / every ClusterIP on the node (003, 004);
//   - a missing or different route to a peer's pod CIDR cuts pods on that peer off;
//   - br_netfilter / per-interface forwarding / the agents themselves come next;
//   - a second NIC address breaks encapsulation only when the kernel picks it as source (003);
//   - MTU mismatches break large packets only (003: 1440 vs 1500);
//   - rp_filter/arp_ignore/proxy_arp break specific paths (001);
//   - CNI config, backend and route shape differences are suspicious but often harmless;
//   - kernel, tool versions, conntrack size, resolv.conf are cosmetic for pod networking.
export const DIFF_RANKING = [
  { kind: 'sysctl.ip-forward', code: 'node-diff.ip-forward', severity: 'error', why: 'a node with ip_forward=0 routes nothing to or from its pods' },
  { kind: 'kube-proxy.service-ports', code: 'node-diff.kube-proxy-service-ports', severity: 'error', why: 'Service ports without rules: their ClusterIPs (DNS too) fail from that node' },
  { kind: 'kube-proxy.mode', code: 'node-diff.kube-proxy-mode', severity: 'error', why: 'kube-proxy runs in a different mode or not at all' },
  { kind: 'kube-proxy.chains', code: 'node-diff.kube-proxy-rule-counts', severity: 'error', why: 'kube-proxy programmed a different number of Service/endpoint rules' },
  { kind: 'route.peer-pod-cidr', code: 'node-diff.pod-cidr-route', severity: 'error', why: 'pods on that node are reached differently, or not at all' },
  { kind: 'pod.kube-proxy', code: 'node-diff.kube-proxy-pod', severity: 'error', why: 'nothing keeps the Service rules current on that node' },
  { kind: 'pod.cni-agent', code: 'node-diff.cni-agent-pod', severity: 'error', why: 'nothing keeps routes and tunnel entries current on that node' },
  { kind: 'sysctl.bridge-nf-call-iptables', code: 'node-diff.bridge-nf-call-iptables', severity: 'error', why: 'bridged pod traffic skips iptables (Service replies, policies)' },
  { kind: 'sysctl.forwarding', code: 'node-diff.forwarding', severity: 'error', why: 'an interface that does not forward drops routed pod traffic' },
  { kind: 'cni.kind', code: 'node-diff.cni', severity: 'warn', why: 'the nodes run different CNIs: most other differences follow from that' },
  { kind: 'nic.ipv4-addresses', code: 'node-diff.nic-ipv4-addresses', severity: 'warn', why: 'a second NIC address can become the source of encapsulated traffic' },
  { kind: 'overlay.devices', code: 'node-diff.overlay-devices', severity: 'warn', why: 'a missing or down overlay device cannot carry pod traffic' },
  { kind: 'mtu.overlay', code: 'node-diff.mtu', severity: 'warn', why: 'an MTU mismatch drops large packets only (handshakes work, transfers stall)' },
  { kind: 'mtu.nic', code: 'node-diff.mtu', severity: 'warn', why: 'an MTU mismatch drops large packets only (handshakes work, transfers stall)' },
  { kind: 'mtu.bridge', code: 'node-diff.mtu', severity: 'warn', why: 'an MTU mismatch drops large packets only (handshakes work, transfers stall)' },
  { kind: 'mtu.veth', code: 'node-diff.mtu', severity: 'warn', why: 'an MTU mismatch drops large packets only (handshakes work, transfers stall)' },
  { kind: 'sysctl.rp-filter', code: 'node-diff.rp-filter', severity: 'warn', why: 'strict reverse-path filtering drops asymmetric pod traffic' },
  { kind: 'sysctl.arp-ignore', code: 'node-diff.arp-ignore', severity: 'warn', why: 'arp_ignore=2 makes Calico pods deaf to ARP from their node' },
  { kind: 'sysctl.proxy-arp', code: 'node-diff.proxy-arp', severity: 'warn', why: 'Calico pods need proxy ARP for their 169.254.1.1 gateway' },
  { kind: 'route.own-pod-cidr', code: 'node-diff.own-pod-cidr-route', severity: 'warn', why: "the node's own pod CIDR is routed differently" },
  { kind: 'route.default', code: 'node-diff.default-route', severity: 'warn', why: 'a different default route (Calico proxy ARP needs one)' },
  { kind: 'iptables.backend', code: 'node-diff.iptables-backend', severity: 'warn', why: 'rules in the other iptables backend are invisible to the one in use' },
  { kind: 'cni.config', code: 'node-diff.cni-config', severity: 'warn', why: 'the runtime sets pods up from a different network config' },
  { kind: 'sysctl.arp-announce', code: 'node-diff.sysctl-other', severity: 'info', why: 'rarely matters for pod traffic' },
  { kind: 'sysctl.other', code: 'node-diff.sysctl-other', severity: 'info', why: 'rarely matters for pod traffic' },
  { kind: 'route.other', code: 'node-diff.other-route', severity: 'info', why: 'routes outside the pod network' },
  { kind: 'conntrack.max', code: 'node-diff.conntrack-max', severity: 'info', why: 'only matters when the table fills' },
  { kind: 'kernel', code: 'node-diff.kernel', severity: 'info', why: 'cosmetic unless a feature is missing' },
  { kind: 'iptables.version', code: 'node-diff.iptables-version', severity: 'info', why: 'cosmetic' },
  { kind: 'resolv.conf', code: 'node-diff.resolv-conf', severity: 'info', why: "the node's resolvers; matters for CoreDNS on that node" },
] as const satisfies ReadonlyArray<{ kind: string; code: FindingCode; severity: Severity; why: string }>;

export interface NodeDiffRow {
  rank: number; // 1 = most likely to break pod networking
  kind: DiffKind;
  item: string;
  good: string;
  bad: string;
  severity: Severity;
  detail: string[]; // raw evidence of both sides
}

export interface NodeDiffReport {
  good: string;
  bad: string;
  comparedFacts: number;
  differences: NodeDiffRow[];
  findings: Finding[];
  problems: string[];
}

interface Fact {
  kind: DiffKind;
  item: string;
  value: string;
  detail?: string[];
}

const ABSENT = '<none>';

export function diagnoseNodeDiff(api: NodeFleetApi, collections: readonly NodeCollection[]): NodeDiffReport {
  const [goodName, badName] = api.checked as [string, string];
  const report: NodeDiffReport = { good: goodName, bad: badName, comparedFacts: 0, differences: [], findings: [], problems: [] };
  const nets: NodeNetwork[] = [];
  for (const name of [goodName, badName]) {
    const c = collections.find((n) => n.nodeName === name);
    if (!c || !c.ok) report.findings.push(nodeFailedFinding(name, c && !c.ok ? c.error : 'no output from this node'));
    else nets.push(buildNodeNetwork(c, api));
  }
  if (nets.length < 2) return report;
  const [good, bad] = nets as [NodeNetwork, NodeNetwork];
  report.problems.push(...good.problems, ...bad.problems);
  const goodFacts = collectFacts(good, bad, api);
  const badFacts = collectFacts(bad, good, api);
  const keys = new Set([...goodFacts.keys(), ...badFacts.keys()]);
  report.comparedFacts = keys.size;
  const bridged = [good, bad].some((n) => n.interfaces.some((i) => i.role === 'bridge' && i.vethPorts > 0));
  for (const key of keys) {
    const g = goodFacts.get(key);
    const b = badFacts.get(key);
    const gv = g?.value ?? ABSENT;
    const bv = b?.value ?? ABSENT;
    if (gv === bv) continue;
    const kind = (g ?? b)!.kind;
    // An interface only one node has is one difference (overlay devices, bridge), not one per
    // sysctl and MTU of that interface.
    if ((g === undefined || b === undefined) && (/^conf\//.test((g ?? b)!.item) || kind === 'mtu.overlay' || kind === 'mtu.bridge')) continue;
    // Writing net.ipv4.ip_forward sets every conf/*/forwarding to the same value: those follow
    // the ip_forward difference and are not differences of their own.
    if (kind === 'sysctl.forwarding' && gv === bool(good.sysctl?.ipForward ?? null) && bv === bool(bad.sysctl?.ipForward ?? null) && gv !== bv) continue;
    const rank = DIFF_RANKING.findIndex((r) => r.kind === kind);
    let severity: Severity = DIFF_RANKING[rank]!.severity;
    // br_netfilter only matters where pods hang on a bridge.
    if (kind === 'sysctl.bridge-nf-call-iptables' && !bridged) severity = 'info';
    report.differences.push({ rank: rank + 1, kind, item: (g ?? b)!.item, good: gv, bad: bv, severity, detail: [...(g?.detail ?? []).map((d) => `${goodName}: ${d}`), ...(b?.detail ?? []).map((d) => `${badName}: ${d}`)] });
  }
  report.differences.sort((x, y) => x.rank - y.rank || x.item.localeCompare(y.item));
  // One finding per ranking entry that has differences, in rank order.
  const byCode = new Map<FindingCode, NodeDiffRow[]>();
  for (const d of report.differences) {
    const code = DIFF_RANKING[d.rank - 1]!.code;
    byCode.set(code, [...(byCode.get(code) ?? []), d]);
  }
  for (const [code, rows] of byCode) {
    const entry = DIFF_RANKING[rows[0]!.rank - 1]!;
    const severity = rows.some((r) => r.severity === 'error') ? 'error' : rows.some((r) => r.severity === 'warn') ? 'warn' : 'info';
    report.findings.push({
      code,
      severity,
      subject: `nodes ${goodName} / ${badName}`,
      message: `${rows.map((r) => `${r.item}: ${r.good} on ${goodName}, ${r.bad} on ${badName}`).join('; ')} (${entry.why})`,
      evidence: rows.flatMap((r) => r.detail).slice(0, 12),
      remedy: `make ${badName} match ${goodName} for ${rows.map((r) => r.item).join(', ')}, or run kubectl netdiag node-check ${badName} for what to change`,
    });
  }
  return report;
}

type PutFact = (kind: DiffKind, item: string, value: string, detail?: string[]) => void;

/** The comparable facts of `net`, keyed so the same fact on the other node has the same key. */
function collectFacts(net: NodeNetwork, other: NodeNetwork, api: NodeFleetApi): Map<string, Fact> {
  const facts = new Map<string, Fact>();
  const put: PutFact = (kind, item, value, detail) => facts.set(`${kind}|${item}`, { kind, item, value, detail });
  put('cni.kind', 'CNI', net.cni);
  putSysctlFacts(net, put);
  putInterfaceFacts(net, put);
  putRouteFacts(net, other, api, put);
  putKubeProxyFacts(net, other, put);
  putAgentFacts(net, api, put);
  putConfigFacts(net, put);
  return facts;
}

/** Sysctls. Interfaces by role: the NIC under one name, every pod veth folded into one value set. */
function putSysctlFacts(net: NodeNetwork, put: PutFact): void {
  const sys = net.sysctl;
  if (!sys) return;
  const roleName = (ifname: string): string => {
    const i = net.interfaces.find((x) => x.ifname === ifname);
    if (i?.role === 'nic') return '<nic>';
    if (i?.role === 'veth') return '<pod veths>';
    return ifname;
  };
  put('sysctl.ip-forward', 'net.ipv4.ip_forward', bool(sys.ipForward), sysEvidence(net, '/proc/sys/net/ipv4/ip_forward'));
  put('sysctl.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-iptables', sys.bridgeNfCallIptables === null ? 'not loaded' : bool(sys.bridgeNfCallIptables));
  put('sysctl.other', 'net.bridge.bridge-nf-call-ip6tables', sys.bridgeNfCallIp6tables === null ? 'not loaded' : bool(sys.bridgeNfCallIp6tables));
  const grouped = new Map<string, { kind: DiffKind; values: Set<string>; raw: string[] }>();
  for (const e of sys.entries) {
    const conf = /^\/proc\/sys\/net\/ipv4\/conf\/([^/]+)\/([a-z_]+)$/.exec(e.path);
    let kind: DiffKind;
    let item: string;
    if (conf) {
      const [, iface, key] = conf as unknown as [string, string, string];
      kind = key === 'forwarding' ? 'sysctl.forwarding' : key === 'rp_filter' ? 'sysctl.rp-filter' : key === 'arp_ignore' ? 'sysctl.arp-ignore' : key === 'proxy_arp' ? 'sysctl.proxy-arp' : key === 'arp_announce' ? 'sysctl.arp-announce' : 'sysctl.other';
      item = `conf/${roleName(iface)}/${key}`;
    } else if (e.path.endsWith('/nf_conntrack_max')) {
      put('conntrack.max', 'nf_conntrack_max', e.value, [e.raw]);
      continue;
    } else if (/ip_forward$|bridge-nf-call-ip6?tables$|nf_conntrack_count$/.test(e.path)) {
      continue; // typed above, or volatile
    } else {
      kind = 'sysctl.other';
      item = e.path.replace('/proc/sys/', '').replace(/\//g, '.');
    }
    const g = grouped.get(item) ?? { kind, values: new Set<string>(), raw: [] };
    g.values.add(e.value);
    if (g.raw.length < 3) g.raw.push(e.raw);
    grouped.set(item, g);
  }
  for (const [item, g] of grouped) put(g.kind, item, [...g.values].sort().join(','), g.raw);
}

/** MTUs by role; the NIC's address count (not the addresses); overlay devices and CNI bridges. */
function putInterfaceFacts(net: NodeNetwork, put: PutFact): void {
  const v4 = (net.nic?.ipv4 ?? []).filter((a) => !isLinkLocalIpv4(a));
  if (net.nic) {
    put('mtu.nic', 'NIC MTU', String(net.nic.mtuBytes ?? '?'), [`${net.nic.ifname} mtu ${net.nic.mtuBytes ?? '?'}`]);
    put('nic.ipv4-addresses', 'IPv4 addresses on the NIC', String(v4.length), [`${net.nic.ifname}: ${v4.join(' ')}`]);
  }
  const overlays = net.interfaces.filter((i) => i.role === 'overlay');
  put('overlay.devices', 'overlay devices', overlays.map((o) => `${o.ifname}(${o.kind}${o.adminUp ? '' : ',down'})`).sort().join(' ') || ABSENT);
  for (const o of overlays) put('mtu.overlay', `${o.ifname} MTU`, String(o.mtuBytes ?? '?'));
  const cniBridges = net.interfaces.filter((i) => i.role === 'bridge' && i.vethPorts > 0);
  put('overlay.devices', 'CNI bridges', cniBridges.map((b) => `${b.ifname}${b.adminUp ? '' : '(down)'}`).sort().join(' ') || ABSENT);
  for (const b of cniBridges) put('mtu.bridge', `${b.ifname} MTU`, String(b.mtuBytes ?? '?'));
  const vethMtus = [...new Set(net.interfaces.filter((i) => i.role === 'veth').map((i) => String(i.mtuBytes ?? '?')))].sort();
  if (vethMtus.length > 0) put('mtu.veth', 'pod veth MTUs', vethMtus.join(','));
}

/** Routes by kind. Peer pod CIDRs: the two compared nodes see each other as "the other node". */
function putRouteFacts(net: NodeNetwork, other: NodeNetwork, api: NodeFleetApi, put: PutFact): void {
  for (const p of net.peerRoutes) {
    const item = p.peerNode === other.nodeName ? 'route to the other node\'s pod CIDR' : `route to ${p.peerNode}'s pod CIDR`;
    put('route.peer-pod-cidr', item, p.kind === 'default-only' ? `only default (${p.normalised})` : p.normalised, [p.route ? routeLine(p.route) : `${p.podCIDR}: no route`]);
  }
  const peerCidrs = api.nodes.filter((n) => n.name !== net.nodeName).flatMap((n) => n.podCIDRs);
  const own: string[] = [];
  const ownRaw: string[] = [];
  for (const r of net.routes) {
    if (r.isDefault) {
      put('route.default', 'default route', normaliseOtherRoute(r, net), [routeLine(r)]);
      continue;
    }
    if (peerCidrs.includes(r.dst)) continue; // compared above
    const ownCidr = net.podCIDRs.find((c) => cidrCoversCidr(c, r.dst));
    if (ownCidr !== undefined) {
      // Per-pod /32 routes are per-node; the route for the whole block is not.
      if (r.dst === ownCidr) {
        own.push(normaliseOwnRoute(r, net));
        ownRaw.push(routeLine(r));
      }
      continue;
    }
    if (net.nic && r.dev === net.nic.ifname && r.protocol === 'kernel' && r.scope === 'link') {
      put('route.other', 'NIC subnet route', `dev <nic> scope link (${r.dst})`, [routeLine(r)]);
      continue;
    }
    put('route.other', `route ${r.dst}`, normaliseOtherRoute(r, net).replace(`${r.dst} `, ''), [routeLine(r)]);
  }
  put('route.own-pod-cidr', 'route for its own pod CIDR', own.sort().join('; ') || ABSENT, ownRaw);
}

/** kube-proxy: mode, backend, rule counts per chain family, the Service ports it programmed. */
function putKubeProxyFacts(net: NodeNetwork, other: NodeNetwork, put: PutFact): void {
  const kp = net.kubeProxy;
  // Rules one node's tools could not read are not compared (the problems say why).
  if (!kp || other.kubeProxyUnreadable.length > 0) return;
  put('kube-proxy.mode', 'kube-proxy mode', kp.mode);
  put('iptables.backend', 'iptables backend with KUBE-* chains', kp.backend);
  if (kp.generator) put('iptables.version', 'iptables-save version', kp.generator);
  const svcLabel = kp.mode === 'nftables' ? 'service-* chains' : kp.mode === 'ipvs' ? 'IPVS virtual servers' : 'KUBE-SVC-* chains';
  const sepLabel = kp.mode === 'nftables' ? 'endpoint-* chains' : 'KUBE-SEP-* chains';
  put('kube-proxy.chains', svcLabel, String(kp.svcChains));
  if (kp.mode !== 'ipvs') put('kube-proxy.chains', sepLabel, String(kp.sepChains));
  put('kube-proxy.chains', kp.mode === 'nftables' ? 'service-ips elements' : 'KUBE-SERVICES rules', String(kp.servicesRules));
  put('kube-proxy.chains', kp.mode === 'nftables' ? 'service-nodeports elements' : 'KUBE-NODEPORTS rules', String(kp.nodePortRules));
  const otherHas = new Set(other.kubeProxy?.programmed ?? []);
  const missingHere = (other.kubeProxy?.programmed ?? []).filter((s) => !kp.programmed.includes(s));
  put('kube-proxy.service-ports', 'Service ports programmed', `${kp.programmed.length}${missingHere.length > 0 ? ` (missing ${missingHere.slice(0, 3).join(', ')}${missingHere.length > 3 ? ', ...' : ''})` : ''}`, [
    ...missingHere.map((s) => `no rule for ${s}`),
    ...kp.programmed.filter((s) => !otherHas.has(s)).slice(0, 5).map((s) => `only here: ${s}`),
  ]);
}

/** The agents' pods: their state compares, their per-node names do not. */
function putAgentFacts(net: NodeNetwork, api: NodeFleetApi, put: PutFact): void {
  put('pod.kube-proxy', 'kube-proxy pod', agentValue(api, net.nodeName, 'kube-proxy'));
  const role: AgentRole | null = net.cni === 'calico' ? 'calico-node' : net.cni === 'flannel' ? 'flannel' : net.cni === 'cilium' ? 'cilium' : singleAgentRole(api);
  if (role) put('pod.cni-agent', 'CNI agent pod', `${role} ${agentValue(api, net.nodeName, role)}`);
}

/** CNI config files (names, and content with per-node values taken out), kernel, nameservers. */
function putConfigFacts(net: NodeNetwork, put: PutFact): void {
  if (net.cniConfigs === null) put('cni.config', 'CNI config files', 'no CNI config directory');
  else {
    put('cni.config', 'CNI config files', net.cniConfigs.map((c) => c.name).join(' ') || ABSENT);
    for (const c of net.cniConfigs) put('cni.config', `${c.name} content`, `sha256:${c.sha256}${c.valid ? '' : ' (invalid JSON)'}`);
  }
  if (net.kernel) put('kernel', 'kernel', net.kernel);
  if (net.resolvConf) put('resolv.conf', 'node nameservers', net.resolvConf.nameservers.join(' ') || ABSENT);
}

function agentValue(api: NodeFleetApi, nodeName: string, role: AgentRole): string {
  const a = agentOnNode(api, nodeName, role);
  // The pod's name is per-node; its state is what compares.
  return a.status === 'running' ? 'Running' : a.status === 'not-deployed' ? 'not deployed' : a.status === 'missing' ? 'no pod' : 'not running';
}

function bool(v: boolean | null): string {
  return v === null ? 'unknown' : v ? '1' : '0';
}

function sysEvidence(net: NodeNetwork, path: string): string[] {
  const e = net.sysctl?.entries.find((x) => x.path === path);
  return e ? [e.raw] : [];
}
