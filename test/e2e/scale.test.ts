// A scaled lab (`lab:up --scale-nodes 20`, lab/api-server/scale.ts) through the real kubectl: the
// simulated nodes are served, /lab/stats counts what kubectl asks, and node-check on a simulated
// node judges its real node's kernel exactly as on the real node. Rebuilds the lab scaled, and the
// default lab again afterwards (like the profile matrix). Speed is for `npm run bench`, not here.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import type { LabStatsSnapshot } from '../../lab/api-server/stats.js';
import { setSysctl } from '../../lab/lab-faults.js';
import { kubectl, labState, labUnavailableReason, probePodsLeft, REPO, runPlugin } from '../support/lab-harness.js';

const SIM_NODES = 20;

function labUp(extra: readonly string[]): void {
  const args = ['--import', './test/ts-node-register.mjs', 'lab/lab-cli.ts', 'up', ...extra];
  execFileSync(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NDLAB_PROFILES: '', NDLAB_SCALE_NODES: '', NDLAB_SCALE_EXEC: '' }, timeout: 180_000 });
}

interface NodeCheckJson {
  nodes: Array<{ nodeName: string; ok: boolean; rows?: Array<{ check: string; status: string }> }>;
  findings: Array<{ code: string; severity: string }>;
}

/** What a verdict is made of: exit code, each check's status, the finding codes and severities. */
function verdictOf(code: number, stdout: string): { code: number; rows: string[]; findings: string[] } {
  const report = JSON.parse(stdout) as NodeCheckJson;
  expect(report.nodes).to.have.length(1);
  const rows = (report.nodes[0]!.rows ?? []).map((r) => `${r.check}: ${r.status}`);
  return { code, rows, findings: report.findings.map((f) => `${f.severity} ${f.code}`).sort() };
}

const labReason = labUnavailableReason();

function simulatedFrom(simName: string): string {
  const node = JSON.parse(kubectl(['get', 'node', simName, '-o', 'json'])) as { metadata: { labels: Record<string, string> } };
  const realName = node.metadata.labels['netdiag-lab/simulated-from'] ?? '';
  expect(labState().nodes.map((n) => n.name)).to.include(realName);
  return realName;
}

describe('e2e: a lab scaled to 23 nodes (--scale-nodes 20)', function () {
  this.timeout(300_000);
  before(function () {
    if (labReason) this.skip();
    labUp(['--scale-nodes', String(SIM_NODES)]);
  });
  after(function () {
    if (labReason) return;
    labUp([]); // the default lab again, for whatever runs next
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('serves the real nodes and 20 simulated ones through kubectl get nodes', () => {
    const names = kubectl(['get', 'nodes', '-o', 'name']).trim().split('\n');
    expect(names).to.have.length(labState().nodes.length + SIM_NODES);
    expect(names).to.have.length(23);
    expect(names).to.include('node/lab-sim-0001');
    expect(names).to.include('node/lab-sim-0020');
    for (const real of labState().nodes) expect(names).to.include(`node/${real.name}`);
  });

  it('counts a kubectl get pods as one list of pods in /lab/stats', () => {
    kubectl(['delete', '--raw', '/lab/stats']);
    kubectl(['get', 'pods']);
    const stats = JSON.parse(kubectl(['get', '--raw', '/lab/stats'])) as LabStatsSnapshot;
    expect(stats.requests.byVerbAndResource['list pods']).to.equal(1);
    expect(Object.keys(stats.requests.byResource).filter((r) => r.startsWith('pods'))).to.deep.equal(['pods']);
    expect(stats.requests.byResource['pods']).to.equal(1);
  });

  it('node-check on a simulated node gives the verdict of its real node, for each real node', async () => {
    const sims = ['lab-sim-0001', 'lab-sim-0002', 'lab-sim-0003'];
    const realNames = new Set<string>();
    for (const simName of sims) {
      const realName = simulatedFrom(simName);
      realNames.add(realName);
      const real = await runPlugin(['node-check', realName, '-o', 'json']);
      const sim = await runPlugin(['node-check', simName, '-o', 'json']);
      const realVerdict = verdictOf(real.code, real.stdout);
      expect(realVerdict.rows.length).to.be.greaterThan(5);
      expect(verdictOf(sim.code, sim.stdout), `${simName} vs ${realName}`).to.deep.equal(realVerdict);
      expect(realVerdict.code, real.stderr).to.equal(0);
    }
    expect(realNames.size).to.equal(labState().nodes.length); // round robin reached every real node
  });

  it('a fault made in a real node\'s kernel shows on its simulated nodes (seed 004: ip_forward=0)', async () => {
    const realName = simulatedFrom('lab-sim-0002');
    const restore = await setSysctl(realName, 'net.ipv4.ip_forward', 0);
    try {
      const sim = await runPlugin(['node-check', 'lab-sim-0002', '-o', 'json']);
      const verdict = verdictOf(sim.code, sim.stdout);
      expect(verdict.code).to.equal(1);
      expect(verdict.findings).to.include('error node.ip-forward-off');
    } finally {
      await restore();
    }
  });

  it('node-check --all covers all 23 nodes with one probe pod each', async () => {
    kubectl(['delete', '--raw', '/lab/stats']);
    const run = await runPlugin(['node-check', '--all', '-o', 'json'], 240_000);
    const report = JSON.parse(run.stdout) as NodeCheckJson;
    expect(report.nodes).to.have.length(23);
    expect(report.nodes.every((n) => n.ok)).to.equal(true);
    expect(run.code, report.findings.map((f) => `${f.severity} ${f.code}`).join(', ')).to.equal(0);
    const stats = JSON.parse(kubectl(['get', '--raw', '/lab/stats'])) as LabStatsSnapshot;
    expect(stats.probePods.created).to.equal(23);
    expect(stats.requests.byVerbAndResource['create pods/exec']).to.be.at.least(23);
  });
});
