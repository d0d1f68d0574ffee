// node-check and node-diff through the real kubectl binary against the lab. lab-node-2 is broken by
// hand four ways (ip_forward off, no route to lab-node-1's pod CIDR, a second address on eth0,
// kube-proxy's rules for default/web gone) and restored in `finally`, within a few seconds.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { kubectl, labState, runPlugin, skipUnlessLab } from '../support/lab-harness.js';
import { BROKEN_NODE, breakNode } from '../fixtures/snapshots/node-check/capture.js';

interface FindingJson {
  code: string;
  severity: string;
  subject: string;
}
interface DiffJson {
  kind: string;
  severity: string;
}

/**
 * Probe pods of these two commands still there. The lab is shared: other engineers' commands
 * create probe pods at the same time, so only ours (by the command annotation) count.
 */
function ourProbePodsLeft(): string[] {
  const list = JSON.parse(kubectl(['get', 'pods', '-A', '-l', 'app.kubernetes.io/managed-by=kubectl-netdiag', '-o', 'json'])) as {
    items: Array<{ metadata: { namespace: string; name: string; annotations?: Record<string, string> } }>;
  };
  return list.items
    .filter((p) => ['node-check', 'node-diff'].includes(p.metadata.annotations?.['kubectl-netdiag.io/command'] ?? ''))
    .map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
}

const ERROR_DIFF_KINDS = ['sysctl.ip-forward', 'kube-proxy.service-ports', 'kube-proxy.chains', 'route.peer-pod-cidr'];

describe('e2e: kubectl netdiag node-check / node-diff', function () {
  this.timeout(180_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(ourProbePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('passes every healthy lab node with --all, one probe pod per node (exit 0)', async () => {
    const table = await runPlugin(['node-check', '--all']);
    expect(table.code, table.stdout + table.stderr).to.equal(0);
    for (const node of labState().nodes) expect(table.stderr.match(new RegExp(`probe pod \\S+ created on node ${node.name}\\n`, 'g')), node.name).to.have.length(1);
    expect(table.stdout).to.match(/^NODE\s+CHECK\s+VALUE\s+STATUS$/m);
    const run = await runPlugin(['node-check', '--all', '-o', 'json']);
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as { kind: string; nodes: Array<{ nodeName: string; ok: boolean; cni: string }>; findings: FindingJson[] };
    expect(report.kind).to.equal('NodeCheckReport');
    expect(report.nodes.map((n) => [n.nodeName, n.ok, n.cni])).to.deep.equal(labState().nodes.map((n) => [n.name, true, n.cni]));
    expect(report.findings.filter((f) => f.severity !== 'info')).to.deep.equal([]);
  });

  it('shows no difference that matters between lab-node-1 and lab-node-2 (same CNI, exit 0)', async () => {
    const run = await runPlugin(['node-diff', 'lab-node-1', 'lab-node-2', '-o', 'json']);
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as { differences: DiffJson[] };
    expect(report.differences.filter((d) => d.severity !== 'info')).to.deep.equal([]);
  });

  it('catches a node made different by hand, and node-diff lists exactly those differences first', async () => {
    const peer = labState().nodes.find((n) => n.name === 'lab-node-1')!;
    const restore = await breakNode(peer.podCIDR);
    let check;
    let diff;
    try {
      [check, diff] = await Promise.all([runPlugin(['node-check', BROKEN_NODE, '-o', 'json']), runPlugin(['node-diff', 'lab-node-1', BROKEN_NODE, '-o', 'json'])]);
    } finally {
      await restore();
    }
    // node-check: exit 1 and each fault's own code.
    expect(check.code, check.stderr).to.equal(1);
    const findings = (JSON.parse(check.stdout) as { findings: FindingJson[] }).findings;
    const codes = findings.map((f) => f.code);
    for (const code of ['node.ip-forward-off', 'node.missing-pod-cidr-route', 'node.nic-multiple-ipv4', 'node.kube-proxy-rules-missing']) {
      expect(codes, code).to.include(code);
    }
    expect(findings.every((f) => f.subject === `node ${BROKEN_NODE}`)).to.equal(true);

    // node-diff: exit 1; the breaking differences are exactly these faults', then the second address.
    expect(diff.code, diff.stderr).to.equal(1);
    const differences = (JSON.parse(diff.stdout) as { differences: DiffJson[] }).differences;
    const errors = differences.filter((d) => d.severity === 'error');
    expect([...new Set(errors.map((d) => d.kind))]).to.deep.equal(ERROR_DIFF_KINDS);
    expect(differences.slice(0, errors.length)).to.deep.equal(errors);
    expect(differences[errors.length]?.kind).to.equal('nic.ipv4-addresses');

    // Restored: the node checks clean again, as the kernel itself says.
    expect(execFileSync('ip', ['-n', 'ndlab-node-2', 'route', 'show', 'exact', peer.podCIDR], { encoding: 'utf8' })).to.contain('vxlan.calico');
    const after = await runPlugin(['node-check', BROKEN_NODE]);
    expect(after.code, after.stdout).to.equal(0);
  });

  it('answers an unknown node with exit 2 before creating any probe pod', async () => {
    const run = await runPlugin(['node-check', 'no-such-node']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/^error: node "no-such-node" not found\nhint: nodes: lab-node-1, lab-node-2, lab-node-3\n$/);
  });
});
