// Pure checks of the lab's rule builders against names real kube-proxy and Calico produced.
// Expected names come from:
//  - shared/realdata/iptables/flannel-kubeadm-v1.29-master-full.txt (iptables-save of a kubeadm
//    v1.29.4 node, source recorded in that file's header);
//  - kube-proxy's nftables proxier_test.go (TestOverallNFTablesRules: ns1/svc1 p80 -> ULMVA6XW,
//    endpoint 10.180.0.1:80 -> 5OJB2KTY);
//  - shared/realdata/iplink/calico-kind-node-ip-addr-calic-veth.txt (tkng kind lab: pod
//    default/net-tshoot-rg2lp's host veth calic8441ae7134).
// Runs without root or a lab.
import { expect } from 'chai';
import {
  base32Encode,
  buildKubeProxyNftRuleset,
  buildNodeIptablesRestore,
  buildServiceEndpoints,
  nftEndpointChainName,
  nftServiceChainBase,
  servicePortChainName,
  servicePortEndpointChainName,
  servicePortNameString,
  serviceLocalChainName,
} from '../../../lab/kube-proxy-rules.js';
import type { LabNode, LabPod, LabState } from '../../../lab/lab-state.js';
import { parseIptablesSave } from '../../../src/kube-proxy/iptables-save.js';
import { findKubeProxyTable, parseNftRuleset, type NftTable } from '../../../src/kube-proxy/nftables.js';
import { buildServiceChainFromIptables } from '../../../src/kube-proxy/iptables-walk.js';
import { buildServiceChainFromNft } from '../../../src/kube-proxy/nft-walk.js';
import type { ServicePacket } from '../../../src/kube-proxy/service-chain.js';
import { calicoVethName, LAB_NODES, LAB_PODS, LAB_SERVICES } from '../../../lab/lab-topology.js';

function fixtureState(mode: LabNode['kubeProxyMode'] = 'iptables'): LabState {
  const nodes: LabNode[] = LAB_NODES.map((n) => ({
    name: n.name, netns: n.netns, initPid: 1, internalIP: n.ip, nicName: 'eth0', podCIDR: n.podCIDR, cni: n.cni, kubeProxyMode: mode, labels: n.labels,
  }));
  const pods: LabPod[] = LAB_PODS.map((p) => ({
    name: p.name, namespace: p.namespace, uid: 'u', nodeName: p.nodeName, hostNetwork: p.hostNetwork, netns: null,
    ip: p.ip ?? nodes.find((n) => n.name === p.nodeName)!.internalIP, containerName: p.containerName, containerId: '0'.repeat(64),
    pid: 1, image: p.image, labels: p.labels, ready: p.ready ?? true, ports: p.ports, dnsPolicy: p.dnsPolicy,
  }));
  return {
    createdAt: '2024-01-01T00:00:00.000Z', serviceCIDR: '10.96.0.0/16', clusterCIDR: '10.244.0.0/16', clusterDomain: 'cluster.local',
    dnsServiceIP: '10.96.0.10', upstreamDnsIP: '192.168.77.53', nodes, pods, services: [...LAB_SERVICES], configMaps: [], namespaces: [],
  };
}

