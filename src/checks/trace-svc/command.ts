// trace-svc: resolve the Service, its EndpointSlices and the nodes to look at; probe those nodes
// for kube-proxy's rules, routes to the endpoints and the endpoints' veths.
import type { ClusterApi, EndpointSlice, Node, Pod, Service } from '../../kube/cluster-api.js';
import type { CommandSpec } from '../../cli/command-runner.js';
import type { NodeRequest } from '../../node-script/node-script.js';
import type { ProbeTarget } from '../../probe/probe-run.js';
import { diagnoseTraceSvc, probeRequests, type ApiEndpoint, type ServicePortSpec, type TraceNode, type TraceSvcApi, type TraceSvcReport } from './analysis.js';
import type { L4Protocol } from '../../kube-proxy/service-chain.js';
import type { PodTarget } from '../common/pod-targets.js';
import { renderTraceSvc } from './render.js';
import { EXIT, UserError } from '../../errors.js';
import { assertDnsLabel, assertDnsSubdomain } from '../../cli/global-options.js';
import { containerIdOf, nodeInternalIP, podIPsOf, resolvePod } from '../../kube/resolve.js';
import { nodeIPsOf } from '../common/pod-targets.js';
import { fetchClusterDataplane } from '../../kube-proxy/dataplane-api.js';

export interface TraceSvcTarget {
  service: string | null; // null with --from-snapshot
  port: string | undefined;
  fromPod: string | undefined;
  fromNode: string | undefined;
  probe: boolean;
  allNodes?: boolean; // trace on every Linux node (smoke, and the seed-003 "new node" hunt)
}

