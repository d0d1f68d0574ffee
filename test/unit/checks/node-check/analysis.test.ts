// node-check analysis and rendering on snapshots captured from the lab's real kernel (see
// test/fixtures/snapshots/node-check/*/PROVENANCE.md), plus faults built by editing a copy of
// that raw output or of the API objects the snapshot holds.
import { expect } from 'chai';
import { join } from 'node:path';
import { runCli } from '../../../../src/cli/cli.js';
import { diagnoseNodeCheck, inferServiceCidr, type NodeFleetApi } from '../../../../src/checks/node-check/analysis.js';
import { expectedServicePorts, readNodeCheckTarget } from '../../../../src/checks/node-check/command.js';
import { editSection, loadNodeSnapshot } from '../../../fixtures/snapshots/node-check/snapshot-helpers.js';
import type { Finding } from '../../../../src/checks/finding.js';
import { fakeDeps } from '../../../support/fake-deps.js';
import { expectGolden } from '../../../support/golden.js';
import { REPO } from '../../../support/lab-harness.js';

const SNAPSHOTS = join(REPO, 'test/fixtures/snapshots/node-check');
const GOLDEN = join(REPO, 'test/fixtures/golden/node-check');

const codes = (findings: readonly Finding[]) => findings.map((f) => f.code).sort();

