// arp-check: both sides of a pod's veth as ARP sees them. The node's neighbour entry for the pod
// and the pod's entry for its gateway, proxy ARP and forwarding on the host side, the node's route
// to the gateway (Calico's proxy ARP for 169.254.1.1 needs one), and arp_ignore / arp_announce /
// rp_filter as the kernel applies them (max of conf/all and conf/IFACE) in the node and in the pod.
// With --probe, arping from the node to the pod and from the pod to its gateway says who answered
// with which MAC. Node-level checks: two IPv4 addresses on the NIC holding the InternalIP, another
// node's InternalIP on this node (or ours on another), and IPVS without strict ARP.
import type { Finding, Severity, FindingCode } from '../finding.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import type { RawSection } from '../../probe/sections.js';
import type { NodeRequest } from '../../node-script/node-script.js';
import type { PodTarget } from '../common/pod-targets.js';
import { locatePodNamespace, nodeFailedFinding, podNsenterCommand, readAllNodeFacts, type NodeFacts, type PodNetnsFacts } from '../common/node-facts.js';
import { parseIpAddrJson, type NetLink } from '../../parse/ip-addr.js';
import { parseEthtoolPeers } from '../../parse/ethtool-stats.js';
import { parseIpRouteJson, type RouteEntry } from '../../parse/ip-route.js';
import { parseIpNeighJson, type NeighborEntry, type NeighborState } from '../../parse/ip-neigh.js';
import type { NodeSysctls } from '../../parse/sysctl.js';
import { parseArping } from '../../parse/arping.js';
import { cidrContainsIp, longestPrefixMatch } from '../../net/ip.js';

/** What the command resolved through the API (kept in snapshots). */
export interface ArpCheckApi {
  pods: PodTarget[];
  /** InternalIP of every node: the NIC is the interface holding it; duplicates are compared with it. */
  nodeIPs: Record<string, string>;
  /** --probe: arping was asked for (the answers are in the nodes' raw output). */
  probe: boolean;
  /** Nodes probed only for their host facts, to find this node's InternalIP on them. */
  peerNodes: string[];
}

export interface SysctlValues {
  all: number | null;
  iface: number | null;
  effective: number | null; // max(all, iface): what the kernel applies on this interface
}

/** arp_ignore, arp_announce and rp_filter on one interface, raw and effective. */
export interface ArpSysctls {
  ifname: string;
  arpIgnore: SysctlValues;
  arpAnnounce: SysctlValues;
  rpFilter: SysctlValues;
}

export type NeighborStateOrAbsent = NeighborState | 'ABSENT';

export interface NeighborView {
  address: string;
  dev: string | null;
  state: NeighborStateOrAbsent; // ABSENT: no entry (nothing resolved it yet, or it was flushed)
  macAddress: string | null;
  raw: string | null;
}

export type ArpProbeOutcome = 'answered' | 'no-reply' | 'two-macs' | 'not-run';

export interface ArpProbe {
  from: string; // "node lab-node-1" or "pod default/web-1"
  iface: string;
  target: string;
  sourceAddress: string | null; // the address the requests were sent from
  outcome: ArpProbeOutcome;
  macAddresses: string[];
  replies: number;
  evidence: string[];
}

/** How the pod's gateway is answered: by the node's proxy ARP (Calico), or as a node address (bridge). */
export type GatewayStyle = 'proxy-arp' | 'node-address' | 'none';

export interface ArpPodCheck {
  kind: 'pod';
  namespace: string;
  name: string;
  nodeName: string;
  podIP: string;
  podInterface: { ifname: string; macAddress: string | null; addresses: string[] };
  hostInterface: { ifname: string; macAddress: string | null; bridge: string | null } | null;
  gateway: { address: string | null; dev: string | null; style: GatewayStyle; route: string | null };
  /** The node's neighbour entry for the pod IP. */
  nodeToPod: NeighborView;
  /** The pod's neighbour entry for its gateway. */
  podToGateway: NeighborView | null;
  proxyArp: { all: boolean | null; iface: boolean | null; effective: boolean | null };
  forwarding: boolean | null; // conf/<receiving interface>/forwarding on the node
  nodeRouteToPod: string | null; // `ip route get POD_IP` on the node
  nodeRouteToGateway: string | null; // the node route proxy ARP would use for the gateway
  /** On the interface the node receives the pod's ARP on (the veth, or its bridge). */
  nodeSide: ArpSysctls | null;
  podSide: ArpSysctls | null;
  probe: { nodeToPod: ArpProbe | null; podToGateway: ArpProbe | null };
  verdict: string; // "ok", or the codes of this pod's warn/error findings
}

export type ArpPodRow =
  | ArpPodCheck
  | { kind: 'host-network'; namespace: string; name: string; nodeName: string; note: string }
  | { kind: 'unreadable'; namespace: string; name: string; nodeName: string; note: string };

export interface ArpNodeRow {
  nodeName: string;
  role: 'target' | 'peer';
  readable: boolean;
  internalIP: string | null;
  nic: string | null; // the interface holding the InternalIP
  nicIPv4: string[]; // CIDRs
  defaultRoute: string | null;
  allArpIgnore: number | null;
  allArpAnnounce: number | null;
  ipvs: { vips: string[]; arpIgnore: number | null; arpAnnounce: number | null } | null;
}

export interface ArpCheckReport {
  pods: ArpPodRow[];
  nodes: ArpNodeRow[];
  findings: Finding[];
  problems: string[];
}

const UNRESOLVED: readonly NeighborStateOrAbsent[] = ['FAILED', 'INCOMPLETE'];
const RESOLVED: readonly NeighborStateOrAbsent[] = ['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT'];

// ------------------------------------------------------------------ probing plan (--probe)

