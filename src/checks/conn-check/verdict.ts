// conn-check's one verdict: where the probes stopped, from the counters that moved. Each rule
// below needs its own evidence from the kernel; when none holds, the verdict says it could not
// decide rather than blame a rule it is unsure about. Other traffic moves counters too (DNS,
// kube-proxy's health checks), so a counter counts only when it moved by at least the number of
// probes and only rules that can match the probe's flow are considered.
import type { Finding, Severity, FindingCode } from '../finding.js';
import type { IptablesRule } from '../../kube-proxy/iptables-save.js';
import { effectiveArpIgnore } from '../../parse/sysctl.js';
import { deltaOf, isDropTarget, pathPods, routeDev, type ConnContext, type ConnPodEnd } from './analysis.js';
import type { RuleDelta } from './counter-deltas.js';
import { cidrContainsIp, longestPrefixMatch } from '../../net/ip.js';

export interface Verdict {
  outcome: 'reached' | 'refused' | 'dropped' | 'undecided' | 'not-probed';
  node: string | null;
  hop: string | null; // interface, table/chain rule, or setting
  sentence: string;
  evidence: string[];
  fix: string | null;
  finding: Finding;
}

interface Blame {
  code: FindingCode;
  severity: Severity | null; // null: the caller's (error when every probe failed, warn when some did)
  node: string | null;
  hop: string | null;
  sentence: string;
  evidence: string[];
  fix: string;
}

function describeFlow(ctx: ConnContext): string {
  const s = ctx.api.source;
  const d = ctx.api.destination;
  const from = s.kind === 'pod' ? `${s.namespace}/${s.name}` : `node ${s.nodeName}`;
  const to = d.kind === 'pod' ? `${d.namespace}/${d.name}` : d.kind === 'service' ? `svc ${d.namespace}/${d.name}` : d.kind === 'node' ? `node ${d.nodeName}` : d.ip;
  const t = ctx.target;
  return `${from} -> ${to} (${ctx.api.protocol}${t.port !== null ? ` ${t.address}:${t.port}` : ` ${t.address}`})`;
}

export function decideVerdict(ctx: ConnContext): Verdict {
  const flow = describeFlow(ctx);
  const policyNote = ctx.api.policy ? [`NetworkPolicy: ${ctx.api.policy.summary}`] : [];
  const make = (outcome: Verdict['outcome'], b: Blame, severity: Severity): Verdict => ({
    outcome,
    node: b.node,
    hop: b.hop,
    sentence: b.sentence,
    evidence: [...b.evidence, ...policyNote],
    fix: b.fix || null,
    finding: { code: b.code, severity: b.severity ?? severity, subject: flow, message: b.sentence, evidence: [...b.evidence, ...policyNote], remedy: b.fix },
  });
  const probe = ctx.probe;
  if (!ctx.api.probe || probe === null) {
    return make('not-probed', { code: 'conn.not-probed', severity: 'info', node: null, hop: null, sentence: `no probes were sent (--no-probe): the path${ctx.api.policy ? ` and the NetworkPolicy answer, ${ctx.api.policy.summary}` : ' only'}`, evidence: [], fix: 'run without --no-probe to test the path' }, 'info');
  }
  if (probe.summary === 'not-run') {
    return make('undecided', { code: 'conn.probe-not-run', severity: 'warn', node: ctx.api.source.nodeName, hop: null, sentence: `the probes could not be sent: ${probe.detail}`, evidence: [], fix: 'check that the source pod is running and its node answered; run again' }, 'warn');
  }
  const reachedUdp = probe.summary === 'unknown' && destinationCounted(ctx);
  if (probe.summary === 'reached' || reachedUdp) {
    const detail = reachedUdp ? `${probe.detail}; the destination counted them in` : probe.detail;
    return make('reached', { code: 'conn.reached', severity: 'info', node: null, hop: null, sentence: `reached: ${detail}`, evidence: [], fix: 'nothing to fix' }, 'info');
  }
  const severity: Severity = probe.summary === 'partial' ? 'warn' : 'error';
  const blame = probe.summary === 'refused' ? refusedBlame(ctx) : attributeLoss(ctx);
  const outcome = blame.code === 'conn.undecided' ? 'undecided' : blame.code === 'conn.refused' ? 'refused' : 'dropped';
  return make(outcome, { ...blame, evidence: [`probe: ${probe.detail}`, ...blame.evidence] }, severity);
}

