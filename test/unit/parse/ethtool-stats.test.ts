import { expect } from 'chai';
import { parseEthtoolDriverInfo, parseEthtoolPeers, parseEthtoolStats } from '../../../src/parse/ethtool-stats.js';
import { parseIpAddrJson } from '../../../src/parse/ip-addr.js';
import { snapshotSection } from './snapshot-section.js';
import { expectOk, readFixture, readFixtureStderr } from './fixture.js';

describe('parse/ethtool-stats: ethtool -S (lab captures)', () => {
  it('veth stats: peer_ifindex and the counters', () => {
    const stats = expectOk(parseEthtoolStats(readFixture('ethtool/lab/pod-eth0-stats.txt')));
    expect(stats.peerIfindex).to.equal(5);
    expect(stats.peerIfindexRaw).to.equal('peer_ifindex: 5');
    expect(Object.keys(stats.counters)).to.have.length(10);
    expect(stats.counters['rx_queue_0_drops']).to.equal(0);
  });

  it('vxlan has no statistics: stderr becomes a command-error', () => {
    const r = parseEthtoolStats(readFixture('ethtool/lab/host-vxlan0-stats.txt'), readFixtureStderr('ethtool/lab/host-vxlan0-stats.txt'));
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.error.reason).to.equal('command-error');
      expect(r.error.message).to.equal('ethtool -S: no stats available');
    }
  });

  it('a NIC without peer_ifindex gives null, not 0', () => {
    const stats = expectOk(parseEthtoolStats('NIC statistics:\n     rx_packets: 12\n     tx_packets: 7\n'));
    expect(stats.peerIfindex).to.equal(null);
    expect(stats.counters).to.deep.equal({ rx_packets: 12, tx_packets: 7 });
  });

  it('empty input is empty-input; other text is unrecognised; odd lines are skipped', () => {
    const empty = parseEthtoolStats('');
    expect(!empty.ok && empty.error.reason).to.equal('empty-input');
    const other = parseEthtoolStats('Cannot get stats strings information: Operation not supported\n');
    expect(!other.ok && other.error.reason).to.equal('unrecognised-text');
    const odd = parseEthtoolStats('NIC statistics:\n     peer_ifindex: 9\n     garbage line\n');
    expect(odd.ok && odd.value.peerIfindex).to.equal(9);
    expect(odd.ok && odd.skipped.length).to.equal(1);
  });
});

describe('parse/ethtool-stats: ethtool -i (lab captures)', () => {
  it('veth driver', () => {
    const info = expectOk(parseEthtoolDriverInfo(readFixture('ethtool/lab/host-ndfixcali0-driver.txt')));
    expect(info).to.include({ driver: 'veth', version: '1.0', firmwareVersion: null, busInfo: null, supportsStatistics: true });
  });

  it('bridge driver: N/A fields are null, no statistics', () => {
    const info = expectOk(parseEthtoolDriverInfo(readFixture('ethtool/lab/host-br0-driver.txt')));
    expect(info).to.include({ driver: 'bridge', version: '2.3', firmwareVersion: null, busInfo: null, supportsStatistics: false });
  });

  it('empty input and text without a driver line are typed errors', () => {
    const empty = parseEthtoolDriverInfo('');
    expect(!empty.ok && empty.error.reason).to.equal('empty-input');
    const noDriver = parseEthtoolDriverInfo('version: 1\n');
    expect(!noDriver.ok && noDriver.error.reason).to.equal('unrecognised-text');
  });
});

describe('parse/ethtool-stats: the node script\'s per-interface ethtool section', () => {
  it("names each pod interface's host peer by ifindex, which the node's ip addr confirms", () => {
    const peers = parseEthtoolPeers(snapshotSection('arp-check/healthy-lab-node-1', 'lab-node-1', 'pod/p0/ethtool').stdout);
    expect(peers.size).to.equal(1);
    const ifindex = peers.get('eth0');
    expect(ifindex).to.be.a('number');
    const hostLinks = expectOk(parseIpAddrJson(snapshotSection('arp-check/healthy-lab-node-1', 'lab-node-1', 'host/addr').stdout));
    expect(hostLinks.find((l) => l.ifindex === ifindex)?.ifname).to.match(/^cali[0-9a-f]{11}$/);
  });
  it('no frames, no peers; a frame without peer_ifindex is left out', () => {
    expect(parseEthtoolPeers('').size).to.equal(0);
    expect(parseEthtoolPeers('### lo\nno stats available\n').size).to.equal(0);
  });
});
