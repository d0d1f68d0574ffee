// conn-check: send N probes from the source's namespace and find, from the kernel's own counters
// read before and after on every node of the path, where they stopped. The expected path comes from
// veth-peer's analysis (each pod's host veth, the node's way out); the counters name the hop.
import type { Finding } from '../finding.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import { nodeFailedFinding, readAllNodeFacts, type NodeFacts } from '../common/node-facts.js';
import { diagnoseVethPeer, type VethPair } from '../veth-peer/analysis.js';
import type { PodTarget } from '../common/pod-targets.js';
import { chainPolicyDeltas, kernelCounterDeltas, linkDeltas, readCounterSnapshot, ruleDeltas, type CounterSnapshot, type LinkDelta, type RuleDelta } from './counter-deltas.js';
import { readProbeOutcome, type ProbeOutcome } from './probe-outcome.js';
import type { ProbeRequest } from '../../node-script/node-script.js';
import { decideVerdict, flowView, ruleCanMatchFlow, type Verdict } from './verdict.js';

export type ConnProtocol = 'tcp' | 'udp' | 'icmp';

export interface ConnPodEnd {
  kind: 'pod';
  key: string; // the node script's name for the pod ("src", "dst", "e0", ...)
  namespace: string;
  name: string;
  nodeName: string;
  ip: string;
  containerId: string | null;
}
export interface ConnNodeEnd {
  kind: 'node';
  nodeName: string;
  ip: string;
}
export interface ConnServiceEnd {
  kind: 'service';
  namespace: string;
  name: string;
  clusterIP: string;
  port: number;
  targetPort: number | null; // null: a named port that resolved differently per endpoint
  endpoints: ConnPodEnd[];
}
export interface ConnIpEnd {
  kind: 'ip';
  ip: string;
  nodeName: string | null; // a node's InternalIP: that node
}
export type ConnSource = ConnPodEnd | ConnNodeEnd;
export type ConnDestination = ConnPodEnd | ConnNodeEnd | ConnServiceEnd | ConnIpEnd;

/**
 * What the NetworkPolicy evaluator answers for this flow (filled in by the caller when it ran);
 * conn-check only cites it next to the kernel's evidence.
 */
export interface ConnPolicyInput {
  allowed: boolean;
  verdict: 'allowed' | 'denied' | 'undecided' | 'not-evaluated' | 'unread';
  summary: string; // one sentence: "denied: team-a/deny-all isolates api-1 for ingress, ..."
  detail?: unknown;
}

/** What the command resolved through the API (kept in snapshots). */
export interface ConnCheckApi {
  source: ConnSource;
  destination: ConnDestination;
  protocol: ConnProtocol;
  port: number | null; // null for icmp
  count: number;
  probe: boolean;
  nodeIPs: Record<string, string>;
  policy?: ConnPolicyInput;
  /** --capture: what was captured where (kept so a snapshot reads the same captures back). */
  capture?: ConnCapturePlan;
}

export interface ConnCapturePlan {
  hops: Array<{ node: string; iface: string; namespace: { kind: 'pod'; name: string; containerId: string | null; podIP: string }; flow?: ConnCaptureFlow }>;
  flow: ConnCaptureFlow;
  caps: { packets: number; seconds: number; snapBytes: number; pcapBytes: number };
  pcapDir: string | null;
}

export interface ConnCaptureFlow {
  protocol: 'tcp' | 'udp' | 'icmp';
  source: string;
  destination: string;
  port: number | null;
}

/** A bounded packet capture per hop (filled in by --capture when it runs). */
export interface ConnCaptureSection {
  hops: Array<{ nodeName: string; iface: string; summary: string[]; pcapFile?: string }>;
}

export interface HopRow {
  node: string;
  hop: string; // "source pod eth0", "host veth", "node NIC", "rule", ...
  iface: string | null; // interface, or table/chain for a rule row
  out: number | null; // packets counted in the probe's direction (null: not read)
  back: number | null; // packets counted in the reply's direction
  note: string | null;
}

export interface NodeDeltas {
  nodeName: string;
  where: string; // "host" or a pod key
  rules: RuleDelta[];
  chainPolicies: Array<{ table: string; chain: string; policy: string | null; moved: number; backend: string }>;
  links: LinkDelta[];
  kernel: Record<string, number>;
  unreadable: string[];
}

