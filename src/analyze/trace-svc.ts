// trace-svc: how a Service's packets are steered on each node, cross-checked against the
// EndpointSlices, and the node conditions that break Services (seed 002, 003, 004).
import type { Finding } from './finding.js';
import type { NodeCollection } from '../probe/probe-run.js';
import { nodeFailedFinding, readNodeFacts, readRuleDumps, ruleDumpEvidence, type NodeFacts, type RuleDumps } from './node-facts.js';
import { parseIptablesSave, type IptablesDump } from '../parse/iptables-save.js';
import { buildServiceChainFromIptables, findMasqueradeScopes } from './iptables-walk.js';
import { parseNftRuleset, findKubeProxyTable } from '../parse/nft-kube-proxy.js';
import { buildServiceChainFromNft } from './nft-walk.js';
import { parseIpvsadm, findIpvsService } from '../parse/ipvsadm.js';
import { cidrContainsIp, cidrCoversCidr, type EndpointBranch, type L4Protocol, type ProxyMode, type ServiceChain } from './service-chain.js';
import { actionSectionName } from '../node-script/node-script.js';
import { diagnoseVethPeer, type VethPeerApi } from './veth-peer.js';

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
}

export interface TraceNode {
  name: string;
  internalIP: string | null;
  role: 'source' | 'endpoint' | 'source+endpoint';
  hostsEndpoints: boolean;
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
  via: 'cluster-ip' | 'node-port'; // a NodePort is traced as a client on another node reaches it
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
      severity: 'error',
      subject: `service ${svc}`,
      message: api.notReadyPods.length > 0
        ? `no endpoint is ready; these selected pods are kept out by failing readiness: ${api.notReadyPods.join(', ')}`
        : `no pod matches the selector ${selectorText(api.service.selector)}, so there are no endpoints`,
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
  return { service: api.service, ports: api.ports, endpoints: api.endpoints, nodes, findings, problems };
}

interface Backend {
  mode: NodeTrace['mode'];
  backend: string;
  trace(packet: Parameters<typeof buildServiceChainFromIptables>[1]): ServiceChain | null;
  iptables: IptablesDump | null;
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
  return { mode: 'none', backend: 'none', iptables: nftDump ?? legacyDump, trace: () => null };
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
    notes: [],
  };
}

function traceNode(api: TraceSvcApi, facts: NodeFacts, findings: Finding[], veths: ReadonlyMap<string, string>): NodeTrace {
  const node = api.nodes.find((n) => n.name === facts.nodeName);
  const backend = pickBackend(facts, api, findings);
  const subject = `node ${facts.nodeName}`;
  const svc = `${api.service.namespace}/${api.service.name}`;
  const source = api.source?.kind === 'pod' && api.source.nodeName === facts.nodeName ? api.source : null;
  const ready = api.endpoints.filter((e) => e.ready);
  const ports: PortTrace[] = [];

  if (backend.mode === 'none') {
    const cilium = (facts.host.links ?? []).some((l) => l.ifname.startsWith('cilium_'));
    findings.push(cilium
      ? { code: 'svc.kube-proxy-free', severity: 'info', subject, message: 'no kube-proxy rules on this node and Cilium devices are present: Services are handled by eBPF', evidence: ['no KUBE-SERVICES chain in iptables-nft or iptables-legacy, no ip kube-proxy table, no IPVS virtual servers'], remedy: 'use cilium service list / cilium bpf lb list on the cilium agent of this node' }
      : { code: 'svc.no-kube-proxy-rules', severity: 'error', subject, message: 'no kube-proxy rules at all on this node: ClusterIPs (DNS too) do not work from here; kube-proxy is not running on it', evidence: ['no KUBE-SERVICES chain in iptables-nft or iptables-legacy, no ip kube-proxy table, no IPVS virtual servers'], remedy: `check kube-proxy on ${facts.nodeName}: kubectl -n kube-system get pods -o wide | grep kube-proxy (Pending on a new node is seed 003's case)` });
  }

  for (const port of api.ports) {
    // The ClusterIP as seen from the source, and the NodePort as a client on another node sees it.
    const entries: Array<{ via: PortTrace['via']; ip: string; dport: number }> = api.service.clusterIPs.filter((ip) => ip.includes('.')).map((ip) => ({ via: 'cluster-ip', ip, dport: port.port }));
    const outsider = api.nodes.find((n) => n.name !== facts.nodeName && n.internalIP)?.internalIP;
    if (port.nodePort !== null && node?.internalIP) entries.push({ via: 'node-port', ip: node.internalIP, dport: port.nodePort });
    for (const { via, ip: clusterIP, dport } of entries) {
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
            sourceIp: outsider ?? '203.0.113.10',
            destinationIp: clusterIP,
            destinationPort: dport,
            hook: 'prerouting' as const,
            inInterface: 'eth0',
            destinationIsLocal: true,
            localAddresses: [clusterIP],
          };
      const chain = backend.trace(packet);
      const expected = ready.flatMap((e) => e.ports.filter((p) => p.name === port.name && p.protocol === port.protocol).map((p) => ({ target: `${e.ip}:${p.port}`, e })));
      const inRules = new Map((chain?.endpoints ?? []).filter((b) => b.dnatTarget).map((b) => [`${b.dnatTarget!.ip}:${b.dnatTarget!.port ?? ''}`, b]));
      const rows: EndpointRow[] = expected.map(({ target, e }) => {
        const b = inRules.get(target);
        return { target, pod: e.pod, ready: true, inRules: Boolean(b), probability: b?.probability ?? null, endpointChain: b?.endpointChain ?? null, masquerade: b?.masquerade.masquerade ?? null, counters: b?.counters ? `${b.counters.packets}/${b.counters.bytes}` : null };
      });
      for (const [target, b] of inRules) {
        if (expected.some((x) => x.target === target)) continue;
        rows.push({ target, pod: api.endpoints.find((e) => target.startsWith(`${e.ip}:`))?.pod ?? null, ready: null, inRules: true, probability: b.probability, endpointChain: b.endpointChain, masquerade: b.masquerade.masquerade, counters: b.counters ? `${b.counters.packets}/${b.counters.bytes}` : null });
      }
      ports.push({ port, via, destination: `${clusterIP}:${dport}`, chain, endpoints: rows });
      if (backend.mode === 'none' || !chain) continue;

      const where = `${svc}:${port.name || port.port}${via === 'node-port' ? ` (NodePort ${dport})` : ''} on node ${facts.nodeName}`;
      const missing = rows.filter((r) => r.ready && !r.inRules);
      const stale = rows.filter((r) => r.ready === null);
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
        findings.push({ code: 'svc.stale-rule-target', severity: 'warn', subject: where, message: `the rules DNAT to ${stale.length} address(es) that are not ready endpoints any more`, evidence: stale.map((s) => `${s.endpointChain}: DNAT to ${s.target}`), remedy: `kube-proxy on ${facts.nodeName} is stale: restart it` });
      }
      if (chain.unmatchedShare > 0 && chain.outcome === 'dnat') {
        findings.push({ code: 'svc.partial-dnat', severity: 'warn', subject: where, message: `${Math.round(chain.unmatchedShare * 100)}% of new connections match no endpoint rule`, evidence: chain.notes.slice(0, 3), remedy: 'check the statistic probabilities in the KUBE-SVC chain; restart kube-proxy' });
      }
    }
  }

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