/** UDP has no answer to wait for: reached when the destination's eth0 counted the datagrams in. */
function destinationCounted(ctx: ConnContext): boolean {
  const ends = destinationPods(ctx);
  if (ends.length === 0) return false;
  const seen = ends.reduce((n, e) => n + (deltaOf(ctx, e.nodeName, e.key)?.links.find((l) => l.ifname === (ctx.pairs.get(e.key)?.podInterface.ifname ?? 'eth0'))?.rx ?? 0), 0);
  return seen >= ctx.api.count;
}

function destinationPods(ctx: ConnContext): ConnPodEnd[] {
  const d = ctx.api.destination;
  return d.kind === 'pod' ? [d] : d.kind === 'service' ? d.endpoints : [];
}

/** Refused: a REJECT on the path answered, or the destination itself did (nothing listens). */
function refusedBlame(ctx: ConnContext): Blame {
  const reject = dropRuleBlame(ctx, (t) => t === 'REJECT' || t === 'reject');
  if (reject) return reject;
  const port = ctx.target.port;
  const d = ctx.api.destination;
  const who = d.kind === 'pod' ? `pod ${d.namespace}/${d.name}` : d.kind === 'service' ? `the endpoints of svc ${d.namespace}/${d.name}` : d.kind === 'node' ? `node ${d.nodeName}` : d.ip;
  const rulesRead = ctx.pathNodes.every((n) => (deltaOf(ctx, n, 'host')?.unreadable.length ?? 1) === 0);
  const targetPort = d.kind === 'service' ? d.targetPort : port;
  return {
    code: 'conn.refused',
    severity: null,
    node: d.kind === 'pod' || d.kind === 'node' ? d.nodeName : null,
    hop: targetPort !== null ? `port ${targetPort}` : null,
    sentence: `reached ${who}, but nothing listens on ${ctx.api.protocol} port ${targetPort ?? '?'}: the connection was refused${rulesRead ? ' (RST)' : ' (RST, or an ICMP reject by a rule that could not be read)'}`,
    evidence: ctx.probe?.attempts.filter((a) => a.result === 'refused').slice(0, 2).map((a) => a.detail) ?? [],
    fix: `start the server on port ${targetPort ?? '?'} (check the container's port and that it listens on 0.0.0.0, not 127.0.0.1), or point the client at the port it serves`,
  };
}

/** Timed out or unreachable: the first rule below whose evidence holds names the hop. */
function attributeLoss(ctx: ConnContext): Blame {
  return (
    linkDownBlame(ctx) ??
    dropRuleBlame(ctx, isDropTarget) ??
    chainPolicyBlame(ctx) ??
    forwardingBlame(ctx) ??
    routeBlame(ctx) ??
    serviceNatBlame(ctx) ??
    arpBlame(ctx) ??
    undecided(ctx)
  );
}

/** The probe's flow as rules see it: each direction's addresses, the ports, the protocol. */
interface FlowView {
  sources: string[];
  destinations: string[];
  ports: number[];
  protocol: string;
}

export function flowView(ctx: Pick<ConnContext, 'api' | 'target'>): FlowView {
  const d = ctx.api.destination;
  const destinations = [ctx.target.address, ...(d.kind === 'service' ? d.endpoints.map((e) => e.ip) : [])];
  const ports = [ctx.target.port, d.kind === 'service' ? d.targetPort : null].filter((p): p is number => p !== null);
  return { sources: [ctx.api.source.ip], destinations, ports, protocol: ctx.api.protocol };
}

function addressMatches(match: { cidr: string; negated: boolean } | null, addresses: readonly string[]): boolean {
  if (match === null) return true;
  const hit = addresses.some((a) => cidrContainsIp(match.cidr, a));
  return match.negated ? !hit : hit;
}

function portMatches(match: { ports: Array<{ from: number; to: number }>; negated: boolean } | null, ports: readonly number[]): boolean {
  if (match === null) return true;
  if (ports.length === 0) return false;
  const hit = ports.some((p) => match.ports.some((r) => p >= r.from && p <= r.to));
  return match.negated ? !hit : hit;
}

/** Whether an iptables rule can match the probe or its reply (unknown matches count as "can"). */
export function ruleCanMatchFlow(rule: IptablesRule, flow: FlowView): boolean {
  if (rule.protocol) {
    const same = rule.protocol.name.toLowerCase() === flow.protocol || rule.protocol.name === 'all';
    if (same === rule.protocol.negated) return false;
  }
  const forward = addressMatches(rule.source, flow.sources) && addressMatches(rule.destination, flow.destinations) && portMatches(rule.destinationPorts, flow.ports);
  const reply = addressMatches(rule.source, flow.destinations) && addressMatches(rule.destination, flow.sources) && portMatches(rule.sourcePorts, flow.ports);
  return forward || reply;
}

