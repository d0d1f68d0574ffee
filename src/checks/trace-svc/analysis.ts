// trace-svc: how a Service's packets are steered on each node, cross-checked against the
// EndpointSlices, and the node conditions that break Services (seed 002, 003, 004).
import type { Finding, FindingCode } from '../finding.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import { nodeFailedFinding, readNodeFacts, type NodeFacts } from '../common/node-facts.js';
import { readRuleDumps, ruleDumpEvidence, type RuleDumps } from '../../kube-proxy/rule-dumps.js';
import { parseIptablesSave, type IptablesDump } from '../../kube-proxy/iptables-save.js';
import { buildServiceChainFromIptables, findMasqueradeScopes } from '../../kube-proxy/iptables-walk.js';
import { parseNftRuleset, findKubeProxyTable } from '../../kube-proxy/nftables.js';
import { buildServiceChainFromNft } from '../../kube-proxy/nft-walk.js';
import { parseIpvsadm, findIpvsService } from '../../kube-proxy/ipvsadm.js';
import { type EndpointBranch, type L4Protocol, type ProxyMode, type ServiceChain } from '../../kube-proxy/service-chain.js';
import { actionSectionName } from '../../node-script/node-script.js';
import { diagnoseVethPeer, type VethPeerApi } from '../veth-peer/analysis.js';
import { judgeServiceDataplane, kubeProxyChains, type ClusterDataplane } from '../../kube-proxy/dataplane.js';
import { cidrContainsIp, cidrCoversCidr } from '../../net/ip.js';

/** The Service and what the API says should back it (kept in snapshots). */
export interface TraceSvcApi {
  service: {
    namespace: string;
    name: string;
    type: string;
    clusterIPs: string[];
    selector: Record<string, string> | null;
    sessionAffinity: string | null;
    internalTrafficPolicy: string | null;
    externalTrafficPolicy: string | null;
    // Optional: snapshots taken before these were recorded lack them.
    externalIPs?: string[];
    loadBalancerIngress?: string[]; // status.loadBalancer.ingress[].ip
    loadBalancerSourceRanges?: string[];
    healthCheckNodePort?: number | null;
    externalName?: string | null; // set for type ExternalName
  };
  ports: ServicePortSpec[]; // the ports traced (all, or --port)
  endpoints: ApiEndpoint[];
  notReadyPods: string[]; // selected pods kept out of the slices (failing readiness)
  source: { kind: 'pod'; namespace: string; name: string; nodeName: string; ip: string; key: string; containerId: string | null } | { kind: 'node'; nodeName: string } | null;
  nodes: TraceNode[];
  clusterCidrs: string[]; // the nodes' pod CIDRs
  probe: boolean;
  /** The endpoint pods, gathered on their own nodes, for their veth (the veth-peer analysis). */
  endpointPods: VethPeerApi;
  /** Which dataplane steers Services (absent in snapshots taken before it was collected). */
  dataplane?: ClusterDataplane;
}

export interface ServicePortSpec {
  name: string;
  protocol: L4Protocol;
  port: number;
  targetPort: string; // number or a named port, as the Service says
  nodePort: number | null;
}

export interface ApiEndpoint {
  ip: string;
  ports: Array<{ name: string; port: number; protocol: L4Protocol }>;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName: string | null;
  pod: string | null; // "ns/name"
  podKey: string | null; // node script key on its node
  // Topology hints the EndpointSlice controller set (trafficDistribution, topology-mode Auto);
  // absent in snapshots taken before they were recorded.
  zoneHints?: string[];
  nodeHints?: string[];
}

export interface TraceNode {
  name: string;
  internalIP: string | null;
  role: 'source' | 'endpoint' | 'source+endpoint';
  hostsEndpoints: boolean;
  zone?: string | null; // the node's topology.kubernetes.io/zone label (null: none)
}

export interface NodeTrace {
  nodeName: string;
  mode: ProxyMode | 'none' | 'unknown';
  backend: string; // "iptables-nft", "iptables-legacy", "nft (kube-proxy nftables mode)", "ipvs"
  ports: PortTrace[];
  routes: Array<{ endpoint: string; route: string | null; dev: string | null; veth: string | null }>;
  probes: ProbeResult[];
}

export interface PortTrace {
  port: ServicePortSpec;
  // A NodePort, external IP or load-balancer IP is traced as a client outside the node reaches it
  // (another node's address); 'load-balancer-outside' from an address outside the source ranges.
  via: 'cluster-ip' | 'node-port' | 'external-ip' | 'load-balancer' | 'load-balancer-outside';
  source?: string; // the packet's source address, when it is not the traced node or pod
  destination: string; // "10.96.100.10:80"
  chain: ServiceChain | null;
  endpoints: EndpointRow[];
}

export interface EndpointRow {
  target: string; // ip:port
  pod: string | null;
  ready: boolean | null; // null: in the rules but not in the API
  inRules: boolean;
  probability: number | null;
  endpointChain: string | null;
  masquerade: boolean | null;
  counters: string | null;
}

export interface ProbeResult {
  from: string;
  to: string;
  what: 'service' | 'endpoint';
  ok: boolean | null; // null: not probed (UDP)
  detail: string;
}

export interface TraceSvcReport {
  service: TraceSvcApi['service'];
  ports: ServicePortSpec[];
  endpoints: ApiEndpoint[];
  nodes: NodeTrace[];
  findings: Finding[];
  problems: string[];
}

