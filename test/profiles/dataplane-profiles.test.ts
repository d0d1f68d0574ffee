// The dataplane profiles in depth (issue 14 items 4 and 5), beyond the matrix's "no false alarm":
// what node-check and trace-svc say on a k3s lab and on a kube-proxy-free (Cilium) lab, and the
// negative case on the default lab: kube-proxy pods exist and one node's kube-proxy rules are
// removed in the kernel, which stays an error. Runs under the lab lock like the matrix; the
// default lab is brought back at the end.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { removeKubeProxyRules } from '../../lab/lab-faults.js';
import { labBuildUnavailableReason, labState, probePodsLeft, rebuildLab, runPlugin } from '../support/lab-harness.js';

interface Finding {
  code: string;
  severity: 'info' | 'warn' | 'error';
  subject: string;
  message: string;
  evidence: string[];
}
interface NodeCheckJson {
  findings: Finding[];
  nodes: Array<{ nodeName: string; rows: Array<{ check: string; value: string; status: string }> }>;
}


async function json<T>(args: readonly string[]): Promise<{ code: number; body: T }> {
  const run = await runPlugin([...args, '-o', 'json'], 170_000);
  expect(run.code, run.stderr).to.be.oneOf([0, 1]);
  return { code: run.code, body: JSON.parse(run.stdout) as T };
}

const labReason = labBuildUnavailableReason();

describe('dataplane profiles: k3s, no-kube-proxy, and kube-proxy still required where it runs', function () {
  this.timeout(600_000);
  before(function () {
    if (labReason) this.skip();
  });
  after(function () {
    if (labReason) return;
    this.timeout(180_000);
    rebuildLab([]);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('k3s: CNI config read from /var/lib/rancher/k3s, kube-proxy judged by its rules (info, exit 0)', async function () {
    rebuildLab(['k3s']);
    const state = labState();
    expect(state.pods.filter((p) => p.labels['k8s-app'] === 'kube-proxy' || p.labels['app'] === 'flannel')).to.deep.equal([]);
    const { code, body } = await json<NodeCheckJson>(['node-check', '--all']);
    expect(body.findings.map((f) => `${f.severity} ${f.code}`)).to.deep.equal(['info node.kube-proxy-outside-pods']);
    expect(code).to.equal(0);
    expect(body.findings[0]!.message).to.contain('inside the k3s agent process');
    expect(body.nodes.length).to.equal(3);
    for (const n of body.nodes) {
      const cni = n.rows.find((r) => r.check === 'CNI config')!;
      expect(cni.value, n.nodeName).to.match(/^\/var\/lib\/rancher\/k3s\/agent\/etc\/cni\/net\.d: 10-(calico|flannel)\.conflist/);
      expect(n.rows.find((r) => r.check === 'kube-proxy rules')).to.deep.include({ status: 'ok' });
    }
  });

  it('k3s: a flushed KUBE-SERVICES chain on one node is still an error (kube-proxy runs, in the agent)', async function () {
    execFileSync('ip', ['netns', 'exec', 'ndlab-node-3', 'iptables', '-t', 'nat', '-F', 'KUBE-SERVICES']);
    try {
      const { code, body } = await json<NodeCheckJson>(['node-check', 'lab-node-3']);
      expect(body.findings.filter((f) => f.severity === 'error').map((f) => f.code)).to.deep.equal(['node.kube-proxy-rules-missing']);
      expect(code).to.equal(1);
    } finally {
      rebuildLab(['k3s']);
    }
  });

  it('no-kube-proxy: Cilium is named once as the Service dataplane, by node-check and trace-svc (exit 0)', async function () {
    rebuildLab(['no-kube-proxy']);
    const state = labState();
    expect(state.nodes.map((n) => n.kubeProxyMode)).to.deep.equal(['none', 'none', 'none']);
    const node = await json<NodeCheckJson>(['node-check', '--all']);
    expect(node.body.findings.map((f) => `${f.severity} ${f.code}`)).to.deep.equal(['info node.kube-proxy-replaced']);
    expect(node.code).to.equal(0);
    const replaced = node.body.findings[0]!;
    expect(replaced.subject).to.equal('node lab-node-1, lab-node-2, lab-node-3');
    expect(replaced.evidence).to.include('its devices on the node: cilium_net, cilium_host');
    expect(replaced.evidence).to.include('bpf filesystem mounted on the node');
    const trace = await json<{ findings: Finding[] }>(['trace-svc', 'web']);
    expect(trace.body.findings.map((f) => `${f.severity} ${f.code}`)).to.deep.equal(['info svc.kube-proxy-free']);
    expect(trace.body.findings[0]!.message).to.contain('kube-proxy is not the Service dataplane');
    expect(trace.code).to.equal(0);
  });

  it('default lab: kube-proxy pods exist and one node has no kube-proxy rules at all: still an error', async function () {
    rebuildLab([]);
    const restore = await removeKubeProxyRules('lab-node-3');
    try {
      const node = await json<NodeCheckJson>(['node-check', 'lab-node-3']);
      const missing = node.body.findings.find((f) => f.code === 'node.kube-proxy-rules-missing');
      expect(missing?.severity).to.equal('error');
      expect(missing?.evidence).to.include('kube-proxy expected: 3 kube-proxy pod(s) in the cluster, 1 on lab-node-3');
      expect(node.code).to.equal(1);
      const trace = await json<{ findings: Finding[] }>(['trace-svc', 'web', '--from-node', 'lab-node-3']);
      expect(trace.body.findings.map((f) => f.code)).to.include('svc.no-kube-proxy-rules');
      expect(trace.code).to.equal(1);
    } finally {
      await restore();
    }
  });
});
