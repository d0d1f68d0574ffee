// Shell completion the way a shell gets it: `kubectl __complete netdiag ...` makes the real kubectl
// run bin/kubectl_complete-netdiag, which asks the plugin; names come from the lab's API server.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECONFIG, REPO, labState, skipUnlessLab } from '../support/lab-harness.js';

interface Completed {
  candidates: string[];
  directive: string | undefined;
  ms: number;
}

function kubectlComplete(words: string[], env: NodeJS.ProcessEnv = { KUBECONFIG }): Completed {
  const started = Date.now();
  const r = spawnSync('kubectl', ['__complete', 'netdiag', ...words], {
    env: { PATH: `${join(REPO, 'bin')}:${process.env.PATH ?? ''}`, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).to.equal(0);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  const directive = lines.at(-1)?.startsWith(':') ? lines.pop() : undefined;
  return { candidates: lines.map((l) => l.split('\t')[0]!), directive, ms: Date.now() - started };
}

describe('e2e: completion through kubectl', function () {
  this.timeout(120_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });

  it('offers the subcommands', () => {
    const c = kubectlComplete(['']);
    expect(c.candidates).to.include.members(['veth-peer', 'trace-svc', 'arp-check', 'mtu-probe', 'dns-check', 'node-check', 'node-diff', 'cleanup']);
    expect(c.directive).to.equal(':4');
    expect(kubectlComplete(['dn']).candidates).to.deep.equal(['dns-check']);
  });

  it("completes the context namespace's pods for the pod commands, not probe pods", () => {
    const pods = labState().pods.filter((p) => p.namespace === 'default').map((p) => p.name).sort();
    // (Which commands complete pods is covered by the unit tests; two here keep this quick.)
    for (const cmd of ['veth-peer', 'mtu-probe']) {
      expect(kubectlComplete([cmd, '']).candidates, cmd).to.deep.equal(pods);
    }
  });

  it('honours -n/--namespace on the line', () => {
    const state = labState();
    const inNs = (ns: string) => state.pods.filter((p) => p.namespace === ns).map((p) => p.name).sort();
    expect(kubectlComplete(['dns-check', '-n', 'team-b', '']).candidates).to.deep.equal(inNs('team-b'));
    expect(kubectlComplete(['--namespace=kube-system', 'veth-peer', 'core']).candidates).to.deep.equal(inNs('kube-system').filter((n) => n.startsWith('core')));
  });

  it('completes services for trace-svc and nodes for --node, node-check and node-diff', () => {
    const state = labState();
    const services = (ns: string) => state.services.filter((s) => s.namespace === ns).map((s) => s.name).sort();
    const nodes = state.nodes.map((n) => n.name).sort();
    expect(kubectlComplete(['trace-svc', '']).candidates).to.deep.equal(services('default'));
    expect(kubectlComplete(['trace-svc', '-n', 'kube-system', '']).candidates).to.deep.equal(services('kube-system'));
    expect(kubectlComplete(['veth-peer', '--node', '']).candidates).to.deep.equal(nodes);
    expect(kubectlComplete(['node-check', '']).candidates).to.deep.equal(nodes);
    expect(kubectlComplete(['node-diff', nodes[0]!, '']).candidates).to.deep.equal(nodes.slice(1));
  });

  it('completes -o values and flags without asking the cluster', () => {
    expect(kubectlComplete(['veth-peer', 'web-1', '-o', '']).candidates).to.deep.equal(['table', 'wide', 'json', 'yaml', 'dot']);
    expect(kubectlComplete(['mtu-probe', '--no-']).candidates).to.deep.equal(['--no-headers', '--no-probe']);
  });

  it('uses --kubeconfig and --context from the line when KUBECONFIG is not set', () => {
    const home = mkdtempSync(join(tmpdir(), 'netdiag-home-'));
    const context = (readFileSync(KUBECONFIG, 'utf8').match(/^current-context: (\S+)$/m) ?? [])[1]!;
    const c = kubectlComplete(['--kubeconfig', KUBECONFIG, '--context', context, 'trace-svc', 'we'], { HOME: home });
    const we = labState().services.filter((x) => x.namespace === 'default' && x.name.startsWith('we')).map((x) => x.name).sort();
    expect(we.length).to.be.greaterThan(1);
    expect(c.candidates).to.deep.equal(we);
    expect(kubectlComplete(['--kubeconfig', KUBECONFIG, '--context', ''], { HOME: home }).candidates).to.deep.equal([context]);
  });

  it('prints only the directive when the cluster cannot be asked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-badkc-'));
    const dead = join(dir, 'kubeconfig');
    writeFileSync(dead, readFileSync(KUBECONFIG, 'utf8').replace(/server: \S+/, 'server: https://127.0.0.1:1'));
    for (const [words, env] of [
      [['veth-peer', ''], { KUBECONFIG: dead }],
      [['veth-peer', '--context', 'no-such-context', ''], { KUBECONFIG }],
      [['--kubeconfig', join(dir, 'missing'), 'veth-peer', ''], {}],
    ] as Array<[string[], NodeJS.ProcessEnv]>) {
      const c = kubectlComplete(words, env);
      expect(c, words.join(' ')).to.deep.include({ candidates: [], directive: ':4' });
    }
  });
});