export interface ConnCheckReport {
  source: ConnSource;
  destination: ConnDestination;
  protocol: ConnProtocol;
  port: number | null;
  count: number;
  target: string; // what the probes were sent to: "10.244.2.1:8080"
  probe: ProbeOutcome | null;
  hops: HopRow[];
  deltas: NodeDeltas[];
  verdict: Verdict;
  policy?: ConnPolicyInput;
  capture?: ConnCaptureSection;
  findings: Finding[];
  problems: string[];
}

/** Everything the verdict rules read: the plan, the facts, the deltas and the path. */
export interface ConnContext {
  api: ConnCheckApi;
  facts: Map<string, NodeFacts>;
  snapshots: Map<string, { before: CounterSnapshot | null; after: CounterSnapshot | null }>; // "node/where"
  deltas: NodeDeltas[];
  pairs: Map<string, VethPair | null>; // pod key -> its primary veth pair
  probe: ProbeOutcome | null;
  pathNodes: string[];
  target: { address: string; port: number | null };
  hops: HopRow[]; // the path as the counters saw it (filled before the verdict)
}

export function targetOf(api: ConnCheckApi): { address: string; port: number | null } {
  const d = api.destination;
  const address = d.kind === 'pod' || d.kind === 'node' || d.kind === 'ip' ? d.ip : d.clusterIP;
  return { address, port: api.protocol === 'icmp' ? null : api.port };
}

/** The probes sent from the source (the request smoke --matrix sends too); its section is read back by the same request. */
export function probeRequestOf(api: ConnCheckApi): ProbeRequest {
  const target = targetOf(api);
  const where = api.source.kind === 'pod' ? api.source.key : 'host';
  return { kind: 'probe', where, protocol: api.protocol, address: target.address, port: target.port ?? 0, count: api.count };
}

/** The pods of the path: the source (a pod) and the destination pod or the Service's endpoints. */
export function pathPods(api: ConnCheckApi): ConnPodEnd[] {
  const out: ConnPodEnd[] = [];
  if (api.source.kind === 'pod') out.push(api.source);
  if (api.destination.kind === 'pod') out.push(api.destination);
  if (api.destination.kind === 'service') out.push(...api.destination.endpoints);
  return out;
}

/** Nodes whose counters are read: the source's, the destination's, every endpoint's. */
export function pathNodesOf(api: ConnCheckApi): string[] {
  const d = api.destination;
  const nodes = [api.source.nodeName];
  if (d.kind === 'pod' || d.kind === 'node') nodes.push(d.nodeName);
  if (d.kind === 'ip' && d.nodeName) nodes.push(d.nodeName);
  if (d.kind === 'service') nodes.push(...d.endpoints.map((e) => e.nodeName));
  return [...new Set(nodes.filter((n) => n !== ''))];
}