export function diagnoseTraceSvc(api: TraceSvcApi, collections: readonly NodeCollection[]): TraceSvcReport {
  const findings: Finding[] = [];
  const problems: string[] = [];
  const svc = `${api.service.namespace}/${api.service.name}`;
  const ready = api.endpoints.filter((e) => e.ready);

  if (api.service.clusterIPs.length === 0) {
    // Headless or ExternalName: DNS answers these names; kube-proxy writes no rule for them.
    const external = api.service.externalName ?? null;
    findings.push({
      code: 'svc.no-proxy-rules-by-design',
      severity: 'info',
      subject: `service ${svc}`,
      message: external !== null
        ? `ExternalName Service: DNS answers ${svc.replace('/', '.')}.svc with a CNAME to ${external || '<empty>'}; kube-proxy writes no rule for it`
        : `headless Service (clusterIP: None): DNS answers with the ${ready.length} ready endpoint address(es) directly; kube-proxy writes no rule for it`,
      evidence: [external !== null ? `spec.type: ExternalName, spec.externalName: ${external}` : 'spec.clusterIP: None', ...ready.slice(0, 5).map((e) => `endpoint ${e.ip}${e.nodeName ? ` on ${e.nodeName}` : ''}`)],
      remedy: `check name resolution with kubectl netdiag dns-check POD --name ${api.service.name}.${api.service.namespace}; trace an endpoint pod with kubectl netdiag veth-peer`,
    });
    return { service: api.service, ports: api.ports, endpoints: api.endpoints, nodes: [], findings, problems };
  }

  if (api.service.selector === null && api.endpoints.length === 0) {
    findings.push({
      code: 'svc.no-selector',
      severity: 'warn',
      subject: `service ${svc}`,
      message: 'the Service has no selector and no EndpointSlices: nothing will answer it until someone writes endpoints by hand',
      evidence: [`spec.selector: <none>`],
      remedy: 'add a selector, or create an EndpointSlice labelled kubernetes.io/service-name for it',
    });
  } else if (ready.length === 0 && api.service.clusterIPs.length > 0) {
    findings.push({
      code: 'svc.no-ready-endpoints',
      // Selected pods failing readiness is a workload fault; a selector that matches nothing may be
      // on purpose (scaled to zero): the network does what the Service asks either way.
      severity: api.notReadyPods.length > 0 ? 'warn' : 'info',
      subject: `service ${svc}`,
      message: api.notReadyPods.length > 0
        ? `no endpoint is ready; these selected pods are kept out by failing readiness: ${api.notReadyPods.join(', ')}`
        : `no pod matches the selector ${selectorText(api.service.selector)}, so there are no endpoints and kube-proxy rejects connections, as it should`,
      evidence: api.endpoints.map((e) => `${e.ip} ready=${e.ready} serving=${e.serving} terminating=${e.terminating}`).concat(api.notReadyPods.map((p) => `pod ${p} not ready`)),
      remedy: api.notReadyPods.length > 0 ? 'fix the readiness probe or the application (kubectl describe pod shows the probe failures)' : 'check the selector against the pods\' labels (kubectl get pods --show-labels)',
    });
  }

  // Each endpoint's host-side veth on its own node, as veth-peer finds it.
  const veths = new Map<string, string>();
  for (const row of diagnoseVethPeer(api.endpointPods, collections).rows) {
    if (row.kind !== 'pod') continue;
    for (const pair of row.pairs) {
      for (const a of pair.podInterface.addresses) if (pair.hostPeer) veths.set(a.split('/')[0]!, `${pair.hostPeer.ifname} on ${row.nodeName}`);
    }
  }
  const nodes: NodeTrace[] = [];
  for (const c of collections) {
    if (!c.ok) {
      findings.push(nodeFailedFinding(c.nodeName, c.error));
      continue;
    }
    const facts = readNodeFacts(c);
    problems.push(...facts.problems);
    // Nodes probed only for an endpoint's veth are not traced; their veth shows in the routes.
    if (api.nodes.find((n) => n.name === c.nodeName)?.role === 'endpoint') continue;
    nodes.push(traceNode(api, facts, findings, veths));
  }
  return { service: api.service, ports: api.ports, endpoints: api.endpoints, nodes, findings: sayOnce(findings, 'svc.kube-proxy-free'), problems };
}

/** One finding for every node that has it (same message), not one per node. */
function sayOnce(findings: Finding[], code: FindingCode): Finding[] {
  const same = findings.filter((f) => f.code === code);
  if (same.length < 2) return findings;
  const merged = { ...same[0]!, subject: `node ${same.map((f) => f.subject.replace(/^node /, '')).join(', ')}` };
  return [...findings.filter((f) => f.code !== code), merged];
}

interface Backend {
  mode: NodeTrace['mode'];
  backend: string;
  trace(packet: Parameters<typeof buildServiceChainFromIptables>[1]): ServiceChain | null;
  iptables: IptablesDump | null;
  kubeProxyChains?: string[]; // mode 'none': kube-proxy chains left without KUBE-SERVICES rules
}

function hasKubeRules(dump: IptablesDump | null): boolean {
  return Boolean(dump?.tables.get('nat')?.chains.get('KUBE-SERVICES')?.rules.length);
}

