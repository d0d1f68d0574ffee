// Packet-flow tables on kube-proxy's own expected rules from several releases (fixture README:
// test/fixtures/README.md). Each row: a packet -> where kube-proxy's rules send it (DNAT
// targets with their shares, masquerade), or the drop/reject and the Service policy behind it.
// Expectations are read off the rules by hand and, where kube-proxy's test states one, match its
// own packet-flow expectation.
import { expect } from 'chai';
import { parseIptablesSave } from '../../../src/kube-proxy/iptables-save.js';
import { findKubeProxyTable, parseNftRuleset, type NftTable } from '../../../src/kube-proxy/nftables.js';
import { buildServiceChainFromIptables } from '../../../src/kube-proxy/iptables-walk.js';
import { buildServiceChainFromNft } from '../../../src/kube-proxy/nft-walk.js';
import type { IntendedDropReason, ServiceChain, ServicePacket } from '../../../src/kube-proxy/service-chain.js';
import { readFixture } from './kube-proxy-fixtures.js';

interface Row {
  name: string;
  packet: ServicePacket;
  outcome: ServiceChain['outcome'];
  targets: string[]; // "ip:port@share", sorted
  masquerade?: boolean;
  intended?: IntendedDropReason | null;
  affinitySeconds?: number | null; // null: affinity rules seen, timeout unknown; undefined: no affinity
}

function check(trace: (p: ServicePacket) => ServiceChain, rows: Row[]): void {
  for (const row of rows) {
    it(row.name, () => {
      const sc = trace(row.packet);
      expect(sc.outcome, sc.notes.join('\n')).to.equal(row.outcome);
      const targets = sc.endpoints.map((e) => `${e.dnatTarget?.ip}:${e.dnatTarget?.port}@${e.probability}`).sort();
      expect(targets).to.have.length(row.targets.length);
      expect(targets).to.deep.equal(row.targets);
      if (row.masquerade !== undefined) {
        expect(sc.endpoints.length).to.be.greaterThan(0);
        for (const e of sc.endpoints) expect(e.masquerade.masquerade, e.endpointChain).to.equal(row.masquerade);
      }
      if (row.outcome === 'drop' || row.outcome === 'reject') expect(sc.intendedDrop?.reason ?? null).to.equal(row.intended ?? null);
      else expect(sc.intendedDrop).to.equal(null);
      if (row.affinitySeconds === undefined) expect(sc.sessionAffinity).to.equal(null);
      else expect(sc.sessionAffinity?.timeoutSeconds).to.equal(row.affinitySeconds);
      expect(sc.undecided).to.deep.equal([]);
    });
  }
}

// kube-proxy's unit tests: node IP 192.168.0.2, pods 10.0.0.0/8, an external client in 203.0.113.0/24.
const NODE = '192.168.0.2';
const POD = '10.0.0.2';
const EXTERNAL = '203.0.113.2';
const pkt = (x: Partial<ServicePacket> & Pick<ServicePacket, 'sourceIp' | 'destinationIp' | 'destinationPort'>): ServicePacket => ({
  protocol: 'tcp',
  hook: 'prerouting',
  localAddresses: [NODE],
  ...x,
});

