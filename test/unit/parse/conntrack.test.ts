import { expect } from 'chai';
import { conntrackUsageOf, parseConntrackInsertFailed } from '../../../src/parse/conntrack.js';
import { parseSysctlGrep } from '../../../src/parse/sysctl.js';
import { expectOk, readFixture } from './fixture.js';
import { snapshotSection } from './snapshot-section.js';

describe('parse/conntrack: insert_failed of conntrack -S', () => {
  it('per-CPU lines with no failure: read, and 0 (lab capture)', () => {
    const text = readFixture('conn-check/lab/drop-after.conntrack');
    expect(text.split('\n').filter((l) => l.startsWith('cpu='))).to.have.length(2);
    expect(expectOk(parseConntrackInsertFailed(text))).to.deep.equal({ total: 0, lines: [] });
  });

  it('the same from a node script section (dns-check snapshot, host/conntrack)', () => {
    const section = snapshotSection('dns-check/healthy', 'lab-node-1', 'host/conntrack');
    expect(section.exitCode).to.equal(0);
    expect(expectOk(parseConntrackInsertFailed(section.stdout))).to.deep.equal({ total: 0, lines: [] });
  });

  it('sums the CPUs and keeps only the lines that failed, for evidence', () => {
    // The lab capture with two CPUs' counters raised as a DNS race would raise them.
    const raced = readFixture('conn-check/lab/drop-after.conntrack').replace('cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=0', 'cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=12').replace('cpu=1   \tfound=0 invalid=0 insert=0 insert_failed=0', 'cpu=1   \tfound=0 invalid=0 insert=0 insert_failed=5');
    const r = expectOk(parseConntrackInsertFailed(raced));
    expect(r.total).to.equal(17);
    expect(r.lines).to.have.length(2);
    expect(r.lines[0]).to.match(/^cpu=0\s+found=0 invalid=0 insert=0 insert_failed=12 drop=0/);
    expect(r.lines[1]).to.match(/^cpu=1\s.*insert_failed=5 /);
  });

  it('the old tabular output and the tool error (no CAP_NET_ADMIN) are unreadable, not 0 (kubernetes#56903)', () => {
    const r = parseConntrackInsertFailed(readFixture('conntrack/kubernetes-56903-conntrack-1.4.4-no-cap-net-admin.txt'));
    expect(r.ok).to.equal(false);
    if (r.ok) return;
    expect(r.error.reason).to.equal('command-error');
    expect(r.error.excerpt).to.contain('CAP_NET_ADMIN');
  });

  it('empty output and unrelated text fail with their own reason', () => {
    const empty = parseConntrackInsertFailed('');
    const other = parseConntrackInsertFailed('sh: conntrack: not found\n');
    expect([empty.ok ? 'ok' : empty.error.reason, other.ok ? 'ok' : other.error.reason]).to.deep.equal(['empty-input', 'unrecognised-text']);
  });
});

describe('parse/conntrack: the table fill from nf_conntrack_count / nf_conntrack_max', () => {
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