/**
 * The arping requests for a node, decided on its first answer: from the node over the pod's host
 * veth (or its bridge) to the pod IP, and from the pod's interface to its gateway. The pod is
 * named again with podpid so the action can enter its namespace in this second call.
 */
export function buildArpProbeRequests(pods: readonly PodTarget[], sections: ReadonlyMap<string, RawSection>): NodeRequest[] {
  const hostLinks = parsedOr(sections.get('host/addr'), (t) => parseIpAddrJson(t)) ?? [];
  const requests: NodeRequest[] = [];
  for (const pod of pods) {
    const podIP = ipv4Of(pod);
    if (!podIP || pod.hostNetwork) continue;
    const podLinks = parsedOr(sections.get(`pod/${pod.key}/addr`), (t) => parseIpAddrJson(t));
    const podRoutes = parsedOr(sections.get(`pod/${pod.key}/route`), (t) => parseIpRouteJson(t)) ?? [];
    if (!podLinks) continue;
    const podLink = podLinks.find((l) => l.addresses.some((a) => a.family === 'inet' && a.address === podIP));
    if (!podLink) continue;
    const ethtoolPeers = parseEthtoolPeers(sections.get(`pod/${pod.key}/ethtool`)?.stdout ?? '');
    const host = hostPeerOf(podLink, hostLinks, ethtoolPeers);
    const gateway = defaultGateway(podRoutes);
    requests.push({ kind: 'podpid', key: pod.key, containerId: pod.containerId, podIP });
    if (host) requests.push({ kind: 'arping', where: 'host', iface: host.master ?? host.ifname, target: podIP });
    if (gateway?.gateway && gateway.gateway.includes('.')) {
      requests.push({ kind: 'arping', where: pod.key, iface: gateway.dev ?? podLink.ifname, target: gateway.gateway });
    }
  }
  return requests;
}

// ------------------------------------------------------------------ analysis

export function diagnoseArpCheck(api: ArpCheckApi, nodes: readonly NodeCollection[]): ArpCheckReport {
  const { facts, problems, failed } = readAllNodeFacts(nodes);
  const peers = new Set(api.peerNodes);
  const findings: Finding[] = failed.map((n) =>
    peers.has(n.nodeName)
      ? {
          code: 'probe.peer-node-failed',
          severity: 'warn',
          subject: `node ${n.nodeName}`,
          message: "the probe pod could not collect this node's host facts, so it was left out of the duplicate-address comparison",
          evidence: [n.error],
          remedy: 'check the node (kubectl describe node) and the probe pod events; the other nodes were still diagnosed',
        }
      : nodeFailedFinding(n.nodeName, n.error),
  );

  const pods: ArpPodRow[] = [];
  for (const pod of api.pods) {
    const base = { namespace: pod.namespace, name: pod.name, nodeName: pod.nodeName };
    const where = locatePodNamespace(pod, facts);
    if (where.kind === 'host-network') {
      pods.push({ kind: 'host-network', ...base, note: "uses the node's network namespace; no veth to check" });
      continue;
    }
    if (where.kind !== 'found') {
      pods.push({ kind: 'unreadable', ...base, note: where.note });
      if (where.kind === 'netns-missing') {
        findings.push({
          code: 'arp.netns-not-found',
          severity: 'warn',
          subject: `pod ${pod.namespace}/${pod.name}`,
          message: `no process on node ${pod.nodeName} belongs to this pod's container or holds its IP`,
          evidence: where.evidence,
          remedy: 'the pod may have restarted or be terminating; run again',
        });
      }
      continue;
    }
    const { node, podNs } = where;
    const podFindings: Finding[] = [];
    const row = checkPod(pod, node, podNs, podFindings, api.probe);
    if (!row) {
      pods.push({ kind: 'unreadable', ...base, note: `no interface in the pod holds ${ipv4Of(pod) ?? 'an IPv4 pod IP'}` });
      continue;
    }
    row.verdict = verdictOf(podFindings);
    pods.push(row);
    findings.push(...podFindings);
  }

  const targetNodes = [...new Set(api.pods.filter((p) => !p.hostNetwork).map((p) => p.nodeName))];
  const nodeRows: ArpNodeRow[] = [];
  for (const name of [...targetNodes, ...api.peerNodes.filter((n) => !targetNodes.includes(n))]) {
    const role = targetNodes.includes(name) ? 'target' : 'peer';
    const node = facts.get(name);
    const row = nodeRowOf(name, role, node, api);
    nodeRows.push(row);
    if (role === 'target' && node) findings.push(...checkNode(row, node));
  }
  findings.push(...duplicateNodeIPFindings(facts, api, targetNodes));
  return { pods, nodes: nodeRows, findings, problems };
}

function verdictOf(findings: readonly Finding[]): string {
  const bad = findings.filter((f) => f.severity !== 'info');
  if (bad.length === 0) return 'ok';
  const worst = bad.some((f) => f.severity === 'error') ? 'FAIL' : 'WARN';
  return `${worst}: ${[...new Set(bad.map((f) => f.code.replace(/^arp\./, '')))].join(',')}`;
}

// The catalogue's codes once Finding.code is their union (a plain string before).

/** One pod's ARP facts, with what the judging functions below need to cite them. */
interface PodArpScene {
  pod: PodTarget;
  podNs: PodNetnsFacts;
  podIP: string;
  podLink: NetLink;
  podCidr: string; // the pod IP with the prefix its interface holds it with
  host: NetLink | null; // the host end of the pod's veth
  receiving: string | null; // where the node receives the pod's ARP: the veth, or its bridge
  receivingLink: NetLink | undefined;
  gatewayOnNode: NetLink | undefined; // the node interface holding the pod's gateway (bridge CNIs)
  hostConf: NodeSysctls | null;
  hostRoutes: RouteEntry[];
  routeGet: RouteEntry | null; // `ip route get POD_IP` on the node
  gatewayRoute: RouteEntry | null;
  defaultRoute: RouteEntry | null;
  check: ArpPodCheck;
  add: (code: FindingCode, severity: Severity, message: string, evidence: string[], remedy: string) => void;
  nodeLine: (ifname: string, key: string) => string | null;
  podLine: (ifname: string, key: string) => string | null;
}