/** A rule chain named after an interface of this node that is not on the path (cali-tw-caliXXX of another pod). */
function chainOfAnotherInterface(ctx: ConnContext, node: string, chain: string): boolean {
  const onPath = new Set([...ctx.pairs.values()].map((p) => p?.hostPeer?.ifname).filter((n): n is string => Boolean(n)));
  const links = ctx.facts.get(node)?.host.links ?? [];
  return links.some((l) => l.ifname.length >= 4 && chain.endsWith(l.ifname) && !onPath.has(l.ifname));
}

function dropRuleBlame(ctx: ConnContext, isTarget: (t: string) => boolean): Blame | null {
  const flow = flowView(ctx);
  const candidates: Array<{ node: string; rule: RuleDelta }> = [];
  for (const node of ctx.pathNodes) {
    for (const r of deltaOf(ctx, node, 'host')?.rules ?? []) {
      if (!isTarget(r.target) || r.packets < ctx.api.count) continue;
      if (r.parsed && !ruleCanMatchFlow(r.parsed, flow)) continue;
      if (chainOfAnotherInterface(ctx, node, r.chain)) continue;
      candidates.push({ node, rule: r });
    }
  }
  if (candidates.length === 0) return null;
  const evidence = candidates.map((c) => `${c.node}: ${c.rule.backend} ${c.rule.table}/${c.rule.chain} rule ${c.rule.index}: ${c.rule.rule} (+${c.rule.packets} packets)`);
  if (candidates.length > 1 && new Set(candidates.map((c) => c.node)).size > 1) {
    return { ...undecided(ctx), sentence: `the probes failed and drop rules moved on more than one node; could not decide which dropped them`, evidence };
  }
  // Several on one node: the most specific (fewest packets beyond the probes) is the likeliest.
  const best = candidates.sort((a, b) => a.rule.packets - b.rule.packets)[0]!;
  const r = best.rule;
  const calico = /^cali-/.test(r.chain);
  const kubeRouter = /^KUBE-NWPLCY-/.test(r.chain);
  const rejectSvc = r.table === 'filter' && /has no endpoints/.test(r.rule);
  const fix = rejectSvc
    ? 'the Service has no ready endpoints: check its selector and the pods\' readiness'
    : calico || kubeRouter
      ? `a NetworkPolicy isolates the ${/-(tw|fw)-/.test(r.chain) && r.chain.includes('-tw-') ? 'destination' : 'pod'} and no rule allows this flow: list them with kubectl get networkpolicy -A and add a rule that allows it`
      : `remove or narrow the rule: iptables -t ${r.table} -D ${r.chain} ${r.index} on ${best.node} (and whatever installs it)`;
  return {
    code: 'conn.rule-drop',
    severity: null,
    node: best.node,
    hop: `${r.table}/${r.chain} rule ${r.index}`,
    sentence: `${r.target === 'REJECT' || r.target === 'reject' ? 'rejected' : 'dropped'} on ${best.node} by ${r.table}/${r.chain} rule ${r.index} (${r.rule}, +${r.packets} packets)`,
    evidence: candidates.length > 1 ? evidence : [evidence[0]!],
    fix,
  };
}

function chainPolicyBlame(ctx: ConnContext): Blame | null {
  for (const node of ctx.pathNodes) {
    const c = deltaOf(ctx, node, 'host')?.chainPolicies.find((x) => x.policy === 'DROP' && x.moved >= ctx.api.count);
    if (!c) continue;
    return {
      code: 'conn.chain-policy-drop',
      severity: null,
      node,
      hop: `${c.table}/${c.chain} policy DROP`,
      sentence: `dropped on ${node} by the ${c.table}/${c.chain} chain's default policy DROP (+${c.moved} packets fell through to it)`,
      evidence: [`${node}: ${c.backend} :${c.chain} DROP policy counter +${c.moved}`],
      fix: `add an ACCEPT rule for the pod traffic in ${c.table}/${c.chain} on ${node} (the CNI or kube-proxy normally installs one), or set the policy to ACCEPT`,
    };
  }
  return null;
}

