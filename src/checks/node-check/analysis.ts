// node-check: one node's network health from its own kernel facts and the API's view of the
// cluster (seeds 003, 004): forwarding sysctls, br_netfilter on bridge CNIs, routes to every other
// node's pod CIDR, CIDR overlaps, a second address on the NIC, kube-proxy and the CNI agent (pod
// and rules), CNI config files, conntrack usage, the node's resolv.conf.
// buildNodeNetwork() is shared with node-diff: the same typed facts, compared instead of judged.
import { createHash } from 'node:crypto';
import type { Finding, Severity, FindingCode } from '../finding.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import { nodeFailedFinding, readNodeFacts, type NodeFacts } from '../common/node-facts.js';
import { readRuleDumps, ruleDumpEvidence } from '../../kube-proxy/rule-dumps.js';
import { conntrackUsageOf, effectiveInterfaceSysctls, type ConntrackUsage, type NodeSysctls } from '../../parse/sysctl.js';
import type { NetLink } from '../../parse/ip-addr.js';
import type { RouteEntry } from '../../parse/ip-route.js';
import { parseIptablesSave, type IptablesDump } from '../../kube-proxy/iptables-save.js';
import { findMasqueradeScopes, listProgrammedServicePorts } from '../../kube-proxy/iptables-walk.js';
import { findKubeProxyTable, findNftServiceCidr, listProgrammedNftServicePorts, parseNftRuleset } from '../../kube-proxy/nftables.js';
import { parseIpvsadm } from '../../kube-proxy/ipvsadm.js';
import { parseResolvConf, type ResolvConf } from '../../parse/resolv-conf.js';
import { parseKeyValues } from '../../parse/key-values.js';
import { CNI_CONF_DIRS, parseCniConfigListing, type CniNetworkConfig } from '../../parse/cni-config.js';
import { judgeServiceDataplane, kubeProxyChains, type ClusterDataplane, type ServiceDataplaneVerdict } from '../../kube-proxy/dataplane.js';
import { cidrContainsIp, cidrsOverlap, coveringIpv4Cidr, isLinkLocalIpv4, longestPrefixMatch, networkOfAddress, parseIpv4Cidr } from '../../net/ip.js';

// ---- What the command resolved through the API (kept in snapshots) ---------------------------

export interface FleetNode {
  name: string;
  internalIP: string | null;
  podCIDRs: string[]; // node.spec.podCIDRs (or podCIDR)
}

export type AgentRole = 'kube-proxy' | 'calico-node' | 'flannel' | 'cilium';

/** A kube-proxy or CNI agent pod, wherever it is (a Pending one may have no node yet). */
export interface AgentPod {
  role: AgentRole;
  namespace: string;
  name: string;
  nodeName: string | null; // spec.nodeName: null while unscheduled
  targetNode: string | null; // a DaemonSet pod's node affinity (metadata.name) when unscheduled
  phase: string;
  ready: boolean;
  reason: string | null; // a waiting/terminated container reason (CrashLoopBackOff, ...)
}

export interface ServiceCidr {
  cidr: string;
  source: 'flag' | 'inferred'; // inferred: the smallest prefix holding every ClusterIP (a lower bound)
}

export interface NodeFleetApi {
  nodes: FleetNode[]; // every node, for the peer pod CIDR routes
  checked: string[]; // the nodes this run probed, in the order asked
  expectedServicePorts: string[]; // "ns/name:port" of every Service port kube-proxy must program
  serviceCidr: ServiceCidr | null;
  agents: AgentPod[];
  /** Which dataplane steers Services (absent in snapshots taken before it was collected). */
  dataplane?: ClusterDataplane;
}

// ---- Typed facts of one node ---------------------------------------------------------------

export type InterfaceRole = 'nic' | 'overlay' | 'bridge' | 'veth' | 'other';
export type CniKind = 'calico' | 'flannel' | 'cilium' | 'bridge' | 'unknown';
export type ProxyMode = 'iptables' | 'nftables' | 'ipvs' | 'none';
export type IptablesBackend = 'legacy' | 'nft' | 'both' | 'none';

export interface RoledInterface {
  ifname: string;
  role: InterfaceRole;
  kind: string;
  mtuBytes: number | null;
  adminUp: boolean;
  operState: string;
  ipv4: string[]; // "192.168.77.12/24"
  vxlanLocal: string | null;
  vethPorts: number; // bridges: how many veths hang on it
}

export type PeerRouteKind = 'overlay' | 'underlay' | 'default-only' | 'unreachable' | 'wrong-device' | 'none';

export interface PeerRoute {
  peerNode: string;
  peerInternalIP: string | null;
  podCIDR: string;
  kind: PeerRouteKind;
  route: RouteEntry | null;
  /** The route with per-node values replaced, so two nodes' routes can be compared. */
  normalised: string;
}

export interface KubeProxyRules {
  mode: ProxyMode;
  backend: IptablesBackend; // which iptables backend holds KUBE-* chains
  generator: string | null; // "iptables-save v1.8.9 (nf_tables)"
  svcChains: number; // KUBE-SVC-* (iptables) / service-* (nftables) / virtual servers (ipvs)
  sepChains: number; // KUBE-SEP-* / endpoint-*
  servicesRules: number; // rules in nat KUBE-SERVICES / elements of service-ips
  nodePortRules: number;
  programmed: string[]; // service ports programmed, "ns/name:port"
  clusterCidr: string | null; // kube-proxy's --cluster-cidr, from its masquerade rules
  serviceCidr: string | null; // nftables mode writes the Service CIDR in cluster-ips-check
  kubeProxyChains: string[]; // "nat KUBE-SERVICES", ...: kube-proxy's own chains, empty ones too
}

export interface CniConfigFile {
  name: string;
  type: string | null; // the first plugin's type
  valid: boolean; // parses as JSON
  sha256: string; // of the content with this node's name, IP and pod CIDR replaced
}

export interface NodeNetwork {
  nodeName: string;
  internalIP: string | null;
  podCIDRs: string[];
  kernel: string | null;
  interfaces: RoledInterface[];
  nic: RoledInterface | null;
  cni: CniKind;
  sysctl: NodeSysctls | null;
  conntrack: ConntrackUsage | null; // null: nf_conntrack_count/max not readable
  routes: RouteEntry[]; // main table, IPv4
  peerRoutes: PeerRoute[];
  sourceTowardsPeer: { peer: string; address: string; prefsrc: string | null } | null;
  kubeProxy: KubeProxyRules | null; // null: the section was not collected, or (kubeProxyUnreadable) no rules where read and some place unread
  kubeProxyUnreadable: string[]; // rule sources the probe's tools could not read, with why
  cniConfigs: CniConfigFile[] | null; // the files of the directory in use; null: no known directory exists
  cniConfigDir: string | null; // the first known directory holding a config (see CNI_CONF_DIRS)
  cniConfigDirs: Array<{ dir: string; files: number }>; // every known directory that exists
  bpffs: boolean | null; // a bpf filesystem is mounted in the node's view; null: not read
  resolvConf: ResolvConf | null;
  problems: string[];
}

