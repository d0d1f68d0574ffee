// The /_lab/ faults API and the behaviours it switches on, plus raw protocol details (Tables,
// watch resourceVersion/timeoutSeconds, reload) checked over plain HTTPS.
import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { CoreV1Api, Exec } from '@kubernetes/client-node';
import type { LabState } from '../../../lab/lab-state.js';
import { labRequest, probePodManifest, startLabApi, waitFor, type LabApiFixture } from './lab-api-helpers.js';

describe('api-server faults API and protocol details', function () {
  this.timeout(20000);
  let lab: LabApiFixture;
  let core: CoreV1Api;

  before(async () => {
    lab = await startLabApi();
    core = lab.kubeConfig.makeApiClient(CoreV1Api);
  });
  after(async () => lab.stop());
  afterEach(async () => {
    await labRequest(lab.server, 'PUT', '/_lab/faults', { body: {} });
    await labRequest(lab.server, 'DELETE', '/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dkubectl-netdiag&gracePeriodSeconds=0');
  });

  const createProbe = (name: string, nodeName = 'lab-node-1') =>
    labRequest(lab.server, 'POST', '/api/v1/namespaces/default/pods', { body: probePodManifest(name, nodeName) });

  it('round-trips faults and rejects bad ones with 400', async () => {
    const put = await labRequest(lab.server, 'PUT', '/_lab/faults', { body: { podStartDelayMs: 5, forbid: [{ verb: 'list', resource: 'nodes' }] } });
    expect(put.status).to.equal(200);
    const got = (await labRequest(lab.server, 'GET', '/_lab/faults')).json();
    expect(got.podStartDelayMs).to.equal(5);
    expect(got.forbid).to.deep.equal([{ verb: 'list', resource: 'nodes' }]);
    const nodes = await labRequest(lab.server, 'GET', '/api/v1/nodes');
    expect(nodes.status).to.equal(403);
    expect(nodes.json().message).to.equal('nodes is forbidden: User "netdiag-lab-admin" cannot list resource "nodes" in API group "" at the cluster scope');
    const bad = await labRequest(lab.server, 'PUT', '/_lab/faults', { body: { podStartDelay: 5 } });
    expect(bad.status).to.equal(400);
    expect(bad.json().message).to.equal('unknown fault "podStartDelay"');
    expect((await labRequest(lab.server, 'GET', '/_lab/faults', { token: 'wrong' })).status).to.equal(401);
  });

  it('fails image pulls: ErrImagePull, then ImagePullBackOff naming the image', async () => {
    await labRequest(lab.server, 'PUT', '/_lab/faults', { body: { imagePullFailure: true, podStartDelayMs: 20 } });
    await createProbe('pull');
    const waiting = await waitFor('ImagePullBackOff', async () => {
      const pod = await core.readNamespacedPod({ name: 'pull', namespace: 'default' });
      const w = pod.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'ImagePullBackOff' ? w : null;
    });
    expect(waiting.message).to.equal('Back-off pulling image "ghcr.io/netdiag/probe:0.1.0"');
    expect((await core.readNamespacedPod({ name: 'pull', namespace: 'default' })).status?.phase).to.equal('Pending');
  });

  it('rejects pod creation as PodSecurity admission does', async () => {
    await labRequest(lab.server, 'PUT', '/_lab/faults', { body: { rejectPodCreate: true } });
    const res = await createProbe('psa');
    expect(res.status).to.equal(403);
    expect(res.json().message).to.equal('pods "psa" is forbidden: violates PodSecurity "restricted:latest": host namespaces (hostNetwork=true, hostPID=true), privileged (container "probe" must not set securityContext.privileged=true)');
  });

  it('enforces a pod-security label set on a namespace', async () => {
    await labRequest(lab.server, 'PUT', '/_lab/faults', { body: { namespaceLabels: { default: { 'pod-security.kubernetes.io/enforce': 'baseline' } } } });
    const ns = await core.readNamespace({ name: 'default' });
    expect(ns.metadata?.labels).to.deep.equal({ env: 'prod', 'pod-security.kubernetes.io/enforce': 'baseline', 'kubernetes.io/metadata.name': 'default' });
    const res = await createProbe('psa2');
    expect(res.status).to.equal(403);
    expect(res.json().message).to.match(/^pods "psa2" is forbidden: violates PodSecurity "baseline:latest": host namespaces/);
  });

  it('keeps pods on a NotReady node Pending and marks the node', async () => {
    await labRequest(lab.server, 'PUT', '/_lab/faults', { body: { nodeNotReady: ['lab-node-2'], podStartDelayMs: 10 } });
    await createProbe('stuck', 'lab-node-2');
    await new Promise((r) => setTimeout(r, 150));
    expect((await core.readNamespacedPod({ name: 'stuck', namespace: 'default' })).status?.phase).to.equal('Pending');
    const node = await core.readNode({ name: 'lab-node-2' });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('Unknown');
    expect(node.spec?.taints?.map((t) => t.key)).to.include('node.kubernetes.io/unreachable');
  });

  it('drops an exec stream after N bytes, and fails one exec when asked', async () => {
    await labRequest(lab.server, 'PUT', '/_lab/faults', { body: { podStartDelayMs: 10, dropExecAfterBytes: 1000, execFailOnce: true } });
    await createProbe('flaky');
    await waitFor('Running', async () => ((await core.readNamespacedPod({ name: 'flaky', namespace: 'default' })).status?.phase === 'Running' ? true : null));
    const exec = new Exec(lab.kubeConfig);
    const first = await exec.exec('default', 'flaky', 'probe', ['true'], null, null, null, false).then(() => 'opened', (err: Error) => err.message);
    expect(first).to.contain('500');
    const out: Buffer[] = [];
    const stdout = new PassThrough();
    stdout.on('data', (c: Buffer) => out.push(c));
    let status: unknown = null;
    const ws = await exec.exec('default', 'flaky', 'probe', ['head', '-c', '100000', '/dev/zero'], stdout, null, null, false, (s) => {
      status = s;
    });
    await new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.addEventListener('close', () => resolve())));
    expect(Buffer.concat(out).length).to.equal(1000);
    expect(status).to.equal(null);
  });

  it('delays API answers by apiDelayMs', async () => {
    await labRequest(lab.server, 'PUT', '/_lab/faults', { body: { apiDelayMs: 300 } });
    const started = Date.now();
    await labRequest(lab.server, 'GET', '/api/v1/namespaces/default/pods/web-0');
    expect(Date.now() - started).to.be.at.least(290);
  });

  it('answers as=Table with the pod columns and partial metadata', async () => {
    const res = await labRequest(lab.server, 'GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb', {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
    });
    const table = res.json() as { kind: string; columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[]; object: { kind: string; metadata: { name: string } } }[] };
    expect(table.kind).to.equal('Table');
    expect(table.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).to.deep.equal(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(table.rows.map((r) => r.cells.slice(0, 4))).to.deep.equal([['web-0', '1/1', 'Running', '0'], ['web-1', '0/1', 'Running', '0']]);
    expect(table.rows[0]?.object.kind).to.equal('PartialObjectMetadata');
  });

  it('answers aggregated discovery requests with legacy discovery', async () => {
    const res = await labRequest(lab.server, 'GET', '/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
    expect(res.contentType).to.equal('application/json');
    expect((res.json().groups as { name: string }[]).map((g) => g.name)).to.include('discovery.k8s.io');
    const core = (await labRequest(lab.server, 'GET', '/api/v1')).json() as { resources: { name: string }[] };
    expect(core.resources.map((r) => r.name)).to.include.members(['pods', 'pods/exec', 'pods/log', 'services', 'nodes', 'configmaps', 'namespaces']);
  });

  it('ends a watch after timeoutSeconds and replays events after a resourceVersion', async () => {
    const list = (await labRequest(lab.server, 'GET', '/api/v1/namespaces/default/pods')).json() as { metadata: { resourceVersion: string } };
    await createProbe('replayed');
    const watched = await labRequest(lab.server, 'GET', `/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1&resourceVersion=${list.metadata.resourceVersion}`);
    const events = watched.text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
    expect(events[0]).to.deep.include({ type: 'ADDED' });
    expect(events[0]?.object.metadata.name).to.equal('replayed');
    expect(events.every((e) => e.object.metadata.name === 'replayed')).to.equal(true);
  });

  it('deletes a collection of pods by label selector', async () => {
    await createProbe('victim-1');
    await createProbe('victim-2', 'lab-node-2');
    const res = await labRequest(lab.server, 'DELETE', '/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dkubectl-netdiag&gracePeriodSeconds=0');
    expect(res.status).to.equal(200);
    expect((res.json().items as { metadata: { name: string } }[]).map((p) => p.metadata.name)).to.deep.equal(['victim-1', 'victim-2']);
    expect(lab.server.probePods()).to.deep.equal([]);
    expect((await core.listNamespacedPod({ namespace: 'default' })).items.map((p) => p.metadata?.name)).to.deep.equal(['web-0', 'web-1']);
  });

  it('reloads the state file and lists held probe pods', async () => {
    await createProbe('held');
    expect(((await labRequest(lab.server, 'GET', '/_lab/pods')).json().items as { name: string }[]).map((p) => p.name)).to.deep.equal(['held']);
    const state = JSON.parse(await readFile(lab.statePath, 'utf8')) as LabState;
    const web0 = state.pods[0]!;
    state.pods.push({ ...web0, name: 'web-2', uid: '8d0f6c2e-1b7a-4c1e-9a51-0c7e3f1d2a99', ip: '10.244.1.11' });
    await writeFile(lab.statePath, JSON.stringify(state));
    expect((await labRequest(lab.server, 'POST', '/_lab/reload')).status).to.equal(200);
    const pods = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
    expect(pods.items.map((p) => p.metadata?.name)).to.deep.equal(['web-0', 'web-1', 'web-2']);
    const slice = (await labRequest(lab.server, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb')).json() as { items: { endpoints: { addresses: string[] }[] }[] };
    expect(slice.items[0]?.endpoints.map((e) => e.addresses[0]).sort()).to.deep.equal(['10.244.1.10', '10.244.1.11', '10.244.2.10']);
    // The probe pod created through the API survives a reload.
    expect((await core.readNamespacedPod({ name: 'held', namespace: 'default' })).metadata?.name).to.equal('held');
  });
});
