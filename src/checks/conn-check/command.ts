// conn-check: resolve SRC and DST, plan one probe pod per node of the path, and run the probes
// between two counter snapshots: every node reads its counters ("before"), then the source sends
// the probes, then every node reads them again ("after"). A phase barrier keeps the snapshots of
// all nodes tight around the probes; each phase is one exec per node.
import type { ClusterApi, Node, Pod } from '../../kube/cluster-api.js';
import type { CommandSpec } from '../../cli/command-runner.js';
import type { NodeRequest } from '../../node-script/node-script.js';
import type { FollowUp, ProbeTarget } from '../../probe/probe-run.js';
import { diagnoseConnCheck, pathNodesOf, pathPods, probeRequestOf, targetOf, type ConnCheckApi, type ConnCheckReport, type ConnDestination, type ConnPodEnd, type ConnProtocol, type ConnSource } from './analysis.js';
import { renderConnCheck } from './render.js';
import { EXIT, UserError } from '../../errors.js';
import { assertLinuxNode, containerIdOf, nodeInternalIP, podIPsOf, resolvePod } from '../../kube/resolve.js';
import { assertDnsSubdomain } from '../../cli/global-options.js';
import { isIpv4 } from '../../net/ip.js';
import { endpointsFrom, resolveService, selectPorts } from '../trace-svc/command.js';
import { nodeIPsOf } from '../common/pod-targets.js';
import { connPolicyAnswer } from './policy-command.js';
import { CAPTURE_TAG, capturePlanOf, nodePcapFiles, withCaptures } from './capture-command.js';
import { captureRequests, checkPcapDir } from './capture.js';
import { createPhaseBarrier } from '../../probe/phase-barrier.js';

export type ConnRef =
  | { kind: 'pod'; name: string; namespace: string | undefined }
  | { kind: 'node'; name: string }
  | { kind: 'service'; name: string }
  | { kind: 'ip'; address: string; port: number | null };

export interface ConnCheckTarget {
  source: Extract<ConnRef, { kind: 'pod' | 'node' }>;
  destination: ConnRef;
  port: number | null;
  protocol: ConnProtocol | null; // null: from the destination (a Service port's protocol, else tcp with a port, icmp without)
  count: number;
  probe: boolean;
  capture?: boolean; // --capture (or --pcap): a bounded tcpdump in both pods' namespaces
  pcapDir?: string | null; // --pcap DIR: one pcap per hop written there
}

export const DEFAULT_COUNT = 3;
// Each failing TCP probe takes its 2 s connect timeout, and the node script bounds a section at 30 s.
const MAX_COUNT = 10;

function usage(message: string, hint?: string): UserError {
  return new UserError(message, { hint, exitCode: EXIT.usage });
}

function checkName(value: string, what: string, arg: string): void {
  try {
    assertDnsSubdomain(value, what);
  } catch {
    throw usage(`invalid ${what} ${JSON.stringify(value)} in ${arg}`, 'SRC: POD, NAMESPACE/POD or node/NODE; DST: POD, NAMESPACE/POD, svc/SERVICE, node/NODE or IP[:PORT]');
  }
}

/** SRC or DST as typed, classified without I/O. */
export function parseConnRef(value: string, arg: 'SRC' | 'DST'): ConnRef {
  if (value === '') throw usage(`${arg} is empty`);
  // Four dotted numbers were meant as an address: a bad one (999.1.1.1) is an error, not a pod name.
  const ipPort = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(value);
  if (ipPort) {
    if (arg === 'SRC') throw usage('SRC must be a pod or node/NAME: probes are sent from a namespace the tool can enter', 'name the pod or node/NAME that owns the address');
    if (!isIpv4(ipPort[1]!)) throw usage(`DST ${value}: not an IPv4 address`);
    const port = ipPort[2] === undefined ? null : Number(ipPort[2]);
    if (port !== null && (port < 1 || port > 65535)) throw usage(`DST ${value}: port must be 1-65535`);
    return { kind: 'ip', address: ipPort[1]!, port };
  }
  if (value.includes(':')) throw usage(`${arg} ${value}: IPv6 and HOST:PORT forms are not supported; give an IPv4 address`);
  const parts = value.split('/');
  if (parts.length > 2) throw usage(`${arg} ${value}: too many "/"`, 'SRC: POD, NAMESPACE/POD or node/NODE; DST: POD, NAMESPACE/POD, svc/SERVICE, node/NODE or IP[:PORT]');
  if (parts.length === 1) {
    checkName(value, 'pod name', arg);
    return { kind: 'pod', name: value, namespace: undefined };
  }
  const [a, b] = parts as [string, string];
  checkName(b, 'name', arg);
  if (a === 'node' || a === 'nodes' || a === 'no') return { kind: 'node', name: b };
  if (a === 'pod' || a === 'pods' || a === 'po') return { kind: 'pod', name: b, namespace: undefined };
  if (a === 'svc' || a === 'service' || a === 'services') {
    if (arg === 'SRC') throw usage('SRC cannot be a Service: probes are sent from a pod or a node');
    return { kind: 'service', name: b };
  }
  checkName(a, 'namespace', arg);
  return { kind: 'pod', name: b, namespace: a };
}