function pickBackend(facts: NodeFacts, api: TraceSvcApi, findings: Finding[]): Backend {
  // Read with the probe image's own tools; a source that could not be read is never "no rules".
  const dumps = readRuleDumps(facts.sections);
  const nftDump = dumps.iptablesNft ? parseIptablesSave(dumps.iptablesNft) : null;
  const legacyDump = dumps.iptablesLegacy ? parseIptablesSave(dumps.iptablesLegacy) : null;
  const nftKube = hasKubeRules(nftDump);
  const legacyKube = hasKubeRules(legacyDump);
  if (nftKube && legacyKube) {
    findings.push({
      code: 'svc.iptables-both-backends',
      severity: 'warn',
      subject: `node ${facts.nodeName}`,
      message: 'KUBE-* chains exist in both iptables-legacy and iptables-nft: one set is stale and the kernel runs both',
      evidence: ['iptables-legacy-save: KUBE-SERVICES present', 'iptables-nft-save: KUBE-SERVICES present'],
      remedy: "flush the backend kube-proxy does not use (iptables-legacy -t nat -F etc.) and make the node's iptables alternative match kube-proxy's",
    });
  }
  const ruleset = dumps.nftKubeProxy ? parseNftRuleset(dumps.nftKubeProxy) : null;
  const nftTable = ruleset ? findKubeProxyTable(ruleset) : null;
  const ipvs = dumps.ipvsadm ? parseIpvsadm(dumps.ipvsadm) : null;
  const vip = api.service.clusterIPs[0];
  if (ipvs && vip && ipvs.services.some((s) => s.vip === vip)) {
    return {
      mode: 'ipvs',
      backend: 'ipvs',
      iptables: nftKube ? nftDump : legacyDump,
      trace: (packet) => ipvsChain(ipvs, packet),
    };
  }
  if (nftKube || legacyKube) {
    const dump = nftKube ? nftDump! : legacyDump!;
    // IPVS mode keeps only ipset matches in KUBE-SERVICES: without ipvsadm there is nothing to trace.
    if (!ipvs && dumps.unreadable.some((u) => u.source === 'ipvs') && isIpvsModeDump(dump)) {
      findings.push(rulesUnreadableFinding(facts.nodeName, dumps));
      return { mode: 'unknown', backend: 'ipvs (could not be read)', iptables: dump, trace: () => null };
    }
    return { mode: 'iptables', backend: nftKube ? 'iptables-nft' : 'iptables-legacy', iptables: dump, trace: (packet) => buildServiceChainFromIptables(dump, packet) };
  }
  if (nftTable) {
    return { mode: 'nftables', backend: 'nft (kube-proxy nftables mode)', iptables: nftDump, trace: (packet) => buildServiceChainFromNft(nftTable, packet) };
  }
  if (dumps.unreadable.length > 0) {
    findings.push(rulesUnreadableFinding(facts.nodeName, dumps));
    return { mode: 'unknown', backend: 'could not be read', iptables: nftDump ?? legacyDump, trace: () => null };
  }
  return { mode: 'none', backend: 'none', iptables: nftDump ?? legacyDump, trace: () => null, kubeProxyChains: kubeProxyChains([nftDump, legacyDump]) };
}

function isIpvsModeDump(dump: IptablesDump): boolean {
  return (dump.tables.get('nat')?.chains.get('KUBE-SERVICES')?.rules ?? []).some((r) => /--match-set KUBE-CLUSTER-IP\b/.test(r.raw));
}

function rulesUnreadableFinding(nodeName: string, dumps: RuleDumps): Finding {
  return {
    code: 'svc.rules-unreadable',
    severity: 'info',
    subject: `node ${nodeName}`,
    message: `could not read kube-proxy's rules on node ${nodeName}: the Service cannot be traced there (this says nothing about the rules themselves)`,
    evidence: ruleDumpEvidence(dumps),
    remedy: 'run with an --image that has iptables-nft-save, iptables-legacy-save, nft and ipvsadm (netshoot has them) and a privileged probe pod',
  };
}

function ipvsChain(table: ReturnType<typeof parseIpvsadm>, packet: Parameters<typeof buildServiceChainFromIptables>[1]): ServiceChain {
  const vs = findIpvsService(table, packet.protocol, packet.destinationIp, packet.destinationPort);
  const weights = vs?.realServers.map((r) => r.weight ?? 1) ?? [];
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const endpoints: EndpointBranch[] = (vs?.realServers ?? []).map((r, i) => ({
    endpointChain: `${r.ip}:${r.port}`,
    probability: (weights[i] ?? 0) / total,
    dnatTarget: { ip: r.ip, port: r.port },
    masquerade: { masquerade: false, markedBy: null, decidedBy: null },
    counters: null,
    filterVerdict: 'not-evaluated',
    filterRule: null,
    steps: [{ table: 'ipvs', chain: `${vs!.protocol.toUpperCase()} ${vs!.vip}:${vs!.port} ${vs!.scheduler ?? ''}`.trim(), rule: r.raw, why: `real server weight ${r.weight ?? '?'} active ${r.activeConnections ?? '?'} inactive ${r.inactiveConnections ?? '?'}` }],
  }));
  return {
    mode: 'ipvs',
    packet,
    servicePort: null,
    serviceChain: vs ? `${vs.protocol.toUpperCase()} ${vs.vip}:${vs.port}` : null,
    steps: vs ? [{ table: 'ipvs', chain: 'virtual server', rule: vs.raw, why: `scheduler ${vs.scheduler ?? '?'}${vs.persistentSeconds ? ` persistent ${vs.persistentSeconds}` : ''}` }] : [],
    endpoints,
    outcome: vs ? (endpoints.length > 0 ? 'dnat' : 'drop') : 'no-match',
    outcomeRule: vs?.raw ?? null,
    unmatchedShare: endpoints.length > 0 ? 0 : 1,
    masqueradeScope: null,
    intendedDrop: null,
    sessionAffinity: vs?.persistentSeconds ? { timeoutSeconds: vs.persistentSeconds, rule: vs.raw } : null,
    undecided: [],
    notes: [],
  };
}

