import { expect } from 'chai';
import { parseIpAddrJson, parseIpAddrText, type NetLink } from '../../../src/parse/ip-addr.js';
import { parseEthtoolStats } from '../../../src/parse/ethtool-stats.js';
import { expectOk, readFixture, readFixtureMeta } from './fixture.js';

function byName(links: NetLink[], name: string): NetLink {
  const link = links.find((l) => l.ifname === name);
  if (!link) throw new Error(`no link ${name}`);
  return link;
}

describe('parse/ip-addr: ip -j -d addr show (lab captures)', () => {
  const host = expectOk(parseIpAddrJson(readFixture('ip-addr/lab/host.json')));
  const pod = expectOk(parseIpAddrJson(readFixture('ip-addr/lab/pod.json')));
  const pod2 = expectOk(parseIpAddrJson(readFixture('ip-addr/lab/pod2.json')));

  it('fixtures carry provenance from the capture script', () => {
    const meta = readFixtureMeta('ip-addr/lab/host.json');
    expect(meta.command).to.equal('ip netns exec ndfix-host ip -j -d addr show');
    expect(meta.capturedBy).to.equal('captured by scripts/capture-link-fixtures.sh');
  });

  it('reads every interface of the host namespace', () => {
    expect(host.map((l) => l.ifname)).to.deep.equal(['lo', 'ul0', 'mtu0', 'vxlan0', 'ndfixcali0', 'br0', 'vethbr0', 'vethbr1']);
  });

  it('a Calico-style host veth: MAC, MTU, peer ifindex in another netns', () => {
    const cali = byName(host, 'ndfixcali0');
    expect(cali.ifindex).to.equal(5);
    expect(cali.kind).to.equal('veth');
    expect(cali.macAddress).to.equal('ee:ee:ee:ee:ee:ee');
    expect(cali.mtuBytes).to.equal(1410);
    expect(cali.operState).to.equal('UP');
    expect(cali.adminUp).to.equal(true);
    expect(cali.peer).to.deep.equal({ ifindex: 2, ifname: null, netnsId: 1, netnsName: null });
    expect(cali.raw).to.contain('"ifname":"ndfixcali0"');
  });

  it("the host veth's link_index is the pod eth0's ifindex and vice versa", () => {
    const cali = byName(host, 'ndfixcali0');
    const eth0 = byName(pod, 'eth0');
    expect(cali.peer?.ifindex).to.equal(eth0.ifindex);
    expect(eth0.peer?.ifindex).to.equal(cali.ifindex);
    expect(eth0.addresses.filter((a) => a.family === 'inet')).to.deep.equal([
      { family: 'inet', address: '10.77.1.2', prefixLength: 32, scope: 'global', dynamic: false, secondary: false, label: 'eth0' },
    ]);
  });

  it('agrees with ethtool -S peer_ifindex captured in the same run', () => {
    const fromPod = expectOk(parseEthtoolStats(readFixture('ethtool/lab/pod-eth0-stats.txt')));
    const fromHost = expectOk(parseEthtoolStats(readFixture('ethtool/lab/host-ndfixcali0-stats.txt')));
    expect(fromPod.peerIfindex).to.equal(byName(host, 'ndfixcali0').ifindex);
    expect(fromHost.peerIfindex).to.equal(byName(pod, 'eth0').ifindex);
  });

  it('vxlan device: VNI, dst port, local address, underlay dev, learning off', () => {
    const vx = byName(host, 'vxlan0');
    expect(vx.kind).to.equal('vxlan');
    expect(vx.mtuBytes).to.equal(1450);
    expect(vx.operState).to.equal('UNKNOWN');
    expect(vx.peer).to.equal(null);
    expect(vx.vxlan).to.deep.equal({ vni: 42, dstPort: 8472, localAddress: '192.168.77.1', underlayDev: 'ul0', learning: false, remoteAddress: null });
    expect(vx.addresses[0]).to.include({ address: '10.77.0.0', prefixLength: 32 });
  });

  it('bridge and its ports: master, hairpin, learning, state', () => {
    expect(byName(host, 'br0').kind).to.equal('bridge');
    const port0 = byName(host, 'vethbr0');
    const port1 = byName(host, 'vethbr1');
    expect(port0.master).to.equal('br0');
    expect(port0.slaveKind).to.equal('bridge');
    expect(port0.bridgePort).to.deep.equal({ state: 'forwarding', hairpin: true, learning: true, flood: true, proxyArp: false });
    expect(port1.bridgePort).to.deep.equal({ state: 'forwarding', hairpin: false, learning: false, flood: true, proxyArp: false });
    expect(port0.peer?.ifindex).to.equal(byName(pod2, 'eth0').ifindex);
    expect(byName(pod2, 'eth0').peer?.ifindex).to.equal(port0.ifindex);
  });

  it('loopback has no driver kind and keeps both address families', () => {
    const lo = byName(host, 'lo');
    expect(lo.kind).to.equal('device');
    expect(lo.addresses.map((a) => `${a.family} ${a.address}/${a.prefixLength} ${a.scope}`)).to.deep.equal(['inet 127.0.0.1/8 host', 'inet6 ::1/128 host']);
  });

  it('empty input is a typed error, not an exception', () => {
    const r = parseIpAddrJson('');
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.error.reason).to.equal('empty-input');
  });

  it('truncated JSON names the command and shows the tail', () => {
    const full = readFixture('ip-addr/lab/host.json');
    const r = parseIpAddrJson(full.slice(0, Math.floor(full.length / 2)));
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.error.reason).to.equal('invalid-json');
      expect(r.error.message).to.match(/^ip -j -d addr show: output is not complete JSON/);
      expect(r.error.excerpt.startsWith('...')).to.equal(true);
    }
  });

  it('JSON that is not an array is unexpected-shape; records without ifindex are skipped', () => {
    const notArray = parseIpAddrJson('{"ifindex": 1}');
    expect(notArray.ok).to.equal(false);
    if (!notArray.ok) expect(notArray.error.reason).to.equal('unexpected-shape');
    const partial = parseIpAddrJson('[{"ifname":"x"},{"ifindex":3,"ifname":"eth0","mtu":1500}]');
    expect(partial.ok).to.equal(true);
    if (partial.ok) {
      expect(partial.value.map((l) => l.ifname)).to.deep.equal(['eth0']);
      expect(partial.skipped).to.have.length(1);
      expect(partial.skipped[0]!.position).to.equal('record 1');
    }
  });
});