// The six Services of TestOverallIPTablesRules / TestOverallNFTablesRules (same in every release).
function overallRows(svc5Affinity: number | null | undefined): Row[] {
  return [
    { name: 'pod -> ClusterIP, 1 endpoint', packet: pkt({ sourceIp: POD, destinationIp: '172.30.0.41', destinationPort: 80 }), outcome: 'dnat', targets: ['10.180.0.1:80@1'], masquerade: false },
    { name: 'node (host network) -> ClusterIP: masqueraded', packet: pkt({ sourceIp: NODE, destinationIp: '172.30.0.41', destinationPort: 80, hook: 'output' }), outcome: 'dnat', targets: ['10.180.0.1:80@1'], masquerade: true },
    { name: 'pod -> ClusterIP, 2 endpoints at 1/2', packet: pkt({ sourceIp: POD, destinationIp: '172.30.0.44', destinationPort: 80 }), outcome: 'dnat', targets: ['10.180.0.4:80@0.5', '10.180.0.5:80@0.5'], masquerade: false },
    { name: 'external -> externalIP (eTP Cluster): masqueraded', packet: pkt({ sourceIp: EXTERNAL, destinationIp: '192.168.99.33', destinationPort: 80 }), outcome: 'dnat', targets: ['10.180.0.4:80@0.5', '10.180.0.5:80@0.5'], masquerade: true },
    { name: 'external -> NodePort (eTP Cluster): masqueraded', packet: pkt({ sourceIp: EXTERNAL, destinationIp: NODE, destinationPort: 3003, destinationIsLocal: true }), outcome: 'dnat', targets: ['10.180.0.3:80@1'], masquerade: true },
    { name: 'external -> externalIP of eTP=Local, no local endpoint: intended drop', packet: pkt({ sourceIp: EXTERNAL, destinationIp: '192.168.99.22', destinationPort: 80 }), outcome: 'drop', targets: [], intended: 'no-local-endpoints' },
    { name: 'external -> LB IP of eTP=Local, no local endpoint: intended drop', packet: pkt({ sourceIp: EXTERNAL, destinationIp: '1.2.3.4', destinationPort: 80 }), outcome: 'drop', targets: [], intended: 'no-local-endpoints' },
    { name: 'external -> NodePort of eTP=Local, no local endpoint: intended drop', packet: pkt({ sourceIp: EXTERNAL, destinationIp: NODE, destinationPort: 3001, destinationIsLocal: true }), outcome: 'drop', targets: [], intended: 'no-local-endpoints' },
    { name: 'pod -> LB IP of eTP=Local: short-circuited to every endpoint', packet: pkt({ sourceIp: POD, destinationIp: '1.2.3.4', destinationPort: 80 }), outcome: 'dnat', targets: ['10.180.0.2:80@1'], masquerade: false },
    { name: 'node -> externalIP of eTP=Local: routed to the cluster, masqueraded', packet: pkt({ sourceIp: NODE, destinationIp: '192.168.99.22', destinationPort: 80, hook: 'output' }), outcome: 'dnat', targets: ['10.180.0.2:80@1'], masquerade: true },
    { name: 'source inside loadBalancerSourceRanges -> LB IP', packet: pkt({ sourceIp: EXTERNAL, destinationIp: '5.6.7.8', destinationPort: 80 }), outcome: 'dnat', targets: ['10.180.0.3:80@1'], masquerade: true, affinitySeconds: svc5Affinity },
    { name: 'source outside loadBalancerSourceRanges -> LB IP: intended drop', packet: pkt({ sourceIp: '203.0.113.130', destinationIp: '5.6.7.8', destinationPort: 80 }), outcome: 'drop', targets: [], intended: 'source-range' },
    { name: 'pod -> ClusterIP with ClientIP affinity (a new client)', packet: pkt({ sourceIp: POD, destinationIp: '172.30.0.45', destinationPort: 80 }), outcome: 'dnat', targets: ['10.180.0.3:80@1'], masquerade: false, affinitySeconds: svc5Affinity },
    { name: 'pod -> Service without endpoints: reject', packet: pkt({ sourceIp: POD, destinationIp: '172.30.0.46', destinationPort: 80 }), outcome: 'reject', targets: [], intended: 'no-endpoints' },
  ];
}

