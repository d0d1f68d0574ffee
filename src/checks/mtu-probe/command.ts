// mtu-probe: resolve the pod and its target, plan one probe pod per node involved (in parallel),
// and run the path MTU search as follow-up calls on those probe pods: each call re-finds the pod's
// namespace and pings one more size, chosen from the answers so far (nextPmtuProbe).
import type { ClusterApi, Node, Pod } from '../../kube/cluster-api.js';
import type { CommandSpec } from '../../cli/command-runner.js';
import type { NodeRequest } from '../../node-script/node-script.js';
import type { FollowUp, FollowUpContext, ProbeTarget } from '../../probe/probe-run.js';
import {
  diagnoseMtuProbe,
  ICMP_IPV4_OVERHEAD_BYTES,
  MIN_PROBE_PAYLOAD_BYTES,
  PING_COUNT,
  pmtuProbeFromSection,
  readPmtuProbes,
  searchPathMtu,
  type MtuProbeApi,
  type MtuProbeReport,
  type PodEnd,
  type TargetEnd,
} from './analysis.js';
import { renderMtuProbe } from './render.js';
import { EXIT, UserError } from '../../errors.js';
import { assertLinuxNode, containerIdOf, nodeInternalIP, podIPsOf, resolvePod } from '../../kube/resolve.js';
import { parseIpAddrJson } from '../../parse/ip-addr.js';
import { isIpv4 } from '../../net/ip.js';
import { assertDnsSubdomain } from '../../cli/global-options.js';

/** --to as the user gave it, classified without I/O. */
export type MtuProbeTo =
  | { kind: 'default' }
  | { kind: 'ip'; address: string }
  | { kind: 'node'; name: string }
  | { kind: 'pod'; name: string; namespace: string | undefined }
  | { kind: 'name'; name: string }; // a bare name: a node of that name, else a pod

export interface MtuProbeTarget {
  pod: string;
  to: MtuProbeTo;
  probe: boolean;
}

/** The mtu-probe arguments, validated before any API call. */
export function readMtuProbeTarget(args: Record<string, unknown>): MtuProbeTarget {
  const pod = String(args.pod ?? '');
  assertDnsSubdomain(pod, 'pod name');
  const to = args.to === undefined ? undefined : String(args.to);
  return { pod, to: parseMtuProbeTo(to, isDnsSubdomain), probe: !args['no-probe'] };
}

function isDnsSubdomain(value: string): boolean {
  try {
    assertDnsSubdomain(value, 'name');
    return true;
  } catch {
    return false;
  }
}

/** Classifies --to: an IPv4 address, node/NAME, pod/NAME or NAMESPACE/NAME, or a bare name. */
export function parseMtuProbeTo(value: string | undefined, isDnsName: (s: string) => boolean): MtuProbeTo {
  if (value === undefined) return { kind: 'default' };
  if (isIpv4(value)) return { kind: 'ip', address: value };
  if (value.includes(':')) {
    throw new UserError(`--to ${value}: IPv6 targets are not supported yet (the probe's ping actions take IPv4)`, { exitCode: EXIT.usage });
  }
  const parts = value.split('/');
  const check = (s: string, what: string) => {
    if (!isDnsName(s)) throw new UserError(`invalid ${what} ${JSON.stringify(s)} in --to`, { hint: '--to takes POD, NAMESPACE/POD, pod/POD, node/NODE or an IPv4 address', exitCode: EXIT.usage });
  };
  if (parts.length === 1) {
    check(value, 'name');
    return { kind: 'name', name: value };
  }
  if (parts.length !== 2) check(value, 'target');
  const [a, b] = parts as [string, string];
  check(b, 'name');
  if (a === 'node' || a === 'nodes' || a === 'no') return { kind: 'node', name: b };
  if (a === 'pod' || a === 'pods' || a === 'po') return { kind: 'pod', name: b, namespace: undefined };
  check(a, 'namespace');
  return { kind: 'pod', name: b, namespace: a };
}

export function mtuProbeCommand(target: MtuProbeTarget): CommandSpec<MtuProbeApi, MtuProbeReport> {
  return {
    name: 'mtu-probe',
    plan: async (api, options) => {
      const namespace = options.namespace ?? api.defaultNamespace;
      const pod = await resolvePod(api, namespace, target.pod);
      if (pod.spec?.hostNetwork) {
        throw new UserError(`pod ${namespace}/${target.pod} uses the node's network (hostNetwork): it has no pod MTU of its own`, {
          hint: 'run mtu-probe from a regular pod on that node',
          exitCode: EXIT.usage,
        });
      }
      const nodes = await api.listNodes();
      const source = podEnd(pod, 'src', nodes);
      const { end, choice } = await resolveTarget(api, target.to, namespace, source, nodes);
      const probeApi: MtuProbeApi = { source, target: end, probe: target.probe, targetChoice: choice };
      for (const name of new Set([source.nodeName, end.nodeName].filter((n): n is string => n !== null))) {
        assertLinuxNode(nodes.find((n) => n.metadata?.name === name), name);
      }
      return { api: probeApi, targets: buildMtuProbeTargets(probeApi) };
    },
    analyze: (collected) => diagnoseMtuProbe(collected.api, collected.nodes),
    render: (report, options, colour) => renderMtuProbe(report, options, colour),
  };
}