export function diagnoseConnCheck(api: ConnCheckApi, nodes: readonly NodeCollection[]): ConnCheckReport {
  const { facts, problems, failed } = readAllNodeFacts(nodes);
  const findings: Finding[] = failed.map((n) => nodeFailedFinding(n.nodeName, n.error));
  const podTargets: PodTarget[] = pathPods(api).map((p) => ({ key: p.key, namespace: p.namespace, name: p.name, nodeName: p.nodeName, podIPs: [p.ip], hostNetwork: false, containerId: p.containerId }));
  const veth = diagnoseVethPeer({ pods: podTargets, nodeIPs: api.nodeIPs }, nodes);
  const pairs = new Map<string, VethPair | null>();
  for (const p of pathPods(api)) {
    const row = veth.rows.find((r) => r.namespace === p.namespace && r.name === p.name);
    pairs.set(p.key, row?.kind === 'pod' ? (row.pairs.find((x) => x.primary) ?? row.pairs[0] ?? null) : null);
    if (row && row.kind !== 'pod') problems.push(`pod ${p.namespace}/${p.name}: ${row.note}`);
  }
  const { snapshots, deltas } = readDeltas(api, facts, problems);
  const probe = api.probe ? readProbeOutcome(probeRequestOf(api), facts.get(api.source.nodeName)) : null;
  const ctx: ConnContext = { api, facts, snapshots, deltas, pairs, probe, pathNodes: pathNodesOf(api), target: targetOf(api), hops: [] };
  const hops = buildHops(ctx);
  ctx.hops = hops;
  const verdict = decideVerdict(ctx);
  findings.push(verdict.finding);
  if (verdict.outcome === 'reached' && api.policy?.verdict === 'denied') {
    findings.push({
      code: 'conn.policy-not-enforced',
      severity: 'warn',
      subject: verdict.finding.subject,
      message: 'the NetworkPolicies deny this flow, yet the probes got through: the dataplane on the path does not enforce them',
      evidence: [`NetworkPolicy: ${api.policy.summary}`, `probe: ${probe?.detail ?? 'answered'}`],
      remedy: 'install or repair a NetworkPolicy engine on these nodes (flannel alone enforces none); until then the isolation does not exist',
    });
  }
  const t = ctx.target;
  const report: ConnCheckReport = {
    source: api.source,
    destination: api.destination,
    protocol: api.protocol,
    port: api.port,
    count: api.count,
    target: t.port === null ? t.address : `${t.address}:${t.port}`,
    probe,
    hops,
    deltas,
    verdict,
    findings,
    problems,
  };
  if (api.policy) report.policy = api.policy;
  return report;
}

function readDeltas(api: ConnCheckApi, facts: Map<string, NodeFacts>, problems: string[]): Pick<ConnContext, 'snapshots' | 'deltas'> {
  const snapshots: ConnContext['snapshots'] = new Map();
  const deltas: NodeDeltas[] = [];
  if (!api.probe) return { snapshots, deltas };
  const places: Array<{ node: string; where: string }> = pathNodesOf(api).map((node) => ({ node, where: 'host' }));
  for (const p of pathPods(api)) places.push({ node: p.nodeName, where: p.key });
  for (const { node, where } of places) {
    const f = facts.get(node);
    if (!f) continue;
    const before = readCounterSnapshot(f.sections, 'before', where);
    const after = readCounterSnapshot(f.sections, 'after', where);
    snapshots.set(`${node}/${where}`, { before, after });
    const label = where === 'host' ? `node ${node}` : `pod ${pathPods(api).find((p) => p.key === where)?.name ?? where} on node ${node}`;
    if (!before || !after) {
      problems.push(`could not read the counters of ${label} ${before ? 'after' : 'before'} the probes`);
      continue;
    }
    const unreadable = [...new Set(after.unreadable)];
    if (where === 'host' && unreadable.length > 0) problems.push(...unreadable.map((u) => `could not read on ${label}: ${u}`));
    deltas.push({
      nodeName: node,
      where,
      rules: ruleDeltas(before, after),
      chainPolicies: chainPolicyDeltas(before, after).map((c) => ({ table: c.table, chain: c.chain, policy: c.policy, moved: c.moved, backend: c.backend })),
      links: linkDeltas(before, after),
      kernel: kernelCounterDeltas(before, after),
      unreadable,
    });
  }
  return { snapshots, deltas };
}

export function deltaOf(ctx: ConnContext, node: string, where: string): NodeDeltas | undefined {
  return ctx.deltas.find((d) => d.nodeName === node && d.where === where);
}

function linkRow(ctx: ConnContext, node: string, where: string, hop: string, iface: string | null, outIsTx: boolean): HopRow {
  const d = iface ? deltaOf(ctx, node, where)?.links.find((l) => l.ifname === iface) : undefined;
  const state = d && (!d.adminUp ? 'admin down' : d.operState === 'DOWN' || d.operState === 'LOWERLAYERDOWN' ? `oper ${d.operState}` : null);
  return {
    node,
    hop,
    iface,
    out: d ? (outIsTx ? d.tx : d.rx) : null,
    back: d ? (outIsTx ? d.rx : d.tx) : null,
    note: state || null,
  };
}

/** The egress interface of a node toward an address, from its `ip route get`. */
export function routeDev(ctx: ConnContext, node: string, address: string): string | null {
  return ctx.facts.get(node)?.routeGets.get(address)?.dev ?? null;
}

