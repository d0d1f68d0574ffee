// node-check: resolve the nodes, the Services kube-proxy must program and the kube-proxy/CNI agent
// pods through the API, probe every node in parallel (one probe pod each), judge each node.
import type { ClusterApi, Node, Pod, Service } from '../../kube/cluster-api.js';
import type { CommandSpec } from '../../cli/command-runner.js';
import type { NodeRequest } from '../../node-script/node-script.js';
import type { ProbeTarget } from '../../probe/probe-run.js';
import { diagnoseNodeCheck, inferServiceCidr, type AgentPod, type AgentRole, type FleetNode, type NodeCheckReport, type NodeFleetApi, type ServiceCidr } from './analysis.js';
import { renderNodeCheck } from './render.js';
import { EXIT, UserError } from '../../errors.js';
import { assertDnsSubdomain } from '../../cli/global-options.js';
import { assertLinuxNode, nodeInternalIP } from '../../kube/resolve.js';
import { fetchClusterDataplane } from '../../kube-proxy/dataplane-api.js';
import { parseIpv4Cidr } from '../../net/ip.js';

export type NodeCheckTarget =
  | { kind: 'nodes'; names: string[]; serviceCidr: string | null }
  | { kind: 'all'; serviceCidr: string | null }
  | { kind: 'snapshot' }; // --from-snapshot: the nodes come from the snapshot

export function nodeCheckCommand(target: NodeCheckTarget): CommandSpec<NodeFleetApi, NodeCheckReport> {
  return {
    name: 'node-check',
    plan: async (api) => {
      if (target.kind === 'snapshot') throw new UserError('node-check needs NODE names or --all');
      return planNodeFleet(api, target.kind === 'all' ? null : target.names, target.serviceCidr);
    },
    analyze: (collected) => diagnoseNodeCheck(collected.api, collected.nodes),
    render: (report, options, colour) => renderNodeCheck(report, options, colour),
  };
}

/** `kubectl netdiag node-check a b --service-cidr 10.96.0.0/12` -> a target; names checked first. */
export function readNodeCheckTarget(args: Record<string, unknown>): NodeCheckTarget {
  const names = ((args.node as unknown[] | undefined) ?? []).map(String);
  const all = Boolean(args.all);
  const serviceCidr = readServiceCidrFlag(args);
  if (names.length === 0 && !all && args['from-snapshot'] !== undefined) return { kind: 'snapshot' };
  if ((names.length === 0) === !all) {
    throw new UserError('node-check needs NODE names or --all (not both)', { hint: 'kubectl netdiag node-check --help', exitCode: EXIT.usage });
  }
  for (const n of names) assertDnsSubdomain(n, 'node name');
  return all ? { kind: 'all', serviceCidr } : { kind: 'nodes', names: [...new Set(names)], serviceCidr };
}

export function readServiceCidrFlag(args: Record<string, unknown>): string | null {
  if (args['service-cidr'] === undefined) return null;
  const text = String(args['service-cidr']);
  const c = parseIpv4Cidr(text);
  if (c === null || !text.includes('/')) {
    throw new UserError(`invalid --service-cidr ${JSON.stringify(text)}: give an IPv4 CIDR such as 10.96.0.0/12`, { exitCode: EXIT.usage });
  }
  return text;
}

const AGENT_SELECTORS: ReadonlyArray<[AgentRole, string]> = [
  ['kube-proxy', 'k8s-app=kube-proxy'],
  ['calico-node', 'k8s-app=calico-node'],
  ['flannel', 'app=flannel'],
  ['cilium', 'k8s-app=cilium'],
];

/**
 * The API side of node-check and node-diff: every node (for peer pod CIDR routes), the Service
 * ports kube-proxy must program, the agent pods, and one probe target per checked node.
 * `names` null means every Linux node.
 */