describe('kube-proxy releases: packet-flow tables', () => {
  describe('iptables v1.30 (TestOverallIPTablesRules, nfacct counters)', () => {
    const dump = parseIptablesSave(readFixture('iptables/kube-proxy-v1.30-overall.iptables'));
    check((p) => buildServiceChainFromIptables(dump, p), overallRows(10800));
  });

  describe('iptables v1.28 (TestOverallIPTablesRulesWithMultipleServices)', () => {
    const dump = parseIptablesSave(readFixture('iptables/kube-proxy-v1.28-overall.iptables'));
    check((p) => buildServiceChainFromIptables(dump, p), overallRows(undefined));
  });

  describe('iptables v1.28 ClientIP affinity with eTP=Local (TestEndpointSliceWithTerminatingEndpointsIptables)', () => {
    const dump = parseIptablesSave(readFixture('iptables/kube-proxy-v1.28-affinity-terminating.iptables'));
    const third = 1 / 3;
    const r = (x: number): number => Math.round(x * 1e9) / 1e9;
    check((p) => buildServiceChainFromIptables(dump, p), [
      // kube-proxy's expectation: "10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80"
      { name: 'pod -> ClusterIP: all three endpoints at 1/3', packet: pkt({ sourceIp: POD, destinationIp: '172.30.1.1', destinationPort: 80 }), outcome: 'dnat', targets: [`10.0.1.1:80@${r(third)}`, `10.0.1.2:80@${r(third)}`, `10.0.1.5:80@${r(third)}`], masquerade: false, affinitySeconds: 10800 },
      // kube-proxy's expectation: "10.0.1.1:80, 10.0.1.2:80" (the local ones, KUBE-SVL)
      { name: 'external -> LB IP (eTP=Local): only the local endpoints, source kept', packet: pkt({ sourceIp: EXTERNAL, destinationIp: '1.2.3.4', destinationPort: 80 }), outcome: 'dnat', targets: ['10.0.1.1:80@0.5', '10.0.1.2:80@0.5'], masquerade: false, affinitySeconds: 10800 },
    ]);
  });

  describe('iptables ~v1.12 on AKS (KUBE-XLB, KUBE-MARK-DROP, masquerade in KUBE-SERVICES)', () => {
    const dump = parseIptablesSave(readFixture('iptables/kube-proxy-aks-v1.12-xlb-excerpt.iptables'));
    const node = '10.240.0.5';
    const p = (x: Partial<ServicePacket> & Pick<ServicePacket, 'sourceIp' | 'destinationIp' | 'destinationPort'>): ServicePacket => ({ protocol: 'tcp', hook: 'prerouting', localAddresses: [node], ...x });
    check((x) => buildServiceChainFromIptables(dump, x), [
      { name: 'client -> NodePort of eTP=Local, no local endpoint: marked and dropped, intended', packet: p({ sourceIp: '10.188.0.4', destinationIp: node, destinationPort: 30002, destinationIsLocal: true }), outcome: 'drop', targets: [], intended: 'no-local-endpoints' },
      { name: 'pod -> the same NodePort: redirected to the ClusterIP chain', packet: p({ sourceIp: '10.244.1.5', destinationIp: node, destinationPort: 30002, destinationIsLocal: true }), outcome: 'dnat', targets: ['10.244.0.4:6379@1'], masquerade: false },
      { name: 'node -> ClusterIP: masqueraded by the KUBE-SERVICES rule', packet: p({ sourceIp: node, destinationIp: '10.0.178.235', destinationPort: 6379, hook: 'output' }), outcome: 'dnat', targets: ['10.244.0.4:6379@1'], masquerade: true },
      { name: 'pod -> ClusterIP with ClientIP affinity (a new client)', packet: p({ sourceIp: '10.244.1.5', destinationIp: '10.0.96.18', destinationPort: 6379 }), outcome: 'dnat', targets: ['10.244.0.4:6379@1'], masquerade: false, affinitySeconds: 10800 },
      { name: 'client -> NodePort with affinity: masqueraded', packet: p({ sourceIp: '10.188.0.4', destinationIp: node, destinationPort: 30004, destinationIsLocal: true }), outcome: 'dnat', targets: ['10.244.0.4:6379@1'], masquerade: true, affinitySeconds: 10800 },
      { name: 'pod -> ClusterIP without endpoints: reject', packet: p({ sourceIp: '10.244.1.5', destinationIp: '10.0.109.24', destinationPort: 6379, hook: 'output' }), outcome: 'reject', targets: [], intended: 'no-endpoints' },
      { name: 'client -> NodePort without endpoints: reject', packet: p({ sourceIp: '10.188.0.4', destinationIp: node, destinationPort: 30003, destinationIsLocal: true }), outcome: 'reject', targets: [], intended: 'no-endpoints' },
    ]);
  });

  describe('nftables v1.31+ (TestOverallNFTablesRules, the kernel\'s own listing)', () => {
    const table = findKubeProxyTable(parseNftRuleset(readFixture('nftables/kube-proxy-overall-listing.txt'))) as NftTable;
    // nftables mode shows affinity as a set; its timeout is not on the rule
    check((p) => buildServiceChainFromNft(table, p), overallRows(null));
  });

  describe('nftables v1.31+, the same table from a support bundle as `nft -a` (handles on every line)', () => {
    const table = findKubeProxyTable(parseNftRuleset(readFixture('nftables/kube-proxy-overall-listing-handles.txt'))) as NftTable;
    check((p) => buildServiceChainFromNft(table, p), overallRows(null));
  });

  describe('nftables v1.31+, kube-proxy\'s own `nft -f` transaction (add table/chain/rule/element)', () => {
    const table = findKubeProxyTable(parseNftRuleset(readFixture('nftables/kube-proxy-overall-rules.nft'))) as NftTable;
    check((p) => buildServiceChainFromNft(table, p), overallRows(null));
  });
});

