// NetworkPolicy enforced for real on the lab's Calico-style nodes: every case of the shared case
// table is applied with the real kubectl against the lab API server, real traffic is sent in the
// kernel from the source's namespace, and the verdict must be the Kubernetes one; after
// `kubectl delete` the traffic must pass again. The drop is Felix's "Drop if no policies passed
// packet" rule (its counter moves), and the flannel-style node enforces nothing.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { dump as dumpYaml } from 'js-yaml';
import { DROP_NO_POLICY_COMMENT, endpointChainName } from '../../../lab/calico-policy.js';
import { execIn } from '../../../lab/lab-exec.js';
import { restoreKubeProxyRules } from '../../../lab/lab-faults.js';
import type { LabState } from '../../../lab/lab-state.js';
import { calicoVethName } from '../../../lab/lab-topology.js';
import { labPaths } from '../../../lab/netns-lab.js';
import { NETWORK_POLICY_CASES, type NetworkPolicyCase } from '../../fixtures/network-policy-cases.js';
import { dig, podByName, podNetns, requireLab } from './lab-network-helpers.js';

const run = promisify(execFile);
type Verdict = 'allowed' | 'denied';

// A fixed program: TCP connect to argv HOST PORT within 1.5 s; prints connected/refused/timeout.
const TCP_CONNECT_SCRIPT = `
const [host, port] = process.argv.slice(-2);
const s = require('node:net').connect({ host, port: Number(port) });
const done = (what) => { process.stdout.write(what); s.destroy(); process.exit(0); };
s.setTimeout(1500, () => done('timeout'));
s.on('connect', () => done('connected'));
s.on('error', (e) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'error ' + e.code));
`;

/** kubectl's JSON for a client-node model: the ingress peers are "from" on the wire. */
function wirePolicy(policy: V1NetworkPolicy): unknown {
  return JSON.parse(JSON.stringify(policy).replace(/"_from":/g, '"from":'));
}

