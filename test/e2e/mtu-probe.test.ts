// mtu-probe through the real kubectl binary against the lab. Healthy: both directions carry the
// pod MTU and it exits 0. With lab-node-2's NIC shrunk below what vxlan.calico needs, it must find
// the path MTU the kernel really allows (checked here with an independent `ip netns exec ... ping
// -M do`), name lab-node-2 eth0, exit 1, and take about log2(range) probes.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { setLinkMtu, type RestoreFault } from '../../lab/lab-faults.js';
import { kubectl, labState, runPlugin, skipUnlessLab } from '../support/lab-harness.js';

interface DirectionJson {
  from: string;
  to: string;
  status: string;
  probeCount: number;
  largestPassingPayloadBytes: number | null;
  smallestFailingPayloadBytes: number | null;
  pathMtuBytes: number | null;
  blackHole: boolean;
}
interface ReportJson {
  kind: string;
  hops: Array<{ nodeName: string; ifname: string; role: string; mtuBytes: number; overheadBytes: number; usableBytes: number }>;
  directions: DirectionJson[];
  verdict: { status: string; limitingHop: string | null; pathMtuBytes: number | null; action: string | null };
  findings: Array<{ code: string; severity: string }>;
}

/** Does the kernel carry a don't-fragment ping of this payload from the pod's namespace? */
function kernelPasses(netns: string, destination: string, payloadBytes: number): boolean {
  const r = spawnSync('ip', ['netns', 'exec', netns, 'ping', '-n', '-M', 'do', '-s', String(payloadBytes), '-c', '2', '-i', '0.2', '-W', '1', destination], { encoding: 'utf8' });
  return /\d+ bytes from /.test(r.stdout);
}

/** Probe pods of this command still in the cluster (other engineers' commands may run meanwhile). */
function mtuProbePodsLeft(): string[] {
  const list = JSON.parse(kubectl(['get', 'pods', '-A', '-l', 'app.kubernetes.io/managed-by=kubectl-netdiag', '-o', 'json'])) as {
    items: Array<{ metadata: { namespace: string; name: string; annotations?: Record<string, string> } }>;
  };
  return list.items.filter((p) => p.metadata.annotations?.['kubectl-netdiag.io/command'] === 'mtu-probe').map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
}

/** PMTU exceptions the kernel learned during a fault outlive it: forget them for the next test. */
function flushRouteCaches(): void {
  for (const ns of execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith('ndlab-'))) {
    spawnSync('ip', ['-n', ns, 'route', 'flush', 'cache']);
  }
}

describe('e2e: kubectl netdiag mtu-probe', function () {
  this.timeout(180_000);
  let restore: RestoreFault | null = null;
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(async function () {
    if (restore) await restore();
    restore = null;
    if (this.currentTest?.state === 'pending') return;
    flushRouteCaches();
    expect(mtuProbePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('healthy lab: full-size packets pass both ways in 2 probes each, exit 0', async () => {
    const run = await runPlugin(['mtu-probe', 'web-1', '-o', 'json']);
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as ReportJson;
    expect(report.kind).to.equal('MtuProbeReport');
    expect(report.verdict.status).to.equal('ok');
    expect(report.directions.map((d) => [d.pathMtuBytes, d.probeCount])).to.deep.equal([[1450, 2], [1450, 2]]);
    expect(report.findings.filter((f) => f.severity === 'error')).to.deep.equal([]);
  });

  it('lab-node-2 eth0 at 1400 under vxlan.calico 1450: finds what the kernel allows, names the hop, exit 1', async () => {
    const state = labState();
    const web1 = state.pods.find((p) => p.name === 'web-1')!;
    const web2 = state.pods.find((p) => p.name === 'web-2')!;
    restore = await setLinkMtu('lab-node-2', 'eth0', 1400);

    const run = await runPlugin(['mtu-probe', 'web-1', '--to', 'web-2', '-o', 'json']);
    // The kernel's own answer, while the fault is still in place.
    const forward = (JSON.parse(run.stdout) as ReportJson).directions[0]!;
    const largest = forward.largestPassingPayloadBytes!;
    const kernelLargestPasses = kernelPasses(web1.netns!, web2.ip, largest);
    const kernelNextPasses = kernelPasses(web1.netns!, web2.ip, largest + 1);
    await restore();
    restore = null;

    expect(run.code, run.stderr).to.equal(1);
    const report = JSON.parse(run.stdout) as ReportJson;
    expect(kernelLargestPasses, `kernel carries -s ${largest}`).to.equal(true);
    expect(kernelNextPasses, `kernel drops -s ${largest + 1}`).to.equal(false);
    expect(forward.pathMtuBytes).to.equal(largest + 28);
    expect(forward.pathMtuBytes).to.be.below(1450);
    // A silent drop: a real binary search, about log2 of the 56..1422 range.
    expect(forward.blackHole).to.equal(true);
    expect(forward.probeCount).to.be.at.least(5).and.at.most(2 + Math.ceil(Math.log2(1422 - 56)));
    expect(report.directions[1]!.status).to.equal('measured');
    expect(report.verdict.status).to.equal('limited');
    expect(report.verdict.limitingHop).to.match(/^lab-node-2 eth0 \(nic, MTU 1400 - 50/);
    expect(report.hops.find((h) => h.nodeName === 'lab-node-2' && h.role === 'nic')).to.include({ ifname: 'eth0', mtuBytes: 1400, overheadBytes: 50, usableBytes: 1350 });
    expect(report.findings.map((f) => f.code)).to.include.members(['mtu.path-below-pod-mtu', 'mtu.pmtu-black-hole', 'mtu.overlay-exceeds-nic', 'mtu.node-mismatch']);
  });

  it('prints the hop table, the probe count and the verdict; --no-probe runs no pings', async () => {
    const table = await runPlugin(['mtu-probe', 'web-1']);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/^NODE\s+INTERFACE\s+ROLE\s+KIND\s+MTU\s+OVERHEAD\s+USABLE$/m);
    expect(table.stdout).to.match(/^lab-node-1\s+vxlan\.calico\s+overlay\s+vxlan\s+1450\s+0\s+1450$/m);
    expect(table.stdout).to.match(/^lab-node-2\s+eth0\s+nic\s+veth\s+1500\s+50\s+1450$/m);
    expect(table.stdout).to.match(/PROBES\n.*\s2\n.*\s2\n/);
    expect(table.stdout).to.contain('Verdict: OK');

    const config = await runPlugin(['mtu-probe', 'web-1', '--no-probe', '-o', 'json']);
    expect(config.code, config.stderr).to.equal(0);
    const report = JSON.parse(config.stdout) as ReportJson;
    expect(report.directions).to.deep.equal([]);
    expect(report.hops.length).to.equal(8);

    const bad = await runPlugin(['mtu-probe', 'web-1', '--to', 'nope-pod']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/pod "nope-pod" not found in namespace "default"/);
  });
});
