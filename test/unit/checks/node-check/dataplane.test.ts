// node-check's (and trace-svc's) kube-proxy and CNI-config judgement on snapshots of the k3s and no-kube-proxy lab
// profiles (test/fixtures/snapshots/node-check/profile-*/PROVENANCE.md: real kernel facts, the API
// as the simulated server served it), and the negative case: the same rule-less nodes in a
// cluster that has kube-proxy pods.
import { expect } from 'chai';
import { diagnoseNodeCheck, type NodeFleetApi } from '../../../../src/checks/node-check/analysis.js';
import { editSection, loadNodeSnapshot } from '../../../fixtures/snapshots/node-check/snapshot-helpers.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../../../src/cli/cli.js';
import { diagnoseTraceSvc, type TraceSvcApi } from '../../../../src/checks/trace-svc/analysis.js';
import type { NodeCollection } from '../../../../src/probe/probe-run.js';
import { fakeDeps } from '../../../support/fake-deps.js';
import { REPO } from '../../../support/lab-harness.js';

const K3S_DIR = '/var/lib/rancher/k3s/agent/etc/cni/net.d';
const row = (report: ReturnType<typeof diagnoseNodeCheck>, node: string, check: string) => report.nodes.find((n) => n.nodeName === node)!.rows.find((r) => r.check === check)!;

describe('node-check on a k3s node (CNI config under /var/lib/rancher, kube-proxy in the agent)', () => {
  it('finds the CNI config in the k3s directory and says once that kube-proxy runs outside pods', () => {
    const { api, nodes } = loadNodeSnapshot('profile-k3s');
    const report = diagnoseNodeCheck(api, nodes);
    expect(report.findings.map((f) => `${f.severity} ${f.code}`)).to.deep.equal(['info node.kube-proxy-outside-pods']);
    expect(report.findings[0]!.subject).to.equal('node lab-node-1, lab-node-2, lab-node-3');
    expect(report.nodes.length).to.equal(3);
    expect(row(report, 'lab-node-1', 'CNI config')).to.deep.equal({ check: 'CNI config', value: `${K3S_DIR}: 10-calico.conflist (calico)`, status: 'ok' });
    expect(row(report, 'lab-node-3', 'CNI config').value).to.equal(`${K3S_DIR}: 10-flannel.conflist (flannel)`);
    expect(row(report, 'lab-node-3', 'CNI agent').value).to.equal('flannel runs inside the k3s agent (no flannel pods)');
    expect(row(report, 'lab-node-2', 'kube-proxy rules').status).to.equal('ok');
  });

  it('still errors when the k3s directory is empty too', () => {
    const { api, nodes } = loadNodeSnapshot('profile-k3s');
    const empty = editSection(nodes[0]!, 'host/cni-conf', () => `#dir ${K3S_DIR}\n`);
    const f = diagnoseNodeCheck({ ...api, checked: ['lab-node-1'] }, [empty]).findings.find((x) => x.code === 'node.cni-config-missing')!;
    expect(f.severity).to.equal('error');
    expect(f.evidence).to.deep.equal([`${K3S_DIR}: 0 config files`]);
  });

  it("prefers k3s's own directory over stale files in /etc/cni/net.d, and says there are two", () => {
    const { api, nodes } = loadNodeSnapshot('profile-k3s');
    const both = editSection(nodes[0]!, 'host/cni-conf', (body) => `#dir /etc/cni/net.d\n### 05-cilium.conflist\n{"cniVersion":"0.3.1","name":"cilium","plugins":[{"type":"cilium-cni"}]}\n${body}`);
    const report = diagnoseNodeCheck({ ...api, checked: ['lab-node-1'] }, [both]);
    expect(row(report, 'lab-node-1', 'CNI config').value).to.match(new RegExp(`^${K3S_DIR.replace(/\./g, '\\.')}: 10-calico`));
    const several = report.findings.find((f) => f.code === 'node.cni-config-several-dirs')!;
    expect(several.severity).to.equal('info');
    expect(several.evidence).to.include('/etc/cni/net.d: 1 config files');
  });

  it('reads a snapshot from before "#dir" framing as /etc/cni/net.d', () => {
    const { api, nodes } = loadNodeSnapshot('healthy-all');
    const report = diagnoseNodeCheck(api, nodes);
    expect(row(report, 'lab-node-1', 'CNI config').value).to.equal('/etc/cni/net.d: 10-calico.conflist (calico)');
  });
});

