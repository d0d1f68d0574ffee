// The probe lifecycle against an in-memory API server on a virtual clock: the bound on pods alive,
// the watch instead of polling, nodes read once, and cleanup when a run stops half-way.
import { expect } from 'chai';
import { runProbes, type ProbeSettings, type ProbeTarget } from '../../../src/probe/probe-run.js';
import { createLimiter } from '../../../src/probe/bounded.js';
import { InterruptedError, UserError } from '../../../src/errors.js';
import type { Progress } from '../../../src/render/progress.js';
import { FakeCluster, type FakeClusterOptions } from '../../support/fake-cluster.js';

const settings = (over: Partial<ProbeSettings> = {}): ProbeSettings => ({
  namespace: 'default',
  image: 'netshoot',
  imagePullSecrets: [],
  timeoutSeconds: 30,
  keepPod: false,
  command: 'node-check',
  ...over,
});

function recordingProgress() {
  const lines: string[] = [];
  const states = new Map<string, string[]>();
  const progress: Progress = {
    podCreated: (node, pod) => lines.push(`created ${pod} on ${node}`),
    podDeleted: (pod) => lines.push(`deleted ${pod}`),
    nodeState: (node, state) => states.set(node, [...(states.get(node) ?? []), state]),
    note: (text) => lines.push(`note ${text}`),
    done: () => undefined,
  };
  return { progress, lines, states };
}

function setup(options: FakeClusterOptions, signal = new AbortController().signal) {
  const cluster = new FakeCluster(options);
  const rec = recordingProgress();
  let n = 0;
  const deps = {
    api: cluster.api(),
    progress: rec.progress,
    signal,
    now: cluster.clock.now,
    sleep: cluster.clock.sleep,
    randomSuffix: () => `s${(n++).toString(36).padStart(4, '0')}`,
    randomToken: () => 'token0',
  };
  const targets: ProbeTarget[] = options.nodes.map((nodeName) => ({ nodeName, requests: [{ kind: 'host' }] as ProbeTarget['requests'] }));
  return { cluster, deps, targets, rec };
}

const nodes = (count: number) => Array.from({ length: count }, (_, i) => `node-${i + 1}`);

