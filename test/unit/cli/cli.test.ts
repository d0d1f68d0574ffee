import { expect } from 'chai';
import { load } from 'js-yaml';
import { runCli } from '../../../src/cli/cli.js';
import { fakeDeps } from '../../support/fake-deps.js';

describe('runCli', () => {
  it('lists every command in --help with the exit codes', async () => {
    const deps = fakeDeps();
    expect(await runCli(['--help'], deps)).to.equal(0);
    for (const cmd of ['veth-peer', 'trace-svc', 'arp-check', 'mtu-probe', 'dns-check', 'cleanup', 'rbac']) expect(deps.out()).to.contain(`kubectl netdiag ${cmd}`);
    expect(deps.out()).to.contain('130  interrupted');
  });

  it('shows examples written as kubectl netdiag in each command help', async () => {
    const deps = fakeDeps();
    await runCli(['veth-peer', '--help'], deps);
    expect(deps.out()).to.match(/Examples:\n\s+kubectl netdiag veth-peer web-1/);
  });

  it('answers usage errors with one error line, a hint and exit 2, never a stack', async () => {
    for (const argv of [['bogus'], ['veth-peer'], ['veth-peer', 'web', '--node', 'x'], ['veth-peer', 'web', '-o', 'xml'], ['veth-peer', '--no-such-flag', 'x'], ['veth-peer', '$(touch /tmp/x)']]) {
      const deps = fakeDeps();
      expect(await runCli(argv, deps), argv.join(' ')).to.equal(2);
      expect(deps.err(), argv.join(' ')).to.match(/^error: [^\n]+\n(hint: [^\n]+\n)?$/);
      expect(deps.out()).to.equal('');
    }
  });

  it('veth-peer --node repeated reads each node and its pods; every name is checked', async () => {
    const asked: string[] = [];
    const api = {
      server: 'https://fake:6443',
      defaultNamespace: 'default',
      readNode: async (name: string) => (asked.push(`node ${name}`), { metadata: { name, labels: { 'kubernetes.io/os': 'linux' } } }),
      listPods: async (q: { fieldSelector?: string }) => (asked.push(`pods ${q.fieldSelector}`), []),
    } as unknown as import('../../../src/kube/cluster-api.js').ClusterApi;
    const deps = fakeDeps({ api });
    expect(await runCli(['veth-peer', '--node', 'node-a', '--node', 'node-b'], deps)).to.equal(2);
    expect(asked.sort()).to.deep.equal(['node node-a', 'node node-b', 'pods spec.nodeName=node-a', 'pods spec.nodeName=node-b']);
    expect(deps.err()).to.match(/^error: node node-[ab] runs no pods\n/);
    const bad = fakeDeps({ api });
    expect(await runCli(['veth-peer', '--node', 'node-a', '--node', 'node;b'], bad)).to.equal(2);
    expect(bad.err()).to.match(/^error: invalid node name/);
  });

  it('refuses smoke --matrix flags that are out of range or without --matrix, with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['smoke', '--attempts', '3'], /--attempts needs --matrix/],
      [['smoke', '--matrix', '--attempts', '11'], /invalid --attempts "11"/],
      [['smoke', '--matrix', '--matrix-limit', '0'], /invalid --matrix-limit "0"/],
      [['smoke', '--matrix', '--service', 'web'], /--service takes NAMESPACE\/SERVICE/],
      [['smoke', '--matrix', '--pod', 'default/web-1'], /not --matrix/],
    ];
    for (const [argv, message] of cases) {
      const deps = fakeDeps();
      expect(await runCli(argv, deps), argv.join(' ')).to.equal(2);
      expect(deps.err(), argv.join(' ')).to.match(message);
      expect(deps.out()).to.equal('');
    }
  });

  it('exits 3 with a clear sentence when the cluster cannot be reached', async () => {
    const deps = fakeDeps();
    deps.connect = async () => {
      const { UserError } = await import('../../../src/errors.js');
      throw new UserError('cannot reach the API server at https://127.0.0.1:1: connect ECONNREFUSED', { exitCode: 3 });
    };
    expect(await runCli(['veth-peer', 'web-1'], deps)).to.equal(3);
    expect(deps.err()).to.equal('error: cannot reach the API server at https://127.0.0.1:1: connect ECONNREFUSED\n');
  });

  it('prints least-privilege RBAC that parses as Kubernetes objects', async () => {
    const deps = fakeDeps();
    expect(await runCli(['rbac', '--probe-namespace', 'netdiag', '--subject', 'serviceaccount:ci/netdiag'], deps)).to.equal(0);
    const docs = deps.out().split('---\n').map((d) => load(d) as { kind: string; metadata: { namespace?: string }; rules?: Array<{ resources: string[]; verbs: string[] }> });
    expect(docs.map((d) => d.kind)).to.deep.equal(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    expect(docs[2]!.metadata.namespace).to.equal('netdiag');
    expect(docs[0]!.rules!.flatMap((r) => r.verbs)).to.not.include('create');
    expect(docs[2]!.rules).to.deep.include({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] });
  });

  it('grants conn-check NetworkPolicies and namespaces read-only, and says why above each rule', async () => {
    const deps = fakeDeps();
    expect(await runCli(['rbac', '--subject', 'user:alice'], deps)).to.equal(0);
    const yaml = deps.out();
    const reader = load(yaml.split('---\n')[0]!) as { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> };
    expect(reader.rules).to.deep.include({ apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list'] });
    expect(reader.rules).to.deep.include({ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] });
    expect(yaml).to.match(/# conn-check: the NetworkPolicies that select either end of the flow\n\s+- apiGroups:\n\s+- networking\.k8s\.io\n/);
    expect(yaml).to.match(/# [^\n]*conn-check: namespace labels[^\n]*\n\s+- apiGroups:\n\s+- ''\n\s+resources:\n\s+- namespaces\n/);
    // The comments change nothing: the YAML parses to exactly the objects -o json prints.
    const json = fakeDeps();
    expect(await runCli(['rbac', '--subject', 'user:alice', '-o', 'json'], json)).to.equal(0);
    const items = (JSON.parse(json.out()) as { items: unknown[] }).items;
    const docs = yaml.split('---\n').map((d) => load(d));
    expect(docs).to.have.length(items.length);
    expect(docs).to.deep.equal(items);
  });
});
