// The evaluator against the lab's policy case table: the lab test
// (test/lab/network/network-policy-enforcement.test.ts) checks each case's `expect` in the kernel
// of the Calico-style nodes, this one checks the evaluator gives the same answer, so the two agree
// case by case.
import { expect } from 'chai';
import { evaluateNetworkPolicies, type PolicyPeer } from '../../../../src/checks/conn-check/network-policy.js';
import { LAB_NAMESPACE_LABELS, LAB_NODES, LAB_PODS } from '../../../../lab/lab-topology.js';
import { NETWORK_POLICY_CASES, type NetworkPolicyCase } from '../../../fixtures/network-policy-cases.js';

function podPeer(namespace: string, name: string): PolicyPeer {
  const pod = LAB_PODS.find((p) => p.namespace === namespace && p.name === name);
  if (!pod || !pod.ip) throw new Error(`no lab pod ${namespace}/${name} with an IP`);
  return {
    kind: 'pod',
    pod: {
      namespace,
      name,
      labels: { ...pod.labels },
      namespaceLabels: { 'kubernetes.io/metadata.name': namespace, ...(LAB_NAMESPACE_LABELS[namespace] ?? {}) },
      ip: pod.ip,
      containerPorts: pod.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol })),
      nodeName: pod.nodeName,
    },
  };
}

function sourcePeer(c: NetworkPolicyCase): PolicyPeer {
  if ('node' in c.from) {
    const name = c.from.node;
    const node = LAB_NODES.find((n) => n.name === name);
    if (!node) throw new Error(`no lab node ${name}`);
    return { kind: 'ip', ip: node.ip, node: name };
  }
  return podPeer(c.from.namespace, c.from.pod);
}

describe('NetworkPolicy evaluator on the lab case table (the kernel checks the same table)', () => {
  it('has the conformance-style cases the issue asks for', () => {
    expect(NETWORK_POLICY_CASES.length).to.be.at.least(20);
    expect(NETWORK_POLICY_CASES.filter((c) => c.expect === 'denied').length).to.be.at.least(5);
    expect(NETWORK_POLICY_CASES.filter((c) => c.expect === 'allowed').length).to.be.at.least(5);
  });

  for (const c of NETWORK_POLICY_CASES) {
    it(`${c.name}: ${c.expect}`, () => {
      const answer = evaluateNetworkPolicies(c.policies, sourcePeer(c), podPeer(c.to.namespace, c.to.pod), c.port, c.protocol);
      expect(answer.verdict, JSON.stringify({ egress: answer.egress.reason, ingress: answer.ingress.reason })).to.equal(c.expect);
    });
  }
});