function buildHops(ctx: ConnContext): HopRow[] {
  const { api } = ctx;
  const rows: HopRow[] = [];
  const src = api.source;
  const srcNode = src.nodeName;
  if (src.kind === 'pod') {
    const pair = ctx.pairs.get(src.key);
    rows.push(linkRow(ctx, srcNode, src.key, 'source pod', pair?.podInterface.ifname ?? 'eth0', true));
    rows.push(linkRow(ctx, srcNode, 'host', 'host veth', pair?.hostPeer?.ifname ?? null, false));
  }
  const ends: ConnPodEnd[] = api.destination.kind === 'pod' ? [api.destination] : api.destination.kind === 'service' ? api.destination.endpoints : [];
  const firstAddress = ends.length > 0 ? ends.map((e) => e.ip) : [ctx.target.address];
  for (const address of firstAddress) {
    const dev = routeDev(ctx, srcNode, address);
    const end = ends.find((e) => e.ip === address);
    if (end && end.nodeName === srcNode) continue; // same node: the destination's veth row says it
    if (dev && !rows.some((r) => r.node === srcNode && r.iface === dev)) rows.push(linkRow(ctx, srcNode, 'host', 'leaves node', dev, true));
  }
  for (const rule of serviceRuleRows(ctx)) rows.push(rule);
  const dstNodeEnd = api.destination.kind === 'node' ? api.destination : api.destination.kind === 'ip' && api.destination.nodeName ? { nodeName: api.destination.nodeName } : null;
  if (dstNodeEnd && dstNodeEnd.nodeName !== srcNode) {
    const dev = routeDev(ctx, dstNodeEnd.nodeName, src.ip);
    rows.push(linkRow(ctx, dstNodeEnd.nodeName, 'host', 'enters node', dev, false));
  }
  for (const end of ends) {
    if (end.nodeName !== srcNode) {
      const dev = routeDev(ctx, end.nodeName, src.ip);
      if (!rows.some((r) => r.node === end.nodeName && r.iface === dev)) rows.push(linkRow(ctx, end.nodeName, 'host', 'enters node', dev, false));
    }
    const pair = ctx.pairs.get(end.key);
    rows.push(linkRow(ctx, end.nodeName, 'host', `host veth of ${end.name}`, pair?.hostPeer?.ifname ?? null, true));
    rows.push(linkRow(ctx, end.nodeName, end.key, `destination pod ${end.name}`, pair?.podInterface.ifname ?? 'eth0', false));
  }
  const flow = flowView(ctx);
  for (const d of ctx.deltas) {
    for (const r of d.rules.filter((x) => isDropTarget(x.target) && x.packets >= ctx.api.count && (!x.parsed || ruleCanMatchFlow(x.parsed, flow)))) {
      rows.push({ node: d.nodeName, hop: 'drop rule', iface: `${r.table}/${r.chain} #${r.index}`, out: r.packets, back: null, note: r.rule });
    }
  }
  return rows;
}

export function isDropTarget(target: string): boolean {
  return target === 'DROP' || target === 'REJECT' || target === 'drop' || target === 'reject';
}

/** The Service's jump in nat KUBE-SERVICES on the source node, and how often it was taken. */
function serviceRuleRows(ctx: ConnContext): HopRow[] {
  const d = ctx.api.destination;
  if (d.kind !== 'service') return [];
  const node = ctx.api.source.nodeName;
  const moved = deltaOf(ctx, node, 'host')?.rules.filter((r) => r.table === 'nat' && /^KUBE-(SVC|SVL|SEP)-/.test(r.chain === 'KUBE-SERVICES' ? r.target : r.chain)) ?? [];
  // In the order the packet meets them: KUBE-SERVICES, then the Service's chain, then the endpoint's.
  const stage = (chain: string) => (chain === 'KUBE-SERVICES' ? 0 : chain.startsWith('KUBE-SEP-') ? 2 : 1);
  const ordered = [...moved].sort((a, b) => stage(a.chain) - stage(b.chain) || a.index - b.index);
  return ordered.map((r) => ({ node, hop: 'service NAT', iface: `nat/${r.chain} #${r.index}`, out: r.packets, back: null, note: r.target }));
}