describe('node-check analysis on lab snapshots', () => {
  it('finds nothing wrong on three healthy nodes (two Calico-style, one flannel-style)', () => {
    const { api, nodes } = loadNodeSnapshot('healthy-all');
    const report = diagnoseNodeCheck(api, nodes);
    expect(report.findings).to.deep.equal([]);
    expect(report.problems).to.deep.equal([]);
    expect(report.nodes.map((n) => [n.nodeName, n.cni])).to.deep.equal([['lab-node-1', 'calico'], ['lab-node-2', 'calico'], ['lab-node-3', 'flannel']]);
    const node1 = report.nodes[0]!;
    const row = (check: string) => node1.rows.find((r) => r.check === check);
    expect(row('route to lab-node-2 10.244.2.0/24')).to.deep.equal({ check: 'route to lab-node-2 10.244.2.0/24', value: '10.244.2.0/24 via 10.244.2.0 dev vxlan.calico proto 80 onlink', status: 'ok' });
    expect(row('route to lab-node-3 10.244.3.0/24')!.value).to.equal('10.244.3.0/24 via 192.168.77.13 dev eth0');
    expect(row('kube-proxy rules')!.value).to.equal('iptables (nft): 7 KUBE-SVC- chains, 8/8 Service ports');
    expect(row('bridge-nf-call-iptables')!.status).to.equal('n/a');
    expect(report.nodes[2]!.rows.find((r) => r.check === 'bridge-nf-call-iptables')).to.deep.include({ value: '1 (bridge cni0)', status: 'ok' });
  });

  it('on a large cluster, counts the good peer routes in one row and keeps a row for each bad one', () => {
    const { api, nodes } = loadNodeSnapshot('healthy-all');
    // 20 more peers (simulated nodes): lab-node-1 routes 19 of them over vxlan.calico, one not at all.
    const extra = Array.from({ length: 20 }, (_, i) => ({ name: `sim-node-${i}`, internalIP: `192.168.78.${i + 1}`, podCIDRs: [`10.244.${100 + i}.0/24`] }));
    const routes = extra.slice(0, 19).map((n, i) => `{"type":"unicast","dst":"${n.podCIDRs[0]}","gateway":"10.244.${100 + i}.0","dev":"vxlan.calico","table":"main","protocol":"80","scope":"global","flags":["onlink"]}`);
    const node1 = editSection(nodes[0]!, 'host/route', (body) => body.replace(/^\[/, `[${routes.join(',')},`));
    const report = diagnoseNodeCheck({ ...api, nodes: [...api.nodes, ...extra], checked: ['lab-node-1'] }, [node1]);
    const rows = report.nodes[0]!.rows;
    const peerRows = rows.filter((r) => r.check.startsWith('route to '));
    expect(peerRows.map((r) => [r.check, r.status])).to.deep.equal([['route to sim-node-19 10.244.119.0/24', 'error']]);
    expect(rows.find((r) => r.check === 'routes to peer pod CIDRs')).to.deep.equal({ check: 'routes to peer pod CIDRs', value: '21 of 22 through eth0,vxlan.calico', status: 'n/a' });
    expect(codes(report.findings)).to.deep.equal(['node.missing-pod-cidr-route']);
    expect(report.findings[0]!.message).to.contain('sim-node-19 (10.244.119.0/24)');
  });

  it('on a large cluster with most routes gone, lists the first bad ones and counts the rest', () => {
    const { api, nodes } = loadNodeSnapshot('healthy-all');
    const extra = Array.from({ length: 40 }, (_, i) => ({ name: `sim-node-${i}`, internalIP: `192.168.78.${i + 1}`, podCIDRs: [`10.244.${100 + i}.0/24`] }));
    const report = diagnoseNodeCheck({ ...api, nodes: [...api.nodes, ...extra], checked: ['lab-node-1'] }, [nodes[0]!]);
    const rows = report.nodes[0]!.rows;
    expect(rows.filter((r) => r.check.startsWith('route to ')).length).to.equal(16);
    expect(rows.find((r) => r.check === 'routes to peer pod CIDRs')!.value).to.equal('2 of 42 through eth0,vxlan.calico; 24 more without one not listed');
    const missing = report.findings.find((f) => f.code === 'node.missing-pod-cidr-route')!;
    expect(missing.message).to.contain('sim-node-4 (10.244.104.0/24) and 35 more though');
    expect(missing.evidence.length).to.equal(18);
  });

  it('catches a node broken four ways by hand: ip_forward, a pod CIDR route, a second NIC address, kube-proxy rules', () => {
    const { api, nodes } = loadNodeSnapshot('node-2-broken');
    const report = diagnoseNodeCheck(api, nodes);
    expect(codes(report.findings)).to.deep.equal(['node.ip-forward-off', 'node.kube-proxy-rules-missing', 'node.missing-pod-cidr-route', 'node.nic-multiple-ipv4']);
    const by = (code: string) => report.findings.find((f) => f.code === code)!;
    expect(by('node.ip-forward-off')).to.deep.include({ severity: 'error', evidence: ['/proc/sys/net/ipv4/ip_forward:0'] });
    expect(by('node.kube-proxy-rules-missing').evidence[0]).to.equal('missing: default/web:http');
    expect(by('node.missing-pod-cidr-route').message).to.contain('lab-node-1 (10.244.1.0/24)');
    expect(by('node.missing-pod-cidr-route').severity).to.equal('error');
    // The extra address is secondary: the kernel still sends from InternalIP, so a warning.
    expect(by('node.nic-multiple-ipv4')).to.deep.include({ severity: 'warn' });
    expect(by('node.nic-multiple-ipv4').evidence).to.include('eth0: 192.168.77.12/24 192.168.77.212/24');
  });

  it('raises a second NIC address to an error when traffic to other nodes leaves from it (seed 003)', () => {
    const { api, nodes } = loadNodeSnapshot('node-2-broken');
    const edited = editSection(nodes[0]!, 'route-get/192.168.77.11', (body) => body.replace('"prefsrc":"192.168.77.12"', '"prefsrc":"192.168.77.212"'));
    const f = diagnoseNodeCheck(api, [edited]).findings.find((x) => x.code === 'node.nic-multiple-ipv4')!;
    expect(f.severity).to.equal('error');
    expect(f.message).to.contain('leaves from 192.168.77.212, not InternalIP 192.168.77.12');
  });

  it('flags bridge-nf-call-iptables=0 on the bridge-CNI node only', () => {
    const { api, nodes } = loadNodeSnapshot('node-3-bridge-nf-off');
    expect(codes(diagnoseNodeCheck(api, nodes).findings)).to.deep.equal(['node.bridge-nf-call-iptables-off']);
    // The same value on a Calico node (no bridge) is not a finding.
    const calico = loadNodeSnapshot('node-2-broken');
    const off = editSection(calico.nodes[0]!, 'host/sysctl', (b) => b.replace('bridge-nf-call-iptables:1', 'bridge-nf-call-iptables:0'));
    expect(codes(diagnoseNodeCheck(calico.api, [off]).findings)).to.not.include('node.bridge-nf-call-iptables-off');
  });

  it('warns above 80% and errors above 95% conntrack usage', () => {
    const { api, nodes } = loadNodeSnapshot('healthy-all');
    const at = (count: number) => {
      const n = editSection(nodes[0]!, 'host/sysctl', (b) => b.replace(/nf_conntrack_count:\d+/, `nf_conntrack_count:${count}`));
      return diagnoseNodeCheck({ ...api, checked: ['lab-node-1'] }, [n]).findings.filter((f) => f.code === 'node.conntrack-near-full').map((f) => f.severity);
    };
    expect(at(200_000)).to.deep.equal([]); // 76%
    expect(at(220_000)).to.deep.equal(['warn']); // 84%
    expect(at(250_000)).to.deep.equal(['error']); // 95.4%
  });

  it("notes a loopback nameserver in the node's resolv.conf (CoreDNS loop, seed 004)", () => {
    const { api, nodes } = loadNodeSnapshot('healthy-all');
    const n = editSection(nodes[0]!, 'host/resolv.conf', () => 'nameserver 127.0.0.53\n');
    const f = diagnoseNodeCheck({ ...api, checked: ['lab-node-1'] }, [n]).findings;
    expect(f.map((x) => [x.code, x.severity])).to.deep.equal([['node.resolv-conf-loopback', 'info']]);
  });

  it('reports a missing CNI config directory and an unparsable config', () => {
    const { api, nodes } = loadNodeSnapshot('healthy-all');
    const gone = editSection(nodes[0]!, 'host/cni-conf', () => '', 1);
    expect(codes(diagnoseNodeCheck({ ...api, checked: ['lab-node-1'] }, [gone]).findings)).to.deep.equal(['node.cni-config-missing']);
    const broken = editSection(nodes[0]!, 'host/cni-conf', (b) => b.replace('"plugins": [', '"plugins": [[,'));
    expect(codes(diagnoseNodeCheck({ ...api, checked: ['lab-node-1'] }, [broken]).findings)).to.deep.equal(['node.cni-config-invalid']);
  });

  it('finds a pod CIDR overlapping the node network or the Service network (seed 004)', () => {
    const { api, nodes } = loadNodeSnapshot('healthy-all');
    const overlapping: NodeFleetApi = { ...api, checked: ['lab-node-1'], nodes: api.nodes.map((n) => (n.name === 'lab-node-1' ? { ...n, podCIDRs: ['192.168.77.128/25'] } : n)) };
    const f1 = diagnoseNodeCheck(overlapping, [nodes[0]!]).findings;
    expect(codes(f1)).to.include('node.pod-cidr-overlaps-node-network');
    expect(f1.find((f) => f.code === 'node.pod-cidr-overlaps-node-network')!.evidence).to.deep.equal(['192.168.77.128/25 overlaps node network 192.168.77.0/24']);
    const svc: NodeFleetApi = { ...api, checked: ['lab-node-1'], serviceCidr: { cidr: '10.244.0.0/14', source: 'flag' } };
    expect(codes(diagnoseNodeCheck(svc, [nodes[0]!]).findings)).to.deep.equal(['node.pod-cidr-overlaps-service-network']);
  });

  it('reports kube-proxy Pending on the node and a missing CNI agent (seed 003)', () => {
    const { api, nodes } = loadNodeSnapshot('healthy-all');
    const pending: NodeFleetApi = {
      ...api,
      checked: ['lab-node-2'],
      agents: api.agents
        .filter((a) => a.nodeName !== 'lab-node-2')
        .concat([{ role: 'kube-proxy', namespace: 'kube-system', name: 'kube-proxy-new01', nodeName: null, targetNode: 'lab-node-2', phase: 'Pending', ready: false, reason: null }]),
    };
    const report = diagnoseNodeCheck(pending, [nodes[1]!]);
    expect(codes(report.findings)).to.deep.equal(['node.cni-agent-missing', 'node.kube-proxy-not-running']);
    expect(report.findings.find((f) => f.code === 'node.kube-proxy-not-running')!.evidence).to.deep.equal(['kube-system/kube-proxy-new01 Pending (not ready) (not scheduled)']);
  });

  it('reports no kube-proxy rules at all when KUBE-SERVICES is gone from both backends', () => {
    // iptables-save -c puts "[pkts:bytes] " before each rule.
    const stripKube = (b: string) => b.replace(/^(:KUBE-[^\n]*|(\[\d+:\d+\] )?-A KUBE-[^\n]*|(\[\d+:\d+\] )?-A [A-Z]+ [^\n]*-j KUBE-[^\n]*)\n/gm, '');
    const { api, nodes } = loadNodeSnapshot('healthy-all');
    let n = editSection(nodes[0]!, 'host/iptables-nft', stripKube);
    n = editSection(n, 'host/iptables', stripKube);
    const f = diagnoseNodeCheck({ ...api, checked: ['lab-node-1'] }, [n]).findings;
    expect(codes(f)).to.deep.equal(['node.kube-proxy-rules-missing']);
    expect(f[0]!.message).to.contain('no kube-proxy rules on this node');
  });

  it('turns a node whose probe failed into a finding and still checks the others', () => {
    const { api, nodes } = loadNodeSnapshot('healthy-all');
    const report = diagnoseNodeCheck(api, [nodes[0]!, { nodeName: 'lab-node-2', ok: false, error: 'image pull failed', podName: null }, nodes[2]!]);
    expect(codes(report.findings)).to.deep.equal(['probe.node-failed']);
    expect(report.nodes.map((n) => n.ok)).to.deep.equal([true, false, true]);
  });
});

describe('node-check inputs', () => {
  it('infers a Service CIDR lower bound from the ClusterIPs, never narrower than /24', () => {
    expect(inferServiceCidr(['10.96.0.1', '10.96.0.10', '10.96.100.20'])).to.equal('10.96.0.0/17');
    expect(inferServiceCidr(['10.96.0.1'])).to.equal('10.96.0.0/24');
    expect(inferServiceCidr(['fd00::1'])).to.equal(null);
  });

  it("names Service ports the way kube-proxy does, skipping headless, ExternalName and other proxies' Services", () => {
    const svc = (name: string, spec: Record<string, unknown>, labels?: Record<string, string>) => ({ metadata: { namespace: 'ns', name, labels }, spec });
    expect(
      expectedServicePorts([
        svc('a', { clusterIP: '10.96.0.5', ports: [{ name: 'http', port: 80 }, { port: 81 }] }),
        svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
        svc('ext', { type: 'ExternalName', ports: [{ port: 80 }] }),
        svc('other', { clusterIP: '10.96.0.6', ports: [{ port: 80 }] }, { 'service.kubernetes.io/service-proxy-name': 'x' }),
      ] as never),
    ).to.deep.equal(['ns/a', 'ns/a:http']);
  });

  it('validates its arguments before any API call', () => {
    expect(readNodeCheckTarget({ node: ['lab-node-1'] })).to.deep.equal({ kind: 'nodes', names: ['lab-node-1'], serviceCidr: null });
    expect(readNodeCheckTarget({ all: true, 'service-cidr': '10.96.0.0/12' })).to.deep.equal({ kind: 'all', serviceCidr: '10.96.0.0/12' });
    expect(() => readNodeCheckTarget({})).to.throw(/NODE names or --all/);
    expect(() => readNodeCheckTarget({ node: ['a'], all: true })).to.throw(/NODE names or --all/);
    expect(() => readNodeCheckTarget({ node: ['$(touch x)'] })).to.throw(/invalid node name/);
    expect(() => readNodeCheckTarget({ all: true, 'service-cidr': '10.96.0.0' })).to.throw(/invalid --service-cidr/);
  });
});

describe('node-check through the CLI on snapshots', () => {
  it('exits 1 on the broken node and 0 on the healthy ones', async () => {
    const broken = fakeDeps();
    expect(await runCli(['node-check', '--from-snapshot', join(SNAPSHOTS, 'node-2-broken'), '-o', 'json'], broken)).to.equal(1);
    expect(JSON.parse(broken.out()).kind).to.equal('NodeCheckReport');
    const healthy = fakeDeps();
    expect(await runCli(['node-check', '--from-snapshot', join(SNAPSHOTS, 'healthy-all')], healthy)).to.equal(0);
  });

  for (const format of ['table', 'wide', 'json'] as const) {
    it(`renders healthy-all as ${format} exactly like the reviewed golden file`, async () => {
      const deps = fakeDeps();
      expect(await runCli(['node-check', '--from-snapshot', join(SNAPSHOTS, 'healthy-all'), '-o', format], deps)).to.equal(0);
      expectGolden(join(GOLDEN, `healthy-all.${format}`), deps.out());
    });
  }
});
