import { expect } from 'chai';
import { parseTcpdump, parseTcpdumpLine } from '../../../src/parse/tcpdump.js';
import { readFixture } from './fixture.js';

const parse = (name: string) => parseTcpdump(readFixture(`tcpdump/${name}`));

describe('parseTcpdump', () => {
  it('reads a TCP handshake with -e: MACs, ARP both ways, flags [S] [S.] [.] [F.]', () => {
    const { packets, unparsed } = parse('lab-tcp-connect-pod.txt');
    expect(unparsed).to.deep.equal([]);
    expect(packets).to.have.length(10);
    expect(packets[0]).to.deep.include({ kind: 'arp', srcMac: 'ee:ee:ee:ee:ee:ee', dstMac: 'ff:ff:ff:ff:ff:ff', time: '1796271318.521035' });
    expect(packets[0]!.arp).to.deep.equal({ op: 'request', target: '10.244.1.1', sender: '192.168.77.11' });
    expect(packets[1]!.arp).to.deep.equal({ op: 'reply', target: '10.244.1.1', mac: 'ce:50:2c:5d:6a:12' });
    expect(packets[2]).to.deep.include({ kind: 'tcp', src: '10.244.3.3', srcPort: 40486, dst: '10.244.1.1', dstPort: 8080, truncated: false });
    expect(packets[2]!.tcpFlags).to.deep.include({ text: 'S', syn: true, ack: false, rst: false });
    expect(packets[5]!.tcpFlags).to.deep.include({ text: 'S.', syn: true, ack: true });
    expect(packets[6]!.tcpFlags).to.deep.include({ text: '.', syn: false, ack: true });
    expect(packets[7]!.tcpFlags).to.deep.include({ text: 'F.', fin: true, ack: true });
    expect(packets.map((p) => p.lineNumber)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('reads a reset [R.]', () => {
    const { packets } = parse('lab-tcp-closed-port-pod.txt');
    expect(packets).to.have.length(2);
    expect(packets[1]).to.deep.include({ kind: 'tcp', src: '10.244.1.1', srcPort: 8081 });
    expect(packets[1]!.tcpFlags).to.deep.include({ text: 'R.', rst: true, ack: true, syn: false });
  });

  it('keeps what a 64-byte snap length left ("[|tcp]") and marks the packet truncated', () => {
    const { packets, unparsed } = parse('lab-tcp-snap64-pod.txt');
    expect(unparsed).to.deep.equal([]);
    expect(packets).to.have.length(7);
    expect(packets.every((p) => p.truncated && p.kind === 'tcp')).to.equal(true);
    expect(packets[0]!.tcpFlags?.text).to.equal('S');
    expect(packets[1]!.tcpFlags?.text).to.equal('S.');
  });

  it('reads UDP and the port unreachable it got back', () => {
    const { packets } = parse('lab-udp-closed-port-client.txt');
    expect(packets).to.have.length(2);
    expect(packets[0]).to.deep.include({ kind: 'udp', src: '10.244.3.3', dst: '10.244.1.1', dstPort: 9999 });
    expect(packets[1]).to.deep.include({ kind: 'icmp', src: '10.244.1.1', dst: '10.244.3.3' });
    expect(packets[1]!.icmp).to.deep.include({ type: 'unreachable', reason: 'port-unreachable', about: '10.244.1.1', port: 9999 });
  });

  it('reads frag-needed with its MTU, echo requests, and proxy ARP for 169.254.1.1', () => {
    const { packets } = parse('lab-icmp-frag-needed-pod.txt');
    expect(packets).to.have.length(4);
    expect(packets[0]!.arp).to.deep.equal({ op: 'request', target: '169.254.1.1', sender: '10.244.2.1' });
    expect(packets[2]!.icmp?.type).to.equal('echo-request');
    expect(packets[3]).to.deep.include({ src: '192.168.77.12', dst: '10.244.2.1' });
    expect(packets[3]!.icmp).to.deep.include({ type: 'unreachable', reason: 'frag-needed', about: '10.244.1.1', mtu: 1400 });
  });

  it('reads host unreachable, admin prohibited (code 10) and admin prohibited filter (code 13)', () => {
    expect(parse('lab-host-unreachable-client.txt').packets[1]!.icmp).to.deep.include({ reason: 'host-unreachable', about: '10.244.1.99' });
    expect(parse('lab-admin-prohibited-client.txt').packets[1]!.icmp).to.deep.include({ reason: 'admin-prohibited', about: '10.244.1.1' });
    const plain = parse('lab-plain-host-prohibited-client.txt');
    expect(plain.packets[1]!.icmp).to.deep.include({ reason: 'admin-prohibited', about: '10.244.1.1' });
  });

  it('reads the default form (no -e, wall-clock time) and leaves IPv6 packets unread', () => {
    const { packets, unparsed } = parse('lab-plain-host-prohibited-client.txt');
    expect(unparsed).to.deep.equal([]);
    expect(packets).to.have.length(6);
    expect(packets[0]).to.deep.include({ kind: 'tcp', time: '04:15:41.527342', src: '10.244.3.3', dstPort: 8084 });
    expect(packets[0]!.srcMac).to.equal(undefined);
    expect(packets.slice(2).map((p) => p.kind)).to.deep.equal(['other', 'other', 'other', 'other']);
    expect(packets.slice(2).every((p) => p.src === undefined && p.icmp === undefined)).to.equal(true);
  });

  it('reads VLAN-tagged frames (QinQ, tcpdump test suite) with the packet number in front', () => {
    const { packets } = parse('vendor-QinQpacket.txt');
    expect(packets).to.have.length(3);
    expect(packets[0]).to.deep.include({ kind: 'arp', time: '15:55:17.641254' });
    expect(packets[0]!.vlans).to.deep.equal([200]);
    expect(packets[0]!.arp).to.deep.equal({ op: 'request', target: '172.17.0.2', sender: '172.17.0.20' });
    expect(packets[1]).to.deep.include({ kind: 'udp', src: '0.0.0.0', srcPort: 68, dst: '255.255.255.255', dstPort: 67 });
    expect(packets[2]!.arp).to.deep.equal({ op: 'request', target: '172.17.0.2', sender: '172.17.0.20' });
  });

  it('says what it could not read instead of guessing', () => {
    expect(parseTcpdumpLine('reading from file x.pcap, link-type EN10MB (Ethernet), snapshot length 256')).to.equal(null);
    const { packets, unparsed } = parseTcpdump('tcpdump: truncated dump file; tried to read 16 header bytes, only got 5\n');
    expect(packets).to.deep.equal([]);
    expect(unparsed).to.have.length(1);
  });
});