const OVERLAY_KINDS = new Set(['vxlan', 'ipip', 'geneve', 'wireguard', 'gre', 'gretap', 'sit']);
const OVERLAY_NAMES = /^(flannel\.\d+|flannel-wg|vxlan\.calico|vxlan-v6\.calico|tunl0|cilium_vxlan|cilium_geneve|cilium_wg0|wg0|wireguard\.cali|weave|vxlan_sys_\d+|genev_sys_\d+)$/;
const LOOPBACK_NAMESERVER = /^(127\.|::1$|0\.0\.0\.0$)/;

export function buildNodeNetwork(node: Extract<NodeCollection, { ok: true }>, api: NodeFleetApi): NodeNetwork {
  const facts = readNodeFacts(node);
  const self = api.nodes.find((n) => n.name === node.nodeName);
  const internalIP = self?.internalIP ?? null;
  const links = facts.host.links ?? [];
  const routes = (facts.host.routes ?? []).filter((r) => r.family === 'inet' && r.table === 'main');
  const interfaces = links.filter((l) => l.ifname !== 'lo').map((l) => roleOf(l, links, internalIP, routes));
  const nic = interfaces.find((i) => i.role === 'nic') ?? null;
  const kernel = parseKeyValues(facts.sections.get('meta')?.stdout ?? '').get('kernel') ?? null;
  const cniDirs = readCniConfigs(facts, node.nodeName, internalIP, self?.podCIDRs ?? []);
  // k3s and RKE2 point their runtime at their own directory: prefer it when it holds a config.
  const own = api.dataplane?.distribution ? `/var/lib/rancher/${api.dataplane.distribution}/agent/etc/cni/net.d` : null;
  const withFiles = (cniDirs ?? []).filter((d) => d.files.length > 0);
  const cniInUse = withFiles.find((d) => d.dir === own) ?? withFiles[0] ?? cniDirs?.[0] ?? null;
  const cniConfigs = cniInUse ? cniInUse.files : null;
  const bpffsSection = facts.sections.get('host/bpffs');
  const sysctl = facts.host.sysctl;
  const problems = [...facts.problems];
  const peers = api.nodes.filter((n) => n.name !== node.nodeName);
  const other = peers.find((p) => p.internalIP !== null);
  const towards = other?.internalIP ? facts.routeGets.get(other.internalIP) : undefined;
  return {
    nodeName: node.nodeName,
    internalIP,
    podCIDRs: self?.podCIDRs ?? [],
    kernel,
    interfaces,
    nic,
    cni: cniOf(interfaces, cniConfigs),
    sysctl,
    conntrack: conntrackUsageOf(sysctl),
    routes,
    peerRoutes: peers.flatMap((p) => p.podCIDRs.filter((c) => parseIpv4Cidr(c) !== null).map((cidr) => peerRouteOf(p, cidr, routes, interfaces))),
    sourceTowardsPeer: other?.internalIP ? { peer: other.name, address: other.internalIP, prefsrc: towards?.prefsrc ?? null } : null,
    kubeProxy: readKubeProxyRules(facts, problems),
    kubeProxyUnreadable: ruleDumpEvidence(readRuleDumps(facts.sections)),
    cniConfigs,
    cniConfigDir: cniInUse && cniInUse.files.length > 0 ? cniInUse.dir : null,
    cniConfigDirs: (cniDirs ?? []).map((d) => ({ dir: d.dir, files: d.files.length })),
    bpffs: bpffsSection && bpffsSection.exitCode === 0 ? bpffsSection.stdout.trim() !== '' : null,
    resolvConf: readResolvConf(facts),
    problems,
  };
}

