import { expect } from 'chai';
import { parseIpNeighJson, parseIpNeighText, type NeighborEntry } from '../../../src/parse/ip-neigh.js';
import { parseIpAddrJson } from '../../../src/parse/ip-addr.js';
import { expectOk, readFixture } from './fixture.js';

function entry(entries: NeighborEntry[], dst: string): NeighborEntry {
  const e = entries.find((x) => x.dst === dst);
  if (!e) throw new Error(`no neighbour ${dst}`);
  return e;
}

describe('parse/ip-neigh: ip -j neigh show (lab captures)', () => {
  const host = expectOk(parseIpNeighJson(readFixture('ip-neigh/lab/host.json')));
  const hostAll = expectOk(parseIpNeighJson(readFixture('ip-neigh/lab/host-nud-all.json')));
  const pod = expectOk(parseIpNeighJson(readFixture('ip-neigh/lab/pod.json')));

  it('neighbour states seen on the host', () => {
    expect(host.map((e) => `${e.dst} ${e.state}`)).to.deep.equal([
      '192.168.77.2 REACHABLE',
      '10.77.2.98 INCOMPLETE',
      '10.77.1.2 DELAY',
      '10.77.2.2 DELAY',
      '10.77.2.99 FAILED',
      '10.77.2.3 DELAY',
      '10.77.9.0 PERMANENT',
      '10.77.2.50 PERMANENT',
    ]);
  });

  it('unresolved entries have no MAC; PERMANENT vxlan entry has the peer vxlan MAC', () => {
    expect(entry(host, '10.77.2.99')).to.include({ dev: 'br0', lladdr: null, state: 'FAILED' });
    expect(entry(host, '10.77.2.98')).to.include({ lladdr: null, state: 'INCOMPLETE' });
    expect(entry(host, '10.77.9.0')).to.include({ dev: 'vxlan0', lladdr: '0a:77:00:00:00:02', state: 'PERMANENT', router: false });
  });

  it("the learned MACs are the peers' MACs from ip -j addr of their namespaces", () => {
    const pod2Links = expectOk(parseIpAddrJson(readFixture('ip-addr/lab/pod2.json')));
    const peerLinks = expectOk(parseIpAddrJson(readFixture('ip-addr/lab/peer.json')));
    expect(entry(host, '10.77.2.2').lladdr).to.equal(pod2Links.find((l) => l.ifname === 'eth0')?.macAddress);
    expect(entry(host, '192.168.77.2').lladdr).to.equal(peerLinks.find((l) => l.ifname === 'ul0')?.macAddress);
  });

  it('Calico-style pod: 169.254.1.1 answered by proxy ARP with the host veth MAC', () => {
    const hostLinks = expectOk(parseIpAddrJson(readFixture('ip-addr/lab/host.json')));
    const gw = entry(pod, '169.254.1.1');
    expect(gw).to.include({ dev: 'eth0', state: 'REACHABLE', lladdr: 'ee:ee:ee:ee:ee:ee' });
    expect(gw.lladdr).to.equal(hostLinks.find((l) => l.ifname === 'ndfixcali0')?.macAddress);
    expect(entry(pod, '192.168.77.1').state).to.equal('STALE');
  });

  it('nud all adds NOARP entries, IPv4 and IPv6', () => {
    expect(entry(hostAll, '10.77.2.60')).to.include({ state: 'NOARP', lladdr: '02:00:00:00:02:60' });
    const v6 = hostAll.filter((e) => e.family === 'inet6');
    expect(v6.length).to.equal(21);
    expect(v6.every((e) => e.state === 'NOARP')).to.equal(true);
  });

  it('router flag (ip -j prints it as "router": null)', () => {
    const [e] = expectOk(parseIpNeighJson('[{"dst":"fe80::1","dev":"eth0","lladdr":"aa:bb:cc:dd:ee:ff","router":null,"state":["STALE"]}]'));
    expect(e).to.include({ router: true, state: 'STALE', family: 'inet6' });
  });

  it('no state key is NUD_NONE', () => {
    const [e] = expectOk(parseIpNeighJson('[{"dst":"10.0.0.9","dev":"eth0"}]'));
    expect(e).to.include({ state: 'NONE', lladdr: null });
  });

  it('an unknown state is skipped and reported, the rest still parse', () => {
    const r = parseIpNeighJson('[{"dst":"10.0.0.1","dev":"eth0","state":["WEIRD"]},{"dst":"10.0.0.2","dev":"eth0","state":["FAILED"]}]');
    expect(r.ok).to.equal(true);
    if (r.ok) {
      expect(r.value.map((e) => e.dst)).to.deep.equal(['10.0.0.2']);
      expect(r.skipped[0]!.message).to.contain('WEIRD');
    }
  });

  it('empty and truncated JSON are typed errors', () => {
    const empty = parseIpNeighJson('');
    expect(!empty.ok && empty.error.reason).to.equal('empty-input');
    const cut = parseIpNeighJson(readFixture('ip-neigh/lab/host.json').slice(0, 100));
    expect(!cut.ok && cut.error.reason).to.equal('invalid-json');
    expect(!cut.ok && cut.error.message).to.contain('ip -j neigh show');
  });
});