function traceNode(api: TraceSvcApi, facts: NodeFacts, findings: Finding[], veths: ReadonlyMap<string, string>): NodeTrace {
  const backend = pickBackend(facts, api, findings);
  const subject = `node ${facts.nodeName}`;
  const svc = `${api.service.namespace}/${api.service.name}`;
  const source = api.source?.kind === 'pod' && api.source.nodeName === facts.nodeName ? api.source : null;

  if (backend.mode === 'none') findings.push(noKubeProxyFinding(api, facts, backend));

  const ports = tracePorts(api, facts, backend, findings);

  // Masquerade scoped to a cluster CIDR that does not cover the pods (seed 002).
  if (backend.iptables) {
    const { clusterCidr, rules } = findMasqueradeScopes(backend.iptables);
    if (clusterCidr) {
      const uncovered = api.clusterCidrs.filter((cidr) => !cidrCoversCidr(clusterCidr, cidr));
      if (uncovered.length > 0) {
        findings.push({ code: 'svc.masquerade-cidr-mismatch', severity: 'error', subject, message: `kube-proxy's cluster CIDR ${clusterCidr} does not cover the pod CIDR(s) ${uncovered.join(', ')}: traffic from those pods to Services is masqueraded or, from outside, not`, evidence: rules.slice(0, 3).map((r) => r.rule), remedy: 'set kube-proxy --cluster-cidr (clusterCIDR in its ConfigMap) to the real pod network and restart it' });
      }
      const svcInside = api.service.clusterIPs.filter((ip) => ip.includes('.') && cidrContainsIp(clusterCidr, ip));
      if (svcInside.length > 0) {
        findings.push({ code: 'svc.cluster-cidr-overlaps-services', severity: 'warn', subject, message: `kube-proxy's cluster CIDR ${clusterCidr} contains the Service IP ${svcInside[0]}: pod and Service ranges overlap`, evidence: rules.slice(0, 2).map((r) => r.rule), remedy: 'give pods and Services disjoint ranges (kube-controller-manager --cluster-cidr and --service-cluster-ip-range)' });
      }
    }
  }

  // Node conditions that break Services.
  const sysctl = facts.host.sysctl;
  if (sysctl?.ipForward === false) {
    findings.push({ code: 'node.ip-forward-off', severity: 'error', subject, message: 'net.ipv4.ip_forward=0: the node does not route packets between pods, other nodes and Services', evidence: ['/proc/sys/net/ipv4/ip_forward:0'], remedy: `sysctl -w net.ipv4.ip_forward=1 on ${facts.nodeName} and persist it in /etc/sysctl.d/` });
  }
  const bridged = (facts.host.links ?? []).some((l) => l.kind === 'bridge' && (facts.host.links ?? []).some((p) => p.master === l.ifname && p.kind === 'veth'));
  if (bridged && sysctl?.bridgeNfCallIptables === false) {
    findings.push({ code: 'node.bridge-nf-call-iptables-off', severity: 'error', subject, message: 'bridge-nf-call-iptables=0 on a bridged CNI: pod-to-Service packets between pods on the same bridge skip kube-proxy\'s DNAT', evidence: ['/proc/sys/net/bridge/bridge-nf-call-iptables:0'], remedy: 'modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1 (and persist both)' });
  }
  if (source) {
    const pairSelf = api.endpoints.some((e) => e.ip === source.ip);
    const port = (facts.host.links ?? []).find((l) => l.bridgePort && (facts.pods.get(source.key)?.links ?? []).some((pl) => pl.peer?.ifindex === l.ifindex));
    if (pairSelf && port?.bridgePort?.hairpin === false) {
      findings.push({ code: 'svc.hairpin-off', severity: 'warn', subject: `pod ${source.namespace}/${source.name}`, message: `the pod is an endpoint of ${svc} and its bridge port ${port.ifname} has hairpin off: it cannot reach itself through the Service`, evidence: [`${port.ifname} master ${port.master} hairpin off`], remedy: 'enable hairpin mode (kubelet --hairpin-mode=hairpin-veth, or the bridge plugin\'s hairpinMode: true)' });
    }
  }

  const routes = [...new Set(api.endpoints.map((e) => e.ip))].map((ip) => {
    const r = facts.routeGets.get(ip);
    return { endpoint: ip, route: r ? `${r.dstRaw}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev ?? '?'}${r.prefsrc ? ` src ${r.prefsrc}` : ''}` : null, dev: r?.dev ?? null, veth: veths.get(ip) ?? null };
  });

  const probes = api.probe ? readProbes(api, facts, findings) : [];
  return { nodeName: facts.nodeName, mode: backend.mode, backend: backend.backend, ports, routes, probes };
}

/** No kube-proxy rules on the node: fine when a replacement steers Services, an error where kube-proxy is expected. */
function noKubeProxyFinding(api: TraceSvcApi, facts: NodeFacts, backend: Backend): Finding {
  const subject = `node ${facts.nodeName}`;
  const links = (facts.host.links ?? []).map((l) => l.ifname);
  const none = 'no KUBE-SERVICES chain in iptables-nft or iptables-legacy, no ip kube-proxy table, no IPVS virtual servers';
  const verdict = judgeServiceDataplane(api.dataplane ?? null, facts.nodeName, { interfaces: links, bpffs: null, kubeProxyRules: false, remnants: backend.kubeProxyChains ?? [] });
  // Snapshots without dataplane facts keep the old rule: Cilium devices mean eBPF Services.
  const legacyCilium = api.dataplane === undefined && links.some((n) => n.startsWith('cilium_'));
  if (verdict.replacement && !verdict.kubeProxyExpected) {
    return { code: 'svc.kube-proxy-free', severity: 'info', subject, message: `kube-proxy is not the Service dataplane here: ${verdict.replacement.title} steers Services, so there are no KUBE-* rules to walk`, evidence: [none, ...verdict.replacement.evidence], remedy: `inspect this Service in that dataplane: ${verdict.replacement.inspect}` };
  }
  if (legacyCilium) return { code: 'svc.kube-proxy-free', severity: 'info', subject, message: 'no kube-proxy rules on this node and Cilium devices are present: Services are handled by eBPF', evidence: [none], remedy: 'use cilium service list / cilium bpf lb list on the cilium agent of this node' };
  if (!verdict.kubeProxyExpected) {
    return { code: 'svc.dataplane-unknown', severity: 'info', subject, message: 'no kube-proxy rules on this node and no kube-proxy pods, ConfigMap or known replacement in the cluster: netdiag cannot tell what steers Services here', evidence: [none], remedy: `try the Service for real: kubectl netdiag trace-svc ${api.service.name} -n ${api.service.namespace} --probe` };
  }
  return { code: 'svc.no-kube-proxy-rules', severity: 'error', subject, message: 'no kube-proxy rules at all on this node: ClusterIPs (DNS too) do not work from here; kube-proxy is not running on it', evidence: [none, ...verdict.expectedBecause.map((b) => `kube-proxy expected: ${b}`)], remedy: `check kube-proxy on ${facts.nodeName}: kubectl -n kube-system get pods -o wide | grep kube-proxy (often Pending on a newly added node)` };
}

