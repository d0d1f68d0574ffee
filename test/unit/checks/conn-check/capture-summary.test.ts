import { expect } from 'chai';
import { parseTcpdump } from '../../../../src/parse/tcpdump.js';
import { describeHopCapture, summariseHopCapture, type CaptureFlow } from '../../../../src/checks/conn-check/capture-summary.js';
import { readFixture } from '../../parse/fixture.js';

const CLIENT = '10.244.3.3';
const WEB1 = '10.244.1.1';
const tcp = (port: number, destination = WEB1): CaptureFlow => ({ protocol: 'tcp', source: CLIENT, destination, port });
const summarise = (name: string, flow: CaptureFlow) => summariseHopCapture(parseTcpdump(readFixture(`tcpdump/${name}`)).packets, flow);

describe('capture summary', () => {
  it('a handshake that completes: SYN sent, SYN-ACK seen, every ARP answered', () => {
    const s = summarise('lab-tcp-connect-pod.txt', tcp(8080));
    expect(s).to.deep.include({ packets: 10, synSent: 1, synAckSeen: 1, forward: 4, reverse: 2, repliesNeverSeen: false, truncated: 0 });
    expect(s.resets).to.deep.equal([]);
    expect(s.arpUnanswered).to.deep.equal([]);
    expect(s.arpAnswered).to.deep.equal(['10.244.1.1', '169.254.1.1']);
    expect(describeHopCapture(s, tcp(8080))).to.deep.equal(['1 SYN sent to 10.244.1.1:8080, 1 SYN-ACK back']);
  });

  it('nothing listening: the RST and who sent it', () => {
    const s = summarise('lab-tcp-closed-port-pod.txt', tcp(8081));
    expect(s).to.deep.include({ synSent: 1, synAckSeen: 0, repliesNeverSeen: false });
    expect(s.resets).to.deep.equal([{ from: WEB1, count: 1 }]);
    expect(describeHopCapture(s, tcp(8081))).to.deep.equal(['1 SYN sent to 10.244.1.1:8081, 0 SYN-ACK back', 'RST from 10.244.1.1 (1)']);
  });

  it('a DROP on the way: SYNs retransmitted, nothing came back', () => {
    const s = summarise('lab-dropped-syn-client.txt', tcp(8083));
    expect(s).to.deep.include({ synSent: 4, synAckSeen: 0, forward: 4, reverse: 0, repliesNeverSeen: true });
    expect(describeHopCapture(s, tcp(8083))).to.include('4 packet(s) toward 10.244.1.1, nothing came back');
  });

  it('arp_ignore=2 in the pod: the host asks who-has the pod and nobody answers', () => {
    const s = summarise('lab-arp-ignore-hostveth.txt', tcp(8080));
    expect(s.arpUnanswered).to.deep.equal([WEB1]);
    expect(s).to.deep.include({ packets: 3, synSent: 0, forward: 0, repliesNeverSeen: false });
    expect(describeHopCapture(s, tcp(8080))).to.deep.equal(['ARP who-has 10.244.1.1 unanswered']);
  });

  it('ICMP errors about the flow: frag-needed with the MTU, admin prohibited, host and port unreachable, each with its sender', () => {
    const frag = summarise('lab-icmp-frag-needed-pod.txt', { protocol: 'icmp', source: '10.244.2.1', destination: WEB1, port: null });
    expect(frag.icmpErrors).to.deep.equal([{ from: '192.168.77.12', reason: 'frag-needed', about: WEB1, mtu: 1400, count: 1 }]);
    expect(frag).to.deep.include({ echoRequests: 1, echoReplies: 0, repliesNeverSeen: false });

    const prohibited = summarise('lab-admin-prohibited-client.txt', tcp(8082));
    expect(prohibited.icmpErrors).to.deep.equal([{ from: '192.168.77.11', reason: 'admin-prohibited', about: WEB1, count: 1 }]);
    expect(describeHopCapture(prohibited, tcp(8082))).to.include('ICMP admin-prohibited for 10.244.1.1 from 192.168.77.11 (1)');

    const host = summarise('lab-host-unreachable-client.txt', tcp(8080, '10.244.1.99'));
    expect(host.icmpErrors).to.deep.equal([{ from: '192.168.77.11', reason: 'host-unreachable', about: '10.244.1.99', count: 1 }]);

    const udpFlow: CaptureFlow = { protocol: 'udp', source: CLIENT, destination: WEB1, port: 9999 };
    const port = summarise('lab-udp-closed-port-client.txt', udpFlow);
    expect(port).to.deep.include({ forward: 1, reverse: 0 });
    expect(port.icmpErrors).to.deep.equal([{ from: WEB1, reason: 'port-unreachable', about: WEB1, port: 9999, count: 1 }]);
  });

  it('counts truncated packets and still reads their flags', () => {
    const s = summarise('lab-tcp-snap64-pod.txt', tcp(8080));
    expect(s).to.deep.include({ truncated: 7, synSent: 1, synAckSeen: 1 });
    expect(describeHopCapture(s, tcp(8080))).to.include('7 packet(s) cut by the snap length');
  });

  it('packets of another flow do not count for this one', () => {
    const s = summarise('lab-tcp-connect-pod.txt', tcp(9090));
    expect(s).to.deep.include({ forward: 0, reverse: 0, synSent: 0, synAckSeen: 0 });
    const empty = summariseHopCapture([], tcp(8080));
    expect(describeHopCapture(empty, tcp(8080))).to.deep.equal(['no packet of the flow passed this interface']);
  });
});
