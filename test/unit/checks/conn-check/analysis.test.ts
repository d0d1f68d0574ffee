// conn-check's deltas and attribution on counters recorded from this machine's kernel around three
// pings (scripts/capture-conn-fixtures.sh): B dropped them with an INPUT rule ("drop"), or had
// ip_forward=0 while A routed through it ("noforward").
import { expect } from 'chai';
import { readFixture } from '../../parse/fixture.js';
import { diagnoseConnCheck, type ConnCheckApi } from '../../../../src/checks/conn-check/analysis.js';
import { chainPolicyDeltas, kernelCounterDeltas, readCounterSnapshot, ruleDeltas } from '../../../../src/checks/conn-check/counter-deltas.js';
import { connectOutcome } from '../../../../src/checks/conn-check/probe-outcome.js';
import { flowView, ruleCanMatchFlow } from '../../../../src/checks/conn-check/verdict.js';
import { parseIptablesSave } from '../../../../src/kube-proxy/iptables-save.js';
import type { RawSection } from '../../../../src/probe/sections.js';
import type { NodeCollection } from '../../../../src/probe/probe-run.js';

const lab = (name: string) => readFixture(`conn-check/lab/${name}`);
const TOKEN = 'T0';

function frame(sections: Record<string, string>): string {
  return Object.entries(sections).map(([name, body]) => `@@NETDIAG ${TOKEN} BEGIN ${name}\n${body}\n@@NETDIAG ${TOKEN} END ${name} rc=0\n`).join('') + `@@NETDIAG ${TOKEN} DONE\n`;
}

/** The ctr/PHASE/host/* sections the node script writes, filled with one scenario's recording. */
function counterSections(scenario: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const phase of ['before', 'after']) {
    const p = `ctr/${phase}/host`;
    out[`${p}/iptables-nft`] = lab(`${scenario}-${phase}.iptables`);
    out[`${p}/nft`] = lab(`${scenario}-${phase}.nft`);
    out[`${p}/link`] = lab(`${scenario}-${phase}.link.json`);
    out[`${p}/snmp`] = lab(`${scenario}-${phase}.snmp`);
    out[`${p}/netstat`] = lab(`${scenario}-${phase}.netstat`);
    out[`${p}/neigh`] = lab(`${scenario}-${phase}.neigh.json`);
    out[`${p}/sysctl`] = lab(`${scenario}-${phase}.sysctl`);
    out[`${p}/conntrack`] = lab(`${scenario}-${phase}.conntrack`);
  }
  return out;
}

function sectionMap(sections: Record<string, string>): Map<string, RawSection> {
  return new Map(Object.entries(sections).map(([name, stdout]) => [name, { name, exitCode: 0, stdout, stderr: '' }]));
}

function node(nodeName: string, sections: Record<string, string>): NodeCollection {
  return { nodeName, ok: true, token: TOKEN, raw: frame(sections), podName: `probe-${nodeName}`, durationMs: 1 };
}

const nodeA = { kind: 'node' as const, nodeName: 'node-a', ip: '10.99.0.1' };

describe('conn-check: counter deltas', () => {
  it('finds the one rule whose counter moved, with its place, its target and the packets it counted', () => {
    const sections = sectionMap(counterSections('drop'));
    const before = readCounterSnapshot(sections, 'before', 'host')!;
    const after = readCounterSnapshot(sections, 'after', 'host')!;
    const moved = ruleDeltas(before, after);
    expect(moved).to.have.length(1);
    expect(moved[0]).to.deep.include({ backend: 'iptables-nft', table: 'filter', chain: 'INPUT', index: 1, target: 'DROP', packets: 3 });
    expect(moved[0]!.rule).to.equal('-A INPUT -s 10.99.0.1/32 -i vb -p icmp -j DROP');
    expect(chainPolicyDeltas(before, after)).to.deep.equal([]);
  });

  it('counts Ip.InAddrErrors, not Ip.ForwDatagrams, for packets a node with ip_forward=0 had to route', () => {
    const sections = sectionMap(counterSections('noforward'));
    const k = kernelCounterDeltas(readCounterSnapshot(sections, 'before', 'host')!, readCounterSnapshot(sections, 'after', 'host')!);
    expect(k['Ip.InAddrErrors']).to.equal(3);
    expect(k['Ip.ForwDatagrams'] ?? 0).to.equal(0);
    expect(k).to.not.have.property('Ip.Forwarding'); // a setting, not a counter
  });

  it('tells identical rules of one chain apart by their order', () => {
    const save = (first: string, second: string) => ['*filter', ':FORWARD ACCEPT [0:0]', `[${first}] -A FORWARD -d 10.244.2.1/32 -j DROP`, `[${second}] -A FORWARD -d 10.244.2.1/32 -j DROP`, 'COMMIT', ''].join('\n');
    const sections = sectionMap({ 'ctr/before/host/iptables-nft': save('5:300', '0:0'), 'ctr/after/host/iptables-nft': save('5:300', '3:180') });
    const moved = ruleDeltas(readCounterSnapshot(sections, 'before', 'host')!, readCounterSnapshot(sections, 'after', 'host')!);
    expect(moved.map((m) => [m.index, m.packets])).to.deep.equal([[2, 3]]);
  });

  it('says which namespace has no counters instead of inventing zeroes', () => {
    expect(readCounterSnapshot(sectionMap(counterSections('drop')), 'before', 'p0')).to.equal(null);
  });
});

