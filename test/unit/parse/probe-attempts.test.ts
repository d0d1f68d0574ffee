import { expect } from 'chai';
import { classifyAttempt, parseProbeAttempts } from '../../../src/parse/probe-attempts.js';

// Lines as the node script's probe request prints them (OpenBSD nc -n -z -v; busybox nc says less).
describe('parse/probe-attempts: the probe request\'s "attempt N rc=RC ..." lines', () => {
  it('reads each attempt with its exit status, what nc said, and what that means', () => {
    const text = [
      'attempt 1 rc=0 Connection to 10.244.2.1 8080 port [tcp/*] succeeded!',
      'attempt 2 rc=1 nc: connect to 10.244.2.1 port 8081 (tcp) failed: Connection refused',
      'attempt 3 rc=1 nc: connect to 10.244.2.1 port 8080 (tcp) timed out: Operation now in progress',
      'attempt 4 rc=1 nc: connect to 10.244.9.9 port 8080 (tcp) failed: No route to host',
      'attempt 5 rc=1 ',
      '',
    ].join('\n');
    const attempts = parseProbeAttempts(text, 'tcp');
    expect(attempts).to.have.length(5);
    expect(attempts.map((a) => a.rc)).to.deep.equal([0, 1, 1, 1, 1]);
    expect(attempts.map((a) => a.result)).to.deep.equal(['connected', 'refused', 'timeout', 'unreachable', 'failed']);
    expect(attempts[1]!.detail).to.equal('nc: connect to 10.244.2.1 port 8081 (tcp) failed: Connection refused');
    expect(attempts[4]!.detail).to.equal('');
  });

  it('ignores what is not an attempt line (a missing namespace, stderr noise)', () => {
    expect(parseProbeAttempts('no namespace for this pod\n', 'tcp')).to.have.length(0);
    const attempts = parseProbeAttempts('nc: using stream socket\nattempt 1 rc=0 \n', 'udp');
    expect(attempts).to.have.length(1);
    expect(attempts[0]).to.deep.equal({ rc: 0, result: 'sent', detail: '' });
  });

  it('a udp datagram with no word back is sent, not answered; an ICMP port unreachable is a refusal', () => {
    expect(classifyAttempt('udp', 0, '')).to.equal('sent');
    expect(classifyAttempt('udp', 1, 'nc: Connection refused')).to.equal('refused');
    expect(classifyAttempt('tcp', 0, '')).to.equal('connected');
    expect(classifyAttempt('tcp', 1, 'nc: Administratively prohibited')).to.equal('unreachable');
  });
});
