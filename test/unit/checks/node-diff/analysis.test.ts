// node-diff on lab snapshots: two healthy nodes of the same CNI differ in nothing that matters,
// a node broken by hand differs in exactly its faults, ranked first; per-node values never count.
import { expect } from 'chai';
import { join } from 'node:path';
import { runCli } from '../../../../src/cli/cli.js';
import { DIFF_RANKING, diagnoseNodeDiff } from '../../../../src/checks/node-diff/analysis.js';
import { readNodeDiffTarget } from '../../../../src/checks/node-diff/command.js';
import { severityRank } from '../../../../src/checks/finding.js';
import { fakeDeps } from '../../../support/fake-deps.js';
import { expectGolden } from '../../../support/golden.js';
import { REPO } from '../../../support/lab-harness.js';
import { editSection, loadNodeSnapshot } from '../../../fixtures/snapshots/node-check/snapshot-helpers.js';

const SNAPSHOTS = join(REPO, 'test/fixtures/snapshots/node-check');
const GOLDEN = join(REPO, 'test/fixtures/golden/node-diff');

describe('node-diff analysis on lab snapshots', () => {
  it('finds no difference between two healthy Calico-style nodes though their addresses, pods and veths differ', () => {
    const { api, nodes } = loadNodeSnapshot('diff-healthy');
    // The raw facts do differ in per-node values: names, addresses, Calico's "nodename".
    expect(nodes[0]!.raw).to.contain('"nodename": "lab-node-1"');
    expect(nodes[1]!.raw).to.contain('"nodename": "lab-node-2"');
    const report = diagnoseNodeDiff(api, nodes);
    expect(report.differences).to.deep.equal([]);
    expect(report.findings).to.deep.equal([]);
    expect(report.comparedFacts).to.be.greaterThan(50);
  });

  it('lists exactly the four hand-made faults, most harmful first', () => {
    const { api, nodes } = loadNodeSnapshot('diff-node-2-broken');
    const report = diagnoseNodeDiff(api, nodes);
    expect(report.differences.map((d) => [d.kind, d.item, d.good, d.bad])).to.deep.equal([
      ['sysctl.ip-forward', 'net.ipv4.ip_forward', '1', '0'],
      ['kube-proxy.service-ports', 'Service ports programmed', '8', '7 (missing default/web:http)'],
      ['kube-proxy.chains', 'KUBE-SEP-* chains', '11', '8'],
      ['kube-proxy.chains', 'KUBE-SERVICES rules', '8', '7'],
      ['kube-proxy.chains', 'KUBE-SVC-* chains', '7', '6'],
      ['route.peer-pod-cidr', "route to the other node's pod CIDR", 'via <address in peer pod CIDR> dev vxlan.calico onlink', 'only default (via 192.168.77.1 dev <nic>)'],
      ['nic.ipv4-addresses', 'IPv4 addresses on the NIC', '1', '2'],
    ]);
    expect(report.findings.map((f) => [f.code, f.severity])).to.deep.equal([
      ['node-diff.ip-forward', 'error'],
      ['node-diff.kube-proxy-service-ports', 'error'],
      ['node-diff.kube-proxy-rule-counts', 'error'],
      ['node-diff.pod-cidr-route', 'error'],
      ['node-diff.nic-ipv4-addresses', 'warn'],
    ]);
  });

  it('ranks an overlay MTU difference after the breaking ones and does not count per-pod veth names', () => {
    const { api, nodes } = loadNodeSnapshot('diff-node-2-broken');
    const mtu = editSection(nodes[1]!, 'host/addr', (b) => b.replace(/("ifname":"vxlan\.calico",.*?"mtu":)1450/, '$11400'));
    const report = diagnoseNodeDiff(api, [nodes[0]!, mtu]);
    const kinds = report.differences.map((d) => d.kind);
    expect(kinds.indexOf('mtu.overlay')).to.be.greaterThan(kinds.indexOf('nic.ipv4-addresses'));
    expect(report.differences.find((d) => d.kind === 'mtu.overlay')).to.deep.include({ item: 'vxlan.calico MTU', good: '1450', bad: '1400', severity: 'warn' });
  });

  it('does not report conf/*/forwarding on its own when it only follows ip_forward', () => {
    const { api, nodes } = loadNodeSnapshot('diff-node-2-broken');
    const report = diagnoseNodeDiff(api, nodes);
    expect(report.differences.filter((d) => d.kind === 'sysctl.forwarding')).to.deep.equal([]);
    // ...but does when one interface alone is off.
    const healthy = loadNodeSnapshot('diff-healthy');
    const oneOff = editSection(healthy.nodes[1]!, 'host/sysctl', (b) => b.replace('conf/vxlan.calico/forwarding:1', 'conf/vxlan.calico/forwarding:0'));
    expect(diagnoseNodeDiff(healthy.api, [healthy.nodes[0]!, oneOff]).differences.map((d) => [d.kind, d.item, d.good, d.bad])).to.deep.equal([['sysctl.forwarding', 'conf/vxlan.calico/forwarding', '1', '0']]);
  });

  it('keeps an explicit ranking table: unique kinds, severities never rising down the list', () => {
    const kinds = DIFF_RANKING.map((r) => r.kind);
    expect(new Set(kinds).size).to.equal(kinds.length);
    for (let i = 1; i < DIFF_RANKING.length; i++) {
      expect(severityRank(DIFF_RANKING[i]!.severity), DIFF_RANKING[i]!.kind).to.be.at.most(severityRank(DIFF_RANKING[i - 1]!.severity));
    }
    expect(kinds.slice(0, 2)).to.deep.equal(['sysctl.ip-forward', 'kube-proxy.service-ports']);
    expect(kinds.indexOf('mtu.overlay')).to.be.lessThan(kinds.indexOf('kernel'));
  });

  it('validates GOOD and BAD', () => {
    expect(readNodeDiffTarget({ good: 'a', bad: 'b' })).to.deep.equal({ kind: 'pair', good: 'a', bad: 'b' });
    expect(() => readNodeDiffTarget({ good: 'a' })).to.throw(/two node names/);
    expect(() => readNodeDiffTarget({ good: 'a', bad: 'a' })).to.throw(/two different nodes/);
    expect(() => readNodeDiffTarget({ good: 'a', bad: 'B;rm' })).to.throw(/invalid node name/);
  });
});

describe('node-diff through the CLI on snapshots', () => {
  it('exits 0 for the healthy pair and 1 for the broken one', async () => {
    expect(await runCli(['node-diff', '--from-snapshot', join(SNAPSHOTS, 'diff-healthy')], fakeDeps())).to.equal(0);
    const deps = fakeDeps();
    expect(await runCli(['node-diff', '--from-snapshot', join(SNAPSHOTS, 'diff-node-2-broken'), '-o', 'json'], deps)).to.equal(1);
    expect(JSON.parse(deps.out())).to.include({ kind: 'NodeDiffReport', good: 'lab-node-1', bad: 'lab-node-2' });
  });

  it('renders the broken pair as a table exactly like the reviewed golden file', async () => {
    const deps = fakeDeps();
    expect(await runCli(['node-diff', '--from-snapshot', join(SNAPSHOTS, 'diff-node-2-broken')], deps)).to.equal(1);
    expectGolden(join(GOLDEN, 'diff-node-2-broken.table'), deps.out());
  });
});
