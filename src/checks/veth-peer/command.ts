// veth-peer: resolve pods through the API, plan one probe per node, analyse, render.
import type { ClusterApi, Pod } from '../../kube/cluster-api.js';
import type { CommandSpec } from '../../cli/command-runner.js';
import type { GlobalOptions } from '../../cli/global-options.js';
import type { NodeRequest } from '../../node-script/node-script.js';
import type { ProbeTarget } from '../../probe/probe-run.js';
import { diagnoseVethPeer, type VethPeerApi, type VethPeerReport } from './analysis.js';
import { renderVethPeer } from './render.js';
import { EXIT, UserError } from '../../errors.js';
import { assertDnsSubdomain } from '../../cli/global-options.js';
import { resolvePod, assertLinuxNode } from '../../kube/resolve.js';
import { planPods } from '../common/pod-targets.js';

export type VethPeerTarget =
  | { kind: 'pod'; name: string }
  | { kind: 'selector'; selector: string }
  | { kind: 'node'; name: string }
  | { kind: 'nodes'; names: string[] } // --node repeated
  | { kind: 'snapshot' }; // --from-snapshot: the pods come from the snapshot

export function vethPeerCommand(target: VethPeerTarget): CommandSpec<VethPeerApi, VethPeerReport> {
  return {
    name: 'veth-peer',
    plan: async (api, options) => {
      const pods = await podsFor(target, api, options);
      const { nodeIPs, podTargets, nodeNames } = await planPods(api, pods);
      const targets: ProbeTarget[] = nodeNames.map((nodeName) => {
        const requests: NodeRequest[] = [{ kind: 'host' }];
        const other = Object.entries(nodeIPs).find(([name]) => name !== nodeName)?.[1];
        if (other) requests.push({ kind: 'route-get', address: other });
        for (const p of podTargets.filter((x) => x.nodeName === nodeName && !x.hostNetwork)) {
          const ip = p.podIPs.find((a) => a.includes('.')) ?? p.podIPs[0];
          if (ip) requests.push({ kind: 'pod', key: p.key, containerId: p.containerId, podIP: ip });
        }
        return { nodeName, requests };
      });
      return { api: { pods: podTargets, nodeIPs }, targets };
    },
    analyze: (collected) => diagnoseVethPeer(collected.api, collected.nodes),
    render: (report, options, colour) => renderVethPeer(report, options, colour),
  };
}

async function podsFor(target: VethPeerTarget, api: ClusterApi, options: GlobalOptions): Promise<Pod[]> {
  const namespace = options.namespace ?? api.defaultNamespace;
  if (target.kind === 'snapshot') throw new UserError('veth-peer needs a POD, -l SELECTOR or --node NODE');
  if (target.kind === 'pod') {
    const pod = await resolvePod(api, namespace, target.name);
    return [pod];
  }
  if (target.kind === 'selector') {
    const pods = await api.listPods({ namespace: options.allNamespaces ? undefined : namespace, labelSelector: target.selector });
    const running = pods.filter((p) => p.status?.phase === 'Running');
    if (running.length === 0) {
      throw new UserError(`no running pods match ${target.selector}${options.allNamespaces ? '' : ` in namespace "${namespace}"`}`, {
        hint: options.allNamespaces ? undefined : 'add -A to search every namespace',
      });
    }
    return running;
  }
  const names = target.kind === 'node' ? [target.name] : target.names;
  // Each node's pods through a field selector, the nodes side by side.
  const perNode = await Promise.all(names.map(async (name) => {
    const node = await api.readNode(name);
    assertLinuxNode(node, name);
    const pods = await api.listPods({ namespace: undefined, fieldSelector: `spec.nodeName=${name}` });
    const running = pods.filter((p) => p.status?.phase === 'Running' && !isProbePod(p));
    if (running.length === 0) throw new UserError(`node ${name} runs no pods`, { exitCode: EXIT.usage });
    return running;
  }));
  return perNode.flat();
}

function isProbePod(p: Pod): boolean {
  return p.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'kubectl-netdiag';
}

/** The flags and positionals of the command line, checked, as its target. */
export function readVethPeerTarget(args: Record<string, unknown>): VethPeerTarget {
  const pod = args.pod === undefined ? undefined : String(args.pod);
  const selector = args.selector === undefined ? undefined : String(args.selector);
  const nodes = args.node === undefined ? [] : [args.node].flat().map(String);
  const node = nodes[0];
  const given = [pod, selector, node].filter((v) => v !== undefined).length;
  // A snapshot already names its pods.
  if (given === 0 && args['from-snapshot'] !== undefined) return { kind: 'snapshot' };
  if (given !== 1) {
    throw new UserError('veth-peer needs exactly one of: a POD name, -l SELECTOR, or --node NODE', {
      hint: 'kubectl netdiag veth-peer --help',
    });
  }
  if (pod !== undefined) assertDnsSubdomain(pod, 'pod name');
  for (const n of nodes) assertDnsSubdomain(n, 'node name');
  if (selector !== undefined && !/^[A-Za-z0-9_./\-=!,() ]+$/.test(selector)) {
    throw new UserError(`invalid label selector ${JSON.stringify(selector)}`);
  }
  if (pod !== undefined) return { kind: 'pod', name: pod };
  if (selector !== undefined) return { kind: 'selector', selector };
  return nodes.length === 1 ? { kind: 'node', name: node! } : { kind: 'nodes', names: [...new Set(nodes)] };
}
