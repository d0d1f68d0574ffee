// What every pod-level command hands the node script and its analysis about the pods it probes.
import type { ClusterApi, Node, Pod } from '../../kube/cluster-api.js';
import { assertLinuxNode, containerIdOf, nodeInternalIP, podIPsOf } from '../../kube/resolve.js';

/** A pod the node script is asked about. */
export interface PodTarget {
  key: string; // "p0": how the node script names this pod's sections
  namespace: string;
  name: string;
  nodeName: string;
  podIPs: string[];
  hostNetwork: boolean;
  containerId: string | null;
}

/** Pods keyed p0, p1, ... (the node script's names for them), with what finds their netns. */
export function podTargetsOf(pods: readonly Pod[], keyPrefix = 'p'): PodTarget[] {
  return pods.map((p, i) => ({
    key: `${keyPrefix}${i}`,
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    nodeName: p.spec?.nodeName ?? '',
    podIPs: podIPsOf(p),
    hostNetwork: p.spec?.hostNetwork === true,
    containerId: containerIdOf(p),
  }));
}

/** node name -> InternalIP, for the nodes that report one. */
export function nodeIPsOf(nodes: readonly Node[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of nodes) {
    const ip = nodeInternalIP(n);
    if (n.metadata?.name && ip) out[n.metadata.name] = ip;
  }
  return out;
}

export interface PodPlan {
  nodes: Node[];
  nodeIPs: Record<string, string>;
  podTargets: PodTarget[];
  nodeNames: string[]; // nodes that host a non-hostNetwork target pod: the ones to probe
}

/** The start every pod-level plan shares: the targets, their nodes (Linux only) and node IPs. */
export async function planPods(api: ClusterApi, pods: readonly Pod[]): Promise<PodPlan> {
  const nodes = await api.listNodes();
  const podTargets = podTargetsOf(pods);
  const nodeNames = [...new Set(podTargets.filter((p) => !p.hostNetwork).map((p) => p.nodeName))];
  for (const name of nodeNames) assertLinuxNode(nodes.find((n) => n.metadata?.name === name), name);
  return { nodes, nodeIPs: nodeIPsOf(nodes), podTargets, nodeNames };
}