describe('runProbes', () => {
  it('keeps at most --max-parallel probe pods alive, queues the rest, and deletes each when its node is done', async () => {
    const { cluster, deps, targets, rec } = setup({ nodes: nodes(7) });
    const result = await runProbes(targets, settings({ maxParallel: 2 }), deps);
    expect(result).to.have.length(7);
    expect(result.every((r) => r.ok)).to.equal(true);
    expect(cluster.createdTotal).to.equal(7);
    expect(cluster.alivePeak).to.equal(2);
    expect(cluster.pods.size, 'probe pods left').to.equal(0);
    // Every node waited in the queue first.
    expect(rec.states.size).to.equal(7);
    expect([...rec.states.values()].every((s) => s[0] === 'queued')).to.equal(true);
  });

  it('follows the pods with one watch and reads the nodes with one list: 3 requests per node plus a constant', async () => {
    const { cluster, deps, targets } = setup({ nodes: nodes(10) });
    await runProbes(targets, settings({ maxParallel: 4 }), deps);
    expect(cluster.countOf('watch pods')).to.equal(1);
    expect(cluster.countOf('get pods'), 'no pod polled').to.equal(0);
    expect(cluster.countOf('get nodes')).to.equal(0);
    expect(cluster.countOf('list nodes')).to.equal(1);
    const perNode = ['create pods', 'create pods/exec', 'delete pods'].map((r) => cluster.countOf(r));
    expect(perNode).to.deep.equal([10, 10, 10]);
    expect(cluster.countOf('create pods (dry run)')).to.equal(1);
    expect(cluster.requests.length).to.be.at.most(3 * 10 + 5);
  });

  it('sends the reads before the create in one round trip, then the admission dry run', async () => {
    const { cluster, deps, targets } = setup({ nodes: ['lab-node-1'], latencyMs: 50 });
    const started = cluster.clock.nowMs;
    await runProbes(targets, settings(), deps);
    const create = cluster.sentAt.find((r) => r.what === 'create pods')!;
    const before = cluster.sentAt.filter((r) => r.atMs < create.atMs);
    expect(before.map((r) => r.what).sort()).to.deep.equal(['create pods (dry run)', 'get namespaces', 'get nodes', 'list pods', 'watch pods']);
    expect(before.filter((r) => r.what !== 'create pods (dry run)').every((r) => r.atMs === started)).to.equal(true);
    expect(before.find((r) => r.what === 'create pods (dry run)')!.atMs - started).to.equal(50);
    expect(create.atMs - started).to.equal(100);
  });

  it('reads one node directly rather than listing them all', async () => {
    const { cluster, deps, targets } = setup({ nodes: ['lab-node-1'] });
    await runProbes(targets, settings(), deps);
    expect(cluster.countOf('get nodes')).to.equal(1);
    expect(cluster.countOf('list nodes')).to.equal(0);
  });

  it('polls each waiting pod every 250 ms when the watch is not allowed', async () => {
    const { cluster, deps, targets } = setup({ nodes: nodes(2), watchRefused: 403, podStartMs: 2500 });
    const result = await runProbes(targets, settings(), deps);
    expect(result.map((r) => r.ok)).to.deep.equal([true, true]);
    const reads = cluster.countOf('get pods');
    // 2.5 s to start, read at 0, 0.25, ... 2.5 s per pod.
    expect(reads).to.be.within(2 * 10, 2 * 12);
    expect(cluster.pods.size).to.equal(0);
  });

  it('says a pod deleted before it ran was deleted, from the watch event', async () => {
    const { deps, targets } = setup({ nodes: ['node-1', 'node-2'], deletedBeforeRunning: ['node-2'] });
    const result = await runProbes(targets, settings(), deps);
    expect(result[0]).to.include({ ok: true });
    expect(result[1]).to.include({ ok: false });
    expect(result[1]!.ok === false && result[1]!.error).to.match(/^probe pod default\/netdiag-node-2-\S+ on node node-2 was deleted before it ran/);
  });

  it('stops the queue on a failure that is not one node\'s (create refused) and creates no more pods', async () => {
    const { cluster, deps, targets } = setup({ nodes: nodes(6), createRefused: 403, dryRunPasses: true });
    const failure = await runProbes(targets, settings({ maxParallel: 2 }), deps).then(() => null, (e: unknown) => e);
    expect(failure).to.be.instanceOf(Error);
    // The two that were running when the first refusal came back; none of the queued four.
    expect(cluster.countOf('create pods')).to.equal(2);
  });

  it('a create the dry run already refuses fails the run before any pod exists', async () => {
    const { cluster, deps, targets } = setup({ nodes: nodes(3), createRefused: 403 });
    const failure = await runProbes(targets, settings(), deps).then(() => null, (e: unknown) => e);
    expect(failure).to.be.instanceOf(Error);
    expect(cluster.countOf('create pods (dry run)')).to.equal(1);
    expect(cluster.countOf('create pods')).to.equal(0);
  });

  it('on interrupt starts no queued node and deletes the pods alive', async () => {
    const abort = new AbortController();
    const { cluster, deps, targets, rec } = setup({ nodes: nodes(5), podStartMs: 5000 }, abort.signal);
    cluster.clock.later(1000, () => abort.abort(new Error('SIGINT')));
    const failure = await runProbes(targets, settings({ maxParallel: 2 }), deps).then(() => null, (e: unknown) => e);
    expect(failure).to.be.instanceOf(InterruptedError);
    expect(cluster.createdTotal).to.equal(2);
    expect(cluster.pods.size, 'probe pods left').to.equal(0);
    expect(rec.lines.filter((l) => l.startsWith('deleted '))).to.have.length(2);
  });

  it('shares one bound between runs side by side (smoke)', async () => {
    const a = setup({ nodes: nodes(4) });
    const limiter = createLimiter(3);
    // Both runs on one cluster: the second reuses the first's fake API and clock.
    const deps = { ...a.deps, limiter };
    await Promise.all([
      runProbes(a.targets, settings(), deps),
      runProbes(a.targets, settings(), { ...deps, randomSuffix: () => `t${Math.random().toString(36).slice(2, 6)}` }),
    ]);
    expect(a.cluster.createdTotal).to.equal(8);
    expect(a.cluster.alivePeak).to.equal(3);
  });

  it('a node that is not there fails as a row, without a pod', async () => {
    const { cluster, deps } = setup({ nodes: ['node-1'] });
    const result = await runProbes([{ nodeName: 'gone-1', requests: [{ kind: 'host' }] as ProbeTarget['requests'] }], settings(), deps);
    expect(result).to.have.length(1);
    expect(result[0]!.ok).to.equal(false);
    expect(cluster.createdTotal).to.equal(0);
    expect(result[0]!.ok === false && result[0]!.error).to.equal('node gone-1 does not exist (any more)');
    void UserError;
  });

  it('tells a failed node\'s target that it gave up, so follow-ups waiting on it stop waiting', async () => {
    const { deps } = setup({ nodes: ['node-1'] });
    const gaveUp: string[] = [];
    const target = (nodeName: string): ProbeTarget => ({ nodeName, requests: [{ kind: 'host' }], onGiveUp: () => gaveUp.push(nodeName) });
    const result = await runProbes([target('node-1'), target('gone-1')], settings(), deps);
    expect(result.map((r) => r.ok)).to.deep.equal([true, false]);
    expect(gaveUp).to.deep.equal(['gone-1']);
  });
});

describe('createLimiter', () => {
  it('runs tasks in order, never more than the bound at once', async () => {
    const limiter = createLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      running += 1;
      peak = Math.max(peak, running);
      order.push(i);
      await new Promise((r) => setImmediate(r));
      running -= 1;
      return i;
    };
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => limiter.run(task(i))));
    expect(results).to.deep.equal([0, 1, 2, 3, 4]);
    expect(order).to.deep.equal([0, 1, 2, 3, 4]);
    expect(peak).to.equal(2);
    expect(limiter.counts()).to.deep.equal({ running: 0, queued: 0 });
  });

  it('counts running and queued, and rejects queued tasks once its signal aborts', async () => {
    const abort = new AbortController();
    const limiter = createLimiter(1, abort.signal);
    let release!: () => void;
    const first = limiter.run(() => new Promise<string>((r) => (release = () => r('first'))));
    const second = limiter.run(async () => 'second');
    expect(limiter.counts()).to.deep.equal({ running: 1, queued: 1 });
    abort.abort();
    release();
    expect(await first).to.equal('first');
    const err = await second.then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(InterruptedError);
  });

  it('refuses a bound below 1', () => {
    expect(() => createLimiter(0)).to.throw(RangeError);
  });
});