function roleOf(link: NetLink, all: readonly NetLink[], internalIP: string | null, routes: readonly RouteEntry[]): RoledInterface {
  const ipv4 = link.addresses.filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.prefixLength}`);
  const holdsInternalIP = internalIP !== null && link.addresses.some((a) => a.address === internalIP);
  const defaultDev = routes.find((r) => r.isDefault)?.dev ?? null;
  let role: InterfaceRole = 'other';
  if (holdsInternalIP || (internalIP === null && link.ifname === defaultDev)) role = 'nic';
  else if (OVERLAY_KINDS.has(link.kindRaw ?? '') || OVERLAY_NAMES.test(link.ifname)) role = 'overlay';
  else if (link.kind === 'bridge') role = 'bridge';
  else if (link.kind === 'veth') role = 'veth';
  return {
    ifname: link.ifname,
    role,
    kind: link.kindRaw ?? 'device',
    mtuBytes: link.mtuBytes,
    adminUp: link.adminUp,
    operState: link.operState,
    ipv4,
    vxlanLocal: link.vxlan?.localAddress ?? null,
    vethPorts: link.kind === 'bridge' ? all.filter((l) => l.master === link.ifname && l.kind === 'veth').length : 0,
  };
}

function cniOf(interfaces: readonly RoledInterface[], configs: readonly CniConfigFile[] | null): CniKind {
  const names = interfaces.map((i) => i.ifname);
  if (names.some((n) => /^cali/.test(n) || n === 'vxlan.calico' || n === 'wireguard.cali')) return 'calico';
  // Cilium's own devices exist in CNI chaining too (Cilium on top of flannel): its lxc* pod
  // veths say it owns the pods, cilium_host alone does not.
  if (names.some((n) => /^lxc/.test(n))) return 'cilium';
  if (names.some((n) => /^flannel[.-]/.test(n))) return 'flannel';
  if (names.some((n) => /^cilium_/.test(n))) return 'cilium';
  const type = configs?.[0]?.type ?? null;
  if (type === 'calico' || type === 'flannel' || type === 'cilium-cni') return type === 'cilium-cni' ? 'cilium' : type;
  if (interfaces.some((i) => i.role === 'bridge' && i.vethPorts > 0)) return 'bridge';
  return 'unknown';
}

function peerRouteOf(peer: FleetNode, podCIDR: string, routes: readonly RouteEntry[], interfaces: readonly RoledInterface[]): PeerRoute {
  const route = longestPrefixMatch(routes, (r) => r.dst, podCIDR);
  const base = { peerNode: peer.name, peerInternalIP: peer.internalIP, podCIDR, route };
  if (route === null) return { ...base, kind: 'none', normalised: 'no route' };
  const dev = interfaces.find((i) => i.ifname === route.dev);
  let kind: PeerRouteKind;
  if (route.type === 'blackhole' || route.type === 'unreachable' || route.type === 'prohibit') kind = 'unreachable';
  else if (route.isDefault) kind = 'default-only';
  else if (!dev || !dev.adminUp) kind = 'wrong-device';
  else if (dev.role === 'overlay') kind = 'overlay';
  else if (dev.role === 'nic' && route.gateway !== null) kind = 'underlay';
  else kind = 'wrong-device';
  return { ...base, kind, normalised: normaliseRoute(route, interfaces, peer, podCIDR) };
}

/** "via <peer node IP> dev <nic>": the same text on two nodes when they route a peer the same way. */
function normaliseRoute(route: RouteEntry, interfaces: readonly RoledInterface[], peer: FleetNode | null, podCIDR: string | null): string {
  const dev = interfaces.find((i) => i.ifname === route.dev);
  const devText = dev === undefined ? (route.dev ?? '') : dev.role === 'nic' ? '<nic>' : dev.role === 'veth' ? '<veth>' : dev.ifname;
  let gw = route.gateway;
  if (gw !== null && peer?.internalIP === gw) gw = '<peer node IP>';
  else if (gw !== null && podCIDR !== null && cidrContainsIp(podCIDR, gw)) gw = '<address in peer pod CIDR>';
  const dst = podCIDR !== null ? '' : route.isDefault ? 'default ' : `${route.dst} `;
  return `${dst}${route.type === 'unicast' ? '' : `${route.type} `}${gw !== null ? `via ${gw} ` : ''}${route.dev ? `dev ${devText}` : ''}${route.onlink ? ' onlink' : ''}`.trim();
}

export function normaliseOwnRoute(route: RouteEntry, net: NodeNetwork): string {
  return normaliseRoute(route, net.interfaces, null, null).replace(route.dst, '<own pod CIDR>');
}

export function normaliseOtherRoute(route: RouteEntry, net: NodeNetwork): string {
  return normaliseRoute(route, net.interfaces, null, null);
}

function readKubeProxyRules(facts: NodeFacts, problems: string[]): KubeProxyRules | null {
  // The probe image's own tools read the rules (readRuleDumps); a source that could not be read
  // is in dumps.unreadable, and the facts' problems already say so.
  const dumps = readRuleDumps(facts.sections);
  if (!dumps.collected) return null;
  const parseDump = (name: string, text: string | null): IptablesDump | null => {
    if (text === null || text.trim() === '') return null;
    const d = parseIptablesSave(text);
    if (!d.complete) problems.push(`node ${facts.nodeName}: ${name} is incomplete: ${d.warnings.slice(0, 2).join('; ')}`);
    return d;
  };
  const hasKube = (d: IptablesDump | null) => d !== null && [...d.tables.values()].some((t) => [...t.chains.keys()].some((c) => c.startsWith('KUBE-SERVICES') || c.startsWith('KUBE-SVC-')));
  const legacy = parseDump('host/iptables-legacy', dumps.iptablesLegacy);
  const nft = parseDump('host/iptables-nft', dumps.iptablesNft);
  const backend: IptablesBackend = hasKube(legacy) && hasKube(nft) ? 'both' : hasKube(legacy) ? 'legacy' : hasKube(nft) ? 'nft' : 'none';
  // The dump kube-proxy wrote; without KUBE-* chains, whichever backend was read.
  const dump = backend === 'legacy' ? legacy : backend === 'none' ? (nft ?? legacy) : nft;
  const nftTable = dumps.nftKubeProxy ? findKubeProxyTable(parseNftRuleset(dumps.nftKubeProxy)) : null;
  const ipvsServices = parseIpvsadm(dumps.ipvsadm ?? '').services.filter((s) => s.protocol !== 'fwm');
  // No rules found where they could be read, and some place not read: unknown, not "none".
  const ipvsUnread = dumps.unreadable.some((u) => u.source === 'ipvs') && (dump?.tables.get('nat')?.chains.get('KUBE-SERVICES')?.rules ?? []).some((r) => /--match-set KUBE-CLUSTER-IP\b/.test(r.raw));
  if (dumps.unreadable.length > 0 && !nftTable && ipvsServices.length === 0 && (backend === 'none' || ipvsUnread)) return null;
  const nat = dump?.tables.get('nat');
  const chainNames = [...(nat?.chains.keys() ?? [])];
  const base = {
    backend,
    kubeProxyChains: kubeProxyChains([legacy, nft]),
    generator: dump?.generator ?? null,
    clusterCidr: dump ? findMasqueradeScopes(dump).clusterCidr : null,
  };
  if (nftTable) {
    const chains = [...nftTable.chains.keys()];
    return {
      ...base,
      mode: 'nftables',
      svcChains: chains.filter((c) => c.startsWith('service-')).length,
      sepChains: chains.filter((c) => c.startsWith('endpoint-')).length,
      servicesRules: nftTable.sets.get('service-ips')?.elements.length ?? 0,
      nodePortRules: nftTable.sets.get('service-nodeports')?.elements.length ?? 0,
      programmed: listProgrammedNftServicePorts(nftTable),
      serviceCidr: findNftServiceCidr(nftTable),
    };
  }
  if (ipvsServices.length > 0 && chainNames.every((c) => !c.startsWith('KUBE-SVC-'))) {
    return { ...base, mode: 'ipvs', svcChains: ipvsServices.length, sepChains: 0, servicesRules: nat?.chains.get('KUBE-SERVICES')?.rules.length ?? 0, nodePortRules: nat?.chains.get('KUBE-NODE-PORT')?.rules.length ?? 0, programmed: [], serviceCidr: null };
  }
  const programmed = dump ? [...new Set(listProgrammedServicePorts(dump).filter((p) => p.kind === 'cluster-ip').map((p) => p.servicePort))].sort() : [];
  return {
    ...base,
    mode: backend === 'none' ? 'none' : 'iptables',
    svcChains: chainNames.filter((c) => c.startsWith('KUBE-SVC-')).length,
    sepChains: chainNames.filter((c) => c.startsWith('KUBE-SEP-')).length,
    servicesRules: nat?.chains.get('KUBE-SERVICES')?.rules.length ?? 0,
    nodePortRules: nat?.chains.get('KUBE-NODEPORTS')?.rules.length ?? 0,
    programmed,
    serviceCidr: null,
  };
}

/** Every known CNI config directory that exists, with its config files; null: none exists (or not read). */
function readCniConfigs(facts: NodeFacts, nodeName: string, internalIP: string | null, podCIDRs: readonly string[]): Array<{ dir: string; files: CniConfigFile[] }> | null {
  const s = facts.sections.get('host/cni-conf');
  if (!s || s.exitCode !== 0) return null;
  return parseCniConfigListing(s.stdout).map((d) => ({ dir: d.dir, files: d.configs.map((c) => comparableCniConfig(c, nodeName, internalIP, podCIDRs)) }));
}

function comparableCniConfig(config: CniNetworkConfig, nodeName: string, internalIP: string | null, podCIDRs: readonly string[]): CniConfigFile {
  // Per-node values in an otherwise shared config (Calico writes "nodename") must not make two
  // nodes' configs look different.
  let normalised = config.text.split(nodeName).join('<node>');
  if (internalIP) normalised = normalised.split(internalIP).join('<node IP>');
  for (const c of podCIDRs) normalised = normalised.split(c).join('<pod CIDR>');
  return { name: config.name, type: config.pluginType, valid: config.validJson, sha256: createHash('sha256').update(normalised).digest('hex').slice(0, 12) };
}

function readResolvConf(facts: NodeFacts): ResolvConf | null {
  const s = facts.sections.get('host/resolv.conf');
  if (!s || s.exitCode !== 0) return null;
  const r = parseResolvConf(s.stdout);
  return r.ok ? r.value : null;
}

// ---- node-check: judge one node ------------------------------------------------------------

export type CheckStatus = 'ok' | Severity | 'n/a';

export interface NodeCheckRow {
  check: string;
  value: string;
  status: CheckStatus;
}

export interface NodeCheckResult {
  nodeName: string;
  ok: boolean; // false: the probe failed
  cni: CniKind | null;
  rows: NodeCheckRow[];
}

export interface NodeCheckReport {
  nodes: NodeCheckResult[];
  serviceCidr: ServiceCidr | null;
  findings: Finding[];
  problems: string[];
}

export function diagnoseNodeCheck(api: NodeFleetApi, collections: readonly NodeCollection[]): NodeCheckReport {
  const findings: Finding[] = [];
  const problems: string[] = [];
  const nodes: NodeCheckResult[] = [];
  const verdicts: Array<{ net: NodeNetwork; verdict: ServiceDataplaneVerdict }> = [];
  for (const name of api.checked) {
    const c = collections.find((n) => n.nodeName === name);
    if (!c || !c.ok) {
      findings.push(nodeFailedFinding(name, c && !c.ok ? c.error : 'no output from this node'));
      nodes.push({ nodeName: name, ok: false, cni: null, rows: [] });
      continue;
    }
    const net = buildNodeNetwork(c, api);
    problems.push(...net.problems);
    const rows: NodeCheckRow[] = [];
    const verdict = dataplaneVerdictOf(net, api);
    verdicts.push({ net, verdict });
    checkNode(net, api, verdict, rows, findings);
    nodes.push({ nodeName: name, ok: true, cni: net.cni, rows });
  }
  findings.push(...dataplaneNotes(verdicts, api));
  return { nodes, serviceCidr: api.serviceCidr, findings, problems };
}


function checkNode(net: NodeNetwork, api: NodeFleetApi, verdict: ServiceDataplaneVerdict, rows: NodeCheckRow[], findings: Finding[]): void {
  const subject = `node ${net.nodeName}`;
  const add = (check: string, value: string, status: CheckStatus) => rows.push({ check, value, status });
  const find = (code: FindingCode, severity: Severity, message: string, evidence: string[], remedy: string) => {
    findings.push({ code, severity, subject, message, evidence, remedy });
    return severity;
  };
  // Rows come out in this order: the table reads top-down from the kernel switches to the agents.
  checkGlobalSysctls(net, add, find);
  checkInterfaceSysctls(net, add, find);
  checkInterfaces(net, add, find);
  checkPeerRoutes(net, add, find);
  checkPodCidrOverlaps(net, api, add, find);
  checkKubeProxy(net, api, verdict, add, find);
  checkCniAgent(net, api, add, find);
  checkCniConfig(net, add, find);
  checkConntrack(net, add, find);
  checkNodeResolvConf(net, add, find);
}

/** The sysctl line as read, for evidence; says so when the file was not readable. */
function sysctlEvidence(net: NodeNetwork, path: string): string {
  return net.sysctl?.entries.find((e) => e.path === path)?.raw ?? `${path}: not readable`;
}

/** ip_forward and bridge-nf-call-iptables: the node-wide switches pod traffic needs. */
function checkGlobalSysctls(net: NodeNetwork, add: AddRow, find: FindFn): void {
  const sys = net.sysctl;
  const entry = (path: string) => sysctlEvidence(net, path);
  // ip_forward (seed 004): without it the node drops every packet it should route to a pod.
  if (sys?.ipForward === false) {
    add('ip_forward', '0', find('node.ip-forward-off', 'error', 'net.ipv4.ip_forward is 0: the node does not route packets to or from its pods', [entry('/proc/sys/net/ipv4/ip_forward')], 'sysctl -w net.ipv4.ip_forward=1 and persist it in /etc/sysctl.d/ (kubelet and most CNIs expect it; something reset it)'));
  } else add('ip_forward', sys?.ipForward ? '1' : 'unknown', sys?.ipForward ? 'ok' : 'n/a');

  // bridge-nf-call-iptables (seed 004): on a bridge CNI, pod-to-pod traffic on the same bridge
  // bypasses iptables (Service DNAT replies, policies) unless br_netfilter hands it over.
  const cniBridges = net.interfaces.filter((i) => i.role === 'bridge' && i.vethPorts > 0);
  if (cniBridges.length === 0) add('bridge-nf-call-iptables', `${sys?.bridgeNfCallIptables === null || sys === null ? 'not loaded' : sys.bridgeNfCallIptables ? '1' : '0'} (no bridge CNI)`, 'n/a');
  else if (sys?.bridgeNfCallIptables !== true) {
    const loaded = sys?.bridgeNfCallIptables === false;
    add('bridge-nf-call-iptables', loaded ? '0' : 'br_netfilter not loaded', find('node.bridge-nf-call-iptables-off', 'error', `${loaded ? 'net.bridge.bridge-nf-call-iptables is 0' : 'br_netfilter is not loaded'} while pods hang on bridge ${cniBridges.map((b) => b.ifname).join(',')}: bridged traffic skips kube-proxy's and the CNI's iptables rules`, [entry('/proc/sys/net/bridge/bridge-nf-call-iptables'), ...cniBridges.map((b) => `${b.ifname}: bridge with ${b.vethPorts} veth ports`)], 'modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1 and persist both (/etc/modules-load.d, /etc/sysctl.d)'));
  } else add('bridge-nf-call-iptables', `1 (bridge ${cniBridges.map((b) => b.ifname).join(',')})`, 'ok');
}

/** Per-interface forwarding, rp_filter, arp_ignore/arp_announce: effective values (max/all). */
function checkInterfaceSysctls(net: NodeNetwork, add: AddRow, find: FindFn): void {
  const sys = net.sysctl;
  if (!sys) return;
  const entry = (path: string) => sysctlEvidence(net, path);
  const cniIfaces = net.interfaces.filter((i) => i.role === 'overlay' || i.role === 'bridge' || i.role === 'veth' || i.role === 'nic');
  const eff = cniIfaces.map((i) => ({ i, e: effectiveInterfaceSysctls(sys, i.ifname) }));
  const fwdOff = sys.ipForward !== false ? eff.filter((x) => x.e.forwarding === false) : [];
  if (fwdOff.length > 0) {
    add('forwarding (CNI interfaces)', `off on ${fwdOff.map((x) => x.i.ifname).join(',')}`, find('node.iface-forwarding-off', 'error', `IPv4 forwarding is off on ${fwdOff.map((x) => x.i.ifname).join(', ')} though ip_forward is on: packets arriving there are not routed`, fwdOff.map((x) => entry(`/proc/sys/net/ipv4/conf/${x.i.ifname}/forwarding`)), 'sysctl -w net.ipv4.conf.IFACE.forwarding=1 for each, and find what turned it off'));
  } else add('forwarding (CNI interfaces)', sys.ipForward === false ? 'off (ip_forward=0)' : `on (${eff.length} interfaces)`, sys.ipForward === false ? 'error' : 'ok');

  const rpAll = sys.ipv4Conf['all']?.rpFilter ?? null;
  const strictOverlay = eff.filter((x) => x.i.role === 'overlay' && x.e.rpFilter === 1);
  const rpText = `all=${rpAll ?? '?'} ${eff.filter((x) => x.i.role === 'nic' || x.i.role === 'overlay').map((x) => `${x.i.ifname}=${x.e.rpFilter ?? '?'}`).join(' ')}`.trim();
  if (strictOverlay.length > 0) {
    add('rp_filter (effective)', rpText, find('node.rp-filter-strict', 'warn', `strict reverse-path filtering (rp_filter=1) on overlay ${strictOverlay.map((x) => x.i.ifname).join(', ')}: packets from pods whose return route leaves by another interface are dropped`, strictOverlay.flatMap((x) => [entry('/proc/sys/net/ipv4/conf/all/rp_filter'), entry(`/proc/sys/net/ipv4/conf/${x.i.ifname}/rp_filter`)]), 'use loose mode (rp_filter=2) or 0 on overlay interfaces; the effective value is max(all, interface)'));
  } else add('rp_filter (effective)', rpText, 'ok');

  const podSide = eff.filter((x) => x.i.role === 'veth' || x.i.role === 'bridge');
  const maxIgnore = Math.max(0, ...podSide.map((x) => x.e.arpIgnore ?? 0));
  const maxAnnounce = Math.max(0, ...podSide.map((x) => x.e.arpAnnounce ?? 0));
  const arpText = `all=${sys.ipv4Conf['all']?.arpIgnore ?? '?'}/${sys.ipv4Conf['all']?.arpAnnounce ?? '?'} pod interfaces max=${maxIgnore}/${maxAnnounce}`;
  if (maxIgnore >= 2) {
    const bad = podSide.filter((x) => (x.e.arpIgnore ?? 0) >= 2);
    add('arp_ignore/arp_announce', arpText, find('node.arp-ignore-strict', 'warn', `effective arp_ignore=${maxIgnore} on pod-facing interfaces (${bad.map((x) => x.i.ifname).slice(0, 5).join(', ')}): the node may not answer its pods' ARP`, [entry('/proc/sys/net/ipv4/conf/all/arp_ignore'), ...bad.slice(0, 3).map((x) => entry(`/proc/sys/net/ipv4/conf/${x.i.ifname}/arp_ignore`))], 'set net.ipv4.conf.all.arp_ignore back to 0 (or 1); run kubectl netdiag arp-check on a pod of this node for the details'));
  } else add('arp_ignore/arp_announce', arpText, 'ok');
}

