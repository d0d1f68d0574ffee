// networking.k8s.io/v1 NetworkPolicy on the simulated API server, through the real kubectl
// (apply, create --dry-run=server, get/list/table, patch by re-apply, delete) and raw requests
// (validation, defaulting, watch, discovery), with the reprogramming hook run before each answer.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startApiServer, type LabApiServer, type NetworkPolicyChange } from '../../../lab/api-server/server.js';
import { formatLabelSelector, mergePatch } from '../../../lab/api-server/network-policies.js';
import { labRequest, SAMPLE_STATE } from './lab-api-helpers.js';

const run = promisify(execFile);

const denyAll = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-all', namespace: 'team-a' }, spec: { podSelector: {} } };
const allowWeb = {
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-web', namespace: 'team-a' },
  spec: { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }], ports: [{ port: 9090 }] }], egress: [{}] },
};

describe('api-server: NetworkPolicy', function () {
  this.timeout(30000);
  let server: LabApiServer;
  let dir: string;
  const changes: NetworkPolicyChange[] = [];
  let kubectl: (args: string[], input?: string) => Promise<{ stdout: string; stderr: string }>;
  let haveKubectl = true;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'netdiag-netpol-'));
    const statePath = join(dir, 'topology.json');
    await copyFile(SAMPLE_STATE, statePath);
    server = await startApiServer({
      statePath, dir, hostInfo: { kernelVersion: '6.1.0-test', osImage: 'Debian' },
      onNetworkPoliciesChanged: async (change) => {
        changes.push(change);
      },
    });
    kubectl = (args, input) => {
      const p = run('kubectl', ['--kubeconfig', server.kubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args], { env: { ...process.env, KUBECONFIG: '' } });
      if (input !== undefined) p.child.stdin?.end(input);
      return p;
    };
    try {
      await run('kubectl', ['version', '--client']);
    } catch {
      haveKubectl = false;
    }
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    changes.length = 0;
  });

  it('is discoverable in networking.k8s.io/v1 with the short name netpol', async () => {
    const groups = (await labRequest(server, 'GET', '/apis')).json() as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).to.include('networking.k8s.io');
    const list = (await labRequest(server, 'GET', '/apis/networking.k8s.io/v1')).json() as { resources: { name: string; shortNames?: string[]; verbs: string[]; namespaced: boolean }[] };
    expect(list.resources).to.have.length(1);
    expect(list.resources[0]).to.include({ name: 'networkpolicies', namespaced: true });
    expect(list.resources[0]?.shortNames).to.deep.equal(['netpol']);
    expect(list.resources[0]?.verbs).to.include.members(['create', 'delete', 'get', 'list', 'watch', 'patch']);
  });

  it('stores a created policy defaulted, reprograms before answering, and refuses a second one of that name', async () => {
    const res = await labRequest(server, 'POST', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies', { body: allowWeb });
    expect(res.status).to.equal(201);
    const obj = res.json() as { metadata: { uid: string; generation: number }; spec: { policyTypes: string[]; ingress: { ports: { protocol: string }[] }[] } };
    expect(obj.spec.policyTypes).to.deep.equal(['Ingress', 'Egress']);
    expect(obj.spec.ingress[0]?.ports[0]?.protocol).to.equal('TCP');
    expect(obj.metadata.generation).to.equal(1);
    expect(changes).to.have.length(1);
    expect(changes[0]?.policies.map((p) => p.metadata.name)).to.deep.equal(['allow-web']);
    expect(changes[0]?.namespaceLabels['team-a']).to.include({ team: 'a', 'kubernetes.io/metadata.name': 'team-a' });
    const again = await labRequest(server, 'POST', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies', { body: allowWeb });
    expect(again.status).to.equal(409);
    await labRequest(server, 'DELETE', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/allow-web');
  });

  it('rejects invalid policies with the real field paths (422) and stores nothing', async () => {
    const bad = { ...allowWeb, spec: { podSelector: {}, ingress: [{ ports: [{ port: 'api', endPort: 9100 }], from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['192.168.0.0/16'] } }] }] } };
    const res = await labRequest(server, 'POST', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies', { body: bad });
    expect(res.status).to.equal(422);
    const status = res.json() as { reason: string; details: { causes: { field: string }[] } };
    expect(status.reason).to.equal('Invalid');
    expect(status.details.causes.map((c) => c.field)).to.deep.equal(['spec.ingress[0].ports[0].endPort', 'spec.ingress[0].from[0].ipBlock.except[0]']);
    expect(changes).to.have.length(0);
  });

  it('a dry-run create answers the object but neither stores nor reprograms', async () => {
    const res = await labRequest(server, 'POST', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies?dryRun=All', { body: denyAll });
    expect(res.status).to.equal(201);
    expect((await labRequest(server, 'GET', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/deny-all')).status).to.equal(404);
    expect(changes).to.have.length(0);
  });

  it('watch sees ADDED and DELETED', async () => {
    const events: string[] = [];
    const { request } = await import('node:https');
    const url = `${server.url}/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies?watch=true`;
    const req = request(url, { headers: { Authorization: `Bearer ${server.token}` }, ca: server.caCertPem }, (res) => {
      res.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n').filter((l) => l !== '')) events.push((JSON.parse(line) as { type: string }).type);
      });
    });
    req.end();
    await new Promise((r) => setTimeout(r, 100));
    await labRequest(server, 'POST', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies', { body: denyAll });
    await labRequest(server, 'DELETE', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/deny-all');
    await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    expect(events).to.deep.equal(['ADDED', 'DELETED']);
  });

  it('kubectl apply, get (table), re-apply (patch), create --dry-run=server and delete', async function () {
    if (!haveKubectl) this.skip();
    const manifest = (p: unknown): string => JSON.stringify(p) + '\n';
    const applied = await kubectl(['apply', '-f', '-'], manifest(denyAll));
    expect(applied.stdout.trim()).to.equal('networkpolicy.networking.k8s.io/deny-all created');
    expect(changes).to.have.length(1);
    const table = await kubectl(['get', 'netpol', '-A']);
    expect(table.stdout).to.match(/^NAMESPACE\s+NAME\s+POD-SELECTOR\s+AGE\n/);
    expect(table.stdout).to.match(/^team-a\s+deny-all\s+<none>\s+\d+\w$/m);
    const changed = { ...denyAll, spec: { podSelector: { matchLabels: { app: 'api' } } } };
    const reapplied = await kubectl(['apply', '-f', '-'], manifest(changed));
    expect(reapplied.stdout.trim()).to.equal('networkpolicy.networking.k8s.io/deny-all configured');
    const json = JSON.parse((await kubectl(['get', 'netpol', 'deny-all', '-n', 'team-a', '-o', 'json'])).stdout) as { spec: { podSelector: unknown }; metadata: { generation: number; annotations: Record<string, string> } };
    expect(json.spec.podSelector).to.deep.equal({ matchLabels: { app: 'api' } });
    expect(json.metadata.generation).to.equal(2);
    expect(json.metadata.annotations).to.have.property('kubectl.kubernetes.io/last-applied-configuration');
    const dry = await kubectl(['create', '--dry-run=server', '-f', '-'], manifest({ ...denyAll, metadata: { name: 'dry', namespace: 'team-a' } }));
    expect(dry.stdout.trim()).to.equal('networkpolicy.networking.k8s.io/dry created (server dry run)');
    const deleted = await kubectl(['delete', '-f', '-'], manifest(denyAll));
    expect(deleted.stdout.trim()).to.equal('networkpolicy.networking.k8s.io "deny-all" deleted');
    expect((await kubectl(['get', 'netpol', '-A'])).stderr).to.match(/No resources found/);
    expect(changes.map((c) => c.policies.length)).to.deep.equal([1, 1, 0]);
  });

  it('server-side apply creates and then updates', async function () {
    if (!haveKubectl) this.skip();
    const first = await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(allowWeb));
    expect(first.stdout.trim()).to.equal('networkpolicy.networking.k8s.io/allow-web serverside-applied');
    const updated = { ...allowWeb, spec: { ...allowWeb.spec, egress: [] } };
    await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(updated));
    const json = JSON.parse((await kubectl(['get', 'netpol', 'allow-web', '-n', 'team-a', '-o', 'json'])).stdout) as { spec: { policyTypes: string[] } };
    expect(json.spec.policyTypes).to.deep.equal(['Ingress']);
    await kubectl(['delete', 'netpol', 'allow-web', '-n', 'team-a']);
  });

  it('counts the requests under the RBAC resource name', async () => {
    await labRequest(server, 'DELETE', '/lab/stats');
    await labRequest(server, 'GET', '/apis/networking.k8s.io/v1/networkpolicies');
    await labRequest(server, 'GET', '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/none');
    const stats = (await labRequest(server, 'GET', '/lab/stats')).json() as { requests: { byVerbAndResource: Record<string, number> } };
    expect(stats.requests.byVerbAndResource).to.deep.equal({ 'list networkpolicies': 1, 'get networkpolicies': 1 });
  });

  it('formats selectors as kubectl shows them and merges patches as RFC 7386 does', () => {
    expect(formatLabelSelector({})).to.equal('<none>');
    expect(formatLabelSelector({ matchLabels: { app: 'api' }, matchExpressions: [{ key: 'team', operator: 'In', values: ['b', 'a'] }, { key: 'x', operator: 'DoesNotExist' }] })).to.equal('app=api,team in (a,b),!x');
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null }, l: [3], $setElementOrder: [] })).to.deep.equal({ a: 1, b: { d: 3 }, l: [3] });
  });
});
