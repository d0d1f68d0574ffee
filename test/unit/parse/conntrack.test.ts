// The two conntrack readers: insert_failed of `conntrack -S` (net-counters.ts) and the table fill
// from nf_conntrack_count / nf_conntrack_max (sysctl.ts). Each keeps "not read" (null) apart from
// "read, and nothing there" (0).
import { expect } from 'chai';
import { conntrackInsertFailed } from '../../../src/parse/net-counters.js';
import { conntrackUsageOf, parseSysctlGrep } from '../../../src/parse/sysctl.js';
import { expectOk, readFixture } from './fixture.js';
import { snapshotSection } from './snapshot-section.js';

describe('parse/net-counters: insert_failed of conntrack -S', () => {
  it('per-CPU lines with no failure: read, and 0 (lab capture)', () => {
    const text = readFixture('conn-check/lab/drop-after.conntrack');
    expect(text.split('\n').filter((l) => l.startsWith('cpu='))).to.have.length(2);
    expect(conntrackInsertFailed(text)).to.deep.equal({ total: 0, lines: [] });
  });

  it('the same from a node script section (dns-check snapshot, host/conntrack)', () => {
    const section = snapshotSection('dns-check/healthy', 'lab-node-1', 'host/conntrack');
    expect(section.exitCode).to.equal(0);
    expect(conntrackInsertFailed(section.stdout)).to.deep.equal({ total: 0, lines: [] });
  });

  it('sums the CPUs and keeps only the lines that failed, for evidence', () => {
    // The lab capture with two CPUs' counters raised as the UDP DNS race raises them.
    const raced = readFixture('conn-check/lab/drop-after.conntrack')
      .replace('cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=0', 'cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=12')
      .replace('cpu=1   \tfound=0 invalid=0 insert=0 insert_failed=0', 'cpu=1   \tfound=0 invalid=0 insert=0 insert_failed=5');
    const r = conntrackInsertFailed(raced);
    expect(r?.total).to.equal(17);
    expect(r?.lines).to.have.length(2);
    expect(r?.lines[0]).to.match(/^cpu=0\s+found=0 invalid=0 insert=0 insert_failed=12 drop=0/);
    expect(r?.lines[1]).to.match(/^cpu=1\s.*insert_failed=5 /);
  });

  it('the old tabular output followed by the tool error (no CAP_NET_ADMIN) is not read, not 0 (kubernetes#56903)', () => {
    const text = readFixture('conntrack/kubernetes-56903-conntrack-1.4.4-no-cap-net-admin.txt');
    expect(text).to.contain('insert_failed\t\t0');
    expect(conntrackInsertFailed(text)).to.equal(null);
  });

  it('empty output and unrelated text are not read', () => {
    expect(conntrackInsertFailed('')).to.equal(null);
    expect(conntrackInsertFailed('sh: conntrack: not found\n')).to.equal(null);
  });
});

describe('parse/sysctl: the conntrack table fill from nf_conntrack_count / nf_conntrack_max', () => {
  it('reads both from the node sysctls (node-check snapshot, host/sysctl)', () => {
    const sysctl = expectOk(parseSysctlGrep(snapshotSection('node-check/healthy-all', 'lab-node-1', 'host/sysctl').stdout));
    expect(conntrackUsageOf(sysctl)).to.deep.equal({ count: 143, max: 262144 });
  });

  it('an empty table is read as 0, not as unreadable', () => {
    const sysctl = expectOk(parseSysctlGrep('/proc/sys/net/netfilter/nf_conntrack_count:0\n/proc/sys/net/netfilter/nf_conntrack_max:65536\n'));
    expect(conntrackUsageOf(sysctl)).to.deep.equal({ count: 0, max: 65536 });
  });

  it('files that were not read (nf_conntrack not loaded) give null (lab sysctl capture without them)', () => {
    const sysctl = expectOk(parseSysctlGrep(readFixture('sysctl/lab/host.txt')));
    expect(sysctl.entries.some((e) => e.path.includes('nf_conntrack'))).to.equal(false);
    expect(conntrackUsageOf(sysctl)).to.equal(null);
    expect(conntrackUsageOf(null)).to.equal(null);
    expect(conntrackUsageOf(expectOk(parseSysctlGrep('/proc/sys/net/netfilter/nf_conntrack_count:10\n')))).to.equal(null);
  });
});
