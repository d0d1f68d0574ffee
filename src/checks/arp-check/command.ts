// arp-check: resolve the pod (or every pod on a node), probe its node for host, pod and neighbour
// facts, with --probe a second call that runs arping both ways, and on small clusters the other
// nodes' host facts too (to find this node's InternalIP on them).
import type { ClusterApi, Pod } from '../../kube/cluster-api.js';
import type { CommandSpec } from '../../cli/command-runner.js';
import type { GlobalOptions } from '../../cli/global-options.js';
import type { NodeRequest } from '../../node-script/node-script.js';
import type { ProbeTarget } from '../../probe/probe-run.js';
import { buildArpProbeRequests, diagnoseArpCheck, type ArpCheckApi, type ArpCheckReport } from './analysis.js';
import { renderArpCheck } from './render.js';
import { EXIT, UserError } from '../../errors.js';
import { assertDnsSubdomain } from '../../cli/global-options.js';
import { assertLinuxNode, resolvePod } from '../../kube/resolve.js';
import { planPods } from '../common/pod-targets.js';

export type ArpCheckTarget =
  | { kind: 'pod'; name: string; probe: boolean }
  | { kind: 'node'; name: string; probe: boolean }
  // --from-snapshot with no POD/--node: the snapshot names its own pods.
  | { kind: 'snapshot'; probe: boolean };

/**
 * Up to this many nodes, the other nodes' host facts are gathered too (one more probe pod each,
 * in parallel) so a node holding this node's InternalIP is found; above it only the API's
 * InternalIPs are compared with this node's addresses.
 */
export const PEER_NODE_LIMIT = 5;

export function arpCheckCommand(target: ArpCheckTarget): CommandSpec<ArpCheckApi, ArpCheckReport> {
  return {
    name: 'arp-check',
    plan: async (api, options) => {
      const pods = await podsFor(target, api, options);
      const { nodes, nodeIPs, podTargets, nodeNames } = await planPods(api, pods);
      const linuxNodes = nodes.filter((n) => {
        const os = n.metadata?.labels?.['kubernetes.io/os'] ?? n.status?.nodeInfo?.operatingSystem;
        return !os || os === 'linux';
      });
      const peerNodes = nodeNames.length > 0 && linuxNodes.length <= PEER_NODE_LIMIT
        ? linuxNodes.map((n) => n.metadata?.name ?? '').filter((name) => name && !nodeNames.includes(name))
        : [];
      const targets: ProbeTarget[] = nodeNames.map((nodeName) => {
        const onNode = podTargets.filter((x) => x.nodeName === nodeName && !x.hostNetwork);
        const requests: NodeRequest[] = [{ kind: 'host' }];
        for (const p of onNode) {
          const ip = p.podIPs.find((a) => a.includes('.'));
          if (!ip) continue;
          requests.push({ kind: 'route-get', address: ip });
          requests.push({ kind: 'pod', key: p.key, containerId: p.containerId, podIP: ip });
        }
        const probeTarget: ProbeTarget = { nodeName, requests };
        if (target.probe) {
          probeTarget.followUp = async (ctx) => {
            const more = buildArpProbeRequests(onNode, ctx.output().sections);
            if (more.length > 0) await ctx.run(more);
          };
        }
        return probeTarget;
      });
      for (const nodeName of peerNodes) targets.push({ nodeName, requests: [{ kind: 'host' }] });
      return { api: { pods: podTargets, nodeIPs, probe: target.probe, peerNodes }, targets };
    },
    analyze: (collected) => diagnoseArpCheck(collected.api, collected.nodes),
    render: (report, options, colour) => renderArpCheck(report, options, colour),
  };
}

async function podsFor(target: ArpCheckTarget, api: ClusterApi, options: GlobalOptions): Promise<Pod[]> {
  if (target.kind === 'snapshot') throw new UserError('arp-check needs a POD name or --node NODE', { exitCode: EXIT.usage });
  const namespace = options.namespace ?? api.defaultNamespace;
  if (target.kind === 'pod') return [await resolvePod(api, namespace, target.name)];
  const node = await api.readNode(target.name);
  assertLinuxNode(node, target.name);
  const pods = await api.listPods({ namespace: undefined, fieldSelector: `spec.nodeName=${target.name}` });
  const running = pods.filter((p) => p.status?.phase === 'Running' && p.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'kubectl-netdiag');
  if (running.length === 0) throw new UserError(`node ${target.name} runs no pods`, { exitCode: EXIT.usage });
  return running;
}

/** `arp-check POD` or `arp-check --node NODE`, validated before any API call. */
export function readArpCheckTarget(args: Record<string, unknown>): ArpCheckTarget {
  const pod = args.pod === undefined ? undefined : String(args.pod);
  const node = args.node === undefined ? undefined : String(args.node);
  const probe = Boolean(args.probe);
  if (pod === undefined && node === undefined && args['from-snapshot'] !== undefined) return { kind: 'snapshot', probe };
  if ((pod === undefined) === (node === undefined)) {
    throw new UserError('arp-check needs exactly one of: a POD name or --node NODE', { hint: 'kubectl netdiag arp-check --help', exitCode: EXIT.usage });
  }
  if (pod !== undefined) {
    assertDnsSubdomain(pod, 'pod name');
    return { kind: 'pod', name: pod, probe };
  }
  assertDnsSubdomain(node!, 'node name');
  return { kind: 'node', name: node!, probe };
}
