// Turns one node's raw script output into typed facts, shared by every command. A section that is
// missing or does not parse becomes a named problem ("could not parse ip -j -d addr show from node
// X"), never an exception, so the other nodes and sections still count.
import type { NodeCollection } from '../../probe/probe-run.js';
import type { Finding } from '../finding.js';
import { isUnprobeableNodeMessage } from '../../probe/admission.js';
import { parseNodeScriptOutput, type RawSection } from '../../probe/sections.js';
import { parseIpAddrJson, type NetLink } from '../../parse/ip-addr.js';
import { parseIpRouteGetJson, parseIpRouteJson, type RouteEntry } from '../../parse/ip-route.js';
import type { ParseResult } from '../../parse/json-input.js';
import { parseSysctlGrep, type NodeSysctls } from '../../parse/sysctl.js';
import { parseEthtoolPeers } from '../../parse/ethtool-stats.js';
import { parseKeyValues } from '../../parse/key-values.js';
import { readRuleDumps, ruleDumpProblems } from '../../kube-proxy/rule-dumps.js';

export interface NamespaceFacts {
  links: NetLink[] | null;
  routes: RouteEntry[] | null;
  sysctl: NodeSysctls | null;
}

/**
 * How the node script found a pod's namespace: the container's own cgroup scope, a namespace file
 * pinned by the runtime (CRI-O, containerd) holding the pod IP, or a process holding the pod IP.
 */
export const POD_NETNS_METHODS = ['container-id', 'pinned-netns', 'pod-ip'] as const;
export type PodNetnsMethod = (typeof POD_NETNS_METHODS)[number] | 'none';

export interface PodNetnsFacts extends NamespaceFacts {
  key: string;
  pid: number | null; // null when only a pinned namespace file is left (no process in the pod)
  netnsFile: string | null; // the file the probe entered: /proc/PID/ns/net or a pinned /run/netns file
  pidMethod: PodNetnsMethod;
  ethtoolPeerIfindex: Map<string, number>; // iface -> peer_ifindex from ethtool -S
}

export interface NodeFacts {
  nodeName: string;
  host: NamespaceFacts;
  pods: Map<string, PodNetnsFacts>;
  routeGets: Map<string, RouteEntry>;
  sections: Map<string, RawSection>;
  problems: string[]; // each names the section and the node
}

export function readNodeFacts(node: Extract<NodeCollection, { ok: true }>): NodeFacts {
  const out = parseNodeScriptOutput(node.raw, node.token);
  const problems = out.problems.map((p) => `node ${node.nodeName}: ${p}`);
  const section = (name: string) => out.sections.get(name);
  const parse = <T>(name: string, parser: (s: RawSection) => ParseResult<T>): T | null => {
    const s = section(name);
    if (!s) return null;
    const r = parser(s);
    if (r.ok) return r.value;
    problems.push(`could not parse ${r.error.source} (section ${name}) from node ${node.nodeName}: ${r.error.message}${s.stderr ? ` (${s.stderr.trim().split('\n')[0]})` : ''}`);
    return null;
  };
  const namespace = (prefix: string): NamespaceFacts => ({
    links: parse(`${prefix}/addr`, (s) => parseIpAddrJson(s.stdout)),
    routes: parse(`${prefix}/route`, (s) => parseIpRouteJson(s.stdout)),
    sysctl: parse(`${prefix}/sysctl`, (s) => parseSysctlGrep(s.stdout)),
  });

  const pods = new Map<string, PodNetnsFacts>();
  const routeGets = new Map<string, RouteEntry>();
  for (const name of out.sections.keys()) {
    const pod = /^pod\/([a-z0-9]+)\/pid$/.exec(name);
    if (pod) {
      const key = pod[1]!;
      const fields = parseKeyValues(section(name)!.stdout);
      const pidText = fields.get('pid') ?? '';
      const pid = /^\d+$/.test(pidText) ? Number(pidText) : NaN;
      const method = fields.get('method') ?? '';
      const nsFileText = fields.get('netnsFile') ?? '';
      const netnsFile = /^\/\S+$/.test(nsFileText) ? nsFileText : Number.isFinite(pid) ? `/proc/${pid}/ns/net` : null;
      pods.set(key, {
        key,
        pid: Number.isFinite(pid) ? pid : null,
        netnsFile,
        pidMethod: (POD_NETNS_METHODS as readonly string[]).includes(method) ? (method as PodNetnsMethod) : 'none',
        ...(netnsFile !== null ? namespace(`pod/${key}`) : { links: null, routes: null, sysctl: null }),
        ethtoolPeerIfindex: parseEthtoolPeers(section(`pod/${key}/ethtool`)?.stdout ?? ''),
      });
    }
    const get = /^route-get\/(.+)$/.exec(name);
    if (get && !name.endsWith('#stderr')) {
      const s = section(name)!;
      const r = parseIpRouteGetJson(s.stdout, s.stderr);
      if (r.ok) routeGets.set(get[1]!, r.value);
    }
  }
  problems.push(...ruleDumpProblems(node.nodeName, readRuleDumps(out.sections)));
  return { nodeName: node.nodeName, host: namespace('host'), pods, routeGets, sections: out.sections, problems };
}