/** Nodes that must forward the probe: the source node for a pod source, each destination pod's node. */
function forwardingNodes(ctx: ConnContext): string[] {
  const out = new Set<string>();
  const src = ctx.api.source;
  if (src.kind === 'pod' && !(ctx.api.destination.kind === 'node' && ctx.api.destination.nodeName === src.nodeName)) out.add(src.nodeName);
  for (const e of destinationPods(ctx)) out.add(e.nodeName);
  return [...out];
}

function forwardingBlame(ctx: ConnContext): Blame | null {
  for (const node of forwardingNodes(ctx)) {
    const snap = ctx.snapshots.get(`${node}/host`)?.after;
    if (snap?.sysctl?.ipForward !== false) continue;
    const kernel = deltaOf(ctx, node, 'host')?.kernel ?? {};
    const forwarded = kernel['Ip.ForwDatagrams'] ?? 0;
    if (forwarded >= ctx.api.count) continue; // forwarded anyway (an eBPF datapath): not the cause
    return {
      code: 'conn.forwarding-off',
      severity: null,
      node,
      hop: 'net.ipv4.ip_forward=0',
      sentence: `dropped on ${node}: IP forwarding is off (net.ipv4.ip_forward=0), so the node does not route pod traffic`,
      evidence: [`${node}: net.ipv4.ip_forward = 0`, `${node}: Ip.ForwDatagrams +${forwarded}, Ip.InAddrErrors +${kernel['Ip.InAddrErrors'] ?? 0} during the probes`],
      fix: `sysctl -w net.ipv4.ip_forward=1 on ${node}, and find what turned it off (a sysctl.d file, a hardening script, a restarted network service)`,
    };
  }
  return null;
}

function routeBlame(ctx: ConnContext): Blame | null {
  const node = ctx.api.source.nodeName;
  const routes = ctx.facts.get(node)?.host.routes;
  const ends = destinationPods(ctx).filter((e) => e.nodeName !== node);
  const kernel = deltaOf(ctx, node, 'host')?.kernel ?? {};
  const noRoutes = (kernel['Ip.OutNoRoutes'] ?? 0) + (kernel['IpExt.InNoRoutes'] ?? 0);
  for (const end of ends) {
    const get = ctx.facts.get(node)?.routeGets.get(end.ip);
    const chosen = routes ? longestMatch(routes, end.ip) : null;
    const destinationNodeIP = ctx.api.nodeIPs[end.nodeName];
    if (!get) {
      if (noRoutes < ctx.api.count && routes === null) continue;
      return { code: 'conn.no-route', severity: null, node, hop: `route to ${end.ip}`, sentence: `dropped on ${node}: it has no route to ${end.ip}`, evidence: [`${node}: ip route get ${end.ip} failed`, `${node}: Ip.OutNoRoutes/IpExt.InNoRoutes +${noRoutes}`], fix: `restore the route to the pod CIDR of ${end.nodeName} on ${node} (the CNI agent programs it: check its logs)` };
    }
    if (chosen?.isDefault && get.gateway !== destinationNodeIP && !ctx.facts.get(node)?.host.links?.some((l) => l.ifname === get.dev && /vxlan|ipip|wireguard|geneve/.test(l.kind))) {
      const arrived = linkSeen(ctx, end.nodeName, 'host', ctx.pairs.get(end.key)?.hostPeer?.ifname ?? null, 'tx');
      if (arrived !== null && arrived >= ctx.api.count) continue;
      return {
        code: 'conn.no-route',
        severity: null,
        node,
        hop: `route to ${end.ip}`,
        sentence: `sent the wrong way on ${node}: no route to ${end.ip}'s pod CIDR, so the default route (${get.gateway ? `via ${get.gateway} ` : ''}dev ${get.dev}) took the probes and ${end.nodeName} never saw them`,
        evidence: [`${node}: ip route get ${end.ip}: ${get.raw}`, `${node}: no route in the main table more specific than default covers ${end.ip}`, `${end.nodeName}: host veth counted +${arrived ?? '?'} packets toward the pod`],
        fix: `restore the route to ${end.nodeName}'s pod CIDR on ${node} (the CNI agent programs it, e.g. calico-node or flanneld: check its logs and restart it)`,
      };
    }
  }
  return null;
}

/** The main table's IPv4 route toward `ip`, whatever its type (a blackhole route still takes the packet). */
function longestMatch<R extends { dst: string; table: string; family: string }>(routes: readonly R[], ip: string): R | null {
  return longestPrefixMatch(routes.filter((r) => r.table === 'main' && r.family === 'inet'), (r) => r.dst, ip);
}

