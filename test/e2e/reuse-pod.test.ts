// Issue #10: --reuse-pod execs into a Running probe pod an earlier --keep-pod run left on the node
// instead of creating one, and never deletes a pod it did not create. Through the real kubectl
// binary against a PRIVATE simulated API server (its probe pods exec into the lab's real node
// namespaces), so the shared lab server never sees these kept pods.
import { expect } from 'chai';
import { skipUnlessLab } from '../support/lab-harness.js';
import { startPrivateLab, type PluginResult, type PrivateLab } from '../support/private-api-server.js';

const KEPT = /kept probe pod (\S+)\/(\S+) on node lab-node-1/;
const REUSED = /reusing probe pod (\S+)\/(\S+) on node lab-node-1/;
const CREATED = /probe pod (\S+) created on node lab-node-1/;

function ok(run: PluginResult): void {
  expect(run.code, `stderr:\n${run.stderr}\nstdout:\n${run.stdout}`).to.equal(0);
}

describe('e2e: --reuse-pod (private API server)', function () {
  this.timeout(120_000);
  let lab: PrivateLab | null = null;

  before(async function () {
    skipUnlessLab(this);
    lab = await startPrivateLab();
  });
  afterEach(async () => {
    if (lab === null) return;
    lab.setFaults({});
    await lab.kubectl(['delete', 'pods', '-A', '-l', 'app.kubernetes.io/managed-by=kubectl-netdiag', '--grace-period=0']).catch(() => '');
  });
  after(async () => {
    await lab?.stop();
  });

  it('reuses the kept pod on the node, leaves it in place, and answers the same', async () => {
    const first = await lab!.run(['veth-peer', 'web-1', '--keep-pod']);
    ok(first);
    const kept = KEPT.exec(first.stderr);
    expect(kept, first.stderr).to.not.equal(null);
    expect(lab!.probePods().map((p) => p.name)).to.deep.equal([kept![2]]);

    const second = await lab!.run(['veth-peer', 'web-1', '--reuse-pod']);
    ok(second);
    expect(REUSED.exec(second.stderr)?.[2], second.stderr).to.equal(kept![2]);
    expect(second.stderr).not.to.match(CREATED);
    expect(second.stderr).not.to.match(/deleted/);
    expect(second.stdout).to.equal(first.stdout);
    // not created by this run: still there, and still the only probe pod
    expect(lab!.probePods().map((p) => p.name)).to.deep.equal([kept![2]]);
  });

  it('creates (and deletes) its own pod when the kept one has another image', async () => {
    const first = await lab!.run(['veth-peer', 'web-1', '--keep-pod', '--image', 'example.test/netshoot:other']);
    ok(first);
    const kept = KEPT.exec(first.stderr)![2];
    const second = await lab!.run(['veth-peer', 'web-1', '--reuse-pod']);
    ok(second);
    expect(second.stderr).not.to.match(REUSED);
    expect(second.stderr).to.match(CREATED);
    expect(lab!.probePods().map((p) => p.name)).to.deep.equal([kept]);
  });

  it('does not reuse a pod whose remaining lifetime is shorter than --timeout', async () => {
    // --timeout 5s: the kept pod's container sleeps 65 s (timeout + 60); asking for 120 s is too much
    ok(await lab!.run(['veth-peer', 'web-1', '--keep-pod', '--timeout', '5s']));
    const second = await lab!.run(['veth-peer', 'web-1', '--reuse-pod', '--timeout', '120s']);
    ok(second);
    expect(second.stderr).not.to.match(REUSED);
    expect(second.stderr).to.match(CREATED);
  });

  it('with nothing to reuse, creates a pod and deletes it as usual', async () => {
    const run = await lab!.run(['veth-peer', 'web-1', '--reuse-pod']);
    ok(run);
    expect(run.stderr).to.match(CREATED);
    expect(lab!.probePods()).to.deep.equal([]);
  });
});