describe('the three nftables forms hold the same table', () => {
  const forms = {
    listing: parseNftRuleset(readFixture('nftables/kube-proxy-overall-listing.txt')),
    handles: parseNftRuleset(readFixture('nftables/kube-proxy-overall-listing-handles.txt')),
    transaction: parseNftRuleset(readFixture('nftables/kube-proxy-overall-rules.nft')),
  };
  const shape = (rs: (typeof forms)['listing']) => {
    const t = findKubeProxyTable(rs) as NftTable;
    return {
      chains: [...t.chains.values()].map((c) => `${c.name} ${c.hook?.hook ?? '-'} ${c.hook?.priority ?? ''} ${c.rules.length}`).sort(),
      sets: [...t.sets.values()].map((x) => `${x.kind} ${x.name} ${x.elements.map((e) => `${e.key.join('.')}=${e.verdict?.kind ?? ''}${e.verdict?.chain ?? ''}`).sort().join(',')}`).sort(),
    };
  };
  for (const [name, rs] of Object.entries(forms)) {
    it(`${name}: parsed completely, without warnings`, () => {
      expect(rs.complete).to.equal(true);
      expect(rs.warnings).to.deep.equal([]);
      expect(rs.tables).to.have.length(1);
    });
  }
  it('same chains (hooks, priorities, rule counts) and the same set elements in all three', () => {
    const listing = shape(forms.listing);
    expect(listing.chains.length).to.be.greaterThan(20);
    expect(shape(forms.handles)).to.deep.equal(listing);
    expect(shape(forms.transaction)).to.deep.equal(listing);
  });
  it('keeps each rule\'s handle from `nft -a` and none from the others', () => {
    const rules = [...(findKubeProxyTable(forms.handles) as NftTable).chains.values()].flatMap((c) => c.rules);
    expect(rules.length).to.be.greaterThan(40);
    expect(rules.every((r) => Number.isInteger(r.handle) && r.raw.indexOf('# handle') === -1)).to.equal(true);
    expect(new Set(rules.map((r) => r.handle)).size).to.equal(rules.length);
    const plain = [...(findKubeProxyTable(forms.transaction) as NftTable).chains.values()].flatMap((c) => c.rules);
    expect(plain).to.have.length(rules.length);
    expect(plain.every((r) => r.handle === null)).to.equal(true);
  });
});

describe('unmodelled matches are undecided, never silently "no match"', () => {
  const text = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-X - [0:0]',
    ':KUBE-SEP-A - [0:0]',
    '-A PREROUTING -j KUBE-SERVICES',
    '-A KUBE-SERVICES -d 10.96.0.50/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-X',
    '-A KUBE-SVC-X -m physdev --physdev-is-in -j KUBE-SEP-A',
    '-A KUBE-SEP-A -p tcp -m tcp -j DNAT --to-destination 10.244.1.7:80',
    'COMMIT',
  ].join('\n');
  it('follows both branches and says the endpoint is reached only if the match applies', () => {
    const sc = buildServiceChainFromIptables(parseIptablesSave(text), pkt({ sourceIp: POD, destinationIp: '10.96.0.50', destinationPort: 80 }));
    expect(sc.outcome).to.equal('undecided');
    expect(sc.endpoints).to.have.length(0);
    expect(sc.undecided).to.deep.equal(['-m physdev --physdev-is-in']);
    expect(sc.notes.some((n) => n.includes('would go to 10.244.1.7:80'))).to.equal(true);
  });
  it('a packet the rule cannot concern is not undecided (modelled matches are evaluated first)', () => {
    const sc = buildServiceChainFromIptables(parseIptablesSave(text), pkt({ sourceIp: POD, destinationIp: '10.96.0.51', destinationPort: 80 }));
    expect(sc.outcome).to.equal('no-match');
    expect(sc.undecided).to.deep.equal([]);
  });
});

describe('nftables chain names -> the ServicePortName kube-proxy uses', () => {
  it('"ns/name:port" for a named port, "ns/name" for an unnamed one (as node-check expects)', async () => {
    const { servicePortFromNftChain } = await import('../../../src/kube-proxy/nftables.js');
    expect(servicePortFromNftChain('service-ULMVA6XW-ns1/svc1/tcp/p80')).to.equal('ns1/svc1:p80');
    expect(servicePortFromNftChain('external-ABCDEFGH-default/web-nodeport/tcp/')).to.equal('default/web-nodeport');
    expect(servicePortFromNftChain('local-ABCDEFGH-default/web-local/tcp/http')).to.equal('default/web-local:http');
    expect(servicePortFromNftChain('endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80')).to.equal('ns1/svc1:p80');
  });
});
