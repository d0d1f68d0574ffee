// The simulated API server through @kubernetes/client-node 1.4.0, the client the plugin uses.
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { ApiException, AuthorizationV1Api, CoreV1Api, DiscoveryV1Api, Exec, Watch, type V1Pod, type V1Status } from '@kubernetes/client-node';
import { labRequest, probePodManifest, startLabApi, waitFor, type LabApiFixture } from './lab-api-helpers.js';

function statusOf(err: unknown): { code: number; message: string; reason: string } {
  if (!(err instanceof ApiException)) throw err;
  const body = JSON.parse(String(err.body)) as { message: string; reason: string };
  return { code: err.code, message: body.message, reason: body.reason };
}

async function expectApiError(promise: Promise<unknown>): Promise<{ code: number; message: string; reason: string }> {
  try {
    await promise;
  } catch (err) {
    return statusOf(err);
  }
  throw new Error('expected the API call to fail');
}

interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  status: V1Status | null;
}

async function runExec(lab: LabApiFixture, namespace: string, pod: string, command: string[]): Promise<ExecResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  let status: V1Status | null = null;
  const ws = await new Exec(lab.kubeConfig).exec(namespace, pod, 'probe', command, stdout, stderr, null, false, (s) => {
    status = s;
  });
  // exec() resolves when the socket opens; the command is over when the socket closes.
  await new Promise<void>((resolve) => {
    if (ws.readyState === ws.CLOSED) resolve();
    else ws.addEventListener('close', () => resolve());
  });
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), status };
}

