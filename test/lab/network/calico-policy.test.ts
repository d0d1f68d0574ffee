// Pure checks of the lab's Calico-style policy compiler (lab/calico-policy.ts) against chains
// published from real Calico nodes (test/fixtures/calico/, provenance in its README) and against
// the NetworkPolicy semantics it must implement. Runs without root or a lab.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import {
  buildCalicoFilterChains,
  calicoNodes,
  DROP_NO_POLICY_COMMENT,
  endpointChainName,
  lengthLimitedId,
  policyChainName,
  renderChainRules,
  renderNoflushRestore,
  type PolicyWorld,
} from '../../../lab/calico-policy.js';
import type { LabNode } from '../../../lab/lab-state.js';
import { calicoVethName, LAB_NAMESPACE_LABELS, LAB_NODES, LAB_PODS } from '../../../lab/lab-topology.js';

const FIXTURES = new URL('../../fixtures/calico/', import.meta.url);
const fixtureLines = (name: string): string[] => readFileSync(new URL(name, FIXTURES), 'utf8').split('\n').filter((l) => l.trim() !== '');

const world: PolicyWorld = {
  pods: LAB_PODS.map((p) => ({ namespace: p.namespace, name: p.name, ip: p.ip ?? '192.168.77.11', labels: p.labels, ports: p.ports, hostNetwork: p.hostNetwork, nodeName: p.nodeName })),
  namespaceLabels: LAB_NAMESPACE_LABELS,
};
const node1 = { name: 'lab-node-1' };
const node2 = { name: 'lab-node-2' };
const apiIface = calicoVethName('team-a', 'api-1');

function np(namespace: string, name: string, spec: V1NetworkPolicy['spec']): V1NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec };
}

/** Rule lines of one chain with the run-specific parts (counters, rule hashes, chain suffixes) masked. */
function normalised(lines: readonly string[]): string[] {
  return lines.map((l) => l
    .replace(/^\[\d+:\d+\] /, '')
    .replace(/"cali:[^"]+"/g, '"cali:HASH"')
    .replace(/\b(cali-(?:tw|fw|pi|po|pri|pro))-\S+/g, '$1-X'));
}

function chainLines(chains: ReturnType<typeof buildCalicoFilterChains>, chain: string): string[] {
  return renderChainRules(chains).filter((l) => l.startsWith(`-A ${chain} `));
}

