// The counter parsers on outputs recorded from this machine's kernel (scripts/capture-conn-fixtures.sh).
import { expect } from 'chai';
import { readFixture } from './fixture.js';
import { conntrackInsertFailed, parseConntrackStats, parseIpLinkStats, parseNftCounters, parseSnmp } from '../../../src/parse/net-counters.js';

const lab = (name: string) => readFixture(`conn-check/lab/${name}`);

describe('net-counters parsers', () => {
  it('reads /proc/net/snmp into groups of named counters', () => {
    const r = parseSnmp(lab('noforward-after.snmp'));
    if (!r.ok) throw new Error(r.error.message);
    expect(Object.keys(r.value)).to.include.members(['Ip', 'Icmp', 'Tcp', 'Udp']);
    expect(r.value['Ip']!['InAddrErrors']).to.equal(3);
    expect(r.value['Ip']!['Forwarding']).to.equal(2); // 2: not forwarding
  });

  it('reads /proc/net/netstat (TcpExt, IpExt) with the same parser', () => {
    const r = parseSnmp(lab('drop-after.netstat'));
    if (!r.ok) throw new Error(r.error.message);
    expect(Object.keys(r.value)).to.include.members(['TcpExt', 'IpExt']);
    expect(r.value['IpExt']!['InNoRoutes']).to.be.a('number');
  });

  it('skips a group whose value line was cut off rather than guess, and fails on no group at all', () => {
    const text = lab('drop-after.snmp').split('\n');
    const cut = [...text.slice(0, 1), 'Ip: 1 64', ...text.slice(2)].join('\n');
    const r = parseSnmp(cut);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value['Ip']).to.equal(undefined);
    expect(r.value['Icmp']).to.not.equal(undefined);
    expect(parseSnmp('').ok).to.equal(false);
    expect(parseSnmp('nothing here').ok).to.equal(false);
  });

  it('reads ip -s -j link: packets per direction, admin state, the veth peer index', () => {
    const before = parseIpLinkStats(lab('drop-before.link.json'));
    const after = parseIpLinkStats(lab('drop-after.link.json'));
    if (!before.ok || !after.ok) throw new Error('parse');
    expect(after.value.map((l) => l.ifname).sort()).to.deep.equal(['lo', 'vb']);
    const vb = after.value.find((l) => l.ifname === 'vb')!;
    expect(vb.adminUp).to.equal(true);
    expect(vb.linkIndex).to.be.a('number');
    const moved = vb.rxPackets - before.value.find((l) => l.ifname === 'vb')!.rxPackets;
    expect(moved).to.be.at.least(3); // the three pings (plus ARP)
  });

  it('sums conntrack -S over the CPUs and says when there is no per-CPU line', () => {
    const r = parseConntrackStats(lab('drop-after.conntrack'));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value['drop']).to.equal(0);
    expect(r.value).to.have.property('insert_failed');
    expect(parseConntrackStats('conntrack v1.4.7 (conntrack-tools): Operation failed').ok).to.equal(false);
  });

  it('insert_failed of conntrack -S (dns-check): the same sum as the full reader, only the non-zero lines as evidence', () => {
    const text = lab('drop-after.conntrack');
    const all = parseConntrackStats(text);
    if (!all.ok) throw new Error(all.error.message);
    const failed = conntrackInsertFailed(text);
    expect(failed).to.not.equal(null);
    expect(failed!.total).to.equal(all.value['insert_failed']);
    expect(failed!.lines.every((l) => !/insert_failed=0\b/.test(l))).to.equal(true);
    const lines = 'cpu=0 found=0 insert_failed=0 drop=0\ncpu=1 found=0 insert_failed=5 drop=5\ncpu=2 found=1 insert_failed=2 drop=2\n';
    expect(conntrackInsertFailed(lines)).to.deep.equal({ total: 7, lines: ['cpu=1 found=0 insert_failed=5 drop=5', 'cpu=2 found=1 insert_failed=2 drop=2'] });
    expect(conntrackInsertFailed('')).to.equal(null);
    expect(conntrackInsertFailed('conntrack v1.4.7 (conntrack-tools): Operation failed')).to.equal(null);
  });

  it('reads the counters and verdicts of nft list ruleset, and each base chain policy', () => {
    const { rules, chains } = parseNftCounters(lab('drop-after.nft'));
    expect(rules).to.have.length(3);
    const input = rules.find((r) => r.chain === 'INPUT')!;
    expect(input).to.deep.include({ family: 'ip', table: 'filter', index: 1, packets: 3, verdict: 'drop' });
    expect(rules.find((r) => r.chain === 'FORWARD')!.verdict).to.equal('other');
    expect(chains.find((c) => c.chain === 'INPUT')).to.deep.include({ hook: 'input', policy: 'accept' });
    expect(chains.find((c) => c.chain === 'cali-tw-vb')).to.deep.include({ hook: null, policy: null });
  });
});