function linkSeen(ctx: ConnContext, node: string, where: string, iface: string | null, dir: 'rx' | 'tx'): number | null {
  if (!iface) return null;
  const l = deltaOf(ctx, node, where)?.links.find((x) => x.ifname === iface);
  return l ? l[dir] : null;
}

/** Service traffic that kube-proxy did not translate: its chain on the source node has no endpoint jump. */
function serviceNatBlame(ctx: ConnContext): Blame | null {
  const d = ctx.api.destination;
  if (d.kind !== 'service') return null;
  const node = ctx.api.source.nodeName;
  const after = ctx.snapshots.get(`${node}/host`)?.after;
  const moved = deltaOf(ctx, node, 'host')?.rules ?? [];
  for (const dump of after?.iptables ?? []) {
    const jump = dump.rules.find((r) => r.table === 'nat' && r.chain === 'KUBE-SERVICES' && r.destination && cidrContainsIp(r.destination.cidr, d.clusterIP) && !r.destination.negated && portMatches(r.destinationPorts, [d.port]) && /^KUBE-(SVC|SVL)-/.test(r.target?.name ?? ''));
    if (!jump) continue;
    const chain = jump.target!.name;
    const endpointRules = dump.rules.filter((r) => r.table === 'nat' && r.chain === chain && /^KUBE-SEP-/.test(r.target?.name ?? ''));
    const taken = moved.find((r) => r.table === 'nat' && r.chain === 'KUBE-SERVICES' && r.target === chain)?.packets ?? 0;
    if (endpointRules.length > 0 || taken < ctx.api.count) continue;
    return {
      code: 'conn.service-not-translated',
      severity: null,
      node,
      hop: `nat/${chain}`,
      sentence: `not translated on ${node}: the probes to ${d.clusterIP}:${d.port} entered kube-proxy's nat/${chain} (+${taken}), which has no endpoint rule, so no DNAT happened and they left for the ClusterIP itself`,
      evidence: [`${node}: ${jump.raw.replace(/^\[\d+:\d+\]\s*/, '')} (+${taken} packets)`, `${node}: nat/${chain} holds ${dump.rules.filter((r) => r.table === 'nat' && r.chain === chain).length} rules, none to a KUBE-SEP- chain`],
      fix: `kube-proxy on ${node} missed the Service's endpoints: check its logs (sync errors) and restart it; kubectl netdiag trace-svc ${d.name} -n ${d.namespace} shows the chain`,
    };
  }
  return null;
}

/** The source pod's ARP for its gateway went unanswered: the node side does not answer for it (proxy_arp off on a Calico veth). */
function sourceGatewayArpBlame(ctx: ConnContext): Blame | null {
  const src = ctx.api.source;
  if (src.kind !== 'pod') return null;
  const routes = ctx.facts.get(src.nodeName)?.pods.get(src.key)?.routes ?? [];
  const gateway = routes.find((r) => r.isDefault && r.family === 'inet' && r.table === 'main')?.gateway;
  if (!gateway) return null;
  const neigh = ctx.snapshots.get(`${src.nodeName}/${src.key}`)?.after?.neigh ?? [];
  const entry = neigh.find((n) => n.dst === gateway && (n.state === 'INCOMPLETE' || n.state === 'FAILED'));
  if (!entry) return null;
  const host = ctx.pairs.get(src.key)?.hostPeer;
  const proxyOff = host && host.proxyArp === false && !host.master;
  return {
    code: 'conn.arp-unanswered',
    severity: null,
    node: src.nodeName,
    hop: `ARP for ${gateway} on ${entry.dev ?? '?'} in pod ${src.name}`,
    sentence: `ARP for ${gateway} (the gateway of pod ${src.namespace}/${src.name}) unanswered${proxyOff ? ` (proxy_arp=0 on ${host.ifname} on ${src.nodeName})` : ''}: the probes never left the pod`,
    evidence: [`pod ${src.name}: ${entry.raw || `${entry.dst} dev ${entry.dev} ${entry.state}`}`, ...(host ? [`${src.nodeName}: ${host.ifname} proxy_arp=${host.proxyArp === null ? '?' : host.proxyArp ? 1 : 0}`] : [])],
    fix: proxyOff ? `sysctl -w net.ipv4.conf.${host.ifname}.proxy_arp=1 on ${src.nodeName} (the CNI sets it on every workload veth)` : `check the host side of the pod's veth on ${src.nodeName}: kubectl netdiag arp-check ${src.name} -n ${src.namespace}`,
  };
}

