// The simulated API server through the real kubectl binary: discovery, Tables, JSON, delete.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { probePodManifest, startLabApi, waitFor, type LabApiFixture } from './lab-api-helpers.js';

const run = promisify(execFile);

describe('api-server with the real kubectl', function () {
  this.timeout(30000);
  let lab: LabApiFixture;
  let kubectl: (...args: string[]) => Promise<{ stdout: string; stderr: string }>;

  before(async function () {
    try {
      await run('kubectl', ['version', '--client']);
    } catch {
      this.skip(); // no kubectl on this machine
    }
    lab = await startLabApi();
    const cacheDir = join(lab.dir, 'kube-cache');
    kubectl = (...args) => run('kubectl', ['--kubeconfig', lab.server.kubeconfigPath, '--cache-dir', cacheDir, ...args], { env: { ...process.env, KUBECONFIG: '' } });
  });
  after(async () => lab?.stop());

  it('reports the server version the dispatcher matches to kubectl 1.32', async () => {
    const { stdout } = await kubectl('version', '-o', 'json');
    const version = JSON.parse(stdout) as { serverVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).to.equal('v1.32.4');
  });

  it('prints pods, services and nodes across namespaces as the real server\'s tables', async () => {
    const { stdout } = await kubectl('get', 'pods,svc,nodes', '-A');
    const lines = stdout.split('\n');
    expect(lines[0]).to.match(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(stdout).to.match(/^default\s+pod\/web-0\s+1\/1\s+Running\s+0\s+\d+d$/m);
    expect(stdout).to.match(/^default\s+pod\/web-1\s+0\/1\s+Running\s+0\s+\d+d$/m);
    expect(stdout).to.match(/^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/m);
    expect(stdout).to.match(/^kube-system\s+service\/kube-dns\s+ClusterIP\s+10\.96\.0\.10\s+<none>\s+53\/UDP,53\/TCP,9153\/TCP\s+\d+d$/m);
    expect(stdout).to.match(/^default\s+service\/web-nodeport\s+NodePort\s+10\.96\.33\.7\s+<none>\s+8080:30080\/TCP\s+\d+d$/m);
    expect(stdout).to.match(/^\s+node\/lab-node-1\s+Ready\s+control-plane\s+\d+d\s+v1\.30\.6$/m);
  });

  it('prints EndpointSlices', async () => {
    const { stdout } = await kubectl('get', 'endpointslices', '-A');
    expect(stdout.split('\n')[0]).to.match(/^NAMESPACE\s+NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$/);
    expect(stdout).to.match(/^default\s+web-[a-z0-9]{5}\s+IPv4\s+8080\s+10\.244\.1\.10,10\.244\.2\.10\s+\d+d$/m);
    expect(stdout).to.match(/^kube-system\s+kube-dns-[a-z0-9]{5}\s+IPv4\s+53,53,9153\s+10\.244\.1\.2\s+\d+d$/m);
  });

  it('prints nodes as JSON with nodeInfo and addresses', async () => {
    const { stdout } = await kubectl('get', 'nodes', '-o', 'json');
    const list = JSON.parse(stdout) as { kind: string; items: { kind: string; metadata: { name: string; labels: Record<string, string> }; status: { nodeInfo: Record<string, string> } }[] };
    expect(list.kind).to.equal('List');
    expect(list.items.map((n) => n.metadata.name)).to.deep.equal(['lab-node-1', 'lab-node-2']);
    expect(list.items[0]?.kind).to.equal('Node');
    expect(list.items[0]?.metadata.labels['kubernetes.io/hostname']).to.equal('lab-node-1');
    expect(list.items[0]?.status.nodeInfo).to.include({ operatingSystem: 'linux', architecture: 'amd64', kernelVersion: '6.1.0-test', containerRuntimeVersion: 'containerd://1.7.24' });
  });

  it('gets one pod as JSON and reports a missing one like the real server', async () => {
    const { stdout } = await kubectl('get', 'pod', 'web-0', '-o', 'json');
    expect((JSON.parse(stdout) as { status: { podIP: string } }).status.podIP).to.equal('10.244.1.10');
    const missing = await kubectl('get', 'pod', 'nope').then(() => null, (err: { stderr: string; code: number }) => err);
    expect(missing?.code).to.equal(1);
    expect(missing?.stderr.trim()).to.equal('Error from server (NotFound): pods "nope" not found');
  });

  it('finds and deletes a probe pod by its managed-by label', async () => {
    const core = lab.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({ namespace: 'default', body: probePodManifest('netdiag-probe-abcde', 'lab-node-2') as V1Pod });
    await waitFor('Running', async () => ((await core.readNamespacedPod({ name: 'netdiag-probe-abcde', namespace: 'default' })).status?.phase === 'Running' ? true : null));
    const listed = await kubectl('get', 'pods', '-l', 'app.kubernetes.io/managed-by=kubectl-netdiag', '-A');
    expect(listed.stdout).to.match(/^default\s+netdiag-probe-abcde\s+1\/1\s+Running\s+0\s+\d+s$/m);
    const deleted = await kubectl('delete', 'pod', 'netdiag-probe-abcde');
    expect(deleted.stdout.trim()).to.equal('pod "netdiag-probe-abcde" deleted');
    expect(lab.server.probePods()).to.deep.equal([]);
    const after = await kubectl('get', 'pods', '-l', 'app.kubernetes.io/managed-by=kubectl-netdiag', '-A');
    expect(after.stderr.trim()).to.equal('No resources found');
  });

  it('answers kubectl auth can-i (a protobuf SelfSubjectAccessReview)', async () => {
    expect((await kubectl('auth', 'can-i', 'create', 'pods', '--subresource=exec')).stdout.trim()).to.equal('yes');
    lab.server.faults.set({ forbid: [{ verb: 'create', resource: 'pods/exec', namespace: 'kube-system' }] });
    const denied = await kubectl('auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'kube-system').then(() => null, (err: { stdout: string; code: number }) => err);
    lab.server.faults.set({});
    expect(denied?.stdout.trim()).to.equal('no');
    expect(denied?.code).to.equal(1);
  });

  it('runs kubectl exec over the websocket protocol', async () => {
    const core = lab.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({ namespace: 'default', body: probePodManifest('kexec', 'lab-node-1') as V1Pod });
    await waitFor('Running', async () => ((await core.readNamespacedPod({ name: 'kexec', namespace: 'default' })).status?.phase === 'Running' ? true : null));
    const failed = await kubectl('exec', 'kexec', '--', 'sh', '-c', 'echo hello; exit 4').then(() => null, (err: { stdout: string; stderr: string; code: number }) => err);
    expect(failed?.stdout).to.equal('hello\n');
    expect(failed?.stderr.trim()).to.equal('command terminated with exit code 4');
    expect(failed?.code).to.equal(4);
    await core.deleteNamespacedPod({ name: 'kexec', namespace: 'default', gracePeriodSeconds: 0 });
  });
});
