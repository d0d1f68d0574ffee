import { expect } from 'chai';
import { parsePing } from '../../../src/parse/ping.js';
import { expectOk, readFixture, readFixtureMeta } from './fixture.js';

describe('parse/ping: ping -M do (lab captures, iputils 20221126, stdout+stderr merged)', () => {
  it('a size that fits: counts, rtt, replies', () => {
    const r = expectOk(parsePing(readFixture('ping/lab/host-vxlan-pass.txt')));
    expect(r).to.include({ target: '10.77.9.0', targetAddress: '10.77.9.0', payloadBytes: 1422, packetBytes: 1450 });
    expect(r).to.include({ transmitted: 2, received: 2, errors: 0, lossPercent: 0, elapsedMs: 203, outcome: 'replied', reportedMtuBytes: null });
    expect(r.rtt).to.deep.equal({ minMs: 0.046, avgMs: 0.064, maxMs: 0.082, mdevMs: 0.018 });
    expect(r.replies.map((x) => [x.icmpSeq, x.ttl, x.rttMs, x.bytes])).to.deep.equal([[1, 64, 0.046, 1430], [2, 64, 0.082, 1430]]);
  });

  it('one byte over the vxlan MTU: local error names mtu 1450', () => {
    expect(readFixtureMeta('ping/lab/host-vxlan-fail.txt').command).to.contain('-s 1423');
    const r = expectOk(parsePing(readFixture('ping/lab/host-vxlan-fail.txt')));
    expect(r).to.include({ transmitted: 2, received: 0, errors: 2, lossPercent: 100, outcome: 'mtu-exceeded', reportedMtuBytes: 1450 });
    expect(r.mtuSignals.map((s) => [s.kind, s.mtuBytes])).to.deep.equal([['local-message-too-long', 1450], ['local-message-too-long', 1450]]);
    expect(r.mtuSignals[0]!.raw).to.equal('ping: local error: message too long, mtu=1450');
    expect(r.rtt).to.equal(null);
  });

  it('pod eth0 with MTU 1410 refuses a 1500-byte packet locally', () => {
    const r = expectOk(parsePing(readFixture('ping/lab/pod-local-mtu1410.txt')));
    expect(r).to.include({ packetBytes: 1500, reportedMtuBytes: 1410, outcome: 'mtu-exceeded' });
  });

  it('a router with a smaller next hop: Frag needed first, then the cached PMTU', () => {
    const r = expectOk(parsePing(readFixture('ping/lab/pod2-via-mtu1400-fragneeded.txt')));
    expect(r.mtuSignals.map((s) => [s.kind, s.mtuBytes, s.from, s.icmpSeq])).to.deep.equal([
      ['frag-needed', 1400, '10.77.2.1', 1],
      ['local-message-too-long', 1400, null, null],
      ['local-message-too-long', 1400, null, null],
    ]);
    expect(r).to.include({ transmitted: 3, received: 0, errors: 3, reportedMtuBytes: 1400, outcome: 'mtu-exceeded' });
    const pass = expectOk(parsePing(readFixture('ping/lab/pod2-via-mtu1400-pass.txt')));
    expect(pass).to.include({ packetBytes: 1400, received: 2, outcome: 'replied' });
    expect(pass.replies[0]!.ttl).to.equal(63); // one router on the way
  });

  it('an absent neighbour: Destination Host Unreachable, errors counted, pipe line ignored', () => {
    const r = expectOk(parsePing(readFixture('ping/lab/host-absent.txt')));
    expect(r).to.include({ transmitted: 5, received: 0, errors: 3, lossPercent: 100, outcome: 'unreachable', reportedMtuBytes: null });
    expect(r.icmpErrors.map((e) => [e.from, e.icmpSeq, e.message])).to.deep.equal([
      ['10.77.2.1', 1, 'Destination Host Unreachable'],
      ['10.77.2.1', 2, 'Destination Host Unreachable'],
      ['10.77.2.1', 3, 'Destination Host Unreachable'],
    ]);
  });

  it('keeps the statistics line and every error line as printed, in order, for a report to quote', () => {
    const frag = expectOk(parsePing(readFixture('ping/lab/pod2-via-mtu1400-fragneeded.txt')));
    expect(frag.statsLine).to.equal('3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 407ms');
    expect(frag.errorLines).to.have.length(3);
    expect(frag.errorLines).to.deep.equal([
      'From 10.77.2.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)',
      'ping: local error: message too long, mtu=1400',
      'ping: local error: message too long, mtu=1400',
    ]);
    const absent = expectOk(parsePing(readFixture('ping/lab/host-absent.txt')));
    expect(absent.errorLines).to.have.length(3);
    expect(absent.errorLines.every((l) => l.startsWith('From 10.77.2.1 icmp_seq=') && l.endsWith('Destination Host Unreachable'))).to.equal(true);
    const pass = expectOk(parsePing(readFixture('ping/lab/host-vxlan-pass.txt')));
    expect(pass.errorLines).to.have.length(0);
    expect(pass.statsLine).to.match(/^2 packets transmitted, 2 received, 0% packet loss/);
    const cut = readFixture('ping/lab/host-vxlan-pass.txt');
    expect(expectOk(parsePing(cut.slice(0, cut.indexOf('---')))).statsLine).to.equal(null);
  });

  it('empty input is a typed error', () => {
    const r = parsePing('');
    expect(!r.ok && r.error.reason).to.equal('empty-input');
  });

  it('a ping killed before its summary is incomplete, not a failure', () => {
    const full = readFixture('ping/lab/host-vxlan-pass.txt');
    const r = expectOk(parsePing(full.slice(0, full.indexOf('---'))));
    expect(r).to.include({ outcome: 'incomplete', transmitted: null });
    expect(r.replies).to.have.length(2);
  });

  it('a ping that could not start is a command-error', () => {
    const r = parsePing('ping: connect: Network is unreachable\n');
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.error.reason).to.equal('command-error');
      expect(r.error.message).to.equal('ping -M do: ping: connect: Network is unreachable');
    }
  });
});