/** The conn-check arguments, validated before any API call. */
export function readConnCheckTarget(args: Record<string, unknown>): ConnCheckTarget {
  const source = parseConnRef(String(args.src ?? ''), 'SRC');
  if (source.kind !== 'pod' && source.kind !== 'node') throw usage('SRC must be a pod or node/NAME');
  const destination = parseConnRef(String(args.dst ?? ''), 'DST');
  const port = args.port === undefined ? null : Number(args.port);
  if (port !== null && (!Number.isInteger(port) || port < 1 || port > 65535)) throw usage(`--port ${String(args.port)}: must be a number from 1 to 65535`);
  const protocol = args.protocol === undefined ? null : String(args.protocol).toLowerCase();
  if (protocol !== null && protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'icmp') throw usage(`--protocol ${String(args.protocol)}: must be tcp, udp or icmp`);
  const count = args.count === undefined ? DEFAULT_COUNT : Number(args.count);
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) throw usage(`--count ${String(args.count)}: must be a whole number from 1 to ${MAX_COUNT}`);
  if (protocol === 'icmp' && port !== null) throw usage('--port makes no sense with --protocol icmp');
  if (destination.kind === 'ip' && destination.port !== null && port !== null && destination.port !== port) throw usage(`DST ${String(args.dst)} names port ${destination.port} but --port says ${port}`);
  if (destination.kind === 'service' && protocol === 'icmp') throw usage('a Service ClusterIP does not answer ping: use tcp or udp (the default is the Service port\'s protocol)');
  const pcapDir = args.pcap === undefined ? null : String(args.pcap);
  if (pcapDir === '') throw usage('--pcap needs a directory');
  const capture = Boolean(args.capture) || pcapDir !== null;
  if (capture && args['no-probe']) throw usage('--capture and --pcap watch the probes: they cannot be used with --no-probe');
  return { source, destination, port: port ?? (destination.kind === 'ip' ? destination.port : null), protocol: protocol as ConnProtocol | null, count, probe: !args['no-probe'], capture, pcapDir };
}

export function connCheckCommand(target: ConnCheckTarget): CommandSpec<ConnCheckApi, ConnCheckReport> {
  return {
    name: 'conn-check',
    plan: async (api, options) => {
      const namespace = options.namespace ?? api.defaultNamespace;
      const nodes = await api.listNodes();
      const source = await resolveSource(api, target.source, namespace, nodes);
      const { destination, protocol, port } = await resolveDestination(api, target, namespace, nodes);
      if (destination.kind !== 'service' && destination.kind !== 'node' && destination.ip === source.ip) throw usage('SRC and DST are the same address');
      const planApi: ConnCheckApi = { source, destination, protocol, port, count: target.count, probe: target.probe, nodeIPs: nodeIPsOf(nodes) };
      for (const name of pathNodesOf(planApi)) assertLinuxNode(nodes.find((n) => n.metadata?.name === name), name);
      planApi.policy = await connPolicyAnswer(api, planApi);
      if (!target.capture || !target.probe) return { api: planApi, targets: buildConnCheckTargets(planApi, options.timeoutSeconds) };
      if (target.pcapDir) await checkPcapDir(target.pcapDir, nodePcapFiles);
      const capture = capturePlanOf(planApi, target.pcapDir ?? null);
      const plan = captureRequests(capture.hops, capture.flow, capture.caps, CAPTURE_TAG);
      return {
        api: { ...planApi, capture },
        targets: buildConnCheckTargets(planApi, options.timeoutSeconds, { beforeProbes: (n) => plan.start.get(n) ?? [], afterProbes: (n) => plan.stop.get(n) ?? [] }),
      };
    },
    analyze: (collected) => withCaptures(diagnoseConnCheck(collected.api, collected.nodes), collected.api, collected.nodes),
    render: (report, options, colour) => renderConnCheck(report, options, colour),
  };
}

