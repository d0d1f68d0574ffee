// kube-proxy run with --masquerade-all (KUBE-SVC marks every ClusterIP packet for masquerade, not
// only those from outside --cluster-cidr): the lab rebuilt with that flag, then trace-svc on every
// Service of the healthy lab, on every node, in iptables and nftables mode: exit 0, no warn/error,
// and the walk shows pod traffic masqueraded, as the kernel then does.
import { expect } from 'chai';
import { switchKubeProxyMode, type RestoreFault } from '../../lab/lab-faults.js';
import type { LabState } from '../../lab/lab-state.js';
import { labBuildUnavailableReason, labState, probePodsLeft, rebuildLab, runPlugin } from '../support/lab-harness.js';

interface Report {
  nodes: Array<{ nodeName: string; mode: string; ports: Array<{ via: string; chain: { outcome: string } | null; endpoints: Array<{ masquerade: boolean | null }> }> }>;
  findings: Array<{ code: string; severity: string; subject: string; message: string }>;
}

const labReason = labBuildUnavailableReason();

async function traceEveryService(state: LabState, mode: string): Promise<string[]> {
  const problems: string[] = [];
  for (const svc of state.services) {
    const run = await runPlugin(['trace-svc', svc.name, '-n', svc.namespace, '--all-nodes', '-o', 'json'], 170_000);
    const report = JSON.parse(run.stdout || '{"nodes":[],"findings":[]}') as Report;
    const loud = report.findings.filter((f) => f.severity !== 'info');
    if (run.code !== 0 || loud.length > 0) problems.push(`${mode} ${svc.namespace}/${svc.name} -> exit ${run.code}: ${loud.map((f) => `${f.code} ${f.subject}: ${f.message}`).join('; ')} ${run.stderr}`);
    for (const node of report.nodes) if (node.mode !== mode) problems.push(`${svc.name} on ${node.nodeName}: mode ${node.mode}`);
  }
  return problems;
}

async function webFromPod(): Promise<Report> {
  const run = await runPlugin(['trace-svc', 'web', '--from', 'team-b/client-1', '-o', 'json']);
  expect(run.code, run.stderr).to.equal(0);
  return JSON.parse(run.stdout) as Report;
}

describe('kube-proxy --masquerade-all: trace-svc on every Service shape, no false alarm', function () {
  this.timeout(600_000);
  before(function () {
    if (labReason) this.skip();
    this.timeout(180_000);
    rebuildLab(['masquerade-all']);
    expect(labState().kubeProxyMasquerade).to.equal('all');
  });
  after(function () {
    if (labReason) return;
    this.timeout(180_000);
    rebuildLab([]); // the default lab again, for whatever runs next
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('iptables mode: every Service on every node exits 0 with info findings only; pod traffic is masqueraded', async () => {
    const problems = await traceEveryService(labState(), 'iptables');
    expect(problems, problems.join('\n')).to.deep.equal([]);
    const branches = (await webFromPod()).nodes.find((n) => n.nodeName === 'lab-node-3')!.ports[0]!.endpoints;
    expect(branches).to.have.length(3);
    expect(branches.every((e) => e.masquerade === true)).to.equal(true);
  });

  it('nftables mode: the same', async () => {
    const restores: RestoreFault[] = [];
    try {
      for (const node of labState().nodes) restores.push(await switchKubeProxyMode(node.name, 'nftables'));
      const problems = await traceEveryService(labState(), 'nftables');
      expect(problems, problems.join('\n')).to.deep.equal([]);
      const branches = (await webFromPod()).nodes.find((n) => n.nodeName === 'lab-node-3')!.ports[0]!.endpoints;
      expect(branches).to.have.length(3);
      expect(branches.every((e) => e.masquerade === true)).to.equal(true);
    } finally {
      for (const restore of restores) await restore();
    }
  });
});