describe('lab Calico-style policy compiler', () => {
  it('names chains as Felix shortens them: 28 characters at most, "_" + hash when too long', () => {
    expect(endpointChainName('to', apiIface)).to.equal(`cali-tw-${apiIface}`);
    const long = policyChainName('ingress', { metadata: { namespace: 'team-a', name: 'deny-all-ingress' } });
    expect(long).to.match(/^cali-pi-_[A-Za-z0-9_-]{19}$/);
    expect(lengthLimitedId('cali-pri-', 'kns.default')).to.equal('cali-pri-kns.default');
    expect(lengthLimitedId('cali-pri-', 'ksa.default.default')).to.equal('cali-pri-ksa.default.default'); // exactly 28
    expect(lengthLimitedId('cali-pri-', 'ksa.kube-system.default')).to.have.length(28);
  });

  it('writes a cali-fw- chain whose policy and profile tail is line for line the one a real node shows (app-policy#15)', () => {
    const real = normalised(fixtureLines('app-policy-15-fw-chain.iptables-save-c.txt'));
    const policy = np('default', 'database', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'] });
    const chains = buildCalicoFilterChains(node1, world, [policy]);
    const lab = normalised(chainLines(chains, endpointChainName('from', calicoVethName('default', 'web-1'))));
    expect(real).to.have.length(8);
    expect(lab.slice(-real.length)).to.deep.equal(real);
  });

  it('writes a cali-tw- chain whose head is the one a v3.2x node shows (calico#9290): conntrack, mark clearing, "Start of policies", the policy jump', () => {
    const real = fixtureLines('calico-9290-tw-chain.iptables-L.txt').slice(2); // chain header and column titles
    expect(real).to.have.length(5);
    const shape = (l: string): string => {
      if (/RELATED,ESTABLISHED/.test(l)) return /ACCEPT/.test(l) ? 'accept established' : '?';
      if (/INVALID/.test(l)) return 'drop invalid';
      if (/Start of policies/.test(l)) return /0xfffdffff|0x0\/0x20000/.test(l) ? 'start of policies, clear pass' : '?';
      if (/MARK and 0xfffeffff|--set-xmark 0x0\/0x10000( |$)/.test(l)) return 'clear accept';
      if (/cali-pi-/.test(l)) return /0x0\/0x20000/.test(l) ? 'policy jump if no pass' : '?';
      return l;
    };
    const chains = buildCalicoFilterChains(node2, world, [np('team-a', 'deny-all-ingress', { podSelector: {} })]);
    const lab = chainLines(chains, endpointChainName('to', apiIface));
    expect(lab.slice(0, real.length).map(shape)).to.deep.equal(real.map(shape));
    expect(real.map(shape)).to.not.include('?');
  });

  it('dispatches by interface with -g and drops unknown interfaces, as calico#741 shows', () => {
    const real = normalised(fixtureLines('calico-741-dispatch-fw.iptables-save-c.txt').filter((l) => l.includes('cali-from-wl-dispatch')))
      .map((l) => l.replace(/-i cali\S+/, '-i IFACE'));
    const chains = buildCalicoFilterChains(node1, world, []);
    const lab = normalised(chainLines(chains, 'cali-from-wl-dispatch')).map((l) => l.replace(/-i cali\S+/, '-i IFACE'));
    expect(real).to.have.length(2);
    expect(lab).to.have.length(3); // web-1 and coredns, then the catch-all
    expect(lab.slice(-2)).to.deep.equal(real);
  });

  it('with no policy an endpoint has no policy block, only its profiles', () => {
    const chains = buildCalicoFilterChains(node2, world, []);
    const tw = chainLines(chains, endpointChainName('to', apiIface)).join('\n');
    expect(tw).to.not.include(DROP_NO_POLICY_COMMENT);
    expect(tw).to.include('-j cali-pri-kns.team-a');
    expect([...chains.chains.keys()].filter((c) => /^cali-(pi|po)-/.test(c))).to.deep.equal([]);
  });

  it('a default-deny policy gives the selected endpoint an empty policy chain and the drop rule, and leaves other endpoints alone', () => {
    const policy = np('team-a', 'deny-all-ingress', { podSelector: {}, policyTypes: ['Ingress'] });
    const chains = buildCalicoFilterChains(node2, world, [policy]);
    const piChain = policyChainName('ingress', policy);
    expect(chainLines(chains, piChain)).to.have.length(1);
    expect(chainLines(chains, piChain)[0]).to.match(/--comment "Policy team-a\/knp\.default\.deny-all-ingress ingress"$/);
    const apiTw = chainLines(chains, endpointChainName('to', apiIface)).join('\n');
    expect(apiTw).to.include(`-j ${piChain}`).and.include(DROP_NO_POLICY_COMMENT);
    const web2Tw = chainLines(chains, endpointChainName('to', calicoVethName('default', 'web-2'))).join('\n');
    expect(web2Tw).to.not.include(DROP_NO_POLICY_COMMENT);
    expect(chainLines(chains, endpointChainName('from', apiIface)).join('\n')).to.not.include(DROP_NO_POLICY_COMMENT);
  });

  it('expands selectors to the selected pod IPs, ipBlock except to a scratch-mark block, named ports to the pod that has them', () => {
    const policy = np('team-a', 'api-mixed', {
      podSelector: { matchLabels: { app: 'api' } },
      ingress: [
        { _from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }], ports: [{ port: 'api' }] },
        { _from: [{ ipBlock: { cidr: '192.168.77.0/24', except: ['192.168.77.13/32'] } }], ports: [{ port: 9000, endPort: 9100, protocol: 'TCP' }] },
      ],
    });
    const lines = chainLines(buildCalicoFilterChains(node2, world, [policy]), policyChainName('ingress', policy)).map((l) => l.replace(/ -m comment --comment "[^"]*"/g, ''));
    const body = lines.map((l) => l.replace(/^-A \S+ /, ''));
    expect(body).to.deep.equal([
      '-s 10.244.3.3/32 -d 10.244.2.2/32 -p tcp -m multiport --dports 9090 -j MARK --set-xmark 0x10000/0x10000',
      '-m mark --mark 0x10000/0x10000 -j RETURN',
      '-j MARK --set-xmark 0x40000/0x40000',
      '-s 192.168.77.13/32 -j MARK --set-xmark 0x0/0x40000',
      '-s 192.168.77.0/24 -p tcp -m multiport --dports 9000:9100 -m mark --mark 0x40000/0x40000 -j MARK --set-xmark 0x10000/0x10000',
      '-m mark --mark 0x10000/0x10000 -j RETURN',
    ]);
  });

  it('an egress policy with a named port allows the destination pods that name it; policyTypes default from the rules', () => {
    const policy = np('default', 'web-egress-api', { podSelector: { matchLabels: { app: 'web' } }, egress: [{ ports: [{ port: 'api' }] }] });
    const chains = buildCalicoFilterChains(node2, world, [policy]);
    const po = chainLines(chains, policyChainName('egress', policy)).map((l) => l.replace(/ -m comment --comment "[^"]*"/g, ''));
    expect(po[0]).to.match(/ -d 10\.244\.2\.2\/32 -p tcp -m multiport --dports 9090 -j MARK --set-xmark 0x10000\/0x10000$/);
    expect(chainLines(chains, endpointChainName('from', calicoVethName('default', 'web-2'))).join('\n')).to.include(DROP_NO_POLICY_COMMENT);
    // No ingress rules, yet Ingress is a default policyType: web-2 is isolated for ingress too.
    expect(chainLines(chains, endpointChainName('to', calicoVethName('default', 'web-2'))).join('\n')).to.include(DROP_NO_POLICY_COMMENT);
  });

  it('programs only Calico nodes, once per network namespace (scaled labs repeat them), as one --noflush transaction', () => {
    const nodes: LabNode[] = LAB_NODES.map((n) => ({ name: n.name, netns: n.netns, initPid: 1, internalIP: n.ip, nicName: 'eth0', podCIDR: n.podCIDR, cni: n.cni, kubeProxyMode: 'iptables', labels: {} }));
    const scaled = [...nodes, { ...nodes[0]!, name: 'lab-sim-0001' }];
    expect(calicoNodes({ nodes: scaled }).map((n) => n.name)).to.deep.equal(['lab-node-1', 'lab-node-2']);
    const restore = renderNoflushRestore(buildCalicoFilterChains(node1, world, []));
    const declared = restore.split('\n').filter((l) => l.startsWith(':'));
    expect(declared.length).to.be.greaterThan(0);
    expect(declared.length).to.equal(new Set(declared).size);
    expect(declared.every((l) => /^:cali-\S+ - \[0:0\]$/.test(l))).to.equal(true);
    expect(restore.startsWith('*filter\n')).to.equal(true);
    expect(restore.trimEnd().endsWith('COMMIT')).to.equal(true);
  });
});