describe('parse/ip-neigh: text form', () => {
  it('lab text agrees with the JSON capture taken right before it', () => {
    const text = expectOk(parseIpNeighText(readFixture('ip-neigh/lab/host-nud-all.txt')));
    const json = expectOk(parseIpNeighJson(readFixture('ip-neigh/lab/host-nud-all.json')));
    const key = (e: NeighborEntry) => [e.dst, e.dev, e.lladdr, e.state].join(' ');
    expect(text.map(key)).to.deep.equal(json.map(key));
  });

  it('published Calico pod: 169.254.1.1 REACHABLE with ee:ee:ee:ee:ee:ee', () => {
    const [gw] = expectOk(parseIpNeighText(readFixture('ip-neigh/realdata/calico-kind-pod-ip-neigh.txt')));
    expect(gw).to.deep.include({ dst: '169.254.1.1', dev: 'eth0', lladdr: 'ee:ee:ee:ee:ee:ee', state: 'REACHABLE' });
  });

  it('published Cilium pod gateway', () => {
    const [gw] = expectOk(parseIpNeighText(readFixture('ip-neigh/realdata/cilium-kind-pod-ip-neigh.txt')));
    expect(gw).to.deep.include({ dst: '10.0.0.215', lladdr: 'da:0c:20:4a:86:f7', state: 'REACHABLE' });
  });

  it('published flannel node: PERMANENT entries on flannel.1 (a grep-filtered excerpt)', () => {
    const entries = expectOk(parseIpNeighText(readFixture('ip-neigh/realdata/flannel-kind-node-ip-neigh-permanent.txt')));
    expect(entries.map((e) => [e.dst, e.dev, e.lladdr, e.state])).to.deep.equal([
      ['10.244.1.0', 'flannel.1', 'ce:0a:4f:22:a4:2a', 'PERMANENT'],
      ['10.244.0.0', 'flannel.1', '5a:11:99:ab:8c:22', 'PERMANENT'],
    ]);
  });

  it('router flag and the stateless (NUD_NONE) form', () => {
    const entries = expectOk(parseIpNeighText('fe80::1 dev eth0 lladdr aa:bb:cc:dd:ee:ff router STALE\n10.0.0.9 dev eth0 \n'));
    expect(entries[0]).to.include({ router: true, state: 'STALE' });
    expect(entries[1]).to.include({ state: 'NONE', lladdr: null });
  });

  it('empty text is no neighbours; non-neighbour text is unrecognised', () => {
    expect(expectOk(parseIpNeighText(''))).to.deep.equal([]);
    const r = parseIpNeighText('Cannot find device "eth9"\n');
    expect(!r.ok && r.error.reason).to.equal('unrecognised-text');
  });
});