describe('parse/ip-addr: text form', () => {
  it('published Calico node veth: @if3 peer, link-netns name, MTU 1410', () => {
    const [cali] = expectOk(parseIpAddrText(readFixture('ip-addr/realdata/calico-kind-node-ip-addr-calic-veth.txt')));
    expect(cali).to.include({ ifindex: 14, ifname: 'calic8441ae7134', mtuBytes: 1410, macAddress: 'ee:ee:ee:ee:ee:ee', operState: 'UP' });
    expect(cali!.peer).to.deep.equal({ ifindex: 3, ifname: null, netnsId: null, netnsName: 'cni-262ff521-1b00-b1c9-f0d5-0943a48a2ddc' });
  });

  it('published Calico pod eth0 points back at host ifindex 14', () => {
    const [eth0] = expectOk(parseIpAddrText(readFixture('ip-addr/realdata/calico-kind-pod-eth0-link.txt')));
    expect(eth0).to.include({ ifindex: 3, ifname: 'eth0', mtuBytes: 1410, macAddress: 'b2:24:13:ec:77:42' });
    expect(eth0!.peer).to.deep.equal({ ifindex: 14, ifname: null, netnsId: 0, netnsName: null });
  });

  it('published Cilium pod eth0@if24', () => {
    const [eth0] = expectOk(parseIpAddrText(readFixture('ip-addr/realdata/cilium-kind-pod-ip-link-eth0.txt')));
    expect(eth0!.ifindex).to.equal(23);
    expect(eth0!.peer?.ifindex).to.equal(24);
    expect(eth0!.mtuBytes).to.equal(1500);
  });

  it('published flannel ip -d link: vxlan id 1, dstport 8472, mtu 1410, nolearning', () => {
    const [flannel] = expectOk(parseIpAddrText(readFixture('ip-addr/realdata/flannel-gce-ip-d-link-flannel1.txt')));
    expect(flannel).to.include({ ifindex: 12, ifname: 'flannel.1', mtuBytes: 1410, kind: 'vxlan' });
    expect(flannel!.vxlan).to.deep.equal({ vni: 1, dstPort: 8472, localAddress: '10.146.0.2', underlayDev: 'ens4', learning: false, remoteAddress: null });
  });

  it('published flannel node ip addr: three links, dynamic address, flannel.1 mtu 1450 /32', () => {
    const links = expectOk(parseIpAddrText(readFixture('ip-addr/realdata/flannel-binary-node-ip-addr.txt')));
    expect(links.map((l) => [l.ifname, l.mtuBytes])).to.deep.equal([['lo', 65536], ['eth0', 1500], ['flannel.1', 1450]]);
    expect(byName(links, 'eth0').addresses[0]).to.deep.equal({
      family: 'inet', address: '172.27.137.240', prefixLength: 20, scope: 'global', dynamic: true, secondary: false, label: 'eth0',
    });
    expect(byName(links, 'flannel.1').addresses[0]).to.include({ address: '172.30.80.0', prefixLength: 32 });
    // Without -d the text form says nothing about the driver.
    expect(byName(links, 'flannel.1').kind).to.equal('device');
  });

  it('published flannel ip link (no -d): mtu and MAC only', () => {
    const [flannel] = expectOk(parseIpAddrText(readFixture('ip-addr/realdata/flannel-kind-ip-link-flannel1.txt')));
    expect(flannel).to.include({ ifname: 'flannel.1', mtuBytes: 1450, macAddress: '5a:11:99:ab:8c:22', vxlan: null });
  });

  it('lab ip -d link text of a vxlan and of a hairpin bridge port', () => {
    const [vx] = expectOk(parseIpAddrText(readFixture('ip-link/lab/host-vxlan0.txt')));
    expect(vx!.vxlan).to.deep.equal({ vni: 42, dstPort: 8472, localAddress: '192.168.77.1', underlayDev: 'ul0', learning: false, remoteAddress: null });
    const [port] = expectOk(parseIpAddrText(readFixture('ip-link/lab/host-vethbr0.txt')));
    expect(port).to.include({ ifindex: 7, ifname: 'vethbr0', master: 'br0', kind: 'veth', slaveKind: 'bridge' });
    expect(port!.peer).to.deep.equal({ ifindex: 2, ifname: null, netnsId: null, netnsName: 'ndfix-pod2' });
    expect(port!.bridgePort).to.deep.equal({ state: 'forwarding', hairpin: true, learning: true, flood: true, proxyArp: false });
  });

  it('empty text is an empty list; text without interface lines is unrecognised', () => {
    expect(expectOk(parseIpAddrText(''))).to.deep.equal([]);
    const r = parseIpAddrText('Device "eth9" does not exist.\n');
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.error.reason).to.equal('unrecognised-text');
  });

  it('"@NONE" (a tunnel without lower device) is no peer', () => {
    const [tunl] = expectOk(parseIpAddrText('5: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN\n    link/ipip 0.0.0.0 brd 0.0.0.0\n'));
    expect(tunl!.peer).to.equal(null);
    expect(tunl!.macAddress).to.equal(null);
  });
});