describe('lab network: NetworkPolicy enforced on the Calico-style nodes', function () {
  this.timeout(60_000);
  let state: LabState;
  let cacheDir: string;

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const kubeconfig = join(labPaths().labDir, 'kubeconfig');
    const child = run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { env: { ...process.env, KUBECONFIG: '' }, timeout: 30_000 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    return (await child).stdout;
  };

  // A YAML stream, as a manifest file with several policies.
  const manifest = (policies: V1NetworkPolicy[]): string => policies.map((p) => dumpYaml(wirePolicy(p))).join('---\n');
  const applyPolicies = (policies: V1NetworkPolicy[]): Promise<string> => kubectl(['apply', '-f', '-'], manifest(policies));
  const deletePolicies = (policies: V1NetworkPolicy[]): Promise<string> => kubectl(['delete', '-f', '-', '--wait=false'], manifest(policies));

  const sourceNetns = (c: NetworkPolicyCase): string => {
    if ('node' in c.from) {
      const name = c.from.node;
      const node = state.nodes.find((n) => n.name === name);
      if (!node) throw new Error(`no lab node ${name}`);
      return node.netns;
    }
    return podNetns(podByName(state, c.from.pod));
  };

  /** Real traffic from the source's namespace: a TCP connect, or a DNS query over UDP. */
  const probe = async (c: Pick<NetworkPolicyCase, 'from' | 'to' | 'port' | 'protocol'>): Promise<Verdict> => {
    const netns = sourceNetns(c as NetworkPolicyCase);
    const ip = podByName(state, c.to.pod).ip;
    if (c.protocol === 'UDP') {
      const r = await dig(netns, [`@${ip}`, '-p', String(c.port), '+time=1', `kubernetes.default.svc.${state.clusterDomain}`]);
      return r.exitCode === 0 && /status: NOERROR/.test(r.stdout) ? 'allowed' : 'denied';
    }
    const r = await execIn(netns, process.execPath, ['-e', TCP_CONNECT_SCRIPT, ip, String(c.port)], { allowFailure: true, timeoutMs: 10_000 });
    const outcome = r.stdout.trim();
    if (outcome === 'connected' || outcome === 'refused') return 'allowed'; // refused: the SYN reached the pod
    if (outcome === 'timeout') return 'denied';
    throw new Error(`TCP probe ${c.to.pod}:${c.port} failed oddly: ${outcome} ${r.stderr.trim()}`);
  };

  const dropRuleCounter = async (netns: string, chain: string): Promise<number> => {
    const r = await execIn(netns, 'iptables-save', ['-c', '-t', 'filter']);
    const lines = r.stdout.split('\n').filter((l) => l.includes(`-A ${chain} `) && l.includes(`"${DROP_NO_POLICY_COMMENT}"`));
    expect(lines, `one "${DROP_NO_POLICY_COMMENT}" rule in ${chain}`).to.have.length(1);
    const m = /^\[(\d+):\d+\]/.exec(lines[0] ?? '');
    if (!m) throw new Error(`no counter on ${lines[0]}`);
    return Number(m[1]);
  };

  before(async function () {
    state = requireLab(this);
    cacheDir = mkdtempSync(join(tmpdir(), 'netdiag-netpol-kube-cache-'));
    await kubectl(['delete', 'networkpolicies', '--all', '--all-namespaces', '--wait=false']);
  });

  afterEach(async function () {
    if (state) await kubectl(['delete', 'networkpolicies', '--all', '--all-namespaces', '--wait=false']);
  });

  it('the case table has the kinds the conformance suites use', () => {
    expect(NETWORK_POLICY_CASES.length).to.be.at.least(22);
    const verdicts = new Set(NETWORK_POLICY_CASES.map((c) => c.expect));
    expect([...verdicts].sort()).to.deep.equal(['allowed', 'denied']);
    expect(NETWORK_POLICY_CASES.some((c) => c.protocol === 'UDP')).to.equal(true);
    expect(NETWORK_POLICY_CASES.some((c) => 'node' in c.from)).to.equal(true);
  });

  it('the healthy lab (no policy) allows every pair the cases use', async () => {
    const pairs = new Map<string, NetworkPolicyCase>();
    for (const c of NETWORK_POLICY_CASES) pairs.set(JSON.stringify([c.from, c.to, c.port, c.protocol]), c);
    expect(pairs.size).to.be.greaterThan(5);
    const results = await Promise.all([...pairs.values()].map(async (c) => ({ pair: `${JSON.stringify(c.from)} -> ${c.to.pod}:${c.port}/${c.protocol}`, verdict: await probe(c) })));
    expect(results).to.have.length(pairs.size);
    expect(results.filter((r) => r.verdict !== 'allowed').map((r) => r.pair)).to.deep.equal([]);
  });

  for (const c of NETWORK_POLICY_CASES) {
    it(`${c.expect}: ${c.name}`, async () => {
      expect(c.policies.length).to.be.greaterThan(0);
      await applyPolicies(c.policies);
      expect(await probe(c), 'with the policies applied').to.equal(c.expect);
      await deletePolicies(c.policies);
      expect(await probe(c), 'after kubectl delete').to.equal('allowed');
    });
  }

  it('a denied packet is counted by Felix\'s "Drop if no policies passed packet" rule of the destination\'s cali-tw- chain', async () => {
    const denied = NETWORK_POLICY_CASES.find((c) => c.expect === 'denied' && c.to.pod === 'api-1' && c.protocol === 'TCP');
    if (!denied) throw new Error('the case table has no denied TCP case towards api-1');
    const api = podByName(state, 'api-1');
    const node = state.nodes.find((n) => n.name === api.nodeName);
    if (!node) throw new Error('api-1 has no node');
    const chain = endpointChainName('to', calicoVethName(api.namespace, api.name));
    await applyPolicies(denied.policies);
    const before = await dropRuleCounter(node.netns, chain);
    expect(await probe(denied)).to.equal('denied');
    const after = await dropRuleCounter(node.netns, chain);
    expect(after - before, 'SYN and its retransmissions dropped there').to.be.at.least(1);
  });

  it('a whole-table restore of a Calico node (as the fault helpers do) keeps the applied policies', async () => {
    const denied = NETWORK_POLICY_CASES.find((c) => c.expect === 'denied' && c.to.pod === 'api-1' && 'pod' in c.from && c.from.pod === 'client-1');
    if (!denied) throw new Error('the case table has no denied client-1 -> api-1 case');
    const api = podByName(state, 'api-1');
    await applyPolicies(denied.policies);
    await restoreKubeProxyRules(api.nodeName);
    expect(await probe(denied)).to.equal('denied');
    await deletePolicies(denied.policies);
    expect(await probe(denied)).to.equal('allowed');
  });

  it('the flannel-style node has no Calico chains and enforces nothing', async () => {
    const node3 = state.nodes.find((n) => n.cni === 'flannel');
    if (!node3) throw new Error('no flannel-style node in the lab');
    await applyPolicies([{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-all-ingress', namespace: 'default' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } }]);
    const saved = await execIn(node3.netns, 'iptables-save', ['-t', 'filter']);
    expect(saved.stdout).to.not.include('cali-');
    const web3 = podByName(state, 'web-3');
    expect(web3.nodeName).to.equal(node3.name);
    expect(await probe({ from: { namespace: 'team-b', pod: 'client-1' }, to: { namespace: 'default', pod: 'web-3' }, port: 8080, protocol: 'TCP' })).to.equal('allowed');
  });

  it('kubectl lists the applied policies as the real server\'s table', async () => {
    const c = NETWORK_POLICY_CASES.find((x) => x.name.startsWith('policies are unioned'));
    if (!c) throw new Error('no union case');
    await applyPolicies(c.policies);
    const out = await kubectl(['get', 'netpol', '-n', 'team-a']);
    const lines = out.trim().split('\n');
    expect(lines).to.have.length(3);
    expect(lines[0]).to.match(/^NAME\s+POD-SELECTOR\s+AGE$/);
    expect(lines[1]).to.match(/^api-from-team-b\s+app=api\s+\d+s$/);
    expect(lines[2]).to.match(/^deny-all-ingress\s+<none>\s+\d+s$/);
  });
});
