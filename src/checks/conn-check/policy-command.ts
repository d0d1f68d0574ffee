// conn-check's NetworkPolicy answer: reads the policies and namespaces once and asks the
// evaluator about the flow as the destination pod sees it (a Service's flow after DNAT, to its
// first ready endpoint and target port). A read that fails (RBAC, an old API server) becomes
// "could not read", never a verdict.
import type { ClusterApi, Namespace, Pod } from '../../kube/cluster-api.js';
import type { ConnCheckApi, ConnPolicyInput } from './analysis.js';
import { describePolicyVerdict, evaluateNetworkPolicies, policyPeerOfPod, type PolicyPeer } from './network-policy.js';
import { resolvePod } from '../../kube/resolve.js';

export async function connPolicyAnswer(api: ClusterApi, plan: ConnCheckApi): Promise<ConnPolicyInput> {
  if (plan.protocol === 'icmp' || plan.port === null) {
    return { allowed: true, verdict: 'not-evaluated', summary: 'not evaluated: NetworkPolicy v1 has no rules for ICMP (an isolated pod may or may not answer pings, depending on the CNI)' };
  }
  let policies, namespaces: Namespace[];
  try {
    [policies, namespaces] = await Promise.all([api.listNetworkPolicies(), api.listNamespaces()]);
  } catch (err) {
    return { allowed: true, verdict: 'unread', summary: `could not read NetworkPolicies: ${err instanceof Error ? err.message : String(err)}` };
  }
  const nsOf = (name: string) => namespaces.find((n) => n.metadata?.name === name) ?? null;
  const peerOf = async (end: { kind: string; namespace?: string; name?: string; ip: string; nodeName?: string | null }): Promise<PolicyPeer | string> => {
    if (end.kind !== 'pod') return { kind: 'ip', ip: end.ip, ...(end.nodeName ? { node: end.nodeName } : {}) };
    const pod: Pod = await resolvePod(api, end.namespace ?? '', end.name ?? '');
    const placed = policyPeerOfPod(pod, nsOf(end.namespace ?? ''));
    return 'peer' in placed ? placed.peer : placed.problem;
  };
  const destination = plan.destination;
  const far = destination.kind === 'service' ? destination.endpoints[0] : destination;
  if (!far) return { allowed: true, verdict: 'not-evaluated', summary: 'not evaluated: the Service has no ready endpoint pod' };
  const port = destination.kind === 'service' ? destination.targetPort : plan.port;
  if (port === null) return { allowed: true, verdict: 'not-evaluated', summary: 'not evaluated: the endpoints do not agree on one target port' };
  const [from, to] = await Promise.all([peerOf(plan.source), peerOf(far)]);
  if (typeof from === 'string' || typeof to === 'string') return { allowed: true, verdict: 'not-evaluated', summary: `not evaluated: ${typeof from === 'string' ? from : to}` };
  const answer = evaluateNetworkPolicies(policies, from, to, port, plan.protocol === 'udp' ? 'UDP' : 'TCP');
  return { allowed: answer.verdict === 'allowed', verdict: answer.verdict, summary: describePolicyVerdict(answer), detail: answer };
}