describe('conn-check: which rules can match the probe', () => {
  const rules = parseIptablesSave(['*filter', ':INPUT ACCEPT [0:0]', '-A INPUT -s 10.99.0.1/32 -i vb -p icmp -j DROP', '-A INPUT -d 10.244.2.1/32 -p tcp -m tcp --dport 8080 -j REJECT', '-A INPUT ! -s 10.244.0.0/16 -j DROP', '-A INPUT -s 10.244.2.1/32 -d 10.244.1.1/32 -j DROP', 'COMMIT', ''].join('\n')).tables.get('filter')!.chains.get('INPUT')!.rules;
  const flow = (protocol: string, src: string, dst: string, ports: number[]) => ({ sources: [src], destinations: [dst], ports, protocol });
  it('matches on protocol, addresses (negated too) and destination port', () => {
    expect(rules.map((r) => ruleCanMatchFlow(r, flow('icmp', '10.99.0.1', '10.99.0.2', [])))).to.deep.equal([true, false, true, false]);
    expect(rules.map((r) => ruleCanMatchFlow(r, flow('tcp', '10.244.1.1', '10.244.2.1', [8080])))).to.deep.equal([false, true, false, true]);
    expect(rules.map((r) => ruleCanMatchFlow(r, flow('tcp', '10.244.1.1', '10.244.2.1', [9090])))).to.deep.equal([false, false, false, true]);
  });
});

describe('conn-check: the verdict', () => {
  const api = (over: Partial<ConnCheckApi>): ConnCheckApi => ({
    source: nodeA,
    destination: { kind: 'ip', ip: '10.99.0.2', nodeName: 'node-b' },
    protocol: 'icmp',
    port: null,
    count: 3,
    probe: true,
    nodeIPs: { 'node-a': '10.99.0.1', 'node-b': '10.99.0.2' },
    ...over,
  });
  const source = (scenario: string, address: string) => node('node-a', { [`probe/host/icmp/${address}/0`]: lab(`${scenario}-ping.txt`) });

  it('names the DROP rule on the node whose counter moved by the number of probes', () => {
    const report = diagnoseConnCheck(api({}), [source('drop', '10.99.0.2'), node('node-b', counterSections('drop'))]);
    expect(report.verdict.outcome).to.equal('dropped');
    expect(report.findings.map((f) => f.code)).to.deep.equal(['conn.rule-drop']);
    expect(report.findings[0]!.severity).to.equal('error');
    expect(report.verdict.node).to.equal('node-b');
    expect(report.verdict.sentence).to.equal('dropped on node-b by filter/INPUT rule 1 (-A INPUT -s 10.99.0.1/32 -i vb -p icmp -j DROP, +3 packets)');
    expect(report.hops.filter((h) => h.hop === 'drop rule')).to.have.length(1);
  });

  it('does not blame a rule that moved by fewer packets than were sent: it could not decide', () => {
    const report = diagnoseConnCheck(api({ count: 5 }), [source('drop', '10.99.0.2'), node('node-b', counterSections('drop'))]);
    expect(report.findings.map((f) => f.code)).to.deep.equal(['conn.undecided']);
    expect(report.verdict.node).to.equal(null);
  });

  it('does not blame a rule that cannot match the flow (another source address)', () => {
    const other = { ...nodeA, ip: '10.99.0.9' };
    const report = diagnoseConnCheck(api({ source: other }), [source('drop', '10.99.0.2'), node('node-b', counterSections('drop'))]);
    expect(report.findings.map((f) => f.code)).to.deep.equal(['conn.undecided']);
  });

  it('names ip_forward=0 on the node that had to route to the destination pod', () => {
    const dst = { kind: 'pod' as const, key: 'dst', namespace: 'default', name: 'web-b', nodeName: 'node-b', ip: '10.99.1.5', containerId: null };
    const report = diagnoseConnCheck(api({ destination: dst }), [source('noforward', '10.99.1.5'), node('node-b', counterSections('noforward'))]);
    expect(report.findings.map((f) => f.code)).to.deep.equal(['conn.forwarding-off']);
    expect(report.verdict.node).to.equal('node-b');
    expect(report.verdict.evidence.join('\n')).to.contain('Ip.InAddrErrors +3');
  });

  it('keeps every fact for -o json: the deltas of each node, the probe outcome', () => {
    const report = diagnoseConnCheck(api({}), [source('drop', '10.99.0.2'), node('node-b', counterSections('drop'))]);
    expect(report.deltas).to.have.length(1);
    expect(report.deltas[0]!.nodeName).to.equal('node-b');
    expect(report.deltas[0]!.kernel['Icmp.InEchos'] ?? 0).to.equal(0); // dropped before ICMP saw them
    expect(report.probe).to.deep.include({ sent: 3, answered: 0, summary: 'failed' });
    expect(flowView({ api: api({}), target: { address: '10.99.0.2', port: null } } as never).destinations).to.deep.equal(['10.99.0.2']);
  });
});

describe('conn-check: probe outcomes', () => {
  it('tells connected, refused (RST) and timed out apart from the nc lines', () => {
    const text = [
      'attempt 1 rc=0 Connection to 10.244.2.1 8080 port [tcp/*] succeeded!',
      'attempt 2 rc=1 nc: connect to 10.244.2.1 port 8081 (tcp) failed: Connection refused',
      'attempt 3 rc=1 nc: connect to 10.244.2.1 port 8080 (tcp) timed out: Operation now in progress',
    ].join('\n');
    const o = connectOutcome(text, 'tcp');
    expect(o.attempts.map((a) => a.result)).to.deep.equal(['connected', 'refused', 'timeout']);
    expect(o.summary).to.equal('partial');
    expect(connectOutcome('attempt 1 rc=1 nc: connect to 1.2.3.4 port 1 (tcp) failed: Connection refused\n', 'tcp').summary).to.equal('refused');
    expect(connectOutcome('', 'tcp').summary).to.equal('not-run');
  });
});