// Every Service port as each kind of client reaches it, traced through this node's rules and judged.
function tracePorts(api: TraceSvcApi, facts: NodeFacts, backend: Backend, findings: Finding[]): PortTrace[] {
  const node = api.nodes.find((n) => n.name === facts.nodeName);
  const svc = `${api.service.namespace}/${api.service.name}`;
  const source = api.source?.kind === 'pod' && api.source.nodeName === facts.nodeName ? api.source : null;
  const ready = api.endpoints.filter((e) => e.ready);
  const ports: PortTrace[] = [];
  for (const port of api.ports) {
    // The ClusterIP as seen from the source, and the NodePort as a client on another node sees it.
    const entries: Array<{ via: PortTrace['via']; ip: string; dport: number; from?: string }> = api.service.clusterIPs.filter((ip) => ip.includes('.')).map((ip) => ({ via: 'cluster-ip', ip, dport: port.port }));
    const outsider = api.nodes.find((n) => n.name !== facts.nodeName && n.internalIP)?.internalIP;
    if (port.nodePort !== null && node?.internalIP) entries.push({ via: 'node-port', ip: node.internalIP, dport: port.nodePort });
    for (const ip of api.service.externalIPs ?? []) entries.push({ via: 'external-ip', ip, dport: port.port });
    const ranges = api.service.loadBalancerSourceRanges ?? [];
    for (const ip of api.service.loadBalancerIngress ?? []) {
      entries.push({ via: 'load-balancer', ip, dport: port.port });
      // a documentation address (RFC 5737) outside every range shows the firewall at work
      const outside = OUTSIDE_SOURCES.find((a) => !ranges.some((r) => cidrContainsIp(r, a)));
      if (ranges.length > 0 && outside !== undefined) entries.push({ via: 'load-balancer-outside', ip, dport: port.port, from: outside });
    }
    for (const { via, ip: clusterIP, dport, from } of entries) {
      const packet = via === 'cluster-ip'
        ? {
            protocol: port.protocol,
            sourceIp: source?.ip ?? node?.internalIP ?? '0.0.0.0',
            destinationIp: clusterIP,
            destinationPort: dport,
            hook: source ? ('prerouting' as const) : ('output' as const),
            localAddresses: node?.internalIP ? [node.internalIP] : [],
          }
        : {
            protocol: port.protocol,
            sourceIp: from ?? outsider ?? '203.0.113.10',
            destinationIp: clusterIP,
            destinationPort: dport,
            hook: 'prerouting' as const,
            inInterface: 'eth0',
            destinationIsLocal: via === 'node-port',
            localAddresses: node?.internalIP ? [node.internalIP] : [],
          };
      const chain = backend.trace(packet);
      // Traffic policy Local: kube-proxy sends this traffic only to endpoints on this node.
      const localOnly = via === 'cluster-ip' ? api.service.internalTrafficPolicy === 'Local' : api.service.externalTrafficPolicy === 'Local';
      const readyForPort = ready.flatMap((e) => e.ports.filter((p) => p.name === port.name && p.protocol === port.protocol).map((p) => ({ target: `${e.ip}:${p.port}`, e })));
      // Cluster policy: kube-proxy keeps only the endpoints hinted for this node (or its zone).
      const topology = localOnly ? null : topologyScope(ready, facts.nodeName, node?.zone ?? '');
      const expected = localOnly ? readyForPort.filter((x) => x.e.nodeName === facts.nodeName) : topology ? readyForPort.filter((x) => topology.keeps(x.e)) : readyForPort;
      if (topology && via === 'cluster-ip') reportTopologyFilter(svc, port, facts.nodeName, topology, readyForPort, findings);
      const inRules = new Map((chain?.endpoints ?? []).filter((b) => b.dnatTarget).map((b) => [`${b.dnatTarget!.ip}:${b.dnatTarget!.port ?? ''}`, b]));
      const rows: EndpointRow[] = expected.map(({ target, e }) => {
        const b = inRules.get(target);
        return { target, pod: e.pod, ready: true, inRules: Boolean(b), probability: b?.probability ?? null, endpointChain: b?.endpointChain ?? null, masquerade: b?.masquerade.masquerade ?? null, counters: b?.counters ? `${b.counters.packets}/${b.counters.bytes}` : null };
      });
      for (const [target, b] of inRules) {
        if (expected.some((x) => x.target === target)) continue;
        if (readyForPort.some((x) => x.target === target)) continue; // ready elsewhere: not stale
        rows.push({ target, pod: api.endpoints.find((e) => target.startsWith(`${e.ip}:`))?.pod ?? null, ready: null, inRules: true, probability: b.probability, endpointChain: b.endpointChain, masquerade: b.masquerade.masquerade, counters: b.counters ? `${b.counters.packets}/${b.counters.bytes}` : null });
      }
      ports.push({ port, via, ...(from !== undefined ? { source: from } : {}), destination: `${clusterIP}:${dport}`, chain, endpoints: rows });
      if (backend.mode === 'none' || !chain) continue;

      const where = `${svc}:${port.name || port.port}${VIA_LABEL[via](dport, from)} on node ${facts.nodeName}`;
      if (via === 'load-balancer-outside') {
        // only the firewall's verdict matters here: anything but its drop is reported as traced
        if (chain.intendedDrop?.reason === 'source-range') reportIntendedDrop(api, facts.nodeName, where, via, chain, 0, readyForPort.map((x) => x.e), findings);
        continue;
      }
      const missing = rows.filter((r) => r.ready && !r.inRules);
      const stale = rows.filter((r) => r.ready === null && !readyForPort.some((x) => x.target === r.target));
      if (chain.outcome === 'undecided') {
        findings.push({ code: 'svc.rules-undecided', severity: 'info', subject: where, message: `the walk to ${clusterIP}:${dport} reaches an endpoint only if a match trace-svc cannot evaluate applies: ${chain.undecided.join('; ')}`, evidence: [chain.outcomeRule ?? '', ...chain.notes.slice(0, 3)].filter((e) => e !== ''), remedy: 'check that match by hand if traffic really fails; the rules kube-proxy writes for this Service are present' });
        continue;
      }
      if (chain.intendedDrop !== null && (chain.outcome === 'drop' || chain.outcome === 'reject')) {
        // iptables: a load-balancer packet from inside the source ranges that no KUBE-SVL chain
        // DNATs (no local endpoint) reaches filter KUBE-PROXY-FIREWALL undNATed and is dropped
        // there first; the cause is the Local policy, not the range.
        const cause = chain.intendedDrop.reason === 'source-range' && via === 'load-balancer' && localOnly && expected.length === 0 ? 'no-local-endpoints' : chain.intendedDrop.reason;
        reportIntendedDrop(api, facts.nodeName, where, via, { ...chain, intendedDrop: { ...chain.intendedDrop, reason: cause } }, expected.length, readyForPort.map((x) => x.e), findings);
        continue;
      }
      if (localOnly && expected.length === 0 && readyForPort.length > 0 && chain.outcome !== 'dnat') {
        // Local policy, no endpoint here, and the walk ends without kube-proxy's drop rule: the
        // traffic has nowhere to go on this node, as the policy intends.
        reportIntendedDrop(api, facts.nodeName, where, via, chain, 0, readyForPort.map((x) => x.e), findings);
        continue;
      }
      if ((chain.outcome === 'no-match' || chain.outcome === 'drop') && expected.length > 0) {
        // nftables mode drops a ClusterIP it has no service for ("cluster-ips-check").
        const fate = chain.outcome === 'drop' ? 'are dropped as if the address were unallocated' : 'go nowhere';
        findings.push({ code: 'svc.rules-missing', severity: 'error', subject: where, message: `kube-proxy on ${facts.nodeName} has no rule for ${clusterIP}:${dport}/${port.protocol}: packets to the ${via === 'node-port' ? 'NodePort' : 'ClusterIP'} ${fate} ${via === 'node-port' ? 'on' : 'from'} this node`, evidence: [...chain.steps.map((s) => `${s.chain}: ${s.rule}`).slice(0, 4), `API endpoints: ${expected.map((x) => x.target).join(', ')}`], remedy: `kube-proxy on ${facts.nodeName} is stale or stopped: check its pod and logs, then restart it (kubectl -n kube-system delete pod -l k8s-app=kube-proxy --field-selector spec.nodeName=${facts.nodeName})` });
      } else if (chain.outcome === 'reject' && expected.length > 0) {
        findings.push({ code: 'svc.stale-reject', severity: 'error', subject: where, message: `the node still rejects ${clusterIP}:${dport} as having no endpoints, but the API has ${expected.length} ready`, evidence: [chain.outcomeRule ?? 'REJECT rule'], remedy: `kube-proxy on ${facts.nodeName} has not synced: check its logs and restart it` });
      } else if (chain.outcome === 'reject') {
        findings.push({ code: 'svc.no-endpoints-reject', severity: 'info', subject: where, message: 'kube-proxy rejects connections because the Service has no ready endpoints (as it should)', evidence: [chain.outcomeRule ?? ''], remedy: 'make an endpoint ready; the REJECT goes away by itself' });
      }
      if (missing.length > 0 && chain.outcome === 'dnat') {
        findings.push({ code: 'svc.endpoint-missing-from-rules', severity: 'error', subject: where, message: `${missing.length} ready endpoint(s) are not in this node's rules: kube-proxy here is behind the API`, evidence: missing.map((m) => `${m.target} (${m.pod ?? 'no pod'}) ready in the EndpointSlice, no DNAT to it`), remedy: `restart kube-proxy on ${facts.nodeName} and check its logs for sync errors` });
      }
      if (stale.length > 0) {
        // an address no EndpointSlice lists at all is a dead pod's: that share of connections fails
        const gone = stale.filter((r) => !api.endpoints.some((e) => r.target.startsWith(`${e.ip}:`)));
        findings.push({ code: 'svc.stale-rule-target', severity: gone.length > 0 ? 'error' : 'warn', subject: where, message: gone.length > 0 ? `the rules DNAT to ${gone.length} address(es) no EndpointSlice has (a deleted pod's): ${gone.map((r) => `${r.target} gets ${r.probability === null ? '?' : `${Math.round(r.probability * 100)}%`} of new connections`).join(', ')}` : `the rules DNAT to ${stale.length} address(es) that are not ready endpoints any more`, evidence: stale.map((s) => `${s.endpointChain}: DNAT to ${s.target}`), remedy: `kube-proxy on ${facts.nodeName} is stale: check its log and restart it` });
      }
      if (api.service.sessionAffinity === 'ClientIP' && chain.outcome === 'dnat' && chain.sessionAffinity === null) {
        findings.push({ code: 'svc.affinity-rules-missing', severity: 'warn', subject: where, message: `the Service has sessionAffinity ClientIP but kube-proxy on ${facts.nodeName} has no affinity rules for it: every new connection picks an endpoint at random`, evidence: [chain.serviceChain !== null ? `${chain.serviceChain}: no -m recent --rcheck jump / ip saddr @affinity-* rule` : 'no affinity rule on the path'], remedy: `kube-proxy on ${facts.nodeName} is stale or its rules were edited: restart it` });
      }
      if (chain.unmatchedShare > 0 && chain.outcome === 'dnat') {
        findings.push({ code: 'svc.partial-dnat', severity: 'warn', subject: where, message: `${Math.round(chain.unmatchedShare * 100)}% of new connections match no endpoint rule`, evidence: chain.notes.slice(0, 3), remedy: 'check the statistic probabilities in the KUBE-SVC chain; restart kube-proxy' });
      }
    }
  }
  return ports;
}

