import { expect } from 'chai';
import { findKubeProxyTable, findNftServiceCidr, listProgrammedNftServicePorts, parseElements, parseNftPriority, parseNftRuleset, tokenizeNft } from '../../../src/kube-proxy/nftables.js';
import { generateNftKubeProxy } from '../../../scripts/gen-kube-proxy-dump.js';
import { readFixture } from './kube-proxy-fixtures.js';

describe('parseNftRuleset', () => {
  describe('kube-proxy table listed by the kernel (nft 1.0.6)', () => {
    const rs = parseNftRuleset(readFixture('nftables/kube-proxy-overall-listing.txt'));
    const t = findKubeProxyTable(rs);

    it('reads the table, its sets/maps and chains', () => {
      expect(rs.complete).to.equal(true);
      expect(rs.warnings).to.deep.equal([]);
      expect(t?.comment).to.equal('rules for kube-proxy');
      expect([...(t?.sets.keys() ?? [])]).to.include.members(['cluster-ips', 'nodeport-ips', 'service-ips', 'no-endpoint-services', 'service-nodeports']);
      expect(t?.chains.size).to.equal(32);
    });

    it('parses verdict-map elements, multi-line, with comments', () => {
      const svcIps = t?.sets.get('service-ips');
      expect(svcIps?.kind).to.equal('map');
      expect(svcIps?.type).to.equal('ipv4_addr . inet_proto . inet_service : verdict');
      expect(svcIps?.elements).to.have.length(9);
      expect(svcIps?.elements.find((e) => e.key[0] === '172.30.0.44')).to.deep.include({
        key: ['172.30.0.44', 'tcp', '80'],
        verdict: { kind: 'goto', chain: 'service-LAUZTJTB-ns4/svc4/tcp/p80' },
        comment: null,
      });
      const noEp = t?.sets.get('no-endpoint-services')?.elements.find((e) => e.key[0] === '172.30.0.46');
      expect(noEp?.comment).to.equal('ns6/svc6:p80');
      expect(noEp?.verdict).to.deep.equal({ kind: 'goto', chain: 'reject-chain' });
      expect(t?.sets.get('cluster-ips')?.elements.map((e) => e.key[0])).to.have.length(6);
      expect(t?.sets.get('affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80')?.flags).to.deep.equal(['dynamic', 'timeout']);
    });

    it('parses base-chain hooks with symbolic priorities', () => {
      expect(t?.chains.get('nat-prerouting')?.hook).to.deep.equal({ type: 'nat', hook: 'prerouting', priority: -100, priorityText: 'dstnat', policy: 'accept' });
      expect(t?.chains.get('filter-prerouting-pre-dnat')?.hook?.priority).to.equal(-110);
      expect(t?.chains.get('nat-postrouting')?.hook?.priority).to.equal(100);
      expect(t?.chains.get('services')?.hook).to.equal(null);
      expect(t?.chains.get('reject-chain')?.comment).to.equal('helper for @no-endpoint-services / @no-endpoint-nodeports');
    });

    it('keeps each rule raw with tokens; service chain splits with numgen', () => {
      const svc = t?.chains.get('service-LAUZTJTB-ns4/svc4/tcp/p80');
      expect(svc?.rules.map((r) => r.raw)).to.deep.equal([
        'ip daddr 172.30.0.44 ip saddr != 10.0.0.0/8 jump mark-for-masquerade',
        'numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80, 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }',
      ]);
      expect(svc?.rules[1]?.tokens.slice(0, 6)).to.deep.equal(['numgen', 'random', 'mod', '2', 'vmap', '{']);
      const ext = t?.chains.get('external-42NFTM6N-ns2/svc2/tcp/p80')?.rules[0];
      expect(ext?.comment).to.equal('short-circuit pod traffic');
    });
  });

  it('reads a generated 300-Service listing', () => {
    const t = findKubeProxyTable(parseNftRuleset(generateNftKubeProxy({ services: 300, seed: 4 })));
    expect(t?.sets.get('service-ips')?.elements).to.have.length(294);
    expect(t?.sets.get('no-endpoint-services')?.elements).to.have.length(6);
  });

  it('a listing cut short is incomplete', () => {
    const text = readFixture('nftables/kube-proxy-overall-listing.txt');
    const rs = parseNftRuleset(text.slice(0, text.indexOf('chain services {') + 40));
    expect(rs.complete).to.equal(false);
    expect(rs.warnings[0]).to.match(/cut short/);
    expect(findKubeProxyTable(rs)?.chains.get('nat-prerouting')?.rules).to.have.length(1);
  });

  it('iptables-nft fragment without its table is read as not understood, not as kube-proxy', () => {
    const rs = parseNftRuleset(readFixture('nftables/iptables-nft-rendered-kube-services-chain-fragment.txt'));
    expect(findKubeProxyTable(rs)).to.equal(null);
    expect(rs.complete).to.equal(false);
  });

  it('empty input', () => {
    const rs = parseNftRuleset('');
    expect(rs.tables).to.deep.equal([]);
    expect(rs.complete).to.equal(true);
  });

  it('tokenizes and parses helpers', () => {
    expect(tokenizeNft('ip daddr { 10.0.0.1, 10.0.0.2 } comment "a b"')).to.deep.equal(['ip', 'daddr', '{', '10.0.0.1', ',', '10.0.0.2', '}', 'comment', 'a b']);
    expect(parseNftPriority('dstnat - 10')).to.equal(-110);
    expect(parseNftPriority('-100')).to.equal(-100);
    expect(parseElements('{ tcp . 3001 comment "ns2/svc2:p80" : drop }')[0]).to.deep.include({ key: ['tcp', '3001'], verdict: { kind: 'drop', chain: null } });
  });
});

describe('kube-proxy nftables table: what it programs', () => {
  const listed = findKubeProxyTable(parseNftRuleset(readFixture('nftables/kube-proxy-overall-listing.txt')))!;
  const loaded = findKubeProxyTable(parseNftRuleset(readFixture('nftables/kube-proxy-overall-rules.nft')))!;

  it('lists the Service ports of service-ips and no-endpoint-services, each once, sorted', () => {
    const ports = listProgrammedNftServicePorts(listed);
    expect(ports).to.have.length(6);
    // ns2/svc2 and ns6/svc6 have no endpoints: named by their elements' comments
    expect(ports).to.deep.equal(['ns1/svc1:p80', 'ns2/svc2:p80', 'ns3/svc3:p80', 'ns4/svc4:p80', 'ns5/svc5:p80', 'ns6/svc6:p80']);
    expect(listProgrammedNftServicePorts(loaded)).to.deep.equal(ports);
  });

  it('reads the service CIDR from the "unallocated ClusterIPs" drop rule, as written (a set) and as nft lists it (bare)', () => {
    expect(findNftServiceCidr(loaded)).to.equal('172.30.0.0/16');
    expect(findNftServiceCidr(listed)).to.equal('172.30.0.0/16');
    const withoutCheck = { ...loaded, chains: new Map([...loaded.chains].filter(([name]) => name !== 'cluster-ips-check')) };
    expect(findNftServiceCidr(withoutCheck)).to.equal(null);
  });
});