describe('node-check without kube-proxy (Cilium kube-proxy replacement)', () => {
  it('names Cilium once as the Service dataplane and raises nothing above info', () => {
    const { api, nodes } = loadNodeSnapshot('profile-no-kube-proxy');
    const report = diagnoseNodeCheck(api, nodes);
    expect(report.findings.map((f) => `${f.severity} ${f.code}`)).to.deep.equal(['info node.kube-proxy-replaced']);
    const f = report.findings[0]!;
    expect(f.subject).to.equal('node lab-node-1, lab-node-2, lab-node-3');
    expect(f.evidence).to.include('bpf filesystem mounted on the node');
    expect(f.remedy).to.contain('cilium-dbg service list');
    expect(row(report, 'lab-node-1', 'kube-proxy rules').value).to.equal('none (Cilium kube-proxy replacement (eBPF) steers Services)');
  });

  it('the same rule-less nodes are an error in a cluster that runs kube-proxy pods', () => {
    const { api, nodes } = loadNodeSnapshot('profile-no-kube-proxy');
    const withKubeProxy: NodeFleetApi = { ...api, dataplane: { ...api.dataplane!, kubeProxyPods: api.nodes.map((n) => ({ nodeName: n.name })) } };
    const missing = diagnoseNodeCheck(withKubeProxy, nodes).findings.filter((f) => f.code === 'node.kube-proxy-rules-missing');
    expect(missing.length).to.equal(3);
    expect(missing.every((f) => f.severity === 'error')).to.equal(true);
    expect(missing[0]!.evidence).to.include('kube-proxy expected: 3 kube-proxy pod(s) in the cluster, 1 on lab-node-1');
  });

  it('an unknown dataplane (no kube-proxy, no replacement) is only info', () => {
    const { api, nodes } = loadNodeSnapshot('profile-no-kube-proxy');
    const bare: NodeFleetApi = { ...api, dataplane: { ...api.dataplane!, agents: [] } };
    const report = diagnoseNodeCheck({ ...bare, checked: ['lab-node-3'] }, [nodes[2]!]);
    expect(report.findings.map((f) => `${f.severity} ${f.code}`)).to.deep.equal(['info node.service-dataplane-unknown']);
  });
});

describe('trace-svc without kube-proxy (Cilium kube-proxy replacement)', () => {
  const dir = join(REPO, 'test/fixtures/snapshots/trace-svc/profile-no-kube-proxy-web');
  const load = () => {
    const file = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')) as { api: TraceSvcApi; nodes: Array<{ rawFile: string }> };
    const nodes = file.nodes.map((n) => ({ ...n, raw: readFileSync(join(dir, n.rawFile), 'utf8') })) as unknown as NodeCollection[];
    return { api: file.api, nodes };
  };

  it('says once, as info, that kube-proxy is not the Service dataplane, and how to inspect it (exit 0)', async () => {
    const deps = fakeDeps();
    const code = await runCli(['trace-svc', '--from-snapshot', dir, '-o', 'json'], deps);
    const report = JSON.parse(deps.out()) as { findings: Array<{ code: string; severity: string; subject: string; remedy: string }>; nodes: Array<{ mode: string }> };
    expect(report.findings.map((f) => `${f.severity} ${f.code}`)).to.deep.equal(['info svc.kube-proxy-free']);
    expect(report.findings[0]!.subject).to.equal('node lab-node-1, lab-node-2, lab-node-3');
    expect(report.findings[0]!.remedy).to.contain('cilium-dbg service list');
    expect(report.nodes.length).to.equal(3);
    expect(report.nodes.every((n) => n.mode === 'none')).to.equal(true);
    expect(code).to.equal(0);
  });

  it('the same nodes are svc.no-kube-proxy-rules errors where kube-proxy pods exist', () => {
    const { api, nodes } = load();
    const withKubeProxy: TraceSvcApi = { ...api, dataplane: { ...api.dataplane!, kubeProxyPods: api.nodes.map((n) => ({ nodeName: n.name })) } };
    const errors = diagnoseTraceSvc(withKubeProxy, nodes).findings.filter((f) => f.code === 'svc.no-kube-proxy-rules');
    expect(errors.length).to.equal(3);
    expect(errors.every((f) => f.severity === 'error')).to.equal(true);
  });
});