const OUTSIDE_SOURCES = ['203.0.113.10', '198.51.100.10', '192.0.2.10'];

interface TopologyScope {
  mode: 'node' | 'zone';
  scope: string; // the node name or zone the hints are read for
  keeps: (e: ApiEndpoint) => boolean;
}

/**
 * kube-proxy's topology filter (pkg/proxy/topology.go, topologyModeFromHints): when every ready
 * endpoint carries node hints and one names this node, only those (PreferSameNode); else when
 * every ready endpoint carries zone hints and one names the node's zone, only those; else none.
 * A kube-proxy that ignores the hints (older, or its feature gate off) programs more endpoints,
 * never fewer, so expecting the filtered set cannot raise a false alarm.
 */
export function topologyScope(ready: readonly ApiEndpoint[], nodeName: string, zone: string): TopologyScope | null {
  if (ready.length === 0) return null;
  if (ready.every((e) => (e.nodeHints ?? []).length > 0) && ready.some((e) => e.nodeHints!.includes(nodeName))) {
    return { mode: 'node', scope: nodeName, keeps: (e) => (e.nodeHints ?? []).includes(nodeName) };
  }
  if (zone !== '' && ready.every((e) => (e.zoneHints ?? []).length > 0) && ready.some((e) => e.zoneHints!.includes(zone))) {
    return { mode: 'zone', scope: zone, keeps: (e) => (e.zoneHints ?? []).includes(zone) };
  }
  return null;
}

