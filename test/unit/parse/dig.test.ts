import { expect } from 'chai';
import { parseDig } from '../../../src/parse/dig.js';
import { readFixture } from '../kube-proxy/kube-proxy-fixtures.js';

describe('parseDig', () => {
  it('NOERROR with one A record (dnsmasq in a netns)', () => {
    const r = parseDig(readFixture('dns/lab-dig-noerror-a.txt'));
    expect(r.outcome).to.equal('answer');
    expect(r.rcode).to.equal('NOERROR');
    expect(r.flags).to.deep.equal(['qr', 'aa', 'rd', 'ra']);
    expect(r.question).to.deep.equal({ name: 'web.default.svc.cluster.local.', class: 'IN', type: 'A' });
    expect(r.answers).to.deep.equal([{ name: 'web.default.svc.cluster.local.', ttlSeconds: 0, class: 'IN', type: 'A', data: '10.244.1.5' }]);
    expect(r.queryTimeMs).to.equal(0); // ";; Query time: 0 msec" in the capture
    expect(r.server).to.deep.equal({ ip: '10.96.0.10', port: 53, transport: 'UDP' });
    expect(r.messageSizeBytes).to.equal(74);
    expect(r.warnings[0]).to.match(/Multicast DNS/);
  });

  it('CNAME chain and multiple A records', () => {
    expect(parseDig(readFixture('dns/lab-dig-cname.txt')).answers.map((a) => `${a.type} ${a.data}`)).to.deep.equal([
      'CNAME web.default.svc.cluster.local.',
      'A 10.244.1.5',
    ]);
    expect(parseDig(readFixture('dns/lab-dig-noerror-multi-a.txt')).answers).to.have.length(2);
  });

  for (const [file, rcode] of [
    ['lab-dig-nxdomain', 'NXDOMAIN'],
    ['lab-dig-refused', 'REFUSED'],
    ['lab-dig-servfail', 'SERVFAIL'],
    ['lab-dig-servfail-direct', 'SERVFAIL'],
  ] as const) {
    it(`${rcode} (${file})`, () => {
      const r = parseDig(readFixture(`dns/${file}.txt`));
      expect(r.outcome).to.equal('answer');
      expect(r.rcode).to.equal(rcode);
      expect(r.answers).to.deep.equal([]);
      expect(r.queryTimeMs).to.be.a('number');
    });
  }

  it('+short', () => {
    const r = parseDig(readFixture('dns/lab-dig-short.txt'));
    expect(r.outcome).to.equal('answer');
    expect(r.rcode).to.equal(null);
    expect(r.short).to.deep.equal(['10.244.2.7', '10.244.1.6']);
  });

  it('+noall +answer +comments +stats', () => {
    const r = parseDig(readFixture('dns/lab-dig-answer-comments-stats.txt'));
    expect(r.rcode).to.equal('NOERROR');
    expect(r.answers.map((a) => a.data)).to.deep.equal(['10.244.1.5']);
    expect(r.queryTimeMs).to.equal(0);
    expect(r.server?.ip).to.equal('10.96.0.10');
  });

  it('timeout: "communications error ... timed out" then "no servers could be reached"', () => {
    const r = parseDig(readFixture('dns/lab-dig-timeout.txt'));
    expect(r.outcome).to.equal('timeout');
    expect(r.rcode).to.equal(null);
    expect(r.errors).to.deep.equal([';; communications error to 10.96.0.11#53: timed out', ';; no servers could be reached']);
  });

  it('older dig wording: ";; connection timed out; no servers could be reached"', () => {
    // BIND 9.16 and earlier print this single line instead (regression guard for the quirk)
    const r = parseDig('\n; <<>> DiG 9.16.1-Ubuntu <<>> kubernetes.default @10.96.0.10\n;; global options: +cmd\n;; connection timed out; no servers could be reached\n');
    expect(r.outcome).to.equal('timeout');
  });

  it('ICMP port unreachable (UDP) and TCP connection refused', () => {
    expect(parseDig(readFixture('dns/lab-dig-port-unreachable.txt')).outcome).to.equal('refused-connection');
    expect(parseDig(readFixture('dns/lab-dig-tcp-refused.txt')).outcome).to.equal('refused-connection');
  });

  it('no route to the server', () => {
    expect(parseDig(readFixture('dns/lab-dig-unreachable-network.txt')).outcome).to.equal('unreachable');
  });

  it('+search +short with CoreDNS log lines interleaved (real, tkng)', () => {
    const r = parseDig(readFixture('dns/tkng-dig-search-nxdomain-with-coredns-logs.txt'));
    expect(r.short).to.deep.equal(['172.67.201.112', '104.21.21.243']);
    expect(r.warnings.filter((w) => w.startsWith('foreign line'))).to.have.length(4);
  });

  it('empty input', () => {
    const r = parseDig('');
    expect(r.outcome).to.equal('empty');
    expect(r.answers).to.deep.equal([]);
  });
});