/** The interfaces by role, and a second IPv4 address on the NIC. */
function checkInterfaces(net: NodeNetwork, add: AddRow, find: FindFn): void {
  if (net.nic) add('NIC', `${net.nic.ifname} ${net.nic.ipv4.join(',')} mtu ${net.nic.mtuBytes ?? '?'}`, 'ok');
  else add('NIC', `no interface holds InternalIP ${net.internalIP ?? '<none>'}`, 'warn');
  for (const o of net.interfaces.filter((i) => i.role === 'overlay')) add('overlay', `${o.ifname} ${o.kind} mtu ${o.mtuBytes ?? '?'}${o.adminUp ? '' : ' DOWN'}`, o.adminUp ? 'ok' : 'warn');
  for (const b of net.interfaces.filter((i) => i.role === 'bridge' && i.vethPorts > 0)) add('bridge', `${b.ifname} mtu ${b.mtuBytes ?? '?'} (${b.vethPorts} veth ports)`, 'ok');

  // A second IPv4 on the NIC (seed 003): the kernel may pick it as source for encapsulated traffic,
  // and the peers' tunnel entries know only InternalIP: requests go out, replies never come back.
  const nicV4 = (net.nic?.ipv4 ?? []).filter((a) => !isLinkLocalIpv4(a));
  if (net.nic && nicV4.length > 1) {
    const src = net.sourceTowardsPeer;
    const wrongSource = src !== null && src.prefsrc !== null && net.internalIP !== null && src.prefsrc !== net.internalIP;
    const evidence = [`${net.nic.ifname}: ${nicV4.join(' ')}`, `InternalIP ${net.internalIP ?? '<none>'}`];
    if (src) evidence.push(`ip route get ${src.address} (node ${src.peer}): src ${src.prefsrc ?? '<none>'}`);
    add('NIC IPv4 addresses', nicV4.join(','), find('node.nic-multiple-ipv4', wrongSource ? 'error' : 'warn', wrongSource ? `${net.nic.ifname} has ${nicV4.length} IPv4 addresses and traffic to other nodes leaves from ${src!.prefsrc}, not InternalIP ${net.internalIP}: peers drop or cannot answer it` : `${net.nic.ifname} has ${nicV4.length} IPv4 addresses; InternalIP ${net.internalIP ?? '?'} is still the source towards other nodes, but a DHCP renewal or reorder can change that`, evidence, 'remove the extra address (often static IP plus DHCP on the same NIC: set BOOTPROTO=none / one addressing method), then restart the CNI agent'));
  }
}