function podEnd(pod: Pod, key: string): ConnPodEnd {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const ip = podIPsOf(pod).find((a) => isIpv4(a));
  if (!ip) throw usage(`pod ${namespace}/${name} has no IPv4 address: conn-check probes IPv4 only`);
  return { kind: 'pod', key, namespace, name, nodeName: pod.spec?.nodeName ?? '', ip, containerId: containerIdOf(pod) };
}

function nodeEnd(nodes: readonly Node[], name: string): { kind: 'node'; nodeName: string; ip: string } {
  const node = nodes.find((n) => n.metadata?.name === name);
  if (!node) throw usage(`node "${name}" not found`, 'kubectl get nodes lists them');
  const ip = nodeInternalIP(node);
  if (!ip || !isIpv4(ip)) throw usage(`node ${name} has no IPv4 InternalIP`);
  return { kind: 'node', nodeName: name, ip };
}

async function resolveSource(api: ClusterApi, ref: ConnCheckTarget['source'], namespace: string, nodes: readonly Node[]): Promise<ConnSource> {
  if (ref.kind === 'node') return nodeEnd(nodes, ref.name);
  const pod = await resolvePod(api, ref.namespace ?? namespace, ref.name);
  // A hostNetwork pod sends from its node's namespace and address.
  return pod.spec?.hostNetwork ? nodeEnd(nodes, pod.spec.nodeName ?? '') : podEnd(pod, 'src');
}

async function resolveDestination(api: ClusterApi, target: ConnCheckTarget, namespace: string, nodes: readonly Node[]): Promise<{ destination: ConnDestination; protocol: ConnProtocol; port: number | null }> {
  const ref = target.destination;
  const withPort = (destination: ConnDestination, fallbackPort: number | null) => {
    const port = target.protocol === 'icmp' ? null : (target.port ?? fallbackPort);
    const protocol: ConnProtocol = target.protocol ?? (port === null ? 'icmp' : 'tcp');
    if (protocol !== 'icmp' && port === null) throw usage(`--protocol ${protocol} needs a port: add --port P`);
    return { destination, protocol, port: protocol === 'icmp' ? null : port };
  };
  if (ref.kind === 'service') return serviceDestination(api, target, namespace, ref.name);
  if (ref.kind === 'node') return withPort(nodeEnd(nodes, ref.name), null);
  if (ref.kind === 'pod') {
    const pod = await resolvePod(api, ref.namespace ?? namespace, ref.name);
    if (pod.spec?.hostNetwork) return withPort(nodeEnd(nodes, pod.spec.nodeName ?? ''), firstContainerPort(pod));
    return withPort(podEnd(pod, 'dst'), firstContainerPort(pod));
  }
  // An address: a node's InternalIP or a pod's IP gives the path its far end.
  const node = nodes.find((n) => nodeInternalIP(n) === ref.address);
  if (node) return withPort(nodeEnd(nodes, node.metadata?.name ?? ''), null);
  const pod = (await api.listPods({ namespace: undefined })).find((p) => !p.spec?.hostNetwork && p.status?.phase === 'Running' && podIPsOf(p).includes(ref.address));
  if (pod) return withPort(podEnd(pod, 'dst'), null);
  return withPort({ kind: 'ip', ip: ref.address, nodeName: null }, null);
}

function firstContainerPort(pod: Pod): number | null {
  for (const c of pod.spec?.containers ?? []) {
    const p = (c.ports ?? []).find((x) => (x.protocol ?? 'TCP') === 'TCP');
    if (p) return p.containerPort;
  }
  return null;
}

