// The probe pod's life through the real kubectl binary: created on the node, script sections come
// back, deleted afterwards; and deleted when the run is interrupted mid-way.
import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probePodsLeft, runPlugin, runPluginWith, setFaults, skipUnlessLab } from '../support/lab-harness.js';

describe('e2e: probe pod lifecycle', function () {
  this.timeout(120_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    setFaults({});
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('brings every node script section back and deletes the pod', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-snap-'));
    const run = await runPlugin(['veth-peer', 'web-3', '--save-snapshot', dir]);
    expect(run.code, run.stderr).to.equal(0);
    const snapshot = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8'));
    expect(snapshot.nodes).to.have.length(1);
    expect(snapshot.nodes[0]).to.include({ nodeName: 'lab-node-3', ok: true });
    const raw = readFileSync(join(dir, snapshot.nodes[0].rawFile), 'utf8');
    for (const section of ['meta', 'host/addr', 'host/route', 'host/sysctl', 'pod/p0/pid', 'pod/p0/addr', 'pod/p0/ethtool']) {
      expect(raw).to.match(new RegExp(`^@@NETDIAG ${snapshot.nodes[0].token} END ${section} rc=0$`, 'm'), section);
    }
    expect(raw).to.match(/^method=container-id$/m);
    // The same answer from the snapshot alone, with no cluster.
    const offline = await runPlugin(['veth-peer', '--from-snapshot', dir, '--kubeconfig', '/nonexistent']);
    expect(offline.code, offline.stderr).to.equal(0);
    expect(offline.stdout).to.equal(run.stdout);
  });

  it('deletes the probe pod when interrupted with SIGINT while waiting for it, and exits 130', async () => {
    setFaults({ podStartDelayMs: 20_000 });
    const run = await runPluginWith(['veth-peer', 'web-1'], (child, stderr) => {
      const timer = setInterval(() => {
        if (/created on node/.test(stderr())) {
          clearInterval(timer);
          child.kill('SIGINT');
        }
      }, 50);
    });
    expect(run.code).to.equal(130);
    expect(run.stderr).to.match(/probe pod \S+ deleted/);
    expect(run.stderr).to.contain('error: interrupted; probe pods were deleted');
  });

  it('cleanup removes probe pods kept with --keep-pod', async () => {
    const run = await runPlugin(['veth-peer', 'web-2', '--keep-pod']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/kept probe pod \S+ on node lab-node-2; delete it with: kubectl delete pod/);
    expect(probePodsLeft()).to.have.length(1);
    const cleanup = await runPlugin(['cleanup']);
    expect(cleanup.code, cleanup.stderr).to.equal(0);
    expect(cleanup.stderr).to.contain('deleted 1 probe pod(s)');
  });
});