/** Routes to every other node's pod CIDR. */
/** "lab-node-1 (10.244.1.0/24), ..." naming at most five peers, then how many more. */
function namedPeers(peers: readonly PeerRoute[]): string {
  const named = peers.slice(0, 5).map((p) => `${p.peerNode} (${p.podCIDR})`).join(', ');
  return peers.length > 5 ? `${named} and ${peers.length - 5} more` : named;
}

/** Up to this many peers, every peer route is a row of its own. */
export const PEER_ROUTE_ROWS = 16;

function checkPeerRoutes(net: NodeNetwork, add: AddRow, find: FindFn): void {
  const specific = net.peerRoutes.filter((p) => p.kind === 'overlay' || p.kind === 'underlay');
  const missing = net.peerRoutes.filter((p) => p.kind === 'none' || p.kind === 'default-only');
  const statusOf = (p: PeerRoute): CheckStatus =>
    p.kind === 'overlay' || p.kind === 'underlay' ? 'ok' : p.kind === 'unreachable' || p.kind === 'wrong-device' ? 'error' : specific.length > 0 ? 'error' : 'info';
  // A row per peer reads well on a small cluster; on a large one (1,000 nodes: a million rows for
  // --all) the good routes become one count and only the others keep their own row.
  const summarise = net.peerRoutes.length > PEER_ROUTE_ROWS;
  const shown = summarise ? net.peerRoutes.filter((p) => statusOf(p) !== 'ok').slice(0, PEER_ROUTE_ROWS) : net.peerRoutes;
  for (const p of shown) {
    const routeText = p.route ? routeLine(p.route) : 'no route';
    add(`route to ${p.peerNode} ${p.podCIDR}`, p.kind === 'default-only' ? `only the default route (${routeText})` : routeText, statusOf(p));
  }
  if (summarise) {
    const devices = [...new Set(specific.map((p) => p.route?.dev).filter((d): d is string => !!d))].sort();
    const notShown = net.peerRoutes.length - specific.length - shown.length;
    const more = notShown > 0 ? `; ${notShown} more without one not listed` : '';
    add('routes to peer pod CIDRs', `${specific.length} of ${net.peerRoutes.length} through ${devices.join(',') || 'no device'}${more}`, specific.length === net.peerRoutes.length ? 'ok' : 'n/a');
  }
  if (missing.length > 0 && specific.length > 0) {
    find('node.missing-pod-cidr-route', 'error', `no route to the pod CIDR of ${namedPeers(missing)} though the node routes other nodes' pod CIDRs: pods there are unreachable from this node`, [...missing.slice(0, PEER_ROUTE_ROWS).map((p) => `${p.podCIDR}: ${p.route ? `only ${routeLine(p.route)}` : 'no route'}`), ...specific.slice(0, 2).map((p) => `for comparison: ${routeLine(p.route!)}`)], 'restart the CNI agent on this node so it reprograms its routes (and check its log for why it did not); by hand: ip route add CIDR via PEER dev IFACE as the other routes show');
  } else if (missing.length > 0) {
    find('node.pod-cidr-routes-via-default', 'info', `other nodes' pod CIDRs are reached only through the default route: fine when the cloud or the gateway routes pod CIDRs, broken otherwise`, missing.slice(0, 3).map((p) => `${p.podCIDR}: ${p.route ? routeLine(p.route) : 'no route'}`), 'if the CNI should program these routes (overlay or host-gw), restart its agent on this node; with Calico IPAM, node.spec.podCIDR may not be what Calico uses');
  }
  const broken = net.peerRoutes.filter((p) => p.kind === 'unreachable' || p.kind === 'wrong-device');
  if (broken.length > 0) {
    find('node.pod-cidr-route-wrong', 'error', `the route to ${namedPeers(broken)} cannot carry pod traffic (blackhole/unreachable, a device that is down, or not an overlay/underlay device)`, broken.slice(0, PEER_ROUTE_ROWS).map((p) => routeLine(p.route!)), 'delete the wrong route and restart the CNI agent so it reprograms it');
  }
}