async function serviceDestination(api: ClusterApi, target: ConnCheckTarget, namespace: string, name: string): Promise<{ destination: ConnDestination; protocol: ConnProtocol; port: number | null }> {
  const service = await resolveService(api, namespace, name);
  const clusterIP = service.spec?.clusterIP;
  if (!clusterIP || clusterIP === 'None' || !isIpv4(clusterIP)) throw usage(`svc ${namespace}/${name} has no IPv4 ClusterIP (headless or ExternalName): probe a pod behind it instead`);
  const port = selectPorts(service, target.port === null ? undefined : String(target.port))[0];
  if (!port) throw usage(`svc ${namespace}/${name} has no ports`);
  const protocol = target.protocol ?? (port.protocol === 'udp' ? 'udp' : 'tcp');
  if (port.protocol !== protocol) throw usage(`svc ${namespace}/${name} port ${port.port} is ${port.protocol.toUpperCase()}, not ${protocol.toUpperCase()}`);
  const selected = service.spec?.selector ? await api.listPods({ namespace, labelSelector: Object.entries(service.spec.selector).map(([k, v]) => `${k}=${v}`).join(',') }) : [];
  const endpoints = endpointsFrom(await api.listEndpointSlices(namespace, name), selected).filter((e) => e.ready);
  const ends: ConnPodEnd[] = [];
  const targetPorts = new Set<number>();
  for (const e of endpoints) {
    const pod = selected.find((p) => podIPsOf(p).includes(e.ip));
    if (!pod || pod.spec?.hostNetwork || !e.nodeName) continue;
    ends.push({ ...podEnd(pod, `e${ends.length}`), ip: e.ip, nodeName: e.nodeName });
    const p = e.ports.find((x) => x.name === port.name) ?? e.ports[0];
    if (p) targetPorts.add(p.port);
  }
  const targetPort = targetPorts.size === 1 ? [...targetPorts][0]! : /^\d+$/.test(port.targetPort) ? Number(port.targetPort) : null;
  return { destination: { kind: 'service', namespace, name, clusterIP, port: port.port, targetPort, endpoints: ends }, protocol, port: port.port };
}

/**
 * Extra node-script requests that ride in the before and after execs of a node, e.g. a bounded
 * capture started in the background before the probes and read back after them. (Not a third
 * exec during the probes: one probe pod's calls run one at a time.)
 */
export interface ConnCheckPhaseHooks {
  beforeProbes?: (nodeName: string) => NodeRequest[];
  afterProbes?: (nodeName: string) => NodeRequest[];
}

/** One probe pod per node of the path; the follow-ups take the counters around the probes. */
export function buildConnCheckTargets(api: ConnCheckApi, timeoutSeconds: number, hooks: ConnCheckPhaseHooks = {}): ProbeTarget[] {
  const nodes = pathNodesOf(api);
  const pods = pathPods(api);
  const target = targetOf(api);
  const farAddresses = [target.address, ...pods.filter((p) => p.key !== 'src').map((p) => p.ip)];
  // The first phase waits for the slowest probe pod to start; the later ones only for the probes.
  const barrier = createPhaseBarrier(nodes, (phase) => (phase === 'ready' ? timeoutSeconds * 1000 : (api.count * 4 + 30) * 1000));
  return nodes.map((nodeName) => {
    const here = pods.filter((p) => p.nodeName === nodeName);
    const requests: NodeRequest[] = [{ kind: 'host' }];
    const routes = nodeName === api.source.nodeName ? farAddresses : [api.source.ip];
    for (const address of new Set([...routes, ...Object.values(api.nodeIPs).filter((ip) => ip !== api.nodeIPs[nodeName]).slice(0, 1)])) requests.push({ kind: 'route-get', address });
    for (const p of here) requests.push({ kind: 'pod', key: p.key, containerId: p.containerId, podIP: p.ip });
    if (!api.probe) return { nodeName, requests };
    return { nodeName, requests, followUp: countersAroundProbes(api, nodeName, here, barrier, hooks), onGiveUp: () => barrier.leave(nodeName) };
  });
}

function countersAroundProbes(api: ConnCheckApi, nodeName: string, here: readonly ConnPodEnd[], barrier: ReturnType<typeof createPhaseBarrier>, hooks: ConnCheckPhaseHooks): FollowUp {
  const find = (p: ConnPodEnd): NodeRequest => ({ kind: 'podpid', key: p.key, containerId: p.containerId, podIP: p.ip });
  const snapshot = (phase: 'before' | 'after'): NodeRequest[] => [
    ...here.map(find),
    { kind: 'counters', phase, where: 'host' },
    ...here.map((p): NodeRequest => ({ kind: 'counters', phase, where: p.key })),
  ];
  return async (ctx) => {
    await barrier.arrive('ready', nodeName);
    await ctx.run([...snapshot('before'), ...(hooks.beforeProbes?.(nodeName) ?? [])]);
    await barrier.arrive('before', nodeName);
    if (nodeName === api.source.nodeName) {
      const src = api.source;
      await ctx.run([...(src.kind === 'pod' ? [find(src)] : []), probeRequestOf(api)]);
    }
    await barrier.arrive('probed', nodeName);
    await ctx.run([...snapshot('after'), ...(hooks.afterProbes?.(nodeName) ?? [])]);
  };
}