export async function planNodeFleet(api: ClusterApi, names: readonly string[] | null, serviceCidrFlag: string | null): Promise<{ api: NodeFleetApi; targets: ProbeTarget[] }> {
  const nodeList = api.listNodes();
  const [nodes, services, dataplane, ...agentLists] = await Promise.all([
    nodeList,
    api.listServices({ namespace: undefined }),
    fetchClusterDataplane(api, nodeList),
    ...AGENT_SELECTORS.map(([, selector]) => api.listPods({ namespace: undefined, labelSelector: selector })),
  ]);
  const linux = nodes.filter((n) => osOf(n) === 'linux');
  let checked: string[];
  if (names === null) {
    checked = linux.map((n) => n.metadata?.name ?? '').filter(Boolean);
    if (checked.length === 0) throw new UserError('the cluster has no Linux nodes to check', { exitCode: EXIT.usage });
  } else {
    for (const name of names) {
      const node = nodes.find((n) => n.metadata?.name === name);
      if (!node) {
        throw new UserError(`node "${name}" not found`, { hint: `nodes: ${nodes.map((n) => n.metadata?.name).slice(0, 10).join(', ')}`, exitCode: EXIT.usage });
      }
      assertLinuxNode(node, name);
    }
    checked = [...names];
  }
  const fleet: FleetNode[] = nodes.map((n) => ({
    name: n.metadata?.name ?? '',
    internalIP: nodeInternalIP(n) ?? null,
    podCIDRs: n.spec?.podCIDRs?.length ? [...n.spec.podCIDRs] : n.spec?.podCIDR ? [n.spec.podCIDR] : [],
  }));
  const agents = AGENT_SELECTORS.flatMap(([role], i) => (agentLists[i] ?? []).map((p) => agentPod(role, p)));
  const fleetApi: NodeFleetApi = {
    nodes: fleet,
    checked,
    expectedServicePorts: expectedServicePorts(services),
    serviceCidr: serviceCidrOf(services, serviceCidrFlag),
    agents,
    dataplane,
  };
  const targets: ProbeTarget[] = checked.map((nodeName) => {
    const requests: NodeRequest[] = [{ kind: 'host' }, { kind: 'host-kube-proxy' }, { kind: 'host-files' }];
    // The source address the node uses towards another node (a second NIC address, seed 003).
    const peer = fleet.find((n) => n.name !== nodeName && n.internalIP !== null && parseIpv4Cidr(n.internalIP) !== null);
    if (peer?.internalIP) requests.push({ kind: 'route-get', address: peer.internalIP });
    return { nodeName, requests };
  });
  return { api: fleetApi, targets };
}

function osOf(node: Node): string {
  return node.metadata?.labels?.['kubernetes.io/os'] ?? node.status?.nodeInfo?.operatingSystem ?? 'linux';
}

/** Every port of every Service kube-proxy handles: a ClusterIP, not ExternalName, not delegated. */
export function expectedServicePorts(services: readonly Service[]): string[] {
  const out: string[] = [];
  for (const s of services) {
    const ip = s.spec?.clusterIP;
    if (!ip || ip === 'None' || s.spec?.type === 'ExternalName') continue;
    // kube-proxy ignores Services another proxy claims.
    if (s.metadata?.labels?.['service.kubernetes.io/service-proxy-name'] !== undefined) continue;
    if (parseIpv4Cidr(ip) === null) continue;
    // kube-proxy's ServicePortName: "ns/name:port", or "ns/name" for an unnamed port.
    for (const p of s.spec?.ports ?? []) out.push(`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}${p.name ? `:${p.name}` : ''}`);
  }
  return [...new Set(out)].sort();
}

function serviceCidrOf(services: readonly Service[], flag: string | null): ServiceCidr | null {
  if (flag) return { cidr: flag, source: 'flag' };
  const ips = services.map((s) => s.spec?.clusterIP ?? '').filter((ip) => ip && ip !== 'None');
  const cidr = inferServiceCidr(ips);
  return cidr ? { cidr, source: 'inferred' } : null;
}

function agentPod(role: AgentRole, p: Pod): AgentPod {
  const statuses = p.status?.containerStatuses ?? [];
  const reason = statuses.map((c) => c.state?.waiting?.reason ?? c.state?.terminated?.reason).find((r) => r) ?? p.status?.reason ?? null;
  return {
    role,
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    nodeName: p.spec?.nodeName ?? null,
    targetNode: daemonSetTarget(p),
    phase: p.status?.phase ?? 'Unknown',
    ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? (statuses.length > 0 && statuses.every((c) => c.ready)),
    reason: reason ?? null,
  };
}

/** A DaemonSet pod names its node in a required node affinity on metadata.name before it is bound. */
function daemonSetTarget(p: Pod): string | null {
  const terms = p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    const f = t.matchFields?.find((m) => m.key === 'metadata.name' && m.operator === 'In');
    if (f?.values?.[0]) return f.values[0];
  }
  return null;
}