/** Pod CIDR vs node network vs Service network (seed 004). */
function checkPodCidrOverlaps(net: NodeNetwork, api: NodeFleetApi, add: AddRow, find: FindFn): void {
  const nodeNets = [...new Set((net.nic?.ipv4 ?? []).map(networkOfAddress).filter((n): n is string => n !== null))];
  const podNets = [...net.podCIDRs.filter((c) => parseIpv4Cidr(c) !== null)];
  const clusterCidr = net.kubeProxy?.clusterCidr ?? null;
  if (clusterCidr && !podNets.some((c) => c === clusterCidr)) podNets.push(clusterCidr);
  const serviceCidr = net.kubeProxy?.serviceCidr ?? api.serviceCidr?.cidr ?? null;
  const overlapsNode = podNets.flatMap((p) => nodeNets.filter((n) => cidrsOverlap(p, n)).map((n) => `${p} overlaps node network ${n}`));
  const overlapsSvc = serviceCidr ? podNets.filter((p) => cidrsOverlap(p, serviceCidr)).map((p) => `${p} overlaps Service CIDR ${serviceCidr}`) : [];
  const podCidrText = `${net.podCIDRs.join(',') || '<none>'}${clusterCidr ? ` (cluster ${clusterCidr})` : ''}; node ${nodeNets.join(',') || '?'}; services ${serviceCidr ?? '?'}${api.serviceCidr?.source === 'inferred' && !net.kubeProxy?.serviceCidr ? ' (inferred)' : ''}`;
  if (overlapsNode.length > 0) {
    find('node.pod-cidr-overlaps-node-network', 'error', 'the pod network overlaps the node network: traffic for those addresses goes to the wrong side (No route to host between nodes)', overlapsNode, 'choose a pod CIDR (IP pool / --cluster-cidr) that does not overlap the hosts\' subnets and recreate the pool; this needs a migration');
  }
  if (overlapsSvc.length > 0) {
    find('node.pod-cidr-overlaps-service-network', 'error', 'the pod network overlaps the Service network: ClusterIP DNAT and pod routes fight over the same addresses', overlapsSvc, 'the pod CIDR and the Service CIDR (--service-cluster-ip-range) must be disjoint; re-plan one of them');
  }
  add('pod CIDR', podCidrText, overlapsNode.length + overlapsSvc.length > 0 ? 'error' : 'ok');
}

/** The CNI agent pod on this node. */
function checkCniAgent(net: NodeNetwork, api: NodeFleetApi, add: AddRow, find: FindFn): void {
  const role: AgentRole | null = net.cni === 'calico' ? 'calico-node' : net.cni === 'flannel' ? 'flannel' : net.cni === 'cilium' ? 'cilium' : singleAgentRole(api);
  if (!role) {
    add('CNI agent', `unknown CNI (${net.cni})`, 'n/a');
    return;
  }
  const agent = checkAgent(net, api, role);
  if (agent.status === 'missing' || agent.status === 'not-running') {
    add('CNI agent', agent.text, find('node.cni-agent-missing', 'error', agent.status === 'missing' ? `no ${role} pod runs on this node: its routes, tunnel entries and policies are not maintained` : `${role} pod ${agent.text}: routes and tunnel entries on this node are not maintained`, agent.evidence, `find why the ${role} pod is not running here (kubectl describe pod; tolerations, node selectors, resources) and restart it`));
  } else {
    // k3s embeds flannel in its agent (no kube-flannel pods); RKE2 ships canal as pods.
    const embedded = agent.status === 'not-deployed' && role === 'flannel' && api.dataplane?.distribution === 'k3s';
    add('CNI agent', embedded ? 'flannel runs inside the k3s agent (no flannel pods)' : agent.text, agent.status === 'running' ? 'ok' : 'n/a');
  }
}

/** conntrack usage: a full table drops new connections ("nf_conntrack: table full"). */
function checkConntrack(net: NodeNetwork, add: AddRow, find: FindFn): void {
  if (!net.conntrack) {
    add('conntrack', 'not readable (nf_conntrack not loaded?)', 'n/a');
    return;
  }
  const { count, max } = net.conntrack;
  const pct = (count / max) * 100;
  const text = `${count}/${max} (${pct.toFixed(pct < 1 ? 1 : 0)}%)`;
  if (pct > 80) {
    add('conntrack', text, find('node.conntrack-near-full', pct > 95 ? 'error' : 'warn', `the conntrack table is ${pct.toFixed(0)}% full: ${pct > 95 ? 'new connections are being dropped or soon will be' : 'new connections will be dropped when it fills'}`, [sysctlEvidence(net, '/proc/sys/net/netfilter/nf_conntrack_count'), sysctlEvidence(net, '/proc/sys/net/netfilter/nf_conntrack_max')], 'raise net.netfilter.nf_conntrack_max (kube-proxy --conntrack-max-per-core) or find the connection flood (conntrack -L | sort | uniq -c)'));
  } else add('conntrack', text, 'ok');
}

/** The node's resolv.conf: a loopback nameserver loops through CoreDNS (seed 004). */
function checkNodeResolvConf(net: NodeNetwork, add: AddRow, find: FindFn): void {
  if (!net.resolvConf) return;
  const loop = net.resolvConf.nameservers.filter((n) => LOOPBACK_NAMESERVER.test(n));
  const text = `nameserver ${net.resolvConf.nameservers.join(',') || '<none>'}`;
  if (loop.length > 0) {
    add('resolv.conf', text, find('node.resolv-conf-loopback', 'info', `the node's resolv.conf names loopback nameserver ${loop.join(', ')}: CoreDNS pods that inherit it (dnsPolicy Default, forward . /etc/resolv.conf) forward to themselves and loop`, net.resolvConf.rawLines.filter((l) => /nameserver/.test(l)), 'point kubelet --resolv-conf at the real upstream list (systemd-resolved: /run/systemd/resolve/resolv.conf) or give CoreDNS an explicit upstream'));
  } else add('resolv.conf', text, 'ok');
}