describe('parse/ping: other iputils wordings', () => {
  // Older iputils (before the 2016 rewrite of the error path) print the local EMSGSIZE as
  // "sendmsg: Message too long" with no MTU, and format strerror with a capital M; both shapes
  // appear in operators' published transcripts. Written here as single-case regressions.
  it('"ping: sendmsg: Message too long": refused locally, MTU unknown', () => {
    const r = expectOk(parsePing(
      'PING 10.0.0.2 (10.0.0.2) 1473(1501) bytes of data.\nping: sendmsg: Message too long\nping: sendmsg: Message too long\n\n--- 10.0.0.2 ping statistics ---\n2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1001ms\n',
    ));
    expect(r.mtuSignals.map((s) => [s.kind, s.mtuBytes])).to.deep.equal([['sendmsg-message-too-long', null], ['sendmsg-message-too-long', null]]);
    expect(r).to.include({ outcome: 'mtu-exceeded', reportedMtuBytes: null, errors: 2 });
  });

  it('"Message too long, mtu=N" with a capital M and a named router', () => {
    const r = expectOk(parsePing(
      'PING 192.168.247.100 (192.168.247.100) 1380(1408) bytes of data.\nFrom _gateway (192.168.252.252) icmp_seq=1 Frag needed and DF set (mtu = 1406)\nping: local error: Message too long, mtu=1406\n',
    ));
    expect(r.mtuSignals.map((s) => [s.kind, s.mtuBytes, s.from])).to.deep.equal([
      ['frag-needed', 1406, '192.168.252.252'],
      ['local-message-too-long', 1406, null],
    ]);
    expect(r.outcome).to.equal('incomplete');
  });

  it('first probe passes, later ones hit the learned PMTU: partial loss with an MTU', () => {
    const r = expectOk(parsePing(
      'PING 10.100.0.2 (10.100.0.2) 1472(1500) bytes of data.\n1480 bytes from 10.100.0.2: icmp_seq=1 ttl=64 time=0.5 ms\nping: local error: message too long, mtu=1450\n\n--- 10.100.0.2 ping statistics ---\n2 packets transmitted, 1 received, +1 errors, 50% packet loss, time 1002ms\nrtt min/avg/max/mdev = 0.500/0.500/0.500/0.000 ms\n',
    ));
    expect(r).to.include({ outcome: 'partial-loss', reportedMtuBytes: 1450, lossPercent: 50 });
  });

  it('busybox summary and "time<1 ms" replies', () => {
    const r = expectOk(parsePing(
      'PING 10.0.0.5 (10.0.0.5): 56 data bytes\n64 bytes from 10.0.0.5: seq=0 ttl=63 time=8.9 ms\n64 bytes from 10.0.0.5: icmp_seq=1 ttl=63 time<1 ms\n\n--- 10.0.0.5 ping statistics ---\n2 packets transmitted, 2 packets received, 0% packet loss\nround-trip min/avg/max = 0.900/4.900/8.900 ms\n',
    ));
    expect(r).to.include({ payloadBytes: 56, packetBytes: null, transmitted: 2, received: 2, outcome: 'replied', elapsedMs: null });
    expect(r.rtt).to.deep.equal({ minMs: 0.9, avgMs: 4.9, maxMs: 8.9, mdevMs: null });
    expect(r.replies.map((x) => [x.icmpSeq, x.rttMs])).to.deep.equal([[0, 8.9], [1, 1]]);
  });

  it('no reply and no reason: a silent drop (PMTU black hole candidate)', () => {
    const r = expectOk(parsePing('PING 10.0.0.9 (10.0.0.9) 1472(1500) bytes of data.\n\n--- 10.0.0.9 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss, time 1015ms\n'));
    expect(r.outcome).to.equal('no-reply');
  });
});