function checkPod(pod: PodTarget, node: NodeFacts, podNs: PodNetnsFacts, findings: Finding[], probed: boolean): ArpPodCheck | null {
  const scene = podArpScene(pod, node, podNs, findings, probed);
  if (!scene) return null;
  const podBlock = judgePodArpIgnore(scene);
  judgeNodeArpIgnore(scene);
  judgeProxyArpGateway(scene);
  judgeForwarding(scene);
  judgeNeighbourEntries(scene, podBlock);
  judgeMacConflicts(scene);
  return scene.check;
}

/** Both sides of the pod's veth as read; null when no interface in the pod holds its IPv4. */
function podArpScene(pod: PodTarget, node: NodeFacts, podNs: PodNetnsFacts, findings: Finding[], probed: boolean): PodArpScene | null {
  const podIP = ipv4Of(pod);
  const podLink = podIP ? (podNs.links ?? []).find((l) => l.addresses.some((a) => a.family === 'inet' && a.address === podIP)) : undefined;
  if (!podIP || !podLink) return null;
  const subject = `pod ${pod.namespace}/${pod.name}`;
  const hostLinks = node.host.links ?? [];
  const hostRoutes = node.host.routes ?? [];
  const host = hostPeerOf(podLink, hostLinks, podNs.ethtoolPeerIfindex) ?? null;
  // ARP from the pod arrives on the bridge when the veth is a bridge port, else on the veth.
  const receiving = host ? (host.master ?? host.ifname) : null;
  const podAddr = podLink.addresses.find((a) => a.family === 'inet' && a.address === podIP)!;
  const gateway = podGatewayOf(podNs.routes ?? [], hostLinks);
  const hostConf = node.host.sysctl;
  const routeGet = node.routeGets.get(podIP) ?? null;
  const gatewayRoute = gateway.address && gateway.style === 'proxy-arp' ? lookupRoute(hostRoutes, gateway.address, host?.ifname ?? null) : null;
  const check: ArpPodCheck = {
    kind: 'pod',
    namespace: pod.namespace,
    name: pod.name,
    nodeName: pod.nodeName,
    podIP,
    podInterface: { ifname: podLink.ifname, macAddress: podLink.macAddress, addresses: podLink.addresses.filter((a) => a.scope !== 'link').map((a) => `${a.address}/${a.prefixLength}`) },
    hostInterface: host ? { ifname: host.ifname, macAddress: host.macAddress, bridge: host.master } : null,
    gateway: { address: gateway.address, dev: gateway.route?.dev ?? null, style: gateway.style, route: gateway.route?.raw ? routeText(gateway.route) : null },
    nodeToPod: neighborView(neighborsOf(node.sections.get('host/neigh')), podIP, receiving ? [receiving, host!.ifname] : []),
    podToGateway: gateway.address ? neighborView(neighborsOf(node.sections.get(`pod/${pod.key}/neigh`)), gateway.address, [gateway.route?.dev ?? podLink.ifname]) : null,
    proxyArp: proxyArpOf(hostConf, host),
    forwarding: (receiving ? hostConf?.ipv4Conf[receiving] : undefined)?.forwarding ?? null,
    nodeRouteToPod: routeGet ? routeText(routeGet) : null,
    nodeRouteToGateway: gatewayRoute ? routeText(gatewayRoute) : null,
    nodeSide: receiving && hostConf ? arpSysctlsOf(hostConf, receiving) : null,
    podSide: podNs.sysctl ? arpSysctlsOf(podNs.sysctl, podLink.ifname) : null,
    probe: {
      nodeToPod: probeResult(node.sections, 'host', podIP, `node ${pod.nodeName}`, probed),
      podToGateway: gateway.address ? probeResult(node.sections, pod.key, gateway.address, subject, probed) : null,
    },
    verdict: 'ok',
  };
  return {
    pod,
    podNs,
    podIP,
    podLink,
    podCidr: `${podAddr.address}/${podAddr.prefixLength}`,
    host,
    receiving,
    receivingLink: receiving ? hostLinks.find((l) => l.ifname === receiving) : undefined,
    gatewayOnNode: gateway.onNode,
    hostConf,
    hostRoutes,
    routeGet,
    gatewayRoute,
    defaultRoute: hostRoutes.find((r) => r.isDefault && r.family === 'inet' && r.table === 'main' && r.type === 'unicast') ?? null,
    check,
    add: (code, severity, message, evidence, remedy) => findings.push({ code, severity, subject, message, evidence, remedy }),
    nodeLine: (ifname, key) => prefixed('node', sysctlLine(hostConf, ifname, key)),
    podLine: (ifname, key) => prefixed('pod', sysctlLine(podNs.sysctl, ifname, key)),
  };
}

/** The pod's default gateway, and who answers ARP for it: a node address (bridge CNIs) or proxy ARP. */
function podGatewayOf(podRoutes: readonly RouteEntry[], hostLinks: readonly NetLink[]): { address: string | null; route: RouteEntry | undefined; style: GatewayStyle; onNode: NetLink | undefined } {
  const route = defaultGateway(podRoutes);
  const address = route?.gateway ?? null;
  const onNode = address ? hostLinks.find((l) => l.addresses.some((a) => a.family === 'inet' && a.address === address)) : undefined;
  return { address, route, style: !address ? 'none' : onNode ? 'node-address' : 'proxy-arp', onNode };
}

