import { expect } from 'chai';
import { parseResolvConf, planQueries, queriesUntilAnswered } from '../../../src/parse/resolv-conf.js';
import { expectOk, readFixture } from './fixture.js';

describe('parse/resolv-conf: /etc/resolv.conf', () => {
  it('published kind pod resolv.conf', () => {
    const conf = expectOk(parseResolvConf(readFixture('resolv-conf/realdata/tkng-pod-resolv-conf.txt')));
    expect(conf.nameservers).to.deep.equal(['10.96.0.10']);
    expect(conf.search).to.deep.equal(['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
    expect(conf.ndots).to.equal(5);
    expect(conf.options).to.deep.equal([{ name: 'ndots', value: '5', raw: 'ndots:5' }]);
  });

  it('published pod with the node search domain appended (4pd.io)', () => {
    const conf = expectOk(parseResolvConf(readFixture('resolv-conf/realdata/opsnull-pod-resolv-conf-extra-search.txt')));
    expect(conf.search).to.deep.equal(['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', '4pd.io']);
    expect(conf.nameservers).to.deep.equal(['10.254.0.2']);
  });

  it('query plan under ndots:5: short names try the search list first', () => {
    const conf = expectOk(parseResolvConf(readFixture('resolv-conf/realdata/tkng-pod-resolv-conf.txt')));
    const plan = planQueries('kubernetes.default', conf);
    expect(plan.candidates).to.deep.equal([
      'kubernetes.default.default.svc.cluster.local.',
      'kubernetes.default.svc.cluster.local.',
      'kubernetes.default.cluster.local.',
      'kubernetes.default.',
    ]);
    expect(queriesUntilAnswered(plan, 'kubernetes.default.svc.cluster.local')).to.equal(2);
    // An external name pays for every search domain first.
    const external = planQueries('www.example.com', conf);
    expect(external.worstCaseQueries).to.equal(4);
    expect(queriesUntilAnswered(external, 'www.example.com.')).to.equal(4);
  });

  it('ndots reached or absolute name: the name itself first / only', () => {
    const conf = { search: ['svc.cluster.local'], ndots: 2 };
    expect(planQueries('a.b.c', conf).candidates).to.deep.equal(['a.b.c.', 'a.b.c.svc.cluster.local.']);
    expect(planQueries('www.example.com.', { search: ['x'], ndots: 5 }).candidates).to.deep.equal(['www.example.com.']);
    expect(queriesUntilAnswered(planQueries('x', conf), 'y')).to.equal(null);
  });

  it('defaults, options, the three-nameserver limit, domain vs search', () => {
    const conf = expectOk(parseResolvConf('; comment\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\nsearch a b\ndomain corp\noptions timeout:2 attempts:3 rotate\n'));
    expect(conf.nameservers).to.deep.equal(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(conf.nameserversIgnored).to.deep.equal(['10.0.0.4']);
    expect(conf.search).to.deep.equal(['corp']); // the later "domain" replaces "search"
    expect(conf.ndots).to.equal(1);
    expect(conf.timeoutSeconds).to.equal(2);
    expect(conf.attempts).to.equal(3);
    expect(conf.options.map((o) => o.name)).to.deep.equal(['timeout', 'attempts', 'rotate']);
  });

  it('ndots above 15 is capped; unknown directives are skipped and named', () => {
    const r = parseResolvConf('options ndots:30\nbogus line\n');
    expect(r.ok).to.equal(true);
    if (r.ok) {
      expect(r.value.ndots).to.equal(15);
      expect(r.skipped[0]!.message).to.equal('unknown directive "bogus"');
      expect(r.value.rawLines).to.deep.equal(['options ndots:30']);
    }
  });

  it('empty input: no nameservers, ndots 1', () => {
    const conf = expectOk(parseResolvConf(''));
    expect(conf).to.include({ ndots: 1, timeoutSeconds: null });
    expect(conf.nameservers).to.deep.equal([]);
    expect(conf.search).to.deep.equal([]);
  });
});
