// Simulated nodes for big-cluster benchmarks (lab/api-server/scale.ts): the state expansion, the
// lab:up flag, and what the server then serves and runs (exec slots, exec replay, /lab/stats).
import { expect } from 'chai';
import { cpus } from 'node:os';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Exec, KubeConfig } from '@kubernetes/client-node';
import type { LabState } from '../../../lab/lab-state.js';
import { parseLabCliArgs } from '../../../lab/lab-cli.js';
import { ExecSlots, expandScaleNodes, parseScaleNodes, simNodeName } from '../../../lab/api-server/scale.js';
import { startApiServer, type LabApiServer } from '../../../lab/api-server/server.js';
import type { LabStatsSnapshot } from '../../../lab/api-server/stats.js';
import { labRequest, probePodManifest, SAMPLE_STATE, waitFor } from './lab-api-helpers.js';

const sample = async (): Promise<LabState> => JSON.parse(await readFile(SAMPLE_STATE, 'utf8')) as LabState;

describe('api-server scale: simulated nodes', () => {
  it('parses the node count and says what is wrong in one sentence', () => {
    expect(parseScaleNodes('20', '--scale-nodes')).to.equal(20);
    expect(parseScaleNodes(' 0 ', '--scale-nodes')).to.equal(0);
    for (const bad of ['-1', 'abc', '1.5', '', '5001']) {
      expect(() => parseScaleNodes(bad, '--scale-nodes'), bad).to.throw(/^--scale-nodes must be/);
    }
  });

  it('names sim nodes so that they sort like the list', () => {
    expect(simNodeName(1)).to.equal('lab-sim-0001');
    expect(simNodeName(997)).to.equal('lab-sim-0997');
    expect([simNodeName(10), simNodeName(9)].sort()).to.deep.equal(['lab-sim-0009', 'lab-sim-0010']);
  });

  it('maps sim nodes round robin onto the real nodes, with their namespaces and InternalIP', async () => {
    const state = await sample();
    const scaled = expandScaleNodes(state, 5);
    expect(scaled.nodes).to.have.length(7);
    const sims = scaled.nodes.slice(2);
    expect(sims.map((n) => n.name)).to.deep.equal(['lab-sim-0001', 'lab-sim-0002', 'lab-sim-0003', 'lab-sim-0004', 'lab-sim-0005']);
    const realOf = ['lab-node-1', 'lab-node-2', 'lab-node-1', 'lab-node-2', 'lab-node-1'];
    sims.forEach((sim, i) => {
      const real = state.nodes.find((n) => n.name === realOf[i])!;
      expect(sim.internalIP).to.equal(real.internalIP);
      expect(sim.netns).to.equal(real.netns);
      expect(sim.initPid).to.equal(real.initPid);
      expect(sim.nicName).to.equal(real.nicName);
      expect(sim.cni).to.equal(real.cni);
      expect(sim.labels['kubernetes.io/hostname']).to.equal(sim.name);
      expect(sim.labels['netdiag-lab/simulated-from']).to.equal(real.name);
      expect(Object.keys(sim.labels).filter((k) => k.startsWith('node-role.kubernetes.io/'))).to.have.length(0);
    });
    // No node serves a pod CIDR once the lab is scaled (scale.ts header), the real ones included.
    expect(scaled.nodes.filter((n) => n.podCIDR !== '')).to.have.length(0);
    // The state given in is not changed.
    expect(state.nodes.map((n) => n.podCIDR)).to.deep.equal(['10.244.1.0/24', '10.244.2.0/24']);
    expect(expandScaleNodes(state, 0)).to.equal(state);
  });

  it('mirrors the real node\'s agent pods (kube-proxy) onto its sim nodes, and nothing else', async () => {
    const state = await sample();
    const scaled = expandScaleNodes(state, 4);
    const added = scaled.pods.slice(state.pods.length);
    // The sample runs kube-proxy on lab-node-1 only: sims 1 and 3 map there.
    expect(added).to.have.length(2);
    expect(added.map((p) => p.nodeName)).to.deep.equal(['lab-sim-0001', 'lab-sim-0003']);
    expect(added.every((p) => p.labels['k8s-app'] === 'kube-proxy')).to.equal(true);
    expect(new Set(scaled.pods.map((p) => p.uid)).size).to.equal(scaled.pods.length);
    expect(new Set(scaled.pods.map((p) => `${p.namespace}/${p.name}`)).size).to.equal(scaled.pods.length);
  });

  it('lab:up takes --scale-nodes / NDLAB_SCALE_NODES and bounds exec at 2 per core by default', () => {
    const byFlag = parseLabCliArgs(['up', '--scale-nodes', '20'], {});
    expect(byFlag.scaleNodes).to.equal(20);
    expect(byFlag.execSlots).to.equal(2 * cpus().length);
    expect(byFlag.scaleExec).to.equal('live');
    const byEnv = parseLabCliArgs(['up', '--scale-exec=replay'], { NDLAB_SCALE_NODES: '100', NDLAB_EXEC_SLOTS: '3' });
    expect([byEnv.scaleNodes, byEnv.execSlots, byEnv.scaleExec]).to.deep.equal([100, 3, 'replay']);
    expect(parseLabCliArgs(['up'], {}).execSlots).to.equal(0);
    expect(() => parseLabCliArgs(['up', '--scale-nodes', 'many'], {})).to.throw('--scale-nodes must be a whole number');
    expect(() => parseLabCliArgs(['up', '--scale-exec', 'fast'], {})).to.throw(/live" or "replay/);
  });

  it('runs at most max exec commands at once, the rest in arrival order', async () => {
    const slots = new ExecSlots(2);
    const order: string[] = [];
    const a = await slots.acquire();
    const b = await slots.acquire();
    const c = slots.acquire().then((release) => {
      order.push('c');
      return release;
    });
    const d = slots.acquire().then((release) => {
      order.push('d');
      return release;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).to.deep.equal([]);
    expect(slots.queued).to.equal(2);
    a();
    a(); // a second release of the same slot frees nothing more
    (await c)();
    b();
    (await d)();
    expect(order).to.deep.equal(['c', 'd']);
    expect(slots.queued).to.equal(0);
  });
});

describe('api-server scale: served through the API', function () {
  this.timeout(20000);
  let server: LabApiServer;
  let dir: string;
  let kubeConfig: KubeConfig;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'netdiag-scale-'));
    const statePath = join(dir, 'topology.json');
    await copyFile(SAMPLE_STATE, statePath);
    server = await startApiServer({ statePath, dir, scaleNodes: 4, execSlots: 1, scaleExec: 'replay', hostInfo: { kernelVersion: '6.1.0-test', osImage: 'Debian GNU/Linux 12 (bookworm)' } });
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(server.kubeconfigPath);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const stats = async (query = ''): Promise<LabStatsSnapshot> => (await labRequest(server, 'GET', `/lab/stats${query}`)).json() as unknown as LabStatsSnapshot;

  it('serves the sim nodes like real ones, with their real node\'s InternalIP and no pod CIDR', async () => {
    const list = (await labRequest(server, 'GET', '/api/v1/nodes')).json() as { items: { metadata: { name: string; labels: Record<string, string> }; spec: Record<string, unknown>; status: { addresses: { type: string; address: string }[] } }[] };
    expect(list.items).to.have.length(6);
    const sim = list.items.find((n) => n.metadata.name === 'lab-sim-0002')!;
    expect(sim.status.addresses.find((a) => a.type === 'InternalIP')?.address).to.equal('192.168.100.12');
    expect(sim.spec).to.not.have.property('podCIDR');
    expect(sim.metadata.labels['kubernetes.io/os']).to.equal('linux');
  });

  it('counts requests by verb and resource, not its own reads, and resets', async () => {
    await labRequest(server, 'DELETE', '/lab/stats');
    await labRequest(server, 'GET', '/api/v1/namespaces/default/pods');
    await labRequest(server, 'GET', '/api/v1/namespaces/default/pods/web-0');
    await labRequest(server, 'GET', '/api/v1/nodes');
    const s = await stats();
    expect(s.requests.total).to.equal(3);
    expect(s.requests.byVerbAndResource).to.deep.equal({ 'get pods': 1, 'list nodes': 1, 'list pods': 1 });
    expect(s.requests.byVerb).to.deep.equal({ get: 1, list: 2 });
    expect((await stats()).requests.total).to.equal(3);
    const reset = (await labRequest(server, 'DELETE', '/lab/stats')).json() as unknown as LabStatsSnapshot;
    expect(reset.requests.total).to.equal(0);
    expect((await labRequest(server, 'POST', '/lab/stats')).status).to.equal(405);
  });

  it('keeps the peak of probe pods alive at once and of exec sessions, and replays a repeated exec in the same kernel', async () => {
    await labRequest(server, 'DELETE', '/lab/stats');
    for (const name of ['p1', 'p2']) {
      const created = await labRequest(server, 'POST', '/api/v1/namespaces/default/pods', { body: probePodManifest(name, name === 'p1' ? 'lab-sim-0001' : 'lab-sim-0003') });
      expect(created.status).to.equal(201);
    }
    for (const name of ['p1', 'p2']) {
      await waitFor(`${name} Running`, async () => ((await labRequest(server, 'GET', `/api/v1/namespaces/default/pods/${name}`)).json() as { status: { phase: string } }).status.phase === 'Running' || null);
    }
    // `$$` differs on every live run: the same PID twice shows the second answer was replayed,
    // with the nonce argument rewritten.
    const execOnce = async (pod: string, nonce: string): Promise<string> => {
      const out: Buffer[] = [];
      const stdout = new PassThrough();
      stdout.on('data', (c: Buffer) => out.push(c));
      const ws = await new Exec(kubeConfig).exec('default', pod, 'probe', ['sh', '-c', 'echo "$0 $$"', nonce], stdout, null, null, false);
      await new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.addEventListener('close', () => resolve())));
      return Buffer.concat(out).toString('utf8').trim();
    };
    const first = await execOnce('p1', 'aaaaaaaaaaaaaaaa1111');
    const second = await execOnce('p2', 'bbbbbbbbbbbbbbbb2222');
    const [firstNonce, firstPid] = first.split(' ');
    const [secondNonce, secondPid] = second.split(' ');
    expect(firstNonce).to.equal('aaaaaaaaaaaaaaaa1111');
    expect(secondNonce).to.equal('bbbbbbbbbbbbbbbb2222');
    expect(secondPid).to.equal(firstPid);
    // An argument that is not a nonce runs live.
    const third = await execOnce('p2', 'not-a-nonce');
    expect(third.split(' ')[1]).to.not.equal(firstPid);
    for (const name of ['p1', 'p2']) await labRequest(server, 'DELETE', `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`);
    const s = await stats();
    expect(s.probePods).to.deep.equal({ current: 0, peak: 2, created: 2 });
    expect(s.execSessions.opened).to.equal(3);
    expect(s.execSessions.replayed).to.equal(1);
    expect(s.execSessions.current).to.equal(0);
    expect(s.requests.byVerbAndResource['create pods/exec']).to.equal(3);
  });

  it('logs request arrival and answer times when asked, for round-trip counts', async () => {
    await labRequest(server, 'DELETE', '/lab/stats');
    await labRequest(server, 'GET', '/version');
    const s = await stats('?log=true');
    expect(s.log).to.have.length(1);
    expect(s.log![0]!.resource).to.equal('version');
    expect(s.log![0]!.doneAt).to.be.a('number');
    expect(s.log![0]!.doneAt!).to.be.at.least(s.log![0]!.at);
    expect(await stats()).to.not.have.property('log');
  });
});