/** proxy_arp on the host veth: on when conf/all or the interface says so, off only when both say off. */
function proxyArpOf(hostConf: NodeSysctls | null, host: NetLink | null): ArpPodCheck['proxyArp'] {
  const all = hostConf?.ipv4Conf['all']?.proxyArp ?? null;
  const iface = host ? (hostConf?.ipv4Conf[host.ifname]?.proxyArp ?? null) : null;
  return { all, iface, effective: all === true || iface === true ? true : all === false && iface === false ? false : null };
}

/**
 * The pod's own arp_ignore against its node's requests (seed 001), and the node's conf/all value
 * that new pods inherit. Returns why the pod ignores its node, or null.
 */
function judgePodArpIgnore(s: PodArpScene): string | null {
  const { pod, podLink, podIP, podCidr, check } = s;
  const { podSide, nodeToPod, probe } = check;
  const nodeAllIgnore = s.hostConf?.ipv4Conf['all']?.arpIgnore ?? null;
  // The node asks from the address its route to the pod picks (or, with --probe, the one arping used).
  const sender = probe.nodeToPod?.sourceAddress ?? s.routeGet?.prefsrc ?? s.receivingLink?.addresses.find((a) => a.family === 'inet')?.address ?? null;
  const podIgnore = podSide?.arpIgnore.effective ?? null;
  const podBlock = arpIgnoreRejects(podIgnore, sender, podCidr, podLink.ifname);
  if (podBlock) {
    const evidence = [
      s.podLine('all', 'arp_ignore'),
      s.podLine(podLink.ifname, 'arp_ignore'),
      `pod ${podLink.ifname}: inet ${podCidr}`,
      sender ? `node ${pod.nodeName} asks from ${sender}${s.routeGet ? ` (ip route get ${podIP}: ${routeText(s.routeGet)})` : ''}` : `node ${pod.nodeName}: no source address known`,
      s.nodeLine('all', 'arp_ignore'),
    ];
    if (nodeToPod.raw) evidence.push(`node neighbour: ${nodeToPod.raw}`);
    if (probe.nodeToPod && probe.nodeToPod.outcome !== 'not-run') evidence.push(...probe.nodeToPod.evidence);
    // New pod namespaces copy the node's conf/all at creation (net.core.devconf_inherit_init_net=0).
    const inherited = nodeAllIgnore !== null && nodeAllIgnore === (podSide?.arpIgnore.all ?? null);
    s.add(
      'arp.ignore-blocks-host',
      'error',
      `the pod's effective arp_ignore is ${podIgnore} (max of all=${fmt(podSide?.arpIgnore.all)} and ${podLink.ifname}=${fmt(podSide?.arpIgnore.iface)}), so it ignores ARP requests from its node for ${podIP}: ${podBlock}`,
      evidence.filter((e): e is string => Boolean(e)),
      `in the pod's namespace set net.ipv4.conf.all.arp_ignore=0 and net.ipv4.conf.${podLink.ifname}.arp_ignore=0 (on node ${pod.nodeName}: ${podNsenterCommand(s.podNs)} sysctl -w net.ipv4.conf.all.arp_ignore=0)` +
        (inherited
          ? `; new pod namespaces inherit the node's conf/all values and node ${pod.nodeName} has net.ipv4.conf.all.arp_ignore=${nodeAllIgnore}: set it to 0 in /etc/sysctl.conf or /etc/sysctl.d on the node (sysctl -p) and recreate the pods`
          : `; the node's net.ipv4.conf.all.arp_ignore is ${fmt(nodeAllIgnore)}, so find what set it in the pod (an init container, the image, a CNI plugin)`),
    );
  } else if (nodeAllIgnore !== null && arpIgnoreRejects(nodeAllIgnore, sender, podCidr, podLink.ifname)) {
    s.add(
      'arp.node-ignore-inherited',
      'warn',
      `node ${pod.nodeName} has net.ipv4.conf.all.arp_ignore=${nodeAllIgnore}; pods created from now on inherit it and will ignore their node's ARP requests for their ${podCidr} address`,
      [s.nodeLine('all', 'arp_ignore'), s.podLine('all', 'arp_ignore')].filter((e): e is string => Boolean(e)),
      `set net.ipv4.conf.all.arp_ignore=0 on node ${pod.nodeName} (/etc/sysctl.conf or /etc/sysctl.d, then sysctl -p)`,
    );
  }
  return podBlock;
}

/** The node's arp_ignore against the pod's requests for a gateway that is a node address (bridge CNIs). */
function judgeNodeArpIgnore(s: PodArpScene): void {
  const { pod, podIP, receiving, gatewayOnNode, check } = s;
  const { nodeSide } = check;
  const gatewayAddress = check.gateway.address;
  if (check.gateway.style !== 'node-address' || !receiving || !nodeSide) return;
  const gwAddr = gatewayOnNode!.addresses.find((a) => a.family === 'inet' && a.address === gatewayAddress)!;
  const gwOnReceiving = gatewayOnNode!.ifname === receiving;
  const block = gwOnReceiving
    ? arpIgnoreRejects(nodeSide.arpIgnore.effective, podIP, `${gwAddr.address}/${gwAddr.prefixLength}`, receiving)
    : nodeSide.arpIgnore.effective !== null && nodeSide.arpIgnore.effective >= 1
      ? `arp_ignore=${nodeSide.arpIgnore.effective} answers only for addresses on ${receiving}, and ${gatewayAddress} is on ${gatewayOnNode!.ifname}`
      : null;
  if (!block) return;
  s.add(
    'arp.ignore-blocks-pod',
    'error',
    `node ${pod.nodeName} ignores the pod's ARP requests for its gateway ${gatewayAddress} on ${receiving}: ${block}`,
    [s.nodeLine('all', 'arp_ignore'), s.nodeLine(receiving, 'arp_ignore'), `node ${gatewayOnNode!.ifname}: inet ${gwAddr.address}/${gwAddr.prefixLength}`, check.podToGateway?.raw ?? null].filter((e): e is string => Boolean(e)),
    `on node ${pod.nodeName}: sysctl -w net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.${receiving}.arp_ignore=0, and fix it in /etc/sysctl.d`,
  );
}