// The catalogue's codes once Finding.code is their union (a plain string before).
type AddRow = (check: string, value: string, status: CheckStatus) => void;
type FindFn = (code: FindingCode, severity: Severity, message: string, evidence: string[], remedy: string) => Severity;

/** Which dataplane should be steering Services on this node, from the API and the node's own facts. */
export function dataplaneVerdictOf(net: NodeNetwork, api: NodeFleetApi): ServiceDataplaneVerdict {
  const rules = net.kubeProxy;
  return judgeServiceDataplane(api.dataplane ?? null, net.nodeName, {
    interfaces: net.interfaces.map((i) => i.ifname),
    bpffs: net.bpffs,
    kubeProxyRules: rules !== null && rules.mode !== 'none',
    remnants: rules !== null && rules.mode === 'none' ? rules.kubeProxyChains : [],
  });
}

// kube-proxy: its pod on this node (when it runs in pods), and its rules against the Services the
// API has; none of it when a replacement steers Services (issue 14 item 5).
function checkKubeProxy(net: NodeNetwork, api: NodeFleetApi, verdict: ServiceDataplaneVerdict, add: AddRow, find: FindFn): void {
  const kp = checkAgent(net, api, 'kube-proxy');
  const rules = net.kubeProxy;
  // Snapshots without dataplane facts keep the old rule: Cilium devices and no kube-proxy pod.
  const replacement = verdict.replacement?.title ?? (api.dataplane === undefined && net.cni === 'cilium' && !kp.expected ? 'Cilium kube-proxy replacement' : null);
  if (kp.status === 'missing' || kp.status === 'not-running') {
    add('kube-proxy pod', kp.text, find('node.kube-proxy-not-running', 'error', kp.status === 'missing' ? 'no kube-proxy pod runs on this node while other nodes have one: ClusterIPs (DNS included) stop working as soon as its rules go stale' : `kube-proxy pod ${kp.text}: Service rules on this node are not maintained`, kp.evidence, 'find why it is not running (kubectl describe pod -n kube-system; often evicted or Pending for lack of resources): give kube-proxy priorityClassName system-node-critical'));
  } else if (kp.status === 'running') add('kube-proxy pod', kp.text, 'ok');
  else add('kube-proxy pod', verdict.kubeProxyOutsidePods ? `none: kube-proxy runs outside pods${api.dataplane?.distribution ? ` (${api.dataplane.distribution} agent)` : ''}, judged by its rules` : replacement ? `none (${replacement})` : kp.text, 'n/a');
  if (!rules) {
    if (net.kubeProxyUnreadable.length > 0) {
      add('kube-proxy rules', 'could not be read', find('node.kube-proxy-rules-unreadable', 'info', `could not read kube-proxy's rules on node ${net.nodeName}: they were not checked (this says nothing about the rules themselves)`, net.kubeProxyUnreadable, 'run with an --image that has iptables-nft-save, iptables-legacy-save, nft and ipvsadm (netshoot has them) and a privileged probe pod'));
    }
    return;
  }
  const expected = api.expectedServicePorts;
  const have = new Set(rules.programmed);
  const absent = rules.mode === 'ipvs' ? [] : expected.filter((s) => !have.has(s));
  const ruleText = rules.mode === 'none' ? 'none' : `${rules.mode}${rules.mode === 'iptables' ? ` (${rules.backend})` : ''}: ${rules.svcChains} ${rules.mode === 'nftables' ? 'service-' : rules.mode === 'ipvs' ? 'virtual servers' : 'KUBE-SVC-'} chains, ${rules.mode === 'ipvs' ? '?' : expected.length - absent.length}/${expected.length} Service ports`;
  if (rules.mode === 'none') {
    if (verdict.kubeProxyExpected && !(replacement && api.dataplane === undefined)) {
      add('kube-proxy rules', ruleText, find('node.kube-proxy-rules-missing', 'error', `no kube-proxy rules on this node (no KUBE-SERVICES chain, no nftables kube-proxy table, no IPVS) while kube-proxy is expected here: no ClusterIP works from here, DNS included`, [`nat KUBE-SVC- chains: ${rules.svcChains}, KUBE-SERVICES rules: ${rules.servicesRules}`, `Services in the API: ${expected.length} ports`, ...verdict.expectedBecause.map((b) => `kube-proxy expected: ${b}`)], 'start (or restart) kube-proxy on this node and check its log; kubectl netdiag trace-svc SERVICE shows one Service\'s path'));
    } else if (replacement) add('kube-proxy rules', `none (${replacement} steers Services)`, 'ok');
    else {
      add('kube-proxy rules', 'none (no kube-proxy, no known replacement)', find('node.service-dataplane-unknown', 'info', 'no kube-proxy rules on this node and no kube-proxy pods, ConfigMap or known replacement in the cluster: netdiag cannot tell what steers Services here', ['no KUBE-SERVICES chain, no ip kube-proxy table, no IPVS virtual servers', 'no pods labelled k8s-app=kube-proxy, k8s-app=cilium, app=ovnkube-node, k8s-app=calico-node (FELIX_BPFENABLED), app=antrea (proxyAll) or k8s-app=kube-router on this node'], 'if ClusterIPs fail from this node (kubectl netdiag trace-svc SERVICE --probe), deploy kube-proxy or the replacement the cluster was built for'));
    }
  } else if (absent.length > 0) {
    add('kube-proxy rules', ruleText, find('node.kube-proxy-rules-missing', 'error', `${absent.length} of ${expected.length} Service ports have no kube-proxy rule on this node: their ClusterIPs do not work from here`, [...absent.slice(0, 10).map((s) => `missing: ${s}`), ...(absent.length > 10 ? [`... and ${absent.length - 10} more`] : []), `nat KUBE-SERVICES rules: ${rules.servicesRules}, KUBE-SVC- chains: ${rules.svcChains}`], 'restart kube-proxy on this node (its sync failed or it is stuck) and check its log; kubectl netdiag trace-svc SERVICE shows one Service\'s path'));
  } else add('kube-proxy rules', ruleText, 'ok');
  if (rules.backend === 'both') {
    find('node.iptables-backends-mixed', 'warn', 'KUBE-* chains exist in both iptables-legacy and iptables-nft: one set is stale and may shadow the other', ['iptables-legacy-save and iptables-nft-save both hold KUBE-SERVICES'], 'flush the backend kube-proxy does not use (iptables-legacy -t nat -F etc.) and make the node\'s iptables alternative match kube-proxy\'s');
  }
}