function podEnd(pod: Pod, key: string, nodes: readonly Node[]): PodEnd {
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const podIP = podIPsOf(pod).find((ip) => isIpv4(ip));
  if (!podIP) {
    throw new UserError(`pod ${ns}/${name} has no IPv4 address: IPv6 path MTU probing is not supported yet`, { exitCode: EXIT.usage });
  }
  const nodeName = pod.spec?.nodeName ?? '';
  const node = nodes.find((n) => n.metadata?.name === nodeName);
  return { kind: 'pod', key, namespace: ns, name, nodeName, podIP, containerId: containerIdOf(pod), nodeIP: node ? nodeInternalIP(node) ?? null : null };
}

async function resolveTarget(api: ClusterApi, to: MtuProbeTo, namespace: string, source: PodEnd, nodes: readonly Node[]): Promise<{ end: TargetEnd; choice: string | null }> {
  const nodeIPs = nodes.map((n) => ({ name: n.metadata?.name ?? '', ip: nodeInternalIP(n) ?? null }));
  const nodeEnd = (name: string): TargetEnd => {
    const entry = nodeIPs.find((n) => n.name === name);
    if (!entry) throw new UserError(`node "${name}" not found`, { hint: 'kubectl get nodes lists them', exitCode: EXIT.usage });
    if (!entry.ip || !isIpv4(entry.ip)) throw new UserError(`node ${name} has no IPv4 InternalIP to probe`, { exitCode: EXIT.usage });
    return { kind: 'node', nodeName: name, address: entry.ip };
  };
  const podTarget = (pod: Pod): TargetEnd => {
    // A hostNetwork pod answers with its node's address and stack: probe the node.
    if (pod.spec?.hostNetwork) return nodeEnd(pod.spec.nodeName ?? '');
    return podEnd(pod, 'dst', nodes);
  };
  switch (to.kind) {
    case 'ip': {
      const node = nodeIPs.find((n) => n.ip === to.address);
      if (to.address === source.podIP) throw new UserError('--to is the pod itself', { exitCode: EXIT.usage });
      return { end: node ? { kind: 'node', nodeName: node.name, address: to.address } : { kind: 'ip', address: to.address, nodeName: null }, choice: null };
    }
    case 'node':
      return { end: nodeEnd(to.name), choice: null };
    case 'pod':
      return { end: podTarget(await resolvePod(api, to.namespace ?? namespace, to.name)), choice: null };
    case 'name':
      if (nodeIPs.some((n) => n.name === to.name)) return { end: nodeEnd(to.name), choice: null };
      return { end: podTarget(await resolvePod(api, namespace, to.name)), choice: null };
    case 'default':
      return defaultTarget(api, namespace, source, nodes);
  }
}

/** A pod on another node (this namespace first), else another node's IP, else a pod on this node. */
async function defaultTarget(api: ClusterApi, namespace: string, source: PodEnd, nodes: readonly Node[]): Promise<{ end: TargetEnd; choice: string }> {
  const usable = (p: Pod) =>
    p.status?.phase === 'Running' &&
    !p.spec?.hostNetwork &&
    p.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'kubectl-netdiag' &&
    !(p.metadata?.namespace === source.namespace && p.metadata?.name === source.name) &&
    podIPsOf(p).some((ip) => isIpv4(ip));
  const order = (a: Pod, b: Pod) =>
    (a.spec?.nodeName ?? '').localeCompare(b.spec?.nodeName ?? '') || `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`);
  const elsewhere = (pods: Pod[]) => pods.filter((p) => usable(p) && p.spec?.nodeName && p.spec.nodeName !== source.nodeName).sort(order)[0];
  const local = await api.listPods({ namespace });
  let pick = elsewhere(local);
  if (!pick) pick = elsewhere(await api.listPods({ namespace: undefined }));
  if (pick) {
    return { end: podEnd(pick, 'dst', nodes), choice: `a pod on another node (${pick.metadata?.namespace}/${pick.metadata?.name} on ${pick.spec?.nodeName}); name another with --to` };
  }
  const otherNode = nodes
    .map((n) => ({ name: n.metadata?.name ?? '', ip: nodeInternalIP(n) }))
    .filter((n) => n.name !== source.nodeName && n.ip && isIpv4(n.ip))
    .sort((a, b) => a.name.localeCompare(b.name))[0];
  if (otherNode) return { end: { kind: 'node', nodeName: otherNode.name, address: otherNode.ip! }, choice: `no pod runs on another node: node ${otherNode.name}'s IP` };
  const sameNode = local.filter((p) => usable(p) && p.spec?.nodeName === source.nodeName).sort(order)[0];
  if (sameNode) return { end: podEnd(sameNode, 'dst', nodes), choice: `a single node: pod ${sameNode.metadata?.namespace}/${sameNode.metadata?.name} on the same node` };
  throw new UserError('no other pod or node to probe toward', { hint: 'name a target with --to POD|NODE|IP', exitCode: EXIT.usage });
}

