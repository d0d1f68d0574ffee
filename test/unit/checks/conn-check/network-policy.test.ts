// NetworkPolicy semantics (networking.k8s.io/v1) as the API reference and the upstream conformance
// suites (test/e2e/network/netpol, Cyclonus / policy-assistant truth tables) define them. Each case
// asserts the verdict and the policy + rule that explains each side, so a wrong reason fails too.
import { expect } from 'chai';
import type { V1NetworkPolicy, V1NetworkPolicySpec } from '@kubernetes/client-node';
import { describePolicySide, describePolicyVerdict, evaluateNetworkPolicies, policyPeerOfPod, type PolicyAnswer, type PolicyPeer, type PolicyPod, type PolicyProtocol, type PolicySide, type PolicySideReason, type PolicyVerdict } from '../../../../src/checks/conn-check/network-policy.js';
import { parseCidr, parseIp } from '../../../../src/net/ip.js';

const NS_LABELS: Record<string, Record<string, string>> = {
  'team-a': { team: 'a', env: 'prod' },
  'team-b': { team: 'b', env: 'dev' },
  'team-c': {},
};

function pod(namespace: string, name: string, ip: string, nodeName: string, labels: Record<string, string>, containerPorts: PolicyPod['containerPorts'] = []): PolicyPeer {
  return { kind: 'pod', pod: { namespace, name, ip, nodeName, labels, namespaceLabels: NS_LABELS[namespace]!, containerPorts } };
}

const API = pod('team-a', 'api-1', '10.244.1.10', 'node-1', { app: 'api', tier: 'backend' }, [
  { name: 'http', containerPort: 8080 },
  { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
  { name: 'dns', containerPort: 53, protocol: 'UDP' },
]);
const WEB = pod('team-a', 'web-1', '10.244.2.20', 'node-2', { app: 'web' }, [{ name: 'web', containerPort: 80 }]);
const CLIENT = pod('team-b', 'client-1', '10.244.3.30', 'node-3', { app: 'client', role: 'tester' }, [{ name: 'admin', containerPort: 7000 }]);
const OTHER = pod('team-c', 'other-1', '10.244.1.40', 'node-1', { app: 'other' });
const OUTSIDE: PolicyPeer = { kind: 'ip', ip: '203.0.113.7' };
const NODE_3: PolicyPeer = { kind: 'ip', ip: '192.168.100.13', node: 'node-3' };
const NODE_1: PolicyPeer = { kind: 'ip', ip: '192.168.100.11', node: 'node-1' };

function np(namespace: string, name: string, spec: V1NetworkPolicySpec): V1NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec };
}