describe('api-server with client-node', function () {
  this.timeout(20000);
  let lab: LabApiFixture;
  let core: CoreV1Api;

  before(async () => {
    lab = await startLabApi();
    core = lab.kubeConfig.makeApiClient(CoreV1Api);
  });
  after(async () => lab.stop());
  afterEach(async () => {
    lab.server.faults.set({});
    await core.deleteCollectionNamespacedPod({ namespace: 'default', labelSelector: 'app.kubernetes.io/managed-by=kubectl-netdiag', gracePeriodSeconds: 0 });
  });

  it('gets a lab pod with its real-looking status', async () => {
    const pod = await core.readNamespacedPod({ name: 'web-0', namespace: 'default' });
    expect(pod.spec?.nodeName).to.equal('lab-node-1');
    expect(pod.status?.phase).to.equal('Running');
    expect(pod.status?.podIP).to.equal('10.244.1.10');
    expect(pod.status?.hostIP).to.equal('192.168.100.11');
    expect(pod.status?.containerStatuses?.[0]?.containerID).to.equal('containerd://3f4e5d6c7b8a99887766554433221100ffeeddccbbaa99887766554433221100');
    expect(pod.metadata?.resourceVersion).to.match(/^\d+$/);
    expect(pod.metadata?.creationTimestamp?.toISOString()).to.equal('2025-01-15T10:00:00.000Z');
  });

  it('answers a missing pod with a real 404 Status', async () => {
    const err = await expectApiError(core.readNamespacedPod({ name: 'x', namespace: 'default' }));
    expect(err).to.deep.equal({ code: 404, message: 'pods "x" not found', reason: 'NotFound' });
  });

  it('lists with label and field selectors', async () => {
    const web = await core.listPodForAllNamespaces({ labelSelector: 'app in (web),tier!=backend' });
    expect(web.items.map((p) => p.metadata?.name)).to.deep.equal(['web-0', 'web-1']);
    const onNode2 = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=lab-node-2' });
    expect(onNode2.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)).to.deep.equal(['default/web-1', 'team-a/client']);
    const dns = await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
    expect(dns.items).to.have.length(1);
    const err = await expectApiError(core.listNamespacedPod({ namespace: 'default', fieldSelector: 'spec.bogus=1' }));
    expect(err.code).to.equal(400);
  });

  it('serves nodes, services, EndpointSlices, ConfigMaps and namespaces', async () => {
    const nodes = await core.listNode();
    const node = nodes.items[0];
    expect(node?.status?.nodeInfo?.kernelVersion).to.equal('6.1.0-test');
    expect(node?.status?.addresses).to.deep.equal([{ type: 'InternalIP', address: '192.168.100.11' }, { type: 'Hostname', address: 'lab-node-1' }]);
    expect(node?.spec?.podCIDR).to.equal('10.244.1.0/24');
    const svc = await core.readNamespacedService({ name: 'kube-dns', namespace: 'kube-system' });
    expect(svc.spec?.clusterIP).to.equal('10.96.0.10');
    expect(svc.spec?.ipFamilies).to.deep.equal(['IPv4']);
    const slices = await lab.kubeConfig.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'kube-system', labelSelector: 'kubernetes.io/service-name=kube-dns' });
    expect(slices.items[0]?.endpoints.map((e) => e.addresses[0])).to.deep.equal(['10.244.1.2']);
    expect(slices.items[0]?.ports?.map((p) => `${p.name}:${p.port}/${p.protocol}`)).to.deep.equal(['dns:53/UDP', 'dns-tcp:53/TCP', 'metrics:9153/TCP']);
    const corefile = await core.readNamespacedConfigMap({ name: 'coredns', namespace: 'kube-system' });
    expect(corefile.data?.Corefile).to.contain('loop');
    const ns = await core.readNamespace({ name: 'team-a' });
    expect(ns.metadata?.labels).to.deep.equal({ team: 'a', env: 'prod', 'kubernetes.io/metadata.name': 'team-a' }); // the lab's own labels (lab-topology.ts)
  });

  it('creates a probe pod that the kubelet starts, then deletes it with a DELETED watch event', async () => {
    const events: string[] = [];
    const controller = await new Watch(lab.kubeConfig).watch(
      '/api/v1/namespaces/default/pods',
      { labelSelector: 'app.kubernetes.io/managed-by=kubectl-netdiag' },
      (type: string, obj: V1Pod) => events.push(`${type} ${obj.metadata?.name} ${obj.status?.phase}`),
      () => undefined,
    );
    const created = await core.createNamespacedPod({ namespace: 'default', body: probePodManifest('netdiag-probe-', 'lab-node-1', { generateName: true }) as V1Pod });
    const name = created.metadata?.name ?? '';
    expect(name).to.match(/^netdiag-probe-[a-z0-9]{5}$/);
    expect(created.status?.phase).to.equal('Pending');
    const running = await waitFor('Running', async () => {
      const pod = await core.readNamespacedPod({ name, namespace: 'default' });
      return pod.status?.phase === 'Running' ? pod : null;
    });
    expect(running.status?.containerStatuses?.[0]?.ready).to.equal(true);
    expect(running.status?.podIP).to.equal('192.168.100.11'); // hostNetwork
    expect(lab.server.probePods().map((p) => p.name)).to.deep.equal([name]);
    await core.deleteNamespacedPod({ name, namespace: 'default', gracePeriodSeconds: 0 });
    await waitFor('DELETED event', () => (events.some((e) => e.startsWith('DELETED')) ? true : null));
    controller.abort();
    expect(events[0]).to.equal(`ADDED ${name} Pending`);
    expect(events).to.include(`MODIFIED ${name} Running`);
    expect(lab.server.probePods()).to.deep.equal([]);
  });

  it('validates creates like the real server: 409, 404 namespace, 422 name', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: probePodManifest('dup', 'lab-node-1') as V1Pod });
    expect(await expectApiError(core.createNamespacedPod({ namespace: 'default', body: probePodManifest('dup', 'lab-node-1') as V1Pod })))
      .to.deep.equal({ code: 409, message: 'pods "dup" already exists', reason: 'AlreadyExists' });
    expect(await expectApiError(core.createNamespacedPod({ namespace: 'nope', body: probePodManifest('p', 'lab-node-1') as V1Pod })))
      .to.deep.equal({ code: 404, message: 'namespaces "nope" not found', reason: 'NotFound' });
    const invalid = await expectApiError(core.createNamespacedPod({ namespace: 'default', body: probePodManifest('Bad_Name', 'lab-node-1') as V1Pod }));
    expect(invalid.code).to.equal(422);
    expect(invalid.message).to.match(/^Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  });

  it('leaves a pod for an unknown node Pending with an Unschedulable condition', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: probePodManifest('lost', 'no-such-node') as V1Pod });
    await new Promise((r) => setTimeout(r, 300));
    const pod = await core.readNamespacedPod({ name: 'lost', namespace: 'default' });
    expect(pod.status?.phase).to.equal('Pending');
    expect(pod.status?.conditions?.[0]).to.include({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' });
  });

  it('ends pods on activeDeadlineSeconds and bounded sleeps', async () => {
    lab.server.faults.set({ podStartDelayMs: 10 });
    await core.createNamespacedPod({ namespace: 'default', body: probePodManifest('deadline', 'lab-node-1', { activeDeadlineSeconds: 1 }) as V1Pod });
    await core.createNamespacedPod({ namespace: 'default', body: probePodManifest('short', 'lab-node-2', { command: ['sleep', '0.2'] }) as V1Pod });
    const failed = await waitFor('Failed', async () => {
      const pod = await core.readNamespacedPod({ name: 'deadline', namespace: 'default' });
      return pod.status?.phase === 'Failed' ? pod : null;
    });
    expect(failed.status?.reason).to.equal('DeadlineExceeded');
    expect((await core.readNamespacedPod({ name: 'short', namespace: 'default' })).status?.phase).to.equal('Succeeded');
  });

  it('runs exec with separate stdout, stderr and the exit code cause', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: probePodManifest('exec-probe', 'lab-node-1') as V1Pod });
    await waitFor('Running', async () => ((await core.readNamespacedPod({ name: 'exec-probe', namespace: 'default' })).status?.phase === 'Running' ? true : null));
    const failing = await runExec(lab, 'default', 'exec-probe', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(failing.stdout.toString()).to.equal('out\n');
    expect(failing.stderr.toString()).to.equal('err\n');
    expect(failing.status?.status).to.equal('Failure');
    expect(failing.status?.reason).to.equal('NonZeroExitCode');
    expect(failing.status?.details?.causes).to.deep.equal([{ reason: 'ExitCode', message: '3' }]);
    const ok = await runExec(lab, 'default', 'exec-probe', ['sh', '-c', 'printf "%s" "$NETDIAG_HOST_PID"']);
    expect(ok.status?.status).to.equal('Success');
    expect(ok.stdout.toString()).to.equal('1');
  });

  it('streams a 10 MB exec output whole', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: probePodManifest('big-probe', 'lab-node-2') as V1Pod });
    await waitFor('Running', async () => ((await core.readNamespacedPod({ name: 'big-probe', namespace: 'default' })).status?.phase === 'Running' ? true : null));
    const size = 10 * 1024 * 1024;
    const result = await runExec(lab, 'default', 'big-probe', ['head', '-c', String(size), '/dev/zero']);
    expect(result.status?.status).to.equal('Success');
    expect(result.stdout.length).to.equal(size);
    expect(result.stdout.every((b) => b === 0)).to.equal(true);
  });

  it('kills the command when the client closes the socket', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: probePodManifest('abandon', 'lab-node-1') as V1Pod });
    await waitFor('Running', async () => ((await core.readNamespacedPod({ name: 'abandon', namespace: 'default' })).status?.phase === 'Running' ? true : null));
    const stdout = new PassThrough();
    let printed = '';
    stdout.on('data', (c: Buffer) => (printed += c.toString()));
    const ws = await new Exec(lab.kubeConfig).exec('default', 'abandon', 'probe', ['sh', '-c', 'echo $$; exec sleep 30'], stdout, null, null, false);
    const pid = await waitFor('pid', () => (/^\d+\n/.test(printed) ? Number.parseInt(printed, 10) : null));
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive()).to.equal(true);
    ws.close();
    await waitFor('the command to be killed', () => (alive() ? null : true));
  });

  it('refuses exec into lab pods and into pods that are not running', async () => {
    let failed: unknown = null;
    try {
      await runExec(lab, 'default', 'web-0', ['true']);
    } catch (err) {
      failed = err;
    }
    expect(String((failed as { message?: string } | null)?.message)).to.contain('400');
  });

  it('serves pod logs, and coredns lines set through the faults API', async () => {
    lab.server.faults.set({ corednsLogLines: ['[FATAL] plugin/loop: Loop (127.0.0.1:55953 -> :53) detected for zone "."'] });
    const log = await core.readNamespacedPodLog({ name: 'coredns-7db6d8ff4d-x2kqp', namespace: 'kube-system' });
    expect(log).to.equal('[FATAL] plugin/loop: Loop (127.0.0.1:55953 -> :53) detected for zone "."\n');
  });

  it('answers SelfSubjectAccessReview and 403s forbidden verbs', async () => {
    const authz = lab.kubeConfig.makeApiClient(AuthorizationV1Api);
    const review = (verb: string) => authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, resource: 'pods', namespace: 'default' } } } });
    expect((await review('create')).status?.allowed).to.equal(true);
    lab.server.faults.set({ forbid: [{ verb: 'create', resource: 'pods', namespace: 'default' }] });
    expect((await review('create')).status?.allowed).to.equal(false);
    expect((await review('list')).status?.allowed).to.equal(true);
    expect(await expectApiError(core.createNamespacedPod({ namespace: 'default', body: probePodManifest('p', 'lab-node-1') as V1Pod }))).to.deep.equal({
      code: 403,
      reason: 'Forbidden',
      message: 'pods is forbidden: User "netdiag-lab-admin" cannot create resource "pods" in API group "" in the namespace "default"',
    });
  });

  it('rejects requests without the bearer token with a 401 Status', async () => {
    const res = await labRequest(lab.server, 'GET', '/api/v1/pods', { token: null });
    expect(res.status).to.equal(401);
    expect(res.json()).to.deep.equal({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });
});
