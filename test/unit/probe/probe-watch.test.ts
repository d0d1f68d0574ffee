// The watch on a run's probe pods when the API server cuts it: resumed from the last
// resourceVersion, or, when that is too old (410 Gone, the history compacted), started again from
// the current state (a watch without resourceVersion lists every pod as ADDED first). No pod may
// be lost (every node still runs, without falling back to reading pods one by one) and none left.
import { expect } from 'chai';
import { runProbes, type ProbeSettings, type ProbeTarget } from '../../../src/probe/probe-run.js';
import { InterruptedError } from '../../../src/errors.js';
import { FakeCluster, type FakeClusterOptions } from '../../support/fake-cluster.js';

const settings: ProbeSettings = { namespace: 'default', image: 'netshoot', imagePullSecrets: [], timeoutSeconds: 30, keepPod: false, command: 'node-check', maxParallel: 3 };
const quiet = { podCreated: () => undefined, podDeleted: () => undefined, nodeState: () => undefined, note: () => undefined, done: () => undefined };

function setup(options: Omit<FakeClusterOptions, 'nodes'>, signal = new AbortController().signal) {
  const cluster = new FakeCluster({ nodes: Array.from({ length: 6 }, (_, i) => `node-${i + 1}`), podStartMs: 300, ...options });
  let n = 0;
  const deps = {
    api: cluster.api(),
    progress: quiet,
    signal,
    now: cluster.clock.now,
    sleep: cluster.clock.sleep,
    randomSuffix: () => `s${(n++).toString(36).padStart(4, '0')}`,
    randomToken: () => 'token0',
  };
  const targets: ProbeTarget[] = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5', 'node-6'].map((nodeName) => ({ nodeName, requests: [{ kind: 'host' }] as ProbeTarget['requests'] }));
  return { cluster, deps, targets };
}

describe('probe watch: dropped, resumed, 410 Gone', () => {
  // Cut at 150 ms: the first three pods are Pending; they turn Running (300 ms) while no watch is
  // open (the client waits 250 ms before it watches again), so those events are missed.
  it('resumes a dropped watch from its resourceVersion and gets the events it missed', async () => {
    const { cluster, deps, targets } = setup({ dropWatchesAtMs: [150], oldResourceVersion: 'replay' });
    const result = await runProbes(targets, settings, deps);
    expect(result).to.have.length(6);
    expect(result.map((r) => r.ok)).to.deep.equal([true, true, true, true, true, true]);
    expect(cluster.watchFrom).to.have.length(2);
    expect(cluster.watchFrom[0]).to.equal(undefined);
    expect(cluster.watchFrom[1]).to.match(/^\d+$/);
    expect(cluster.countOf('get pods'), 'no pod read directly').to.equal(0);
    expect(cluster.createdTotal).to.equal(6);
    expect(cluster.pods.size, 'probe pods left').to.equal(0);
  });

  for (const how of ['gone-event', 'gone-status'] as const) {
    it(`on 410 Gone (${how === 'gone-event' ? 'an ERROR event' : 'HTTP 410'}) watches again from the current state: no pod lost, none left`, async () => {
      const { cluster, deps, targets } = setup({ dropWatchesAtMs: [150], oldResourceVersion: how });
      const result = await runProbes(targets, settings, deps);
      expect(result).to.have.length(6);
      expect(result.map((r) => r.ok)).to.deep.equal([true, true, true, true, true, true]);
      // First watch, the resumed one refused as too old, then one without a resourceVersion.
      expect(cluster.watchFrom).to.have.length(3);
      expect(cluster.watchFrom[1]).to.match(/^\d+$/);
      expect(cluster.watchFrom[2]).to.equal(undefined);
      expect(cluster.countOf('get pods'), 'no pod read directly: the new watch listed them').to.equal(0);
      expect(cluster.createdTotal).to.equal(6);
      expect(cluster.countOf('delete pods')).to.equal(6);
      expect(cluster.pods.size, 'probe pods left').to.equal(0);
    });
  }

  it('an interrupt while the watch is down still deletes every pod alive', async () => {
    const abort = new AbortController();
    const { cluster, deps, targets } = setup({ dropWatchesAtMs: [150], oldResourceVersion: 'gone-event', podStartMs: 5000 }, abort.signal);
    cluster.clock.later(300, () => abort.abort(new Error('SIGINT')));
    const failure = await runProbes(targets, settings, deps).then(() => null, (e: unknown) => e);
    expect(failure).to.be.instanceOf(InterruptedError);
    expect(cluster.createdTotal).to.equal(3);
    expect(cluster.pods.size, 'probe pods left').to.equal(0);
  });
});
