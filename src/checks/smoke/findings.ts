// smoke's finding codes, with what each means and what to do about it.
// ../catalog.ts assembles the full catalogue (explain, the drift test) from every check's list.
import { p, type FindingCatalogEntry } from '../catalog-entry.js';

export const SMOKE_FINDINGS = [
  {
    code: 'smoke.check-failed',
    area: 'smoke',
    severity: 'error',
    title: 'one of the smoke checks could not run',
    seeds: [],
    explanation: p(
      'smoke runs dns-check, trace-svc, veth-peer and mtu-probe in parallel; one of them failed before producing a report (no suitable pod, an API error, a probe failure).',
      'Its part of the cluster was not checked, so a green result would be misleading; this finding fails the run at the default --fail-on error.',
      'The evidence holds the check\'s error message.',
      'Run that check alone for details (the subject names it and its target), for example `kubectl netdiag dns-check POD -n NAMESPACE -v`.',
    ),
  },
  {
    code: 'smoke.pod-pair-failed',
    area: 'smoke',
    severity: 'error',
    title: 'smoke --matrix: a pod could not reach a pod on another node (or its own node)',
    seeds: [],
    explanation: p(
      'smoke --matrix connects from a ready pod on each node to a ready pod on every other node (and to a second pod on the same node), from inside the source pod\'s network namespace, with a TCP connect to the destination\'s first TCP containerPort (a ping when it declares none), several attempts each.',
      'This pair failed at least one attempt; the reason is what the kernel answered: timeout (the packets were dropped somewhere: a DROP rule, a missing route on the way back, ip_forward off, a down veth), refused (the packet arrived and nothing listens there, or a REJECT rule answered), no route or unreachable (a route or neighbour is missing on the way).',
      'The subject names the source pod and node and the destination pod, node, address and port; the evidence holds nc\'s or ping\'s own words.',
      'When every pair into one pod fails, look at that pod\'s node (node-check, veth-peer --node); when every pair out of one node fails, at the source node.',
    ),
  },
  {
    code: 'smoke.service-failed',
    area: 'smoke',
    severity: 'error',
    title: 'smoke --matrix: a pod could not reach the Service from its node',
    seeds: [],
    explanation: p(
      'smoke --matrix connects from a ready pod on each node to one ClusterIP Service (--service NS/NAME, or the first ClusterIP Service with ready endpoints, default namespace first), through that node\'s kube-proxy rules.',
      'This node\'s connects failed at least once: its Service rules are missing or stale, the chosen backend is unreachable from this node, or the Service has no ready endpoint (kube-proxy then rejects).',
      'Trace the Service from that node: kubectl netdiag trace-svc NAME -n NAMESPACE --from-node NODE --probe.',
    ),
  },
  {
    code: 'smoke.node-skipped',
    area: 'smoke',
    severity: 'info',
    title: 'smoke --matrix: a node has no ready pod on the pod network, so it was skipped',
    seeds: [],
    explanation: p(
      'smoke --matrix uses the pods already running on each node; a node whose pods are all hostNetwork, not ready or being deleted has none to connect from or to.',
      'The node was skipped, not failed: nothing was tested there. To cover it, run a small pod on every node (a DaemonSet).',
    ),
  },
  {
    code: 'smoke.could-not-run',
    area: 'smoke',
    severity: 'error',
    title: 'smoke stopped before any check could report (exit 2 or 3)',
    seeds: [],
    explanation: p(
      'Only in the --junit file: smoke could not start its checks at all (no kubeconfig, the API server unreachable, RBAC refusing the node or pod list) or none of them could run.',
      'The JUnit report then holds one failed case of this type whose message is the same sentence the terminal printed, so a CI test tab shows why instead of a missing report.',
      'Fix what the message names, then run smoke again; `kubectl netdiag rbac` prints the permissions the plugin needs.',
    ),
  },
] as const satisfies readonly FindingCatalogEntry[];