/** Said once per report, not per node: who steers Services when it is not kube-proxy in pods. */
function dataplaneNotes(verdicts: ReadonlyArray<{ net: NodeNetwork; verdict: ServiceDataplaneVerdict }>, api: NodeFleetApi): Finding[] {
  const out: Finding[] = [];
  const byProxy = new Map<string, Array<{ net: NodeNetwork; verdict: ServiceDataplaneVerdict }>>();
  for (const v of verdicts) {
    if (v.verdict.replacement && v.net.kubeProxy?.mode === 'none' && !v.verdict.kubeProxyExpected) byProxy.set(v.verdict.replacement.proxy, [...(byProxy.get(v.verdict.replacement.proxy) ?? []), v]);
  }
  for (const group of byProxy.values()) {
    const r = group[0]!.verdict.replacement!;
    out.push({ code: 'node.kube-proxy-replaced', severity: 'info', subject: `node ${group.map((g) => g.net.nodeName).join(', ')}`, message: `Services are steered by ${r.title}, not kube-proxy: no KUBE-* rules is expected on these nodes, and their Service rules live in that dataplane`, evidence: r.evidence, remedy: `inspect the Service translation with: ${r.inspect}` });
  }
  const outside = verdicts.filter((v) => v.verdict.kubeProxyOutsidePods);
  if (outside.length > 0) {
    const where = api.dataplane?.distribution ? `inside the ${api.dataplane.distribution} agent process` : 'outside pods (a systemd unit or the distribution\'s agent)';
    out.push({ code: 'node.kube-proxy-outside-pods', severity: 'info', subject: `node ${outside.map((v) => v.net.nodeName).join(', ')}`, message: `no kube-proxy pods in the cluster, but kube-proxy's rules are on these nodes: kube-proxy runs ${where}, so it is judged by its rules`, evidence: outside.slice(0, 3).map((v) => `${v.net.nodeName}: ${v.net.kubeProxy?.mode ?? '?'} rules, ${v.net.kubeProxy?.svcChains ?? 0} Service chains`), remedy: api.dataplane?.distribution === 'k3s' ? 'its log is the k3s service\'s (journalctl -u k3s or k3s-agent); restart k3s to resync' : 'its log is in the node\'s journal (journalctl -u kube-proxy); restart that unit to resync' });
  }
  return out;
}

function checkCniConfig(net: NodeNetwork, add: AddRow, find: FindFn): void {
  const configs = net.cniConfigs;
  if (configs === null || configs.length === 0) {
    const seen = net.cniConfigDirs.map((d) => `${d.dir}: ${d.files} config files`);
    add('CNI config', configs === null ? 'no CNI config directory' : 'no .conf/.conflist files', find('node.cni-config-missing', 'error', `no CNI network config in ${CNI_CONF_DIRS.join(', ')}: kubelet reports NetworkPluginNotReady and new pods get no network`, seen.length > 0 ? seen : ['none of these directories exists or is readable'], 'the CNI agent writes this file at start: check that its pod runs on this node and that it mounts the directory the runtime reads (k3s/RKE2: /var/lib/rancher/{k3s,rke2}/agent/etc/cni/net.d); a custom containerd conf_dir is not read by netdiag'));
    return;
  }
  const dir = net.cniConfigDir ?? CNI_CONF_DIRS[0];
  const invalid = configs.filter((c) => !c.valid);
  if (invalid.length > 0) {
    find('node.cni-config-invalid', 'error', `${invalid.map((c) => c.name).join(', ')} is not valid JSON: ${invalid[0] === configs[0] ? 'the runtime cannot load the network config it picks first' : 'the runtime skips it'}`, invalid.map((c) => `${dir}/${c.name}`), 'restore the file from the CNI agent (restart it) or fix the JSON');
  }
  add('CNI config', `${dir}: ${configs.map((c) => `${c.name}${c.type ? ` (${c.type})` : ''}`).join(', ')}${configs.length > 1 ? `; ${configs[0]!.name} is used` : ''}`, invalid.length > 0 ? 'error' : 'ok');
  const others = net.cniConfigDirs.filter((d) => d.dir !== dir && d.files > 0);
  if (others.length > 0) {
    find('node.cni-config-several-dirs', 'info', `CNI config files are in more than one directory; the runtime reads only the one it is configured with (taken here: ${dir})`, [`${dir}: ${configs.length} config files`, ...others.map((d) => `${d.dir}: ${d.files} config files`)], 'check the runtime\'s CNI conf_dir (containerd config.toml, k3s: /var/lib/rancher/k3s/agent/etc/containerd/config.toml) and remove the stale files from the other directory');
  }
}

export type AgentStatus = 'running' | 'missing' | 'not-running' | 'not-deployed';

function checkAgent(net: NodeNetwork, api: NodeFleetApi, role: AgentRole): { status: AgentStatus; expected: boolean; text: string; evidence: string[] } {
  return agentOnNode(api, net.nodeName, role);
}

/** Is a (Running, Ready) pod of this agent on the node; when not, what is there instead. */
export function agentOnNode(api: NodeFleetApi, nodeName: string, role: AgentRole): { status: AgentStatus; expected: boolean; text: string; evidence: string[] } {
  const all = api.agents.filter((a) => a.role === role);
  const here = all.filter((a) => a.nodeName === nodeName);
  const aimed = all.filter((a) => a.nodeName === null && a.targetNode === nodeName);
  const describe = (a: AgentPod) => `${a.namespace}/${a.name} ${a.phase}${a.ready ? '' : ' (not ready)'}${a.reason ? ` ${a.reason}` : ''}${a.nodeName ? ` on ${a.nodeName}` : ' (not scheduled)'}`;
  if (all.length === 0) return { status: 'not-deployed', expected: false, text: `no ${role} pods in the cluster`, evidence: [] };
  const running = here.find((a) => a.phase === 'Running' && a.ready);
  if (running) return { status: 'running', expected: true, text: `${running.namespace}/${running.name} Running`, evidence: [] };
  const candidate = here[0] ?? aimed[0];
  if (candidate) return { status: 'not-running', expected: true, text: describe(candidate), evidence: [...here, ...aimed].map(describe) };
  const others = all.filter((a) => a.nodeName !== null).slice(0, 3);
  return { status: 'missing', expected: true, text: 'none on this node', evidence: [`${role} pods run on: ${others.map((a) => a.nodeName).join(', ')}${all.length > 3 ? ', ...' : ''}`] };
}

export function singleAgentRole(api: NodeFleetApi): AgentRole | null {
  const roles = new Set(api.agents.map((a) => a.role).filter((r) => r !== 'kube-proxy'));
  return roles.size === 1 ? ([...roles][0] as AgentRole) : null;
}

export function routeLine(r: RouteEntry): string {
  return `${r.type === 'unicast' ? '' : `${r.type} `}${r.dstRaw}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.protocol && r.protocol !== 'boot' ? ` proto ${r.protocol}` : ''}${r.onlink ? ' onlink' : ''}`;
}

/** The smallest IPv4 prefix holding every ClusterIP: a lower bound of the Service CIDR. */
export function inferServiceCidr(clusterIPs: readonly string[]): string | null {
  // One or two ClusterIPs say little about the range: never claim less than a /24.
  return coveringIpv4Cidr(clusterIPs, 24);
}