/** Calico-style gateway: proxy ARP on the host veth and a route to the gateway through another interface. */
function judgeProxyArpGateway(s: PodArpScene): void {
  const { pod, host, check, defaultRoute } = s;
  const gatewayAddress = check.gateway.address;
  if (check.gateway.style !== 'proxy-arp' || !host) return;
  const noReplyEvidence = check.probe.podToGateway?.outcome === 'no-reply' ? check.probe.podToGateway.evidence : [];
  if (check.proxyArp.effective === false) {
    s.add(
      'arp.proxy-arp-off',
      'error',
      `proxy_arp is off on ${host.ifname}, so nobody answers the pod's ARP for its gateway ${gatewayAddress} and all its traffic leaving the pod is dropped`,
      [s.nodeLine('all', 'proxy_arp'), s.nodeLine(host.ifname, 'proxy_arp'), `pod route: ${check.gateway.route ?? '<none>'}`, ...noReplyEvidence].filter((e): e is string => Boolean(e)),
      `on node ${pod.nodeName}: sysctl -w net.ipv4.conf.${host.ifname}.proxy_arp=1 (the CNI agent sets it when it creates the veth: check calico-node's logs)`,
    );
  }
  if (!s.gatewayRoute) {
    s.add(
      'arp.no-default-route',
      'error',
      `node ${pod.nodeName} has ${defaultRoute ? 'no usable route' : 'no default route'} to the pod's gateway ${gatewayAddress} through another interface, so proxy ARP on ${host.ifname} does not answer for it`,
      [
        defaultRoute ? `node default route: ${routeText(defaultRoute)}` : `node ${pod.nodeName}: no default route in table main`,
        ...s.hostRoutes.filter((r) => r.table === 'main' && r.family === 'inet' && r.type === 'unicast').slice(0, 6).map((r) => `node route: ${routeText(r)}`),
        `pod route: ${check.gateway.route ?? '<none>'}`,
        ...noReplyEvidence,
      ],
      `give node ${pod.nodeName} its default route back (ip route add default via GATEWAY dev NIC, and fix the network configuration that lost it); proxy ARP only answers for destinations the node can route elsewhere`,
    );
  }
}

/** Forwarding off on the interface the node receives the pod's packets on. */
function judgeForwarding(s: PodArpScene): void {
  const { pod, receiving, check } = s;
  if (!receiving || check.forwarding !== false) return;
  s.add(
    'arp.forwarding-off',
    'error',
    `forwarding is off on ${receiving}, so node ${pod.nodeName} neither routes the pod's packets${check.gateway.style === 'proxy-arp' ? ' nor answers its ARP by proxy' : ''}`,
    [s.nodeLine(receiving, 'forwarding'), s.nodeLine('all', 'forwarding'), `node ${s.hostConf?.entries.find((e) => e.path === '/proc/sys/net/ipv4/ip_forward')?.raw ?? 'ip_forward not read'}`].filter((e): e is string => Boolean(e)),
    `on node ${pod.nodeName}: sysctl -w net.ipv4.conf.${receiving}.forwarding=1 (and net.ipv4.ip_forward=1 in /etc/sysctl.d)`,
  );
}

/** Neighbour entries and arping answers that say ARP already failed, on either side. */
function judgeNeighbourEntries(s: PodArpScene, podBlock: string | null): void {
  const { pod, podIP, podLink, receiving, check } = s;
  const { nodeToPod, podToGateway, probe } = check;
  const gatewayAddress = check.gateway.address;
  const nodeProbeAnswered = probe.nodeToPod?.outcome === 'answered';
  if (UNRESOLVED.includes(nodeToPod.state)) {
    s.add(
      'arp.neighbor-failed',
      nodeProbeAnswered ? 'warn' : 'error',
      `node ${pod.nodeName}'s neighbour entry for the pod IP ${podIP} is ${nodeToPod.state}: the pod did not answer its node's ARP${nodeProbeAnswered ? ' (it answers arping now, so the entry is left over from an earlier failure)' : ''}`,
      [`node: ${nodeToPod.raw}`, ...(probe.nodeToPod && probe.nodeToPod.outcome !== 'not-run' ? probe.nodeToPod.evidence : [])],
      podBlock
        ? 'fix arp.ignore-blocks-host above, then ip neigh flush dev ' + (receiving ?? 'IFACE') + ` to ${podIP} on the node`
        : `check the pod's arp_ignore and that ${podIP} is on its ${podLink.ifname} (this table), tcpdump -i ${receiving ?? 'IFACE'} -nn arp on node ${pod.nodeName}`,
    );
  }
  const gwProbe = probe.podToGateway;
  if (podToGateway && (UNRESOLVED.includes(podToGateway.state) || gwProbe?.outcome === 'no-reply')) {
    const answered = gwProbe?.outcome === 'answered';
    s.add(
      'arp.gateway-unresolved',
      answered ? 'warn' : 'error',
      gwProbe?.outcome === 'no-reply'
        ? `nobody answered the pod's ARP for its gateway ${gatewayAddress} on ${podLink.ifname}: the pod cannot send anything off its own address`
        : `the pod's neighbour entry for its gateway ${gatewayAddress} is ${podToGateway.state}${answered ? ' (the gateway answers arping now: the entry is left over)' : ''}`,
      [podToGateway.raw ? `pod: ${podToGateway.raw}` : `pod: no entry for ${gatewayAddress}`, ...(gwProbe && gwProbe.outcome !== 'not-run' ? gwProbe.evidence : [])],
      check.gateway.style === 'proxy-arp'
        ? `the node answers for ${gatewayAddress} by proxy ARP: check proxy_arp and forwarding on ${s.host?.ifname ?? 'the host veth'} and the node's default route (the other findings name which)`
        : `check that ${gatewayAddress} is up on node ${pod.nodeName}'s ${receiving ?? 'bridge'} and the node's arp_ignore on it`,
    );
  }
  if (probe.nodeToPod?.outcome === 'no-reply') {
    s.add(
      'arp.pod-no-reply',
      'error',
      `arping from node ${pod.nodeName} over ${probe.nodeToPod.iface} got no reply for ${podIP}${podBlock ? ' (its arp_ignore, above)' : ''}: the node cannot deliver anything to the pod`,
      probe.nodeToPod.evidence,
      podBlock ? 'fix arp.ignore-blocks-host above' : `check that ${podIP} is on the pod's ${podLink.ifname} and the pod's arp_ignore; tcpdump -i ${probe.nodeToPod.iface} -nn arp on the node`,
    );
  }
}

