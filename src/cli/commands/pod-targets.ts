// What every pod-level command hands the node script and its analysis about the pods it probes.
import type { Node, Pod } from '../../kube/cluster-api.js';
import type { PodTarget } from '../../analyze/veth-peer.js';
import { containerIdOf, nodeInternalIP, podIPsOf } from '../../kube/resolve.js';

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