export function traceSvcCommand(target: TraceSvcTarget): CommandSpec<TraceSvcApi, TraceSvcReport> {
  return {
    name: 'trace-svc',
    plan: async (api, options) => {
      if (target.service === null) throw new UserError('trace-svc needs a SERVICE name');
      const namespace = options.namespace ?? api.defaultNamespace;
      const service = await resolveService(api, namespace, target.service);
      const ports = selectPorts(service, target.port);
      const nodeList = api.listNodes();
      const [slices, nodes, dataplane] = await Promise.all([api.listEndpointSlices(namespace, target.service), nodeList, fetchClusterDataplane(api, nodeList)]);
      const selected = service.spec?.selector ? await api.listPods({ namespace, labelSelector: Object.entries(service.spec.selector).map(([k, v]) => `${k}=${v}`).join(',') }) : [];
      const endpoints = endpointsFrom(slices, selected);
      const notReadyPods = selected
        .filter((p) => p.status?.phase === 'Running' && !p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        .map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);

      const source = await resolveSource(api, target, namespace, nodes);
      const endpointNodes = new Set(endpoints.map((e) => e.nodeName).filter((n): n is string => Boolean(n)));
      let sourceNodes: string[];
      if (source) sourceNodes = [source.nodeName];
      else if (target.allNodes) sourceNodes = nodes.filter((n) => (n.metadata?.labels?.['kubernetes.io/os'] ?? 'linux') === 'linux').map((n) => n.metadata?.name ?? '');
      else {
        // Default: every node hosting an endpoint plus one that does not (the seed-003 new node).
        const without = nodes.map((n) => n.metadata?.name ?? '').find((n) => n && !endpointNodes.has(n));
        sourceNodes = [...endpointNodes, ...(without ? [without] : [])];
        if (sourceNodes.length === 0) sourceNodes = nodes.slice(0, 1).map((n) => n.metadata?.name ?? '');
      }
      const probed = new Set([...sourceNodes, ...endpointNodes]);
      const traceNodes: TraceNode[] = [...probed].map((name) => {
        const isSource = sourceNodes.includes(name);
        const hostsEndpoints = endpointNodes.has(name);
        const zone = nodes.find((x) => x.metadata?.name === name)?.metadata?.labels?.['topology.kubernetes.io/zone'] ?? null;
        return { name, internalIP: internalIPOf(nodes, name), role: isSource && hostsEndpoints ? 'source+endpoint' : isSource ? 'source' : 'endpoint', hostsEndpoints, zone };
      });
      const endpointPods: PodTarget[] = [];
      for (const e of endpoints) {
        const pod = selected.find((p) => p.status?.podIP === e.ip || podIPsOf(p).includes(e.ip));
        if (!pod || !e.nodeName) continue;
        e.podKey = `e${endpointPods.length}`;
        endpointPods.push({ key: e.podKey, namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', nodeName: e.nodeName, podIPs: podIPsOf(pod), hostNetwork: pod.spec?.hostNetwork === true, containerId: containerIdOf(pod) });
      }
      const nodeIPs = nodeIPsOf(nodes);
      const planApi: TraceSvcApi = {
        service: {
          namespace,
          name: target.service,
          type: service.spec?.type ?? 'ClusterIP',
          clusterIPs: (service.spec?.clusterIPs ?? [service.spec?.clusterIP]).filter((ip): ip is string => Boolean(ip) && ip !== 'None'),
          selector: service.spec?.selector ?? null,
          sessionAffinity: service.spec?.sessionAffinity ?? null,
          internalTrafficPolicy: service.spec?.internalTrafficPolicy ?? null,
          externalTrafficPolicy: service.spec?.externalTrafficPolicy ?? null,
          externalIPs: service.spec?.externalIPs ?? [],
          loadBalancerIngress: (service.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip.includes('.')),
          loadBalancerSourceRanges: (service.spec?.loadBalancerSourceRanges ?? []).map((r) => r.trim()),
          healthCheckNodePort: service.spec?.healthCheckNodePort ?? null,
          externalName: service.spec?.type === 'ExternalName' ? (service.spec.externalName ?? '') : null,
        },
        ports,
        endpoints,
        notReadyPods,
        source,
        nodes: traceNodes,
        clusterCidrs: nodes.flatMap((n) => n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])).filter((c) => c.includes('.')),
        probe: target.probe,
        endpointPods: { pods: endpointPods, nodeIPs },
        dataplane,
      };
      // Headless and ExternalName Services have no kube-proxy rules by design: nothing to probe.
      if (planApi.service.clusterIPs.length === 0) return { api: { ...planApi, nodes: [] }, targets: [] };
      const targets: ProbeTarget[] = traceNodes.map((n) => {
        const requests: NodeRequest[] = [{ kind: 'host' }];
        if (n.role !== 'endpoint') {
          requests.push({ kind: 'host-kube-proxy' });
          for (const ip of new Set(endpoints.map((e) => e.ip))) requests.push({ kind: 'route-get', address: ip });
        }
        for (const p of endpointPods.filter((x) => x.nodeName === n.name)) {
          const ip = p.podIPs.find((a) => a.includes('.'));
          if (ip) requests.push({ kind: 'pod', key: p.key, containerId: p.containerId, podIP: ip });
        }
        if (source?.kind === 'pod' && source.nodeName === n.name) requests.push({ kind: 'pod', key: source.key, containerId: source.containerId, podIP: source.ip });
        if (target.probe && sourceNodes.includes(n.name)) requests.push(...probeRequests(planApi, n.name));
        return { nodeName: n.name, requests };
      });
      return { api: planApi, targets };
    },
    analyze: (collected) => diagnoseTraceSvc(collected.api, collected.nodes),
    render: (report, options, colour) => renderTraceSvc(report, options, colour),
  };
}

export async function resolveService(api: ClusterApi, namespace: string, name: string): Promise<Service> {
  try {
    return await api.readService(namespace, name);
  } catch (err) {
    if (err instanceof UserError && /not found/.test(err.message)) {
      const elsewhere = (await api.listServices({ namespace: undefined }).catch(() => [] as Service[])).filter((s) => s.metadata?.name === name).map((s) => s.metadata?.namespace ?? '');
      throw new UserError(`service "${name}" not found in namespace "${namespace}"`, {
        hint: elsewhere.length > 0 ? `it exists in namespace ${elsewhere.map((n) => `"${n}"`).join(', ')}: add -n ${elsewhere[0]}` : 'kubectl get svc -A lists the services',
        exitCode: EXIT.usage,
      });
    }
    throw err;
  }
}

export function selectPorts(service: Service, wanted: string | undefined): ServicePortSpec[] {
  const all: ServicePortSpec[] = (service.spec?.ports ?? []).map((p) => ({
    name: p.name ?? '',
    protocol: (p.protocol ?? 'TCP').toLowerCase() as L4Protocol,
    port: p.port,
    targetPort: String(p.targetPort ?? p.port),
    nodePort: p.nodePort ?? null,
  }));
  if (wanted === undefined) return all;
  const match = all.filter((p) => p.name === wanted || String(p.port) === wanted);
  if (match.length === 0) {
    throw new UserError(`service ${service.metadata?.namespace}/${service.metadata?.name} has no port "${wanted}"`, {
      hint: `its ports: ${all.map((p) => `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol.toUpperCase()}`).join(', ') || '<none>'}`,
    });
  }
  return match;
}