describe('lab kube-proxy rules (pure)', function () {
  it('base32 matches Go StdEncoding', function () {
    expect(base32Encode(new TextEncoder().encode('foobar'))).to.equal('MZXW6YTBOI======');
    expect(base32Encode(new Uint8Array())).to.equal('');
  });

  it('KUBE-SVC / KUBE-SEP names equal those in a real kubeadm v1.29 dump', function () {
    expect(servicePortChainName('default/kubernetes:https', 'tcp')).to.equal('KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(servicePortChainName('kube-system/kube-dns:dns', 'udp')).to.equal('KUBE-SVC-TCOU7JCQXEZGVUNU');
    expect(servicePortChainName('kube-system/kube-dns:dns-tcp', 'tcp')).to.equal('KUBE-SVC-ERIFXISQEP7F7OF4');
    expect(servicePortChainName('kube-system/kube-dns:metrics', 'tcp')).to.equal('KUBE-SVC-JD5MR3NA4I4DYORP');
    expect(servicePortEndpointChainName('default/kubernetes:https', 'tcp', '192.168.157.133:6443')).to.equal('KUBE-SEP-SAA7F5BCHTGMFCIJ');
    expect(servicePortEndpointChainName('kube-system/kube-dns:dns', 'udp', '10.244.0.4:53')).to.equal('KUBE-SEP-WXWGHGKZOCNYRYI7');
  });

  it('nftables chain names equal kube-proxy 1.31 test expectations', function () {
    const svc = { namespace: 'ns1', name: 'svc1' };
    const port = { name: 'p80', port: 80, targetPort: 80, protocol: 'TCP' as const };
    expect(nftServiceChainBase(svc, port)).to.equal('ULMVA6XW-ns1/svc1/tcp/p80');
    expect(nftEndpointChainName(svc, port, { ip: '10.180.0.1', port: 80, podName: null, nodeName: null, ready: true, zoneHints: [] })).to.equal(
      'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80',
    );
  });

  it("Calico's host veth name for a real pod", function () {
    expect(calicoVethName('default', 'net-tshoot-rg2lp')).to.equal('calic8441ae7134');
  });

  it('service port names follow ServicePortName.String()', function () {
    expect(servicePortNameString({ namespace: 'default', name: 'web' }, { name: 'http' })).to.equal('default/web:http');
    expect(servicePortNameString({ namespace: 'default', name: 'web-nodeport' }, {})).to.equal('default/web-nodeport');
  });

  it('endpoints: selected ready pods sorted by IP; kubernetes -> control plane :6443; empty has none', function () {
    const eps = buildServiceEndpoints(fixtureState());
    const of = (ns: string, name: string, portName?: string) =>
      eps.find((e) => e.service.namespace === ns && e.service.name === name && e.port.name === portName)!.endpoints.map((e) => `${e.ip}:${e.port}`);
    expect(of('default', 'web', 'http')).to.deep.equal(['10.244.1.1:8080', '10.244.2.1:8080', '10.244.3.2:8080']);
    expect(of('default', 'kubernetes', 'https')).to.deep.equal(['192.168.77.11:6443']);
    expect(of('default', 'empty')).to.deep.equal([]);
    expect(of('kube-system', 'kube-dns', 'dns')).to.deep.equal(['10.244.1.2:53']);
  });

  it('iptables restore: probability split, hairpin masq, DNAT, no-endpoint REJECT, NodePort last', function () {
    const state = fixtureState();
    const text = buildNodeIptablesRestore(state, state.nodes[0]!);
    const svc = servicePortChainName('default/web:http', 'tcp');
    const lines = text.split('\n');
    const svcRules = lines.filter((l) => l.startsWith(`-A ${svc} `));
    expect(svcRules[0]).to.equal(`-A ${svc} ! -s 10.244.0.0/16 -d 10.96.100.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`);
    expect(svcRules[1]).to.match(/-m comment --comment "default\/web:http -> 10\.244\.1\.1:8080" -m statistic --mode random --probability 0\.3333333333 -j KUBE-SEP-/);
    expect(svcRules[2]).to.match(/--probability 0\.5000000000 -j KUBE-SEP-/);
    expect(svcRules[3]).to.not.include('statistic');
    expect(text).to.include('-A KUBE-SERVICES -d 10.96.100.12/32 -p tcp -m comment --comment "default/empty has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable');
    const natServices = lines.filter((l) => l.startsWith('-A KUBE-SERVICES ') && !l.includes('REJECT'));
    expect(natServices[natServices.length - 1]).to.include('-j KUBE-NODEPORTS');
    expect(text).to.include('-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web-nodeport" -m tcp --dport 30080 -j KUBE-EXT-');
    expect(text).to.include('cali-nat-outgoing');
  });

  it('omitting a Service drops all of its chains and nothing else', function () {
    const state = fixtureState();
    const text = buildNodeIptablesRestore(state, state.nodes[2]!, ['default/web']);
    expect(text).to.not.include('default/web:http');
    expect(text).to.include('default/web-nodeport');
    expect(text).to.include('FLANNEL-POSTRTG');
  });

  it('a node in nftables mode gets no KUBE-SVC chains in iptables, and an ip kube-proxy table', function () {
    const state = fixtureState('nftables');
    expect(buildNodeIptablesRestore(state, state.nodes[1]!)).to.not.include('KUBE-SVC-');
    const nft = buildKubeProxyNftRuleset(state, state.nodes[1]!);
    expect(nft).to.include('add element ip kube-proxy no-endpoint-services { 10.96.100.12 . tcp . 80 comment "default/empty" : goto reject-chain }');
    expect(nft).to.include('add element ip kube-proxy service-nodeports { tcp . 30080 : goto external-');
    expect(nft).to.match(/numgen random mod 3 vmap \{ 0 : goto endpoint-\w{8}-default\/web\/tcp\/http__10\.244\.1\.1\/8080 , 1 : goto /);
    // Every chain a rule jumps to is created before it is used.
    const created = new Set<string>();
    for (const line of nft.split('\n')) {
      const add = /^add chain ip kube-proxy (\S+)/.exec(line);
      if (add) created.add(add[1]!);
      for (const m of line.matchAll(/goto (\S+?)(?= |$| })/g)) if (line.startsWith('add rule')) expect(created.has(m[1]!), m[1]).to.equal(true);
    }
  });
  it('trafficDistribution PreferClose: each node programs only the endpoints hinted for its zone', function () {
    const state = fixtureState();
    const svc = servicePortChainName('default/web-zonal:http', 'tcp');
    const dnats = (text: string) => text.split('\n').filter((l) => l.includes('"default/web-zonal:http"') && l.includes('DNAT')).map((l) => l.split('--to-destination ')[1]).sort();
    expect(dnats(buildNodeIptablesRestore(state, state.nodes[0]!))).to.deep.equal(['10.244.1.1:8080', '10.244.2.1:8080']);
    expect(dnats(buildNodeIptablesRestore(state, state.nodes[2]!))).to.deep.equal(['10.244.3.2:8080']);
    const nft = buildKubeProxyNftRuleset(fixtureState('nftables'), state.nodes[2]!);
    expect(nft.split('\n').filter((l) => / endpoint-\w+-default\/web-zonal\/.* dnat to /.test(l)).map((l) => l.split('dnat to ')[1])).to.deep.equal(['10.244.3.2:8080']);
    // a node without the zone label gets every endpoint (kube-proxy ignores the hints there)
    const unlabelled = { ...state.nodes[2]!, labels: {} };
    expect(dnats(buildNodeIptablesRestore(state, unlabelled))).to.have.length(3);
    // and the split is over the zone's endpoints only
    expect(buildNodeIptablesRestore(state, state.nodes[0]!)).to.include(`-A ${svc} -m comment --comment "default/web-zonal:http -> 10.244.1.1:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-`);
  });

  it('publishNotReadyAddresses: the not-ready pod is an endpoint of that Service only', function () {
    const eps = buildServiceEndpoints(fixtureState());
    const peer = fixtureState().pods.find((p) => p.name === 'peer-0')!;
    expect(peer.ready).to.equal(false);
    expect(eps.find((e) => e.service.name === 'peer-discovery')!.endpoints.map((e) => e.ip)).to.deep.equal([peer.ip]);
  });

  it('SCTP ports get -p sctp / meta l4proto sctp rules', function () {
    const state = fixtureState();
    expect(buildNodeIptablesRestore(state, state.nodes[0]!)).to.match(/-A KUBE-SERVICES -d 10\.96\.100\.30\/32 -p sctp -m comment --comment "default\/sticky:echo-sctp cluster IP" -m sctp --dport 9999 -j KUBE-SVC-/);
    expect(buildKubeProxyNftRuleset(fixtureState('nftables'), state.nodes[0]!)).to.include('add element ip kube-proxy service-ips { 10.96.100.30 . sctp . 9999 : goto service-');
  });

  it('masquerade variants: --cluster-cidr, --masquerade-all, neither; in the chain ClusterIP traffic takes', function () {
    const masq = (masquerade: LabState['kubeProxyMasquerade'], mode: LabNode['kubeProxyMode']) => {
      const state = { ...fixtureState(mode), kubeProxyMasquerade: masquerade };
      const text = mode === 'nftables' ? buildKubeProxyNftRuleset(state, state.nodes[0]!) : buildNodeIptablesRestore(state, state.nodes[0]!);
      return text.split('\n').filter((l) => (l.includes('"default/web:http cluster IP"') && l.includes('KUBE-MARK-MASQ')) || (/service-\w+-default\/web\/tcp\/http /.test(l) && l.includes('mark-for-masquerade')));
    };
    const svc = servicePortChainName('default/web:http', 'tcp');
    expect(masq(undefined, 'iptables')).to.deep.equal([`-A ${svc} ! -s 10.244.0.0/16 -d 10.96.100.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`]);
    expect(masq('all', 'iptables')).to.deep.equal([`-A ${svc} -d 10.96.100.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`]);
    expect(masq('none', 'iptables')).to.deep.equal([]);
    expect(masq('all', 'nftables')).to.have.length(1);
    expect(masq('all', 'nftables')[0]).to.match(/ip daddr 10\.96\.100\.10 jump mark-for-masquerade$/);
    expect(masq('none', 'nftables')).to.deep.equal([]);
    // internalTrafficPolicy Local: the rule sits in KUBE-SVL, the chain the ClusterIP jumps to
    const state = fixtureState();
    const svl = serviceLocalChainName('default/web-local:http', 'tcp');
    expect(buildNodeIptablesRestore(state, state.nodes[0]!)).to.include(`-A ${svl} ! -s 10.244.0.0/16 -d 10.96.100.32/32 -p tcp -m comment --comment "default/web-local:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`);
  });
  it("the walker reads each masquerade variant as the kernel applies it (pod and node -> ClusterIP)", function () {
    const fromPod: ServicePacket = { protocol: 'tcp', sourceIp: '10.244.3.3', destinationIp: '10.96.100.10', destinationPort: 80, hook: 'prerouting', localAddresses: ['192.168.77.11'] };
    const fromNode: ServicePacket = { ...fromPod, sourceIp: '192.168.77.11', hook: 'output' };
    const expected = { 'cluster-cidr': [false, true], all: [true, true], none: [false, false] } as const;
    for (const [variant, [pod, host]] of Object.entries(expected)) {
      for (const mode of ['iptables', 'nftables'] as const) {
        const state = { ...fixtureState(mode), kubeProxyMasquerade: variant as LabState['kubeProxyMasquerade'] };
        const node = state.nodes[0]!;
        const trace = mode === 'iptables'
          ? (p: ServicePacket) => buildServiceChainFromIptables(parseIptablesSave(buildNodeIptablesRestore(state, node)), p)
          : (p: ServicePacket) => buildServiceChainFromNft(findKubeProxyTable(parseNftRuleset(buildKubeProxyNftRuleset(state, node))) as NftTable, p);
        for (const [packet, masq] of [[fromPod, pod], [fromNode, host]] as const) {
          const chain = trace(packet);
          const what = `${variant} ${mode} from ${packet.sourceIp}`;
          expect(chain.outcome, what).to.equal('dnat');
          expect(chain.endpoints, what).to.have.length(3);
          expect(chain.endpoints.map((e) => e.masquerade.masquerade), what).to.deep.equal([masq, masq, masq]);
        }
      }
    }
  });
});