function reportTopologyFilter(svc: string, port: ServicePortSpec, nodeName: string, topology: TopologyScope, readyForPort: ReadonlyArray<{ target: string; e: ApiEndpoint }>, findings: Finding[]): void {
  const kept = readyForPort.filter((x) => topology.keeps(x.e));
  const left = readyForPort.filter((x) => !topology.keeps(x.e));
  if (left.length === 0) return;
  const where = topology.mode === 'zone' ? `zone ${topology.scope}` : `node ${topology.scope}`;
  findings.push({
    code: 'svc.topology-filtered',
    severity: 'info',
    subject: `${svc}:${port.name || port.port} on node ${nodeName}`,
    message: `kube-proxy on ${nodeName} sends this Service's traffic only to the ${kept.length} endpoint(s) hinted for ${where}; the other ${left.length} serve other ${topology.mode === 'zone' ? 'zones' : 'nodes'} (topology hints, trafficDistribution)`,
    evidence: [...kept.map((x) => `${x.target} hinted for ${where}`), ...left.map((x) => `${x.target} hinted for ${(topology.mode === 'zone' ? x.e.zoneHints : x.e.nodeHints)?.join(', ') ?? '?'}: not used here`)],
    remedy: 'nothing to fix; if one zone is overloaded, spread the pods across zones or drop trafficDistribution',
  });
}

const VIA_LABEL: Record<PortTrace['via'], (dport: number, from: string | undefined) => string> = {
  'cluster-ip': () => '',
  'node-port': (d) => ` (NodePort ${d})`,
  'external-ip': () => ' (external IP)',
  'load-balancer': () => ' (load-balancer IP)',
  'load-balancer-outside': (_d, from) => ` (load-balancer IP, from ${from ?? 'outside'})`,
};

