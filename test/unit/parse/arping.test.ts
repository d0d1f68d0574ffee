import { expect } from 'chai';
import { parseArping } from '../../../src/parse/arping.js';
import { expectOk, readFixture } from './fixture.js';

describe('parse/arping: iputils arping -c 2 -w 2 -I IFACE TARGET (lab captures, iputils 20221126)', () => {
  it('a pod answering its node: header, replies with lower-case MAC, summary', () => {
    const r = expectOk(parseArping(readFixture('arping/lab-node-to-pod-reply.txt')));
    expect(r).to.include({ target: '10.244.1.1', sourceAddress: '192.168.77.11', iface: 'cali0761ccbeace', sentProbes: 2, receivedResponses: 2 });
    expect(r.replies.map((x) => [x.kind, x.from, x.macAddress])).to.deep.equal([
      ['unicast', '10.244.1.1', '06:5b:8d:97:9a:7f'],
      ['unicast', '10.244.1.1', '06:5b:8d:97:9a:7f'],
    ]);
    expect(r.replies[0]!.rttMs).to.equal(0.537);
    expect(r.macAddresses).to.deep.equal(['06:5b:8d:97:9a:7f']);
  });

  it('proxy ARP for 169.254.1.1 answers with the cali veth MAC', () => {
    const r = expectOk(parseArping(readFixture('arping/lab-pod-to-gateway-proxy-reply.txt')));
    expect(r.macAddresses).to.deep.equal(['ee:ee:ee:ee:ee:ee']);
    expect(r.sourceAddress).to.equal('10.244.1.1');
  });

  it('nobody answers: no replies, 0 responses', () => {
    const r = expectOk(parseArping(readFixture('arping/lab-no-reply.txt')));
    expect(r.replies).to.deep.equal([]);
    expect(r).to.include({ sentProbes: 2, receivedResponses: 0 });
  });

  it('two hosts holding one IP: two distinct MACs', () => {
    const r = expectOk(parseArping(readFixture('arping/lab-two-macs.txt')));
    expect(r.macAddresses).to.deep.equal(['b6:1d:73:68:45:20', 'c2:07:a6:63:45:f0']);
    expect(r.receivedResponses).to.equal(2);
  });

  it('no such device (stderr only) is a command error; empty input is empty-input', () => {
    const r = parseArping('', readFixture('arping/lab-no-device.txt'));
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.error).to.include({ reason: 'command-error', message: 'arping: arping: Device nosuch not available.' });
    const e = parseArping('');
    expect(e.ok).to.equal(false);
    if (!e.ok) expect(e.error.reason).to.equal('empty-input');
    const junk = parseArping('hello\n');
    expect(junk.ok).to.equal(false);
  });
});