const ALL = {};
const denyIngress = (ns: string, name = 'deny-all') => np(ns, name, { podSelector: ALL, policyTypes: ['Ingress'] });
const denyEgress = (ns: string, name = 'deny-egress') => np(ns, name, { podSelector: ALL, policyTypes: ['Egress'] });
const apiIngress = (name: string, rule: NonNullable<V1NetworkPolicySpec['ingress']>[number]) =>
  np('team-a', name, { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'], ingress: [rule] });

// Expected side, compactly: the reason plus the policies that isolate and the rules that allow.
interface SideExpect {
  reason: PolicySideReason;
  isolatedBy?: string[];
  allowedBy?: string[]; // "ns/name direction rule N"
  because?: RegExp; // the undecided reason
}
const open: SideExpect = { reason: 'not-isolated' };
const noPod: SideExpect = { reason: 'not-a-pod' };
const deny = (...isolatedBy: string[]): SideExpect => ({ reason: 'no-rule-allows', isolatedBy });
const allow = (allowedBy: string[], isolatedBy: string[]): SideExpect => ({ reason: 'allowed-by-rule', allowedBy, isolatedBy });
const undecided = (reason: PolicySideReason, because: RegExp, allowedBy: string[] = []): SideExpect => ({ reason, because, allowedBy });

interface Case {
  name: string;
  policies: V1NetworkPolicy[];
  from: PolicyPeer;
  to: PolicyPeer;
  port: number;
  protocol?: PolicyProtocol;
  verdict: PolicyVerdict;
  egress: SideExpect;
  ingress: SideExpect;
}

const CASES: Case[] = [
  { name: 'no policy at all: every pod is non-isolated', policies: [], from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: open },
  { name: 'default deny ingress (podSelector {}) isolates the destination', policies: [denyIngress('team-a')], from: CLIENT, to: API, port: 8080, verdict: 'denied', egress: open, ingress: deny('team-a/deny-all') },
  { name: 'policyTypes omitted and no rules: still isolates for ingress', policies: [np('team-a', 'bare', { podSelector: ALL })], from: WEB, to: API, port: 8080, verdict: 'denied', egress: open, ingress: deny('team-a/bare') },
  { name: 'default deny egress isolates the source', policies: [denyEgress('team-b')], from: CLIENT, to: API, port: 8080, verdict: 'denied', egress: deny('team-b/deny-egress'), ingress: open },
  {
    name: 'an egress-only policy does not isolate ingress',
    policies: [np('team-a', 'egress-only', { podSelector: ALL, policyTypes: ['Egress'], egress: [] })],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: open,
  },
  {
    name: 'policyTypes omitted with egress rules: isolates egress and ingress',
    policies: [np('team-a', 'egress-rules', { podSelector: { matchLabels: { app: 'api' } }, egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'denied', egress: open, ingress: deny('team-a/egress-rules'),
  },
  {
    name: 'podSelector peer in the same namespace allows',
    policies: [denyIngress('team-a'), apiIngress('allow-web', { _from: [{ podSelector: { matchLabels: { app: 'web' } } }] })],
    from: WEB, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: allow(['team-a/allow-web ingress rule 0'], ['team-a/deny-all', 'team-a/allow-web']),
  },
  {
    name: 'podSelector alone means the policy\'s namespace: a matching pod elsewhere is denied',
    policies: [apiIngress('allow-client', { _from: [{ podSelector: { matchLabels: { app: 'client' } } }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'denied', egress: open, ingress: deny('team-a/allow-client'),
  },
  {
    name: 'namespaceSelector alone allows every pod of the selected namespace',
    policies: [apiIngress('allow-team-b', { _from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: allow(['team-a/allow-team-b ingress rule 0'], ['team-a/allow-team-b']),
  },
  {
    name: 'namespaceSelector {} selects pods of all namespaces',
    policies: [apiIngress('all-ns', { _from: [{ namespaceSelector: ALL }] })],
    from: OTHER, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: allow(['team-a/all-ns ingress rule 0'], ['team-a/all-ns']),
  },
  {
    name: 'namespaceSelector {} does not select an address outside the cluster',
    policies: [apiIngress('all-ns', { _from: [{ namespaceSelector: ALL }] })],
    from: OUTSIDE, to: API, port: 8080, verdict: 'denied', egress: noPod, ingress: deny('team-a/all-ns'),
  },
  {
    name: 'namespaceSelector + podSelector in one peer is AND: right namespace, wrong pod',
    policies: [apiIngress('and-peer', { _from: [{ namespaceSelector: { matchLabels: { team: 'b' } }, podSelector: { matchLabels: { role: 'admin' } } }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'denied', egress: open, ingress: deny('team-a/and-peer'),
  },
  {
    name: 'namespaceSelector + podSelector in one peer is AND: both match',
    policies: [apiIngress('and-peer', { _from: [{ namespaceSelector: { matchLabels: { team: 'b' } }, podSelector: { matchLabels: { app: 'client' } } }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: allow(['team-a/and-peer ingress rule 0'], ['team-a/and-peer']),
  },
  {
    name: 'two peers are OR: the podSelector peer alone (same namespace) matches',
    policies: [apiIngress('or-peers', { _from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }, { podSelector: { matchLabels: { app: 'web' } } }] })],
    from: WEB, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: allow(['team-a/or-peers ingress rule 0'], ['team-a/or-peers']),
  },
  {
    name: 'two peers are OR, but neither matches a pod of a third namespace',
    policies: [apiIngress('or-peers', { _from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }, { podSelector: { matchLabels: { app: 'other' } } }] })],
    from: OTHER, to: API, port: 8080, verdict: 'denied', egress: open, ingress: deny('team-a/or-peers'),
  },
  {
    name: 'ipBlock allows an outside address',
    policies: [apiIngress('from-net', { _from: [{ ipBlock: { cidr: '203.0.113.0/24' } }] })],
    from: OUTSIDE, to: API, port: 8080, verdict: 'allowed', egress: noPod, ingress: allow(['team-a/from-net ingress rule 0'], ['team-a/from-net']),
  },
  {
    name: 'ipBlock except carves the source out of the cidr',
    policies: [apiIngress('from-net', { _from: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.0/28'] } }] })],
    from: OUTSIDE, to: API, port: 8080, verdict: 'denied', egress: noPod, ingress: deny('team-a/from-net'),
  },
  {
    name: 'ipBlock matches a pod IP too',
    policies: [apiIngress('pod-net', { _from: [{ ipBlock: { cidr: '10.244.3.0/24' } }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: allow(['team-a/pod-net ingress rule 0'], ['team-a/pod-net']),
  },
  {
    name: 'ipBlock except applies to a pod IP',
    policies: [apiIngress('pod-net', { _from: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.3.0/24'] } }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'denied', egress: open, ingress: deny('team-a/pod-net'),
  },
  {
    name: 'named port resolves against the destination pod',
    policies: [apiIngress('http', { ports: [{ port: 'http' }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: allow(['team-a/http ingress rule 0'], ['team-a/http']),
  },
  {
    name: 'named port does not cover another port of the same pod',
    policies: [apiIngress('http', { ports: [{ port: 'http' }] })],
    from: CLIENT, to: API, port: 9090, verdict: 'denied', egress: open, ingress: deny('team-a/http'),
  },
  {
    name: 'egress named port that exists on the source but not on the destination does not match',
    policies: [np('team-b', 'egress-admin', { podSelector: ALL, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'admin' }] }] })],
    from: CLIENT, to: API, port: 7000, verdict: 'denied', egress: deny('team-b/egress-admin'), ingress: open,
  },
  {
    name: 'egress named port resolves on the destination pod',
    policies: [np('team-b', 'egress-http', { podSelector: ALL, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: allow(['team-b/egress-http egress rule 0'], ['team-b/egress-http']), ingress: open,
  },
  {
    name: 'egress named port toward an address that is no pod matches nothing',
    policies: [np('team-b', 'egress-http', { podSelector: ALL, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] })],
    from: CLIENT, to: OUTSIDE, port: 8080, verdict: 'denied', egress: deny('team-b/egress-http'), ingress: noPod,
  },
  {
    name: 'numeric port without protocol is TCP only: UDP to it is denied',
    policies: [apiIngress('tcp-53', { ports: [{ port: 53 }] })],
    from: CLIENT, to: API, port: 53, protocol: 'UDP', verdict: 'denied', egress: open, ingress: deny('team-a/tcp-53'),
  },
  {
    name: 'UDP named port (dns) allows UDP 53',
    policies: [apiIngress('dns', { ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'UDP', port: 'dns' }] })],
    from: CLIENT, to: API, port: 53, protocol: 'UDP', verdict: 'allowed', egress: open, ingress: allow(['team-a/dns ingress rule 0'], ['team-a/dns']),
  },
  {
    name: 'endPort range includes the port',
    policies: [apiIngress('range', { ports: [{ port: 8000, endPort: 8100 }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: allow(['team-a/range ingress rule 0'], ['team-a/range']),
  },
  {
    name: 'endPort range excludes a port above it',
    policies: [apiIngress('range', { ports: [{ port: 8000, endPort: 8100 }] })],
    from: CLIENT, to: API, port: 8101, verdict: 'denied', egress: open, ingress: deny('team-a/range'),
  },
  {
    name: 'endPort without port is invalid: undecided, not a guess',
    policies: [apiIngress('bad-range', { ports: [{ endPort: 8100 }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'undecided', egress: open, ingress: undecided('invalid-policy', /team-a\/bad-range .*endPort needs a numeric port/),
  },
  {
    name: 'a malformed CIDR is undecided',
    policies: [apiIngress('bad-cidr', { _from: [{ ipBlock: { cidr: '10.244.300.0/24' } }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'undecided', egress: open, ingress: undecided('invalid-policy', /ipBlock cidr "10\.244\.300\.0\/24" is not a CIDR/),
  },
  {
    name: 'an except outside its cidr is undecided',
    policies: [apiIngress('bad-except', { _from: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.245.0.0/24'] } }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'undecided', egress: open, ingress: undecided('invalid-policy', /except 10\.245\.0\.0\/24 is not inside 10\.244\.0\.0\/16/),
  },
  {
    name: 'ingress: [{}] allows everything, even with a deny-all beside it',
    policies: [denyIngress('team-a'), np('team-a', 'allow-all', { podSelector: ALL, ingress: [{}] })],
    from: OUTSIDE, to: API, port: 1234, verdict: 'allowed', egress: noPod, ingress: allow(['team-a/allow-all ingress rule 0'], ['team-a/deny-all', 'team-a/allow-all']),
  },
  {
    name: 'empty from and ports lists mean all peers and all ports',
    policies: [np('team-a', 'empty-lists', { podSelector: ALL, ingress: [{ _from: [], ports: [] }] })],
    from: OTHER, to: API, port: 4444, verdict: 'allowed', egress: open, ingress: allow(['team-a/empty-lists ingress rule 0'], ['team-a/empty-lists']),
  },
  {
    name: 'a policy in another namespace does not apply',
    policies: [denyIngress('team-c'), denyEgress('team-a')],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: open,
  },
  {
    name: 'two policies union: the second rule set allows what the first does not',
    policies: [
      apiIngress('allow-web', { _from: [{ podSelector: { matchLabels: { app: 'web' } } }] }),
      apiIngress('allow-team-b', { _from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }], ports: [{ port: 8080 }] }),
    ],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: allow(['team-a/allow-team-b ingress rule 0'], ['team-a/allow-web', 'team-a/allow-team-b']),
  },
  {
    name: 'both sides must allow: egress allowed, ingress denied',
    policies: [np('team-b', 'egress-a', { podSelector: ALL, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }] }), denyIngress('team-a')],
    from: CLIENT, to: API, port: 8080, verdict: 'denied', egress: allow(['team-b/egress-a egress rule 0'], ['team-b/egress-a']), ingress: deny('team-a/deny-all'),
  },
  {
    name: 'egress to a namespace by its automatic kubernetes.io/metadata.name label',
    policies: [np('team-b', 'egress-c', { podSelector: ALL, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-c' } } }] }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'denied', egress: deny('team-b/egress-c'), ingress: open,
  },
  {
    name: 'matchExpressions In on namespace labels',
    policies: [np('team-b', 'from-prod', { podSelector: ALL, ingress: [{ _from: [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }] } }] }] })],
    from: API, to: CLIENT, port: 7000, verdict: 'allowed', egress: open, ingress: allow(['team-b/from-prod ingress rule 0'], ['team-b/from-prod']),
  },
  {
    name: 'matchExpressions NotIn matches a pod without the key',
    policies: [apiIngress('not-backend', { _from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['backend'] }] } }] })],
    from: WEB, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: allow(['team-a/not-backend ingress rule 0'], ['team-a/not-backend']),
  },
  {
    name: 'matchExpressions NotIn refuses a pod with a listed value',
    policies: [np('team-a', 'web-not-backend', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ _from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['backend'] }] } }] }] })],
    from: API, to: WEB, port: 80, verdict: 'denied', egress: open, ingress: deny('team-a/web-not-backend'),
  },
  {
    name: 'matchExpressions Exists with namespaceSelector {}',
    policies: [apiIngress('has-role', { _from: [{ namespaceSelector: ALL, podSelector: { matchExpressions: [{ key: 'role', operator: 'Exists' }] } }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: allow(['team-a/has-role ingress rule 0'], ['team-a/has-role']),
  },
  {
    name: 'matchExpressions DoesNotExist in spec.podSelector leaves a labelled pod unselected',
    policies: [np('team-a', 'unlabelled-only', { podSelector: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, policyTypes: ['Ingress'] })],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: open,
  },
  {
    name: 'SCTP toward an isolated pod depends on the CNI: undecided',
    policies: [apiIngress('sctp', { ports: [{ protocol: 'SCTP', port: 9999 }] })],
    from: CLIENT, to: API, port: 9999, protocol: 'SCTP', verdict: 'undecided', egress: open, ingress: undecided('cni-dependent', /SCTP/, ['team-a/sctp ingress rule 0']),
  },
  { name: 'SCTP toward a pod no policy isolates is allowed', policies: [denyIngress('team-c')], from: CLIENT, to: API, port: 9999, protocol: 'SCTP', verdict: 'allowed', egress: open, ingress: open },
  {
    name: 'a remote node matches an ipBlock peer',
    policies: [denyIngress('team-a'), apiIngress('from-nodes', { _from: [{ ipBlock: { cidr: '192.168.100.0/24' } }] })],
    from: NODE_3, to: API, port: 8080, verdict: 'allowed', egress: noPod, ingress: allow(['team-a/from-nodes ingress rule 0'], ['team-a/deny-all', 'team-a/from-nodes']),
  },
  {
    name: 'a remote node is never selected by pod or namespace selectors',
    policies: [apiIngress('all-pods', { _from: [{ namespaceSelector: ALL, podSelector: ALL }] })],
    from: NODE_3, to: API, port: 8080, verdict: 'denied', egress: noPod, ingress: deny('team-a/all-pods'),
  },
  { name: 'the pod\'s own node always reaches it', policies: [denyIngress('team-a')], from: NODE_1, to: API, port: 8080, verdict: 'allowed', egress: noPod, ingress: { reason: 'own-node' } },
  { name: 'a pod reaches itself whatever isolates it', policies: [denyIngress('team-a'), denyEgress('team-a')], from: API, to: API, port: 8080, verdict: 'allowed', egress: { reason: 'self' }, ingress: { reason: 'self' } },
  {
    name: 'egress to the pod\'s own node is filtered like any other (only ingress from it is exempt)',
    policies: [denyEgress('team-a')], from: API, to: NODE_1, port: 10250, verdict: 'denied', egress: deny('team-a/deny-egress'), ingress: noPod,
  },
  {
    name: 'an invalid policy that selects neither pod does not matter',
    policies: [np('team-a', 'web-bad', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ endPort: 5 }] }] }), np('team-c', 'bad', { podSelector: ALL, policyTypes: ['Sideways'] })],
    from: CLIENT, to: API, port: 8080, verdict: 'allowed', egress: open, ingress: open,
  },
  {
    name: 'an unknown matchExpressions operator is undecided',
    policies: [apiIngress('bad-op', { _from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'Like', values: ['web'] }] } }] })],
    from: WEB, to: API, port: 8080, verdict: 'undecided', egress: open, ingress: undecided('invalid-policy', /unknown matchExpressions operator "Like"/),
  },
  {
    name: 'a digits-only port name is invalid',
    policies: [apiIngress('bad-name', { ports: [{ port: '8080' }] })],
    from: WEB, to: API, port: 8080, verdict: 'undecided', egress: open, ingress: undecided('invalid-policy', /neither a number nor a valid port name/),
  },
  {
    name: 'a denying egress side settles it even when the ingress side is undecided',
    policies: [denyEgress('team-b'), apiIngress('bad-cidr', { _from: [{ ipBlock: { cidr: 'nope' } }] })],
    from: CLIENT, to: API, port: 8080, verdict: 'denied', egress: deny('team-b/deny-egress'), ingress: undecided('invalid-policy', /not a CIDR/),
  },
  {
    name: 'IPv6 ipBlock with except',
    policies: [apiIngress('v6', { _from: [{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] } }] })],
    from: { kind: 'ip', ip: '2001:db8:2::5' }, to: API, port: 8080, verdict: 'allowed', egress: noPod, ingress: allow(['team-a/v6 ingress rule 0'], ['team-a/v6']),
  },
  {
    name: 'IPv6 address inside the except is denied',
    policies: [apiIngress('v6', { _from: [{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] } }] })],
    from: { kind: 'ip', ip: '2001:db8:1::5' }, to: API, port: 8080, verdict: 'denied', egress: noPod, ingress: deny('team-a/v6'),
  },
];

function checkSide(actual: PolicySide, expected: SideExpect): void {
  expect(actual.reason, `${actual.direction} reason`).to.equal(expected.reason);
  if (expected.isolatedBy) {
    const isolated = actual.isolatedBy.map((r) => `${r.namespace}/${r.name}`);
    expect(isolated, `${actual.direction} isolatedBy`).to.have.length(expected.isolatedBy.length);
    expect(isolated).to.deep.equal(expected.isolatedBy);
  }
  const allowed = actual.allowedBy.map((m) => `${m.policy.namespace}/${m.policy.name} ${m.direction} rule ${m.ruleIndex}`);
  expect(allowed, `${actual.direction} allowedBy`).to.have.length(expected.allowedBy?.length ?? 0);
  expect(allowed).to.deep.equal(expected.allowedBy ?? []);
  if (expected.because) expect(actual.undecidedBecause ?? '').to.match(expected.because);
  else expect(actual.undecidedBecause).to.equal(null);
}

describe('evaluateNetworkPolicies: the case table', () => {
  it('has at least 30 cases with distinct names', () => {
    expect(CASES.length).to.be.at.least(30);
    expect(new Set(CASES.map((c) => c.name)).size).to.equal(CASES.length);
  });
  for (const c of CASES) {
    it(c.name, () => {
      const answer = evaluateNetworkPolicies(c.policies, c.from, c.to, c.port, c.protocol ?? 'TCP');
      expect(answer.verdict, 'verdict').to.equal(c.verdict);
      checkSide(answer.egress, c.egress);
      checkSide(answer.ingress, c.ingress);
      const expectedVerdict = (s: SideExpect): PolicyVerdict =>
        s.reason === 'no-rule-allows' ? 'denied' : s.because ? 'undecided' : 'allowed';
      expect(answer.egress.verdict).to.equal(expectedVerdict(c.egress));
      expect(answer.ingress.verdict).to.equal(expectedVerdict(c.ingress));
    });
  }
});

describe('evaluateNetworkPolicies: which peer and port matched', () => {
  it('names the peer of an OR list that matched and null for a rule without ports', () => {
    const policy = apiIngress('or-peers', { _from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }, { podSelector: { matchLabels: { app: 'web' } } }] });
    const answer = evaluateNetworkPolicies([policy], WEB, API, 8080, 'TCP');
    expect(answer.ingress.allowedBy).to.have.length(1);
    expect(answer.ingress.allowedBy[0]).to.deep.include({ ruleIndex: 0, peerIndex: 1, portIndex: null });
  });
  it('names the port entry that matched', () => {
    const policy = apiIngress('dns', { ports: [{ protocol: 'TCP', port: 8080 }, { protocol: 'UDP', port: 'dns' }] });
    const answer = evaluateNetworkPolicies([policy], CLIENT, API, 53, 'UDP');
    expect(answer.ingress.allowedBy).to.have.length(1);
    expect(answer.ingress.allowedBy[0]).to.deep.include({ peerIndex: null, portIndex: 1 });
  });
  it('records why each rule of an isolating policy missed', () => {
    const policy = np('team-a', 'two-rules', {
      podSelector: ALL,
      ingress: [{ _from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 8080 }] }, { _from: [{ namespaceSelector: ALL }], ports: [{ port: 9090 }] }],
    });
    const answer = evaluateNetworkPolicies([policy], CLIENT, API, 8080, 'TCP');
    expect(answer.ingress.misses.map((m) => [m.ruleIndex, m.failed])).to.deep.equal([[0, 'peer'], [1, 'port']]);
  });
  it('reads a plain-JSON ingress rule that says `from`, as a policy read without client-node does', () => {
    const raw = JSON.parse(JSON.stringify({ metadata: { namespace: 'team-a', name: 'json' }, spec: { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] } })) as V1NetworkPolicy;
    expect(evaluateNetworkPolicies([raw], WEB, API, 8080, 'TCP').verdict).to.equal('allowed');
    expect(evaluateNetworkPolicies([raw], CLIENT, API, 8080, 'TCP').verdict).to.equal('denied');
  });
});

describe('NetworkPolicy sentences', () => {
  const allowClient = apiIngress('allow-client', { _from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }], ports: [{ port: 8080 }] });
  const answerFor = (policies: V1NetworkPolicy[], port: number): PolicyAnswer => evaluateNetworkPolicies(policies, CLIENT, API, port, 'TCP');

  it('says which policy isolates the pod and what no rule allows', () => {
    const answer = answerFor([denyIngress('team-a')], 9090);
    expect(describePolicyVerdict(answer)).to.equal('denied: team-a/deny-all isolates api-1 for ingress, no rule allows team-b/client-1 on TCP 9090');
    expect(describePolicySide(answer, 'egress')).to.equal('no NetworkPolicy isolates team-b/client-1 for egress');
  });
  it('names every isolating policy when several do', () => {
    const answer = answerFor([denyIngress('team-a'), allowClient], 9090);
    expect(describePolicySide(answer, 'ingress')).to.equal('team-a/deny-all and team-a/allow-client isolate api-1 for ingress, no rule allows team-b/client-1 on TCP 9090');
  });
  it('names the allowing rule', () => {
    const answer = answerFor([denyIngress('team-a'), allowClient], 8080);
    expect(describePolicyVerdict(answer)).to.equal('allowed by team-a/allow-client ingress rule 0');
  });
  it('says nothing isolates when no policy applies', () => {
    expect(describePolicyVerdict(answerFor([], 8080))).to.equal('allowed: no NetworkPolicy isolates team-b/client-1 for egress; no NetworkPolicy isolates team-a/api-1 for ingress');
  });
  it('says once that a pod reaches itself, and that its own node reaches it', () => {
    expect(describePolicyVerdict(evaluateNetworkPolicies([denyIngress('team-a')], API, API, 8080, 'TCP'))).to.equal("allowed: a pod's traffic to itself is always allowed");
    expect(describePolicyVerdict(evaluateNetworkPolicies([denyIngress('team-a')], NODE_1, API, 8080, 'TCP'))).to.equal(
      "allowed: node node-1 (192.168.100.11) is no pod, so no egress policy applies to it; traffic from api-1's own node is always allowed",
    );
  });
  it('words a denied egress toward its destination', () => {
    const answer = evaluateNetworkPolicies([denyEgress('team-b')], CLIENT, OUTSIDE, 443, 'TCP');
    expect(describePolicyVerdict(answer)).to.equal('denied: team-b/deny-egress isolates client-1 for egress, no rule allows it to reach 203.0.113.7 on TCP 443');
  });
  it('gives the reason of an undecided answer', () => {
    const answer = answerFor([apiIngress('bad-range', { ports: [{ endPort: 8100 }] })], 8080);
    expect(describePolicyVerdict(answer)).to.equal('undecided: ingress of team-a/api-1 is undecided: team-a/bad-range is not a valid NetworkPolicy: spec.ingress[0] port 0: endPort needs a numeric port');
  });
});

describe('NetworkPolicy address parsing', () => {
  it('parses IPv4 and IPv6, refuses the malformed', () => {
    expect(parseIp('10.0.0.1')).to.deep.equal({ family: 4, value: 0x0a000001n });
    expect(parseIp('::1')).to.deep.equal({ family: 6, value: 1n });
    expect(parseIp('::ffff:10.0.0.1')).to.deep.equal({ family: 6, value: 0xffff0a000001n });
    expect(parseIp('2001:db8::')?.value).to.equal(0x20010db8n << 96n);
    for (const bad of ['', '10.0.0', '10.0.0.256', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '10.0.0.1/8']) expect(parseIp(bad), bad).to.equal(null);
  });
  it('parses CIDRs and refuses a prefix beyond the family', () => {
    expect(parseCidr('10.244.0.0/16')).to.deep.equal({ family: 4, network: 0x0af40000n, prefix: 16 });
    expect(parseCidr('10.0.0.0/33')).to.equal(null);
    expect(parseCidr('10.0.0.0')).to.equal(null);
    expect(parseCidr('2001:db8::/129')).to.equal(null);
    expect(parseCidr('2001:db8::/64')?.prefix).to.equal(64);
  });
});

describe('policyPeerOfPod', () => {
  it('takes labels, namespace labels, IP, node and every container\'s ports from the API objects', () => {
    const result = policyPeerOfPod(
      {
        metadata: { namespace: 'team-a', name: 'api-1', labels: { app: 'api' } },
        spec: { nodeName: 'node-1', containers: [{ name: 'a', ports: [{ name: 'http', containerPort: 8080 }] }, { name: 'b', ports: [{ containerPort: 53, protocol: 'UDP' }] }] },
        status: { podIP: '10.244.1.10', hostIP: '192.168.100.11' },
      },
      { metadata: { name: 'team-a', labels: { team: 'a' } } },
    );
    expect(result).to.deep.equal({
      peer: {
        kind: 'pod',
        pod: {
          namespace: 'team-a', name: 'api-1', labels: { app: 'api' }, namespaceLabels: { team: 'a' }, ip: '10.244.1.10', nodeName: 'node-1',
          containerPorts: [{ name: 'http', containerPort: 8080 }, { containerPort: 53, protocol: 'UDP' }],
        },
      },
    });
  });
  it('makes a hostNetwork pod its node\'s address, which only ipBlock peers match', () => {
    const result = policyPeerOfPod({ metadata: { namespace: 'kube-system', name: 'proxy' }, spec: { hostNetwork: true, nodeName: 'node-3', containers: [] }, status: { podIP: '192.168.100.13', hostIP: '192.168.100.13' } }, null);
    expect(result).to.deep.equal({ peer: { kind: 'ip', ip: '192.168.100.13', node: 'node-3' } });
  });
  it('refuses a pod without an IP', () => {
    expect(policyPeerOfPod({ metadata: { namespace: 'a', name: 'p' }, spec: { containers: [] }, status: {} }, null)).to.deep.equal({ problem: 'pod a/p has no IP yet' });
  });
});