/** Two MACs for one address, or a MAC that is not the one the address lives on. */
function judgeMacConflicts(s: PodArpScene): void {
  const { pod, podIP, podLink, receiving, check } = s;
  const { nodeToPod, probe } = check;
  const style = check.gateway.style;
  const conflictChecks: Array<{ p: ArpProbe | null; expected: string | null; what: string }> = [
    { p: probe.nodeToPod, expected: podLink.macAddress, what: `the pod IP ${podIP}` },
    { p: probe.podToGateway, expected: style === 'proxy-arp' ? s.host?.macAddress ?? null : style === 'node-address' ? s.receivingLink?.macAddress ?? null : null, what: `the gateway ${check.gateway.address}` },
  ];
  for (const { p, expected, what } of conflictChecks) {
    if (!p || p.macAddresses.length === 0) continue;
    const foreign = expected ? p.macAddresses.filter((m) => m !== expected.toLowerCase()) : [];
    if (p.macAddresses.length > 1 || foreign.length > 0) {
      s.add(
        'arp.mac-conflict',
        'error',
        p.macAddresses.length > 1
          ? `${p.macAddresses.length} MACs (${p.macAddresses.join(', ')}) answered ARP for ${what}: two hosts hold the address and traffic goes to whichever answered last`
          : `${what} was answered by ${p.macAddresses[0]}, not by ${expected} where it should live`,
        [...p.evidence, expected ? `expected MAC ${expected.toLowerCase()}` : ''].filter(Boolean),
        `find the other holder (the MAC's owner: ip -br link | grep -i ${foreign[0] ?? p.macAddresses[1] ?? p.macAddresses[0]} on the nodes and pods) and remove the address there; IPAM handed it out twice or a stale pod kept it`,
      );
    }
  }
  if (RESOLVED.includes(nodeToPod.state) && nodeToPod.macAddress && podLink.macAddress && nodeToPod.macAddress.toLowerCase() !== podLink.macAddress.toLowerCase()) {
    s.add(
      'arp.neighbor-mac-mismatch',
      'warn',
      `node ${pod.nodeName} maps ${podIP} to ${nodeToPod.macAddress}, but the pod's ${podLink.ifname} has ${podLink.macAddress}: packets for the pod go to another host until the entry is refreshed`,
      [`node: ${nodeToPod.raw}`, `pod ${podLink.ifname}: link/ether ${podLink.macAddress}`],
      `on node ${pod.nodeName}: ip neigh del ${podIP} dev ${nodeToPod.dev ?? receiving ?? 'IFACE'}; if it comes back wrong, another host answers for ${podIP} (run again with --probe)`,
    );
  }
}