// A drop kube-proxy makes on purpose, explained; a warning only when no node hosts an endpoint,
// an error when this node drops although it hosts one.
function reportIntendedDrop(api: TraceSvcApi, nodeName: string, where: string, via: PortTrace['via'], chain: ServiceChain, localExpected: number, readyForPort: ApiEndpoint[], findings: Finding[]): void {
  const rule = chain.intendedDrop?.rule ?? chain.outcomeRule ?? '';
  const reason = chain.intendedDrop?.reason ?? 'no-local-endpoints';
  if (reason === 'source-range') {
    findings.push({ code: 'svc.source-range-drop', severity: 'info', subject: where, message: 'the source is outside loadBalancerSourceRanges: kube-proxy drops it, as the Service asks', evidence: [rule], remedy: 'add the client range to spec.loadBalancerSourceRanges if it should be admitted' });
    return;
  }
  if (reason === 'no-endpoints') {
    if (readyForPort.length > 0) {
      findings.push({ code: 'svc.stale-reject', severity: 'error', subject: where, message: `the node still rejects the Service as having no endpoints, but the API has ${readyForPort.length} ready`, evidence: [rule], remedy: `kube-proxy on ${nodeName} has not synced: check its logs and restart it` });
    } else {
      findings.push({ code: 'svc.no-endpoints-reject', severity: 'info', subject: where, message: 'kube-proxy rejects connections because the Service has no ready endpoints (as it should)', evidence: [rule], remedy: 'make an endpoint ready; the REJECT goes away by itself' });
    }
    return;
  }
  const policy = via === 'cluster-ip' ? 'internalTrafficPolicy' : 'externalTrafficPolicy';
  if (localExpected > 0) {
    findings.push({ code: 'svc.stale-reject', severity: 'error', subject: where, message: `the node drops the traffic as having no local endpoint, but ${localExpected} ready endpoint(s) run on ${nodeName}`, evidence: [rule], remedy: `kube-proxy on ${nodeName} has not synced: check its logs and restart it` });
    return;
  }
  const hosts = [...new Set(readyForPort.map((e) => e.nodeName).filter((n): n is string => n !== null))].sort();
  findings.push(hosts.length > 0
    ? { code: 'svc.local-policy-drop', severity: 'info', subject: where, message: `${policy} Local and no ready endpoint on ${nodeName}: kube-proxy drops this traffic here by design; nodes with an endpoint: ${hosts.join(', ')}`, evidence: [rule || 'no endpoint chain for this node'].concat(api.service.type === 'LoadBalancer' ? ['the load balancer\'s health check (healthCheckNodePort) keeps it off this node'] : []), remedy: `send the traffic to ${hosts.join(' or ')}, or run the workload on more nodes` }
    : { code: 'svc.local-policy-drop', severity: 'warn', subject: where, message: `${policy} Local and no node hosts a ready endpoint: this traffic is dropped on every node`, evidence: [rule || 'no endpoint chain for this node', ...readyForPort.map((e) => `${e.ip} nodeName=${e.nodeName ?? '<none>'}`)], remedy: 'check the endpoints\' nodeName in the EndpointSlices and where the pods run' });
}

/** --probe: a TCP connect to the ClusterIP and to each endpoint, from the source pod or the node. */
export function probeRequests(api: TraceSvcApi, nodeName: string): Array<{ kind: 'tcp'; where: string; address: string; port: number; servicePort: number }> {
  const where = api.source?.kind === 'pod' && api.source.nodeName === nodeName ? api.source.key : 'host';
  const out: Array<{ kind: 'tcp'; where: string; address: string; port: number; servicePort: number }> = [];
  for (const port of api.ports.filter((p) => p.protocol === 'tcp')) {
    for (const ip of api.service.clusterIPs.filter((a) => a.includes('.'))) out.push({ kind: 'tcp', where, address: ip, port: port.port, servicePort: port.port });
    for (const e of api.endpoints.filter((x) => x.ready)) {
      const p = e.ports.find((x) => x.name === port.name && x.protocol === 'tcp');
      if (p) out.push({ kind: 'tcp', where, address: e.ip, port: p.port, servicePort: port.port });
    }
  }
  return out;
}

function readProbes(api: TraceSvcApi, facts: NodeFacts, findings: Finding[]): ProbeResult[] {
  const results: Array<ProbeResult & { servicePort: number }> = [];
  const svcIPs = new Set(api.service.clusterIPs);
  const fromPod = api.source?.kind === 'pod' && api.source.nodeName === facts.nodeName ? api.source : null;
  const from = fromPod ? `pod ${fromPod.namespace}/${fromPod.name}` : `node ${facts.nodeName}`;
  for (const req of probeRequests(api, facts.nodeName)) {
    const s = facts.sections.get(actionSectionName(req));
    results.push({ from, to: `${req.address}:${req.port}`, what: svcIPs.has(req.address) ? 'service' : 'endpoint', ok: s ? s.exitCode === 0 : null, detail: s ? (s.exitCode === 0 ? 'connected' : `failed (${(s.stdout + s.stderr).trim().split('\n')[0] || `exit ${s.exitCode}`})`) : 'not run', servicePort: req.servicePort });
  }
  // Judged per Service port: the ClusterIP failing while the same port's endpoints answer directly.
  for (const port of new Set(results.map((r) => r.servicePort))) {
    const mine = results.filter((r) => r.servicePort === port);
    const svcFailed = mine.filter((r) => r.what === 'service' && r.ok === false);
    const epOk = mine.filter((r) => r.what === 'endpoint' && r.ok === true);
    const epFailed = mine.filter((r) => r.what === 'endpoint' && r.ok === false);
    if (svcFailed.length > 0 && epOk.length > 0) {
      findings.push({ code: 'svc.probe-service-fails', severity: 'error', subject: `${api.service.namespace}/${api.service.name}:${port} from ${from}`, message: 'connections to the ClusterIP fail while the endpoints answer directly: the Service steering on this node is broken', evidence: [...svcFailed, ...epOk].map((r) => `${r.from} -> ${r.to}: ${r.detail}`), remedy: 'see the rule walk above: missing or stale kube-proxy rules on this node' });
    }
    if (epFailed.length > 0) {
      findings.push({ code: 'svc.probe-endpoint-fails', severity: 'error', subject: `${api.service.namespace}/${api.service.name}:${port} from ${from}`, message: `${epFailed.length} endpoint(s) do not accept connections even directly`, evidence: epFailed.map((r) => `${r.from} -> ${r.to}: ${r.detail}`), remedy: 'the application is not listening on the target port, or a NetworkPolicy/firewall drops it: check the pod and the route above' });
    }
  }
  for (const port of api.ports.filter((p) => p.protocol !== 'tcp')) {
    results.push({ from, to: `${api.service.clusterIPs[0] ?? '?'}:${port.port}/${port.protocol}`, what: 'service', ok: null, detail: `not probed (${port.protocol.toUpperCase()} has no handshake to test)`, servicePort: port.port });
  }
  return results.map(({ servicePort: _p, ...r }) => r);
}

function selectorText(selector: Record<string, string> | null): string {
  return selector ? Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}