function arpBlame(ctx: ConnContext): Blame | null {
  const fromSource = sourceGatewayArpBlame(ctx);
  if (fromSource) return fromSource;
  for (const end of destinationPods(ctx)) {
    const neigh = ctx.snapshots.get(`${end.nodeName}/host`)?.after?.neigh ?? [];
    const entry = neigh.find((n) => n.dst === end.ip && (n.state === 'INCOMPLETE' || n.state === 'FAILED'));
    if (!entry) continue;
    const podSysctl = ctx.snapshots.get(`${end.nodeName}/${end.key}`)?.after?.sysctl;
    const ifname = ctx.pairs.get(end.key)?.podInterface.ifname ?? 'eth0';
    const ignore = podSysctl ? effectiveArpIgnore(podSysctl.ipv4Conf['all'], podSysctl.ipv4Conf[ifname]) : null;
    const why = ignore !== null && ignore >= 1 ? ` (arp_ignore=${ignore} in the pod)` : '';
    return {
      code: 'conn.arp-unanswered',
      severity: null,
      node: end.nodeName,
      hop: `ARP for ${end.ip} on ${entry.dev ?? '?'}`,
      sentence: `ARP for ${end.ip} on ${entry.dev ?? '?'} unanswered on ${end.nodeName}${why}: the node cannot hand the probes to pod ${end.namespace}/${end.name}`,
      evidence: [`${end.nodeName}: ${entry.raw || `${entry.dst} dev ${entry.dev} ${entry.state}`}`, ...(ignore !== null ? [`pod ${end.name}: effective arp_ignore on ${ifname} = ${ignore} (max of all and ${ifname})`] : [])],
      fix: ignore !== null && ignore >= 1 ? `set net.ipv4.conf.all.arp_ignore and net.ipv4.conf.${ifname}.arp_ignore back to 0 in the pod (an init container or sysctl in the pod spec set them)` : `check the pod's ${ifname} (up, address) and arp settings: kubectl netdiag arp-check ${end.name} -n ${end.namespace}`,
    };
  }
  return null;
}

function linkDownBlame(ctx: ConnContext): Blame | null {
  for (const p of pathPods(ctx.api)) {
    const pair = ctx.pairs.get(p.key);
    const host = pair?.hostPeer;
    if (host && !host.adminUp) {
      return {
        code: 'conn.link-down',
        severity: null,
        node: p.nodeName,
        hop: host.ifname,
        sentence: `${host.ifname} on ${p.nodeName}, the host veth of pod ${p.namespace}/${p.name}, is down: the node drops everything to and from the pod`,
        evidence: [`${p.nodeName}: ${host.ifname} state ${host.operState}, administratively down`, `${p.nodeName}: ${routeDev(ctx, p.nodeName, p.ip) === host.ifname ? 'the route to the pod still points at it' : `ip route get ${p.ip} no longer leads to it`}`],
        fix: `ip link set ${host.ifname} up on ${p.nodeName} (and restore the pod route if it was removed), or delete the pod so its CNI wires it again`,
      };
    }
    if (pair && pair.podInterface.operState === 'DOWN' && host?.adminUp !== false) {
      return {
        code: 'conn.link-down',
        severity: null,
        node: p.nodeName,
        hop: `${pair.podInterface.ifname} in pod ${p.name}`,
        sentence: `the ${pair.podInterface.ifname} of pod ${p.namespace}/${p.name} is down`,
        evidence: [`pod ${p.name}: ${pair.podInterface.ifname} state ${pair.podInterface.operState}`],
        fix: `delete the pod so its CNI wires it again`,
      };
    }
  }
  return null;
}

function undecided(ctx: ConnContext): Blame {
  const unread = ctx.pathNodes.flatMap((n) => (deltaOf(ctx, n, 'host')?.unreadable ?? []).map((u) => `${n}: could not read ${u}`));
  // Interfaces count other traffic too, so this only points where to look; it blames nothing.
  const last = [...ctx.hops].reverse().find((h) => h.hop !== 'drop rule' && h.out !== null && h.out >= ctx.api.count);
  const lastSeen = last ? [`the last hop on the path that counted at least ${ctx.api.count} packets out: ${last.node} ${last.hop} ${last.iface ?? ''} (+${last.out})`.trim()] : [];
  return {
    code: 'conn.undecided',
    severity: null,
    node: null,
    hop: null,
    sentence: 'the probes failed and no counter on the path says where: could not decide which hop dropped them',
    evidence: [...lastSeen, ...unread],
    fix: 'look at the hop table: the last hop that counted the probes out is where to look next; --capture (tcpdump on each hop) can show more',
  };
}