/** The command an operator runs on the node to enter the pod's namespace (remedies cite it). */
export function podNsenterCommand(podNs: Pick<PodNetnsFacts, 'pid' | 'netnsFile'>): string {
  if (podNs.pid !== null) return `nsenter -t ${podNs.pid} -n`;
  // The probe reads the node's files through /proc/HOSTPID/root; on the node itself the path is plain.
  return `nsenter --net=${(podNs.netnsFile ?? '').replace(/^\/proc\/\d+\/root/, '')}`;
}

/**
 * The finding for a node whose probe pod gave no output; the other nodes still report. A node that
 * cannot run a probe pod by design (EKS Fargate, virtual-kubelet) is said once, as info.
 */
export function nodeFailedFinding(nodeName: string, error: string): Finding {
  if (isUnprobeableNodeMessage(error)) {
    return {
      code: 'probe.node-unprobeable',
      severity: 'info',
      subject: `node ${nodeName}`,
      message: 'this node cannot run the privileged probe pod, so it was not probed',
      evidence: [error],
      remedy: 'nothing to fix: its pods cannot be diagnosed at node level; the other nodes were diagnosed',
    };
  }
  return {
    code: 'probe.node-failed',
    severity: 'error',
    subject: `node ${nodeName}`,
    message: 'the probe pod could not collect facts from this node',
    evidence: [error],
    remedy: 'check the node (kubectl describe node) and the probe pod events; the other nodes were still diagnosed',
  };
}

export interface NodeFactsSet {
  facts: Map<string, NodeFacts>;
  problems: string[]; // sections that could not be read, per node
  failed: Array<{ nodeName: string; error: string }>; // nodes with no output at all
}

/** Every node's typed facts, the sections that did not parse, and the nodes that gave nothing. */
export function readAllNodeFacts(nodes: readonly NodeCollection[]): NodeFactsSet {
  const set: NodeFactsSet = { facts: new Map(), problems: [], failed: [] };
  for (const node of nodes) {
    if (!node.ok) {
      set.failed.push({ nodeName: node.nodeName, error: node.error });
      continue;
    }
    const f = readNodeFacts(node);
    set.facts.set(node.nodeName, f);
    set.problems.push(...f.problems);
  }
  return set;
}

export interface PodLocator {
  nodeName: string;
  key: string;
  hostNetwork: boolean;
  containerId: string | null;
  podIPs: readonly string[];
}

export type PodNamespaceLookup =
  | { kind: 'host-network' }
  | { kind: 'node-unreadable'; note: string }
  | { kind: 'netns-missing'; note: string; evidence: string[] }
  | { kind: 'found'; node: NodeFacts; podNs: PodNetnsFacts & { links: NonNullable<PodNetnsFacts['links']> } };

/** Where a pod's network namespace facts are, or why there are none. */
export function locatePodNamespace(pod: PodLocator, facts: ReadonlyMap<string, NodeFacts>): PodNamespaceLookup {
  if (pod.hostNetwork) return { kind: 'host-network' };
  const node = facts.get(pod.nodeName);
  if (!node || !node.host.links) return { kind: 'node-unreadable', note: `node ${pod.nodeName} could not be read` };
  const podNs = node.pods.get(pod.key);
  if (!podNs || podNs.netnsFile === null || !podNs.links) {
    return {
      kind: 'netns-missing',
      note: "the pod's network namespace was not found on the node (container id and pod IP both missed)",
      evidence: [`containerID ${pod.containerId ?? '<none>'}`, `podIPs ${pod.podIPs.join(',') || '<none>'}`],
    };
  }
  return { kind: 'found', node, podNs: { ...podNs, links: podNs.links } };
}