export function endpointsFrom(slices: readonly EndpointSlice[], pods: readonly Pod[]): ApiEndpoint[] {
  const out: ApiEndpoint[] = [];
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const ports = (slice.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port ?? 0, protocol: (p.protocol ?? 'TCP').toLowerCase() as L4Protocol }));
    for (const e of slice.endpoints ?? []) {  // the API sends null for an empty slice
      for (const ip of e.addresses) {
        const ref = e.targetRef?.kind === 'Pod' ? `${e.targetRef.namespace ?? slice.metadata?.namespace}/${e.targetRef.name}` : null;
        const pod = pods.find((p) => podIPsOf(p).includes(ip));
        out.push({
          ip,
          ports,
          // An absent "ready" means ready (EndpointSlice API).
          ready: e.conditions?.ready !== false,
          serving: e.conditions?.serving !== false,
          terminating: e.conditions?.terminating === true,
          nodeName: e.nodeName ?? pod?.spec?.nodeName ?? null,
          pod: ref ?? (pod ? `${pod.metadata?.namespace}/${pod.metadata?.name}` : null),
          podKey: null,
          zoneHints: (e.hints?.forZones ?? []).map((z) => z.name),
          nodeHints: (e.hints?.forNodes ?? []).map((n) => n.name),
        });
      }
    }
  }
  return out;
}

async function resolveSource(api: ClusterApi, target: TraceSvcTarget, namespace: string, nodes: readonly Node[]): Promise<TraceSvcApi['source']> {
  if (target.fromPod !== undefined && target.fromNode !== undefined) throw new UserError('--from and --from-node cannot be used together');
  if (target.fromPod !== undefined) {
    const [first, second] = target.fromPod.split('/', 2);
    const podNamespace = second === undefined ? namespace : first!;
    const podName = second ?? first!;
    const pod = await resolvePod(api, podNamespace, podName);
    const ip = podIPsOf(pod).find((a) => a.includes('.'));
    if (!ip) throw new UserError(`pod ${podNamespace}/${podName} has no IPv4 address`);
    if (pod.spec?.hostNetwork) return { kind: 'node', nodeName: pod.spec.nodeName ?? '' };
    return { kind: 'pod', namespace: podNamespace, name: podName, nodeName: pod.spec?.nodeName ?? '', ip, key: 'src', containerId: containerIdOf(pod) };
  }
  if (target.fromNode !== undefined) {
    if (!nodes.some((n) => n.metadata?.name === target.fromNode)) throw new UserError(`node "${target.fromNode}" not found`, { hint: 'kubectl get nodes lists them' });
    return { kind: 'node', nodeName: target.fromNode };
  }
  return null;
}

function internalIPOf(nodes: readonly Node[], name: string): string | null {
  const n = nodes.find((x) => x.metadata?.name === name);
  return n ? (nodeInternalIP(n) ?? null) : null;
}

/** The flags and positionals of the command line, checked, as its target. */
export function readTraceSvcTarget(args: Record<string, unknown>): TraceSvcTarget {
  const opt = (k: string) => (args[k] === undefined ? undefined : String(args[k]));
  const service = opt('service');
  if (service === undefined && args['from-snapshot'] === undefined) {
    throw new UserError('trace-svc needs a SERVICE name', { hint: 'kubectl netdiag trace-svc --help' });
  }
  if (service !== undefined) assertDnsLabel(service, 'service name');
  const fromPod = opt('from');
  const fromNode = opt('from-node');
  if (fromPod !== undefined) {
    // --from NAME (the Service's namespace) or --from NAMESPACE/NAME.
    const [a, b] = fromPod.split('/', 2);
    if (b !== undefined) assertDnsLabel(a!, 'namespace');
    assertDnsSubdomain(b ?? a!, 'pod name');
  }
  if (fromNode !== undefined) assertDnsSubdomain(fromNode, 'node name');
  if (fromPod !== undefined && fromNode !== undefined) throw new UserError('--from and --from-node cannot be used together');
  const port = opt('port');
  if (port !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(port)) throw new UserError(`invalid --port ${JSON.stringify(port)}: a port name or number`);
  if (args['all-nodes'] && (fromPod !== undefined || fromNode !== undefined)) throw new UserError('--all-nodes cannot be used with --from or --from-node');
  return { service: service ?? null, port, fromPod, fromNode, probe: Boolean(args.probe), allNodes: Boolean(args['all-nodes']) };
}