function nodeRowOf(name: string, role: 'target' | 'peer', node: NodeFacts | undefined, api: ArpCheckApi): ArpNodeRow {
  const internalIP = api.nodeIPs[name] ?? null;
  const empty: ArpNodeRow = { nodeName: name, role, readable: false, internalIP, nic: null, nicIPv4: [], defaultRoute: null, allArpIgnore: null, allArpAnnounce: null, ipvs: null };
  if (!node || !node.host.links) return empty;
  const links = node.host.links;
  const nic = internalIP ? links.find((l) => l.addresses.some((a) => a.address === internalIP)) : undefined;
  const def = (node.host.routes ?? []).find((r) => r.isDefault && r.family === 'inet' && r.table === 'main');
  const all = node.host.sysctl?.ipv4Conf['all'];
  const ipvsLink = links.find((l) => l.ifname === 'kube-ipvs0');
  const nicConf = nic ? node.host.sysctl?.ipv4Conf[nic.ifname] : undefined;
  return {
    nodeName: name,
    role,
    readable: true,
    internalIP,
    nic: nic?.ifname ?? null,
    nicIPv4: nic ? nic.addresses.filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.prefixLength}`) : [],
    defaultRoute: def ? routeText(def) : null,
    allArpIgnore: all?.arpIgnore ?? null,
    allArpAnnounce: all?.arpAnnounce ?? null,
    ipvs: ipvsLink
      ? {
          vips: ipvsLink.addresses.filter((a) => a.family === 'inet').map((a) => a.address),
          arpIgnore: maxKnown(all?.arpIgnore, nicConf?.arpIgnore),
          arpAnnounce: maxKnown(all?.arpAnnounce, nicConf?.arpAnnounce),
        }
      : null,
  };
}

function checkNode(row: ArpNodeRow, node: NodeFacts): Finding[] {
  const findings: Finding[] = [];
  const subject = `node ${row.nodeName}`;
  const links = node.host.links ?? [];
  const nic = links.find((l) => l.ifname === row.nic);
  if (row.internalIP && !nic) {
    findings.push({
      code: 'arp.node-ip-missing',
      severity: 'warn',
      subject,
      message: `no interface of node ${row.nodeName} holds its InternalIP ${row.internalIP}`,
      evidence: links.filter((l) => l.ifname !== 'lo').map((l) => `${l.ifname}: ${l.addresses.filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.prefixLength}`).join(' ') || 'no IPv4'}`),
      remedy: "the node's address changed under the kubelet (DHCP?): give the NIC its address back or restart the kubelet with the right --node-ip",
    });
  }
  if (nic) {
    const v4 = nic.addresses.filter((a) => a.family === 'inet' && a.scope !== 'host');
    if (v4.length > 1) {
      const extra = v4.filter((a) => a.address !== row.internalIP);
      findings.push({
        code: 'arp.nic-multiple-ipv4',
        severity: 'error',
        subject,
        message: `the NIC ${nic.ifname} holding the InternalIP ${row.internalIP} has ${v4.length} IPv4 addresses; the node may send (and encapsulate overlay traffic) from ${extra.map((a) => a.address).join(', ')}, which other nodes do not expect`,
        evidence: v4.map((a) => `${nic.ifname}: inet ${a.address}/${a.prefixLength} scope ${a.scope}${a.secondary ? ' secondary' : ''}${a.dynamic ? ' dynamic' : ''}${a.label && a.label !== nic.ifname ? ` label ${a.label}` : ''}`),
        remedy: `remove the extra address (ip addr del ${extra[0] ? `${extra[0].address}/${extra[0].prefixLength}` : 'ADDR'} dev ${nic.ifname}) and fix its source: a NIC configured both static and DHCP (BOOTPROTO=dhcp next to a static IPADDR); a VIP (keepalived, kube-vip) belongs on its own /32 and is expected`,
      });
    }
  }
  if (row.ipvs && row.ipvs.vips.length > 0) {
    const ignoreOk = row.ipvs.arpIgnore !== null && row.ipvs.arpIgnore >= 1;
    const announceOk = row.ipvs.arpAnnounce !== null && row.ipvs.arpAnnounce >= 2;
    if (!ignoreOk || !announceOk) {
      const nicName = row.nic ?? 'NIC';
      findings.push({
        code: 'arp.ipvs-not-strict',
        severity: 'error',
        subject,
        message: `kube-ipvs0 holds ${row.ipvs.vips.length} Service VIP(s) but the node's effective arp_ignore on ${nicName} is ${fmt(row.ipvs.arpIgnore)} and arp_announce ${fmt(row.ipvs.arpAnnounce)}: the node answers ARP for every ClusterIP/LoadBalancer IP on the wire, so several nodes claim them`,
        evidence: [
          `kube-ipvs0: ${row.ipvs.vips.slice(0, 5).join(' ')}${row.ipvs.vips.length > 5 ? ' ...' : ''}`,
          sysctlLine(node.host.sysctl, 'all', 'arp_ignore'),
          sysctlLine(node.host.sysctl, nicName, 'arp_ignore'),
          sysctlLine(node.host.sysctl, 'all', 'arp_announce'),
          sysctlLine(node.host.sysctl, nicName, 'arp_announce'),
        ].filter((e): e is string => Boolean(e)),
        remedy: 'set strictARP: true in the kube-proxy ConfigMap (ipvs section) and restart kube-proxy, which sets net.ipv4.conf.all.arp_ignore=1 and arp_announce=2',
      });
    }
  }
  return findings;
}

/** Another node's InternalIP on this node, or this node's InternalIP on another node (peers included). */
function duplicateNodeIPFindings(facts: ReadonlyMap<string, NodeFacts>, api: ArpCheckApi, targets: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  const owners = new Map<string, string>(); // InternalIP -> node
  for (const [name, ip] of Object.entries(api.nodeIPs)) owners.set(ip, name);
  for (const [holder, node] of facts) {
    for (const link of node.host.links ?? []) {
      if (link.ifname === 'lo' || link.ifname === 'kube-ipvs0') continue;
      for (const a of link.addresses.filter((x) => x.family === 'inet')) {
        const owner = owners.get(a.address);
        if (!owner || owner === holder) continue;
        // Only pairs that concern a node this run checks.
        if (!targets.includes(owner) && !targets.includes(holder)) continue;
        findings.push({
          code: 'arp.node-ip-duplicate',
          severity: 'error',
          subject: `node ${owner}`,
          message: `node ${owner}'s InternalIP ${a.address} is also on node ${holder}'s ${link.ifname}: both answer ARP for it, so traffic and tunnels meant for ${owner} reach whichever answered last`,
          evidence: [`node ${holder} ${link.ifname}: inet ${a.address}/${a.prefixLength}${a.secondary ? ' secondary' : ''}${a.dynamic ? ' dynamic' : ''}`, `node ${owner}: InternalIP ${a.address} (API)`],
          remedy: `remove ${a.address}/${a.prefixLength} from ${link.ifname} on node ${holder} and find what put it there (DHCP and static configuration on one NIC, a cloned VM)`,
        });
      }
    }
  }
  return findings;
}

// ------------------------------------------------------------------ helpers

function ipv4Of(pod: PodTarget): string | null {
  return pod.podIPs.find((a) => a.includes('.')) ?? null;
}

function parsedOr<T>(section: RawSection | undefined, parse: (text: string) => { ok: true; value: T } | { ok: false }): T | null {
  if (!section) return null;
  const r = parse(section.stdout);
  return r.ok ? r.value : null;
}

/** The host end of the pod's veth: by the peer ifindex the pod's namespace reports (never by name). */
function hostPeerOf(podLink: NetLink, hostLinks: readonly NetLink[], ethtoolPeers: ReadonlyMap<string, number>): NetLink | undefined {
  const iflink = podLink.peer?.ifindex ?? ethtoolPeers.get(podLink.ifname) ?? null;
  if (iflink === null) return undefined;
  return hostLinks.find((h) => h.ifindex === iflink && (h.peer?.ifindex == null || h.peer.ifindex === podLink.ifindex));
}

