import { expect } from 'chai';
import { findKubeProxyTable, parseNftRuleset, servicePortFromNftChain, type NftTable } from '../../../src/kube-proxy/nftables.js';
import { buildServiceChainFromNft } from '../../../src/kube-proxy/nft-walk.js';
import type { ServicePacket } from '../../../src/kube-proxy/service-chain.js';
import { buildGeneratedServices, generateNftKubeProxy } from '../../../scripts/gen-kube-proxy-dump.js';
import { readFixture } from './kube-proxy-fixtures.js';

const table = findKubeProxyTable(parseNftRuleset(readFixture('nftables/kube-proxy-overall-listing.txt'))) as NftTable;
const NODE = '192.168.0.2';
const POD = '10.0.0.2';
const EXTERNAL = '203.0.113.2';

describe('buildServiceChainFromNft', () => {
  interface Row {
    name: string;
    packet: ServicePacket;
    outcome: string;
    targets: string[];
    masquerade?: boolean;
    servicePort?: string;
  }
  const p = (x: Partial<ServicePacket> & Pick<ServicePacket, 'sourceIp' | 'destinationIp' | 'destinationPort'>): ServicePacket => ({
    protocol: 'tcp',
    hook: 'prerouting',
    localAddresses: [NODE],
    ...x,
  });
  // The cases of kube-proxy's own TestOverallNFTablesRules packet-flow tests.
  const rows: Row[] = [
    { name: 'pod -> cluster IP (1 endpoint)', packet: p({ sourceIp: POD, destinationIp: '172.30.0.41', destinationPort: 80 }), outcome: 'dnat', targets: ['10.180.0.1:80@1'], masquerade: false, servicePort: 'ns1/svc1:p80' },
    { name: 'pod -> cluster IP (2 endpoints, 1/2 each)', packet: p({ sourceIp: POD, destinationIp: '172.30.0.44', destinationPort: 80 }), outcome: 'dnat', targets: ['10.180.0.4:80@0.5', '10.180.0.5:80@0.5'], masquerade: false },
    { name: 'host -> cluster IP is masqueraded', packet: p({ sourceIp: NODE, destinationIp: '172.30.0.41', destinationPort: 80, hook: 'output' }), outcome: 'dnat', targets: ['10.180.0.1:80@1'], masquerade: true },
    { name: 'external -> NodePort is masqueraded', packet: p({ sourceIp: EXTERNAL, destinationIp: NODE, destinationPort: 3003, destinationIsLocal: true }), outcome: 'dnat', targets: ['10.180.0.3:80@1'], masquerade: true, servicePort: 'ns3/svc3:p80' },
    { name: 'external -> external IP', packet: p({ sourceIp: EXTERNAL, destinationIp: '192.168.99.33', destinationPort: 80 }), outcome: 'dnat', targets: ['10.180.0.4:80@0.5', '10.180.0.5:80@0.5'], masquerade: true },
    { name: 'pod -> service without endpoints: REJECT', packet: p({ sourceIp: POD, destinationIp: '172.30.0.46', destinationPort: 80 }), outcome: 'reject', targets: [], servicePort: 'ns6/svc6:p80' },
    { name: 'external -> LB IP of eTP=Local service with no local endpoint: DROP', packet: p({ sourceIp: EXTERNAL, destinationIp: '1.2.3.4', destinationPort: 80 }), outcome: 'drop', targets: [], servicePort: 'ns2/svc2:p80' },
    { name: 'pod -> same LB IP: short-circuited to the cluster endpoints', packet: p({ sourceIp: POD, destinationIp: '1.2.3.4', destinationPort: 80 }), outcome: 'dnat', targets: ['10.180.0.2:80@1'], masquerade: false },
    { name: 'pod -> cluster IP, wrong port: REJECT by cluster-ips-check', packet: p({ sourceIp: POD, destinationIp: '172.30.0.41', destinationPort: 81 }), outcome: 'reject', targets: [] },
    { name: 'pod -> unallocated cluster IP: DROP', packet: p({ sourceIp: POD, destinationIp: '172.30.0.99', destinationPort: 80 }), outcome: 'drop', targets: [] },
    { name: 'pod -> outside address: no kube-proxy rule', packet: p({ sourceIp: POD, destinationIp: '8.8.8.8', destinationPort: 53, protocol: 'udp' }), outcome: 'no-match', targets: [] },
    { name: 'blocked LB source range: DROP by firewall chain', packet: p({ sourceIp: '203.0.113.130', destinationIp: '5.6.7.8', destinationPort: 80 }), outcome: 'drop', targets: [] },
    { name: 'allowed LB source range', packet: p({ sourceIp: EXTERNAL, destinationIp: '5.6.7.8', destinationPort: 80 }), outcome: 'dnat', targets: ['10.180.0.3:80@1'], masquerade: true },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const sc = buildServiceChainFromNft(table, row.packet);
      expect(sc.mode).to.equal('nftables');
      expect(sc.outcome).to.equal(row.outcome);
      expect(sc.endpoints.map((e) => `${e.dnatTarget?.ip}:${e.dnatTarget?.port}@${e.probability}`).sort()).to.deep.equal(row.targets);
      if (row.masquerade !== undefined) for (const e of sc.endpoints) expect(e.masquerade.masquerade).to.equal(row.masquerade);
      if (row.servicePort !== undefined) expect(sc.servicePort).to.equal(row.servicePort);
    });
  }

  it('cites the mark and masquerade rules and the masquerade CIDR', () => {
    const sc = buildServiceChainFromNft(table, p({ sourceIp: NODE, destinationIp: '172.30.0.44', destinationPort: 80, hook: 'output' }));
    expect(sc.serviceChain).to.equal('service-LAUZTJTB-ns4/svc4/tcp/p80');
    expect(sc.masqueradeScope).to.deep.equal({ cidr: '10.0.0.0/8', rule: 'ip daddr 172.30.0.44 ip saddr != 10.0.0.0/8 jump mark-for-masquerade' });
    expect(sc.endpoints).to.have.length(2);
    for (const e of sc.endpoints) {
      expect(e.masquerade.markedBy).to.equal('ip daddr 172.30.0.44 ip saddr != 10.0.0.0/8 jump mark-for-masquerade');
      expect(e.masquerade.decidedBy).to.equal('masquerade fully-random');
      expect(e.endpointChain).to.match(/^endpoint-/);
    }
    const pod = buildServiceChainFromNft(table, p({ sourceIp: POD, destinationIp: '172.30.0.44', destinationPort: 80 }));
    expect(pod.endpoints[0]?.masquerade.decidedBy).to.equal('meta mark & 0x00004000 == 0x00000000 return');
  });

  it('walks a generated listing the same as its Services say', () => {
    const opts = { services: 60, seed: 9 };
    const t = findKubeProxyTable(parseNftRuleset(generateNftKubeProxy(opts))) as NftTable;
    for (const s of buildGeneratedServices(opts).slice(0, 60)) {
      const sc = buildServiceChainFromNft(t, p({ protocol: s.protocol, sourceIp: '10.244.9.9', destinationIp: s.clusterIp, destinationPort: s.port }));
      if (s.endpoints.length === 0) {
        expect(sc.outcome, s.name).to.equal('reject');
      } else {
        expect(sc.endpoints.map((e) => `${e.dnatTarget?.ip}:${e.dnatTarget?.port}`).sort(), s.name).to.deep.equal(
          s.endpoints.map((e) => `${e.ip}:${e.port}`).sort(),
        );
        expect(sc.endpoints.reduce((a, e) => a + e.probability, 0)).to.be.closeTo(1, 1e-9);
      }
    }
  });

  it('servicePortFromNftChain', () => {
    expect(servicePortFromNftChain('service-ULMVA6XW-ns1/svc1/tcp/p80')).to.equal('ns1/svc1:p80');
    expect(servicePortFromNftChain('endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80')).to.equal('ns1/svc1:p80');
    expect(servicePortFromNftChain('services')).to.equal(null);
    // An unnamed port: kube-proxy's chain ends in "/tcp/" and its ServicePortName has no ":port".
    expect(servicePortFromNftChain('service-SXIFFM75-default/web-nodeport/tcp/')).to.equal('default/web-nodeport');
    expect(servicePortFromNftChain('endpoint-2MF3AJMG-default/web-nodeport/tcp/__10.244.1.1/8080')).to.equal('default/web-nodeport');
  });
});