/** One probe per node involved; each carries the pings that start from its pods. */
export function buildMtuProbeTargets(api: MtuProbeApi): ProbeTarget[] {
  const { source, target } = api;
  const targetAddress = target.kind === 'pod' ? target.podIP : target.address;
  const byNode = new Map<string, { requests: NodeRequest[]; searches: DirectionPlan[] }>();
  const entry = (node: string) => {
    let e = byNode.get(node);
    if (!e) {
      e = { requests: [{ kind: 'host' }, { kind: 'host-kube-proxy' }], searches: [] };
      byNode.set(node, e);
    }
    return e;
  };
  const routeGets = (e: { requests: NodeRequest[] }, addresses: Array<string | null>) => {
    for (const a of addresses) {
      if (a && !e.requests.some((r) => r.kind === 'route-get' && r.address === a)) e.requests.push({ kind: 'route-get', address: a });
    }
  };

  const src = entry(source.nodeName);
  const targetNodeIP = target.kind === 'pod' ? target.nodeIP : target.nodeName ? target.address : null;
  routeGets(src, [targetAddress, targetNodeIP]);
  src.requests.push({ kind: 'pod', key: source.key, containerId: source.containerId, podIP: source.podIP });
  if (target.nodeName) {
    const dst = entry(target.nodeName);
    routeGets(dst, [source.podIP, source.nodeIP]);
    if (target.kind === 'pod') dst.requests.push({ kind: 'pod', key: target.key, containerId: target.containerId, podIP: target.podIP });
  }
  if (api.probe) {
    src.searches.push({ pod: source, destination: targetAddress });
    if (target.kind === 'pod') entry(target.nodeName).searches.push({ pod: target, destination: source.podIP });
    // The first size rides along with the facts, after the pod request that finds the namespace.
    for (const e of byNode.values()) {
      for (const s of e.searches) e.requests.push(pingRequest(s, MIN_PROBE_PAYLOAD_BYTES));
    }
  }
  return [...byNode.entries()].map(([nodeName, e]) => (e.searches.length > 0 ? { nodeName, requests: e.requests, followUp: searchFollowUp(e.searches) } : { nodeName, requests: e.requests }));
}

interface DirectionPlan {
  pod: PodEnd;
  destination: string;
}

function pingRequest(s: DirectionPlan, payloadBytes: number): NodeRequest {
  return { kind: 'ping', where: s.pod.key, destination: s.destination, payloadBytes, count: PING_COUNT };
}

/** Runs each direction's search on this node's probe pod, one size per call. */
export function searchFollowUp(searches: readonly DirectionPlan[]): FollowUp {
  return async (ctx: FollowUpContext) => {
    for (const s of searches) {
      const out = ctx.output();
      const podMtu = podMtuFrom(out.sections.get(`pod/${s.pod.key}/addr`)?.stdout, s.pod.podIP);
      if (podMtu === null) continue; // the namespace was not found: the analysis says so
      const range = { minPayloadBytes: MIN_PROBE_PAYLOAD_BYTES, maxPayloadBytes: Math.max(MIN_PROBE_PAYLOAD_BYTES, podMtu - ICMP_IPV4_OVERHEAD_BYTES) };
      const initial = readPmtuProbes(out.sections, s.pod.key, s.destination);
      await searchPathMtu(
        range,
        async (size) => {
          const next = await ctx.run([
            // Namespaces found in one call are not remembered by the next: find it again first.
            { kind: 'podpid', key: s.pod.key, containerId: s.pod.containerId, podIP: s.pod.podIP },
            pingRequest(s, size),
          ]);
          const section = next.sections.get(`ping/${s.pod.key}/${s.destination}/${size}`);
          return section
            ? pmtuProbeFromSection(section, size)
            : { payloadBytes: size, outcome: 'error', reportedMtuBytes: null, signal: null, detail: 'the node script returned no ping section' };
        },
        initial,
      );
    }
  };
}

function podMtuFrom(addrJson: string | undefined, podIP: string): number | null {
  if (!addrJson) return null;
  const parsed = parseIpAddrJson(addrJson);
  if (!parsed.ok) return null;
  const link = parsed.value.find((l) => l.addresses.some((a) => a.address === podIP)) ?? parsed.value.find((l) => l.ifname === 'eth0');
  return link?.mtuBytes ?? null;
}
