// ClusterApi's NetworkPolicy and Namespace reads against an in-process HTTPS server that answers
// as the API server does: the paths and queries client-node sends, the objects it decodes, a 403
// mapped to the RBAC sentence, and one kept-alive connection for sequential calls.
import { expect } from 'chai';
import { createServer, type Server } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { buildKubeconfig, generateCertificates } from '../../../lab/api-server/certs.js';
import { createClusterApi, type ClusterApi } from '../../../src/kube/cluster-api.js';
import { evaluateNetworkPolicies } from '../../../src/checks/conn-check/network-policy.js';
import { UserError } from '../../../src/errors.js';

const policy = (namespace: string, name: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace, name, resourceVersion: '7' },
  spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }], ports: [{ port: 'http' }] }] },
});

const list = (kind: string, items: unknown[]) => ({ apiVersion: 'v1', kind, metadata: { resourceVersion: '9' }, items });

const ROUTES: Record<string, { status: number; body: unknown }> = {
  '/apis/networking.k8s.io/v1/networkpolicies': { status: 200, body: list('NetworkPolicyList', [policy('team-a', 'allow-b'), policy('team-c', 'other')]) },
  '/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies': { status: 200, body: list('NetworkPolicyList', [policy('team-a', 'allow-b')]) },
  '/apis/networking.k8s.io/v1/namespaces/locked/networkpolicies': {
    status: 403,
    body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'networkpolicies.networking.k8s.io is forbidden: User "bob" cannot list resource "networkpolicies" in API group "networking.k8s.io" in the namespace "locked"' },
  },
  '/api/v1/namespaces': { status: 200, body: list('NamespaceList', [{ metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a', team: 'a' } } }]) },
};

describe('ClusterApi: NetworkPolicies and Namespaces', function () {
  this.timeout(20000);
  let server: Server;
  let dir: string;
  let api: ClusterApi;
  const requests: string[] = [];
  const sockets: object[] = []; // the TLS socket each request came on

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'netdiag-cluster-api-'));
    const certs = await generateCertificates(join(dir, 'pki'));
    server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
      requests.push(`${req.method} ${req.url}`);
      sockets.push(req.socket);
      const route = ROUTES[new URL(req.url ?? '/', 'https://x').pathname];
      res.writeHead(route?.status ?? 404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(route?.body ?? { kind: 'Status', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const kc = new KubeConfig();
    kc.loadFromString(buildKubeconfig(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, certs.caCertPem, 'token-1'));
    api = createClusterApi(kc, { requestTimeoutMs: 5000 });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    requests.length = 0;
    sockets.length = 0;
  });

  it('lists NetworkPolicies in all namespaces and in one, decoded as client-node objects', async () => {
    const all = await api.listNetworkPolicies();
    expect(all.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)).to.deep.equal(['team-a/allow-b', 'team-c/other']);
    const one = await api.listNetworkPolicies('team-a');
    expect(one).to.have.length(1);
    expect(requests).to.deep.equal(['GET /apis/networking.k8s.io/v1/networkpolicies', 'GET /apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies']);
  });

  it('hands the evaluator a policy it reads correctly (the ingress `from` arrives as `_from`)', async () => {
    const [allowB] = await api.listNetworkPolicies('team-a');
    const dst = { kind: 'pod' as const, pod: { namespace: 'team-a', name: 'api-1', ip: '10.244.1.10', labels: {}, namespaceLabels: {}, containerPorts: [{ name: 'http', containerPort: 8080 }] } };
    const src = (team: string) => ({ kind: 'pod' as const, pod: { namespace: `team-${team}`, name: 'c', ip: '10.244.3.3', labels: {}, namespaceLabels: { team }, containerPorts: [] } });
    expect(evaluateNetworkPolicies([allowB!], src('b'), dst, 8080, 'TCP').ingress.allowedBy).to.have.length(1);
    expect(evaluateNetworkPolicies([allowB!], src('c'), dst, 8080, 'TCP').verdict).to.equal('denied');
  });

  it('lists namespaces with their labels and passes the label selector', async () => {
    const namespaces = await api.listNamespaces('team=a');
    expect(namespaces).to.have.length(1);
    expect(namespaces[0]!.metadata?.labels).to.deep.equal({ 'kubernetes.io/metadata.name': 'team-a', team: 'a' });
    expect(requests).to.deep.equal(['GET /api/v1/namespaces?labelSelector=team%3Da']);
  });

  it('maps a 403 to the RBAC sentence with its hint', async () => {
    let caught: unknown;
    try {
      await api.listNetworkPolicies('locked');
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(UserError);
    expect((caught as UserError).message).to.match(/^not allowed to list networkpolicies in namespace "locked": networkpolicies\.networking\.k8s\.io is forbidden/);
    expect((caught as UserError).hint).to.contain('kubectl netdiag rbac');
  });

  it('reuses one kept-alive connection for sequential calls', async () => {
    await api.listNetworkPolicies();
    await api.listNamespaces();
    await api.listNetworkPolicies('team-a');
    expect(sockets).to.have.length(3);
    expect(new Set(sockets).size).to.equal(1);
  });
});