function defaultGateway(routes: readonly RouteEntry[]): RouteEntry | undefined {
  return routes.find((r) => r.isDefault && r.family === 'inet' && r.table === 'main' && r.type === 'unicast');
}

function neighborsOf(section: RawSection | undefined): NeighborEntry[] {
  if (!section) return [];
  const r = parseIpNeighJson(section.stdout);
  return r.ok ? r.value : [];
}

function neighborView(entries: readonly NeighborEntry[], address: string, preferDevs: readonly string[]): NeighborView {
  const matches = entries.filter((e) => e.dst === address && !e.proxy);
  const entry = matches.find((e) => e.dev !== null && preferDevs.includes(e.dev)) ?? matches[0];
  if (!entry) return { address, dev: preferDevs[0] ?? null, state: 'ABSENT', macAddress: null, raw: null };
  return { address, dev: entry.dev, state: entry.state, macAddress: entry.lladdr, raw: neighText(entry) };
}

function neighText(e: NeighborEntry): string {
  return `${e.dst}${e.dev ? ` dev ${e.dev}` : ''}${e.lladdr ? ` lladdr ${e.lladdr}` : ''}${e.router ? ' router' : ''} ${e.state}`;
}

function routeText(r: RouteEntry): string {
  return [
    r.dstRaw,
    r.gateway ? `via ${r.gateway}` : '',
    r.dev ? `dev ${r.dev}` : '',
    r.prefsrc ? `src ${r.prefsrc}` : '',
    r.scope && r.scope !== 'global' ? `scope ${r.scope}` : '',
    r.onlink ? 'onlink' : '',
  ].filter(Boolean).join(' ');
}

function arpSysctlsOf(conf: NodeSysctls, ifname: string): ArpSysctls {
  const all = conf.ipv4Conf['all'];
  const iface = conf.ipv4Conf[ifname];
  const values = (key: 'arpIgnore' | 'arpAnnounce' | 'rpFilter'): SysctlValues => {
    const a = all?.[key] ?? null;
    const i = iface?.[key] ?? null;
    return { all: a, iface: i, effective: a === null || i === null ? null : Math.max(a, i) };
  };
  return { ifname, arpIgnore: values('arpIgnore'), arpAnnounce: values('arpAnnounce'), rpFilter: values('rpFilter') };
}

function sysctlLine(conf: NodeSysctls | null | undefined, ifname: string, key: string): string | null {
  const path = `/proc/sys/net/ipv4/conf/${ifname}/${key}`;
  const entry = conf?.entries.find((e) => e.path === path);
  return entry ? `net.ipv4.conf.${ifname}.${key} = ${entry.value}` : null;
}

function prefixed(where: string, line: string | null): string | null {
  return line === null ? null : `${where} ${line}`;
}

function maxKnown(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return a ?? b ?? null;
  return Math.max(a, b);
}

function fmt(n: number | null | undefined): string {
  return n === null || n === undefined ? '?' : String(n);
}

/**
 * Why the kernel would not answer an ARP request for `target` (CIDR on the receiving interface)
 * from `sender`, given the effective arp_ignore (Documentation/networking/ip-sysctl.rst; net/ipv4/
 * arp.c arp_ignore()), or null when it would. 1 and 3 never matter here: the address is on the
 * receiving interface with global scope.
 */
export function arpIgnoreRejects(effective: number | null, sender: string | null, target: string, ifname: string): string | null {
  if (effective === null) return null;
  if (effective === 8) return 'arp_ignore=8 answers no ARP request at all';
  if (effective === 2) {
    if (sender === null) return null;
    if (cidrContainsIp(target, sender)) return null;
    return `arp_ignore=2 answers only senders inside the subnet of the target address on ${ifname}; ${target} has no room for ${sender}`;
  }
  return null;
}

/** Longest-prefix match in table main, skipping routes through `avoidDev` (proxy ARP must route elsewhere). */
function lookupRoute(routes: readonly RouteEntry[], address: string, avoidDev: string | null): RouteEntry | null {
  const unicast = routes.filter((r) => r.table === 'main' && r.family === 'inet' && r.type === 'unicast');
  const best = longestPrefixMatch(unicast, (r) => r.dst, address);
  if (best && avoidDev !== null && best.dev === avoidDev) return null;
  return best;
}

function probeResult(sections: ReadonlyMap<string, RawSection>, where: string, target: string, from: string, probed: boolean): ArpProbe | null {
  if (!probed) return null;
  const prefix = `arping/${where}/`;
  const suffix = `/${target}`;
  const section = [...sections.values()].find((s) => s.name.startsWith(prefix) && s.name.endsWith(suffix) && s.name.split('/').length === 4);
  if (!section) return { from, iface: '', target, sourceAddress: null, outcome: 'not-run', macAddresses: [], replies: 0, evidence: [] };
  const iface = section.name.split('/')[2] ?? '';
  const parsed = parseArping(section.stdout, section.stderr);
  if (!parsed.ok) {
    return { from, iface, target, sourceAddress: null, outcome: 'not-run', macAddresses: [], replies: 0, evidence: [`arping -I ${iface} ${target} from ${from}: ${parsed.error.message}`] };
  }
  const r = parsed.value;
  const outcome: ArpProbeOutcome = r.macAddresses.length === 0 ? 'no-reply' : r.macAddresses.length > 1 ? 'two-macs' : 'answered';
  const head = `arping -c 2 -w 2 -I ${iface} ${target} from ${from}${r.sourceAddress ? ` (source ${r.sourceAddress})` : ''}:`;
  const lines = [head, ...r.replies.map((x) => `  ${x.raw}`), `  sent ${r.sentProbes ?? '?'} probes, received ${r.receivedResponses ?? r.replies.length} responses`];
  return { from, iface, target, sourceAddress: r.sourceAddress, outcome, macAddresses: r.macAddresses, replies: r.replies.length, evidence: lines };
}
