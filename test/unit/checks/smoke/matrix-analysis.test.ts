// smoke --matrix planning and reading: which pod stands for each node, which pairs are tried (all,
// or a deterministic sample that keeps every node as source and destination), how the node
// script's connect and ping output reads, and the JUnit a CI test tab gets (parsed by python3's
// ElementTree, as the smoke e2e test does).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  analyzeMatrix,
  checksPerCall,
  matrixChecks,
  matrixRequests,
  pickMatrixPods,
  planPodPairs,
  readConnect,
  readPing,
  type MatrixPod,
  type MatrixService,
} from '../../../../src/checks/smoke/matrix-analysis.js';
import { renderMatrixJunit, renderSmokeMatrix } from '../../../../src/checks/smoke/matrix-render.js';
import { readGlobalOptions } from '../../../../src/cli/global-options.js';
import { paint } from '../../../../src/render/colour.js';
import type { NodeCollection } from '../../../../src/probe/probe-run.js';
import type { RawSection } from '../../../../src/probe/sections.js';

const nodeNames = (n: number) => Array.from({ length: n }, (_, i) => `node-${String(i + 1).padStart(4, '0')}`);

function pod(name: string, nodeName: string, over: Partial<MatrixPod> = {}): MatrixPod {
  return { namespace: 'default', name, nodeName, ip: `10.0.${nodeName.length}.${name.length}`, containerId: null, tcpPort: 8080, ready: true, hostNetwork: false, probePod: false, deleting: false, ...over };
}

describe('smoke --matrix: pair planning', () => {
  it('takes every ordered pair, same-node pairs included, when they fit the limit', () => {
    const plan = planPodPairs(['c', 'a', 'b'], 400);
    expect(plan.pairs).to.have.length(9);
    expect(plan.sampled).to.equal(false);
    expect(plan.possible).to.equal(9);
    expect(new Set(plan.pairs.map((p) => `${p.source}>${p.destination}`)).size).to.equal(9);
    expect(plan.pairs.filter((p) => p.source === p.destination).map((p) => p.source)).to.deep.equal(['a', 'b', 'c']);
  });

  for (const [n, limit] of [[1000, 400], [1000, 2500], [50, 400], [21, 100], [7, 10], [30, 899]] as const) {
    it(`samples ${n} nodes under --matrix-limit ${limit}: the limit (or the node count) exactly, no pair twice, every node source and destination`, () => {
      const nodes = nodeNames(n);
      const plan = planPodPairs(nodes, limit);
      const expected = Math.min(n * n, Math.max(limit, n));
      expect(plan.sampled).to.equal(expected < n * n);
      expect(plan.pairs).to.have.length(expected);
      expect(plan.possible).to.equal(n * n);
      expect(new Set(plan.pairs.map((p) => `${p.source}>${p.destination}`)).size).to.equal(expected);
      const sources = new Set(plan.pairs.map((p) => p.source));
      const destinations = new Set(plan.pairs.map((p) => p.destination));
      expect(sources.size).to.equal(n);
      expect(destinations.size).to.equal(n);
      // Spread evenly: no node is a destination more than once above the others.
      const asDestination = new Map<string, number>();
      for (const p of plan.pairs) asDestination.set(p.destination, (asDestination.get(p.destination) ?? 0) + 1);
      const counts = [...asDestination.values()];
      expect(Math.max(...counts) - Math.min(...counts)).to.be.at.most(1);
    });
  }

  it('is deterministic: the same pairs for the same nodes in any order', () => {
    const nodes = nodeNames(300);
    const shuffled = [...nodes].reverse().sort((a, b) => (a.charCodeAt(8) % 3) - (b.charCodeAt(8) % 3));
    const a = planPodPairs(nodes, 400);
    const b = planPodPairs(shuffled, 400);
    expect(a.pairs).to.have.length(400);
    expect(b.pairs).to.deep.equal(a.pairs);
  });

  it('includes cross-node and same-node pairs once every source has two destinations', () => {
    const plan = planPodPairs(nodeNames(100), 200);
    expect(plan.pairs).to.have.length(200);
    expect(plan.pairs.filter((p) => p.source === p.destination)).to.have.length(100);
  });

  it('raises a limit below the node count to the node count (one pair per node, to the next node)', () => {
    const plan = planPodPairs(nodeNames(10), 3);
    expect(plan.limit).to.equal(10);
    expect(plan.pairs).to.have.length(10);
    expect(plan.pairs.every((p) => p.source !== p.destination)).to.equal(true);
  });
});

describe('smoke --matrix: pod picks', () => {
  it('prefers a ready pod that listens, outside kube-system, and keeps a second one for the same-node pair', () => {
    const pods = [
      pod('coredns', 'n1', { namespace: 'kube-system' }),
      pod('web-1', 'n1'),
      pod('client', 'n1', { tcpPort: null }),
      pod('kube-proxy', 'n1', { hostNetwork: true }),
      pod('sleeper', 'n2', { tcpPort: null }),
      pod('dying', 'n2', { deleting: true }),
      pod('probe', 'n2', { probePod: true }),
    ];
    const { picks, skipped } = pickMatrixPods(['n2', 'n1'], pods);
    expect(picks.map((p) => [p.nodeName, p.primary.name, p.peer?.name ?? null])).to.deep.equal([
      ['n1', 'web-1', 'coredns'],
      ['n2', 'sleeper', null],
    ]);
    expect(skipped).to.deep.equal([]);
  });

  it('skips, with the reason, a node without a usable pod', () => {
    const pods = [pod('kube-proxy', 'n1', { hostNetwork: true }), pod('web', 'n2', { ready: false }), pod('v6', 'n3', { ip: null })];
    const { picks, skipped } = pickMatrixPods(['n1', 'n2', 'n3', 'n4'], pods);
    expect(picks).to.have.length(0);
    expect(skipped).to.have.length(4);
    expect(skipped[0]).to.deep.include({ nodeName: 'n1' });
    expect(skipped[0]!.reason).to.match(/only hostNetwork or probe pods/);
    expect(skipped[1]!.reason).to.match(/none of its 1 pod-network pod\(s\) is ready/);
    expect(skipped[2]!.reason).to.match(/IPv4/);
    expect(skipped[3]!.reason).to.match(/no pod on the pod network/);
  });
});

const section = (name: string, stdout: string, exitCode = 0): RawSection => ({ name, stdout, stderr: '', exitCode });

describe('smoke --matrix: reading connects and pings', () => {
  it('reads nc -v results attempt by attempt and names the reason', () => {
    const ok = readConnect(section('c', 'attempt 1 rc=0 Connection to 10.0.0.1 8080 port [tcp/*] succeeded!\nattempt 2 rc=0 Connection to 10.0.0.1 8080 port [tcp/*] succeeded!\n'), 2);
    expect(ok).to.include({ status: 'ok', succeeded: 2, reason: null });
    const timeout = readConnect(section('c', 'attempt 1 rc=0 Connection to x succeeded!\nattempt 2 rc=1 nc: connect to 10.0.0.1 port 8080 (tcp) timed out: Operation now in progress\n'), 2);
    expect(timeout).to.include({ status: 'failed', succeeded: 1, reason: 'timeout' });
    expect(timeout.detail).to.match(/^1\/2 connected; connect to 10\.0\.0\.1 port 8080/);
    expect(readConnect(section('c', 'attempt 1 rc=1 nc: connect to 10.0.0.1 port 8080 (tcp) failed: Connection refused\n'), 1).reason).to.equal('refused');
    expect(readConnect(section('c', 'attempt 1 rc=1 nc: connect to 10.0.0.1 port 8080 (tcp) failed: No route to host\n'), 1).reason).to.equal('no route');
    expect(readConnect(section('c', 'no namespace for this pod\n', 1), 1)).to.include({ status: 'not-run', detail: 'no namespace for this pod' });
    expect(readConnect(undefined, 3).status).to.equal('not-run');
  });

  it('reads ping statistics', () => {
    const ok = readPing(section('p', 'PING 10.0.0.1 (10.0.0.1) 56(84) bytes of data.\n64 bytes from 10.0.0.1: icmp_seq=1 ttl=63 time=0.1 ms\n\n--- 10.0.0.1 ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n'), 1);
    expect(ok).to.include({ status: 'ok', succeeded: 1 });
    const lost = readPing(section('p', '--- 10.0.0.1 ping statistics ---\n3 packets transmitted, 0 received, 100% packet loss, time 2040ms\n', 1), 3);
    expect(lost).to.include({ status: 'failed', reason: 'timeout', succeeded: 0 });
    const unreachable = readPing(section('p', 'From 10.0.0.254 icmp_seq=1 Destination Host Unreachable\n--- 10.0.0.1 ping statistics ---\n1 packets transmitted, 0 received, +1 errors, 100% packet loss\n', 1), 1);
    expect(unreachable.reason).to.equal('no route');
  });

  it('splits a node\'s checks into calls that each stay within --timeout, naming the source pods in each', () => {
    expect(checksPerCall(120, 3)).to.equal(13);
    expect(checksPerCall(5, 10)).to.equal(1);
    const pods = ['a', 'b', 'c'].map((n) => pod(`web-${n}`, n));
    const picks = pickMatrixPods(['a', 'b', 'c'], pods).picks;
    const checks = matrixChecks(picks, planPodPairs(['a', 'b', 'c'], 400), null).filter((c) => c.sourceNode === 'a');
    const calls = matrixRequests(checks, 2, 2);
    expect(calls).to.have.length(1); // the same-node pair has no second pod: skipped, not sent
    expect(calls[0]!.map((r) => r.kind)).to.deep.equal(['podpid', 'probe', 'probe']);
  });
});

const service: MatrixService = { namespace: 'default', name: 'web', address: '10.96.0.10', port: 80, readyEndpoints: 3 };

function labLikeReport(failInto: string | null, noNamespaceOn: string | null = null) {
  const nodes = ['n1', 'n2', 'n3'];
  const pods = nodes.flatMap((n, i) => [pod(`web-${i + 1}`, n, { ip: `10.244.${i + 1}.1` }), pod(`side-${i + 1}`, n, { ip: `10.244.${i + 1}.2`, tcpPort: null })]);
  const { picks, skipped } = pickMatrixPods([...nodes, 'n4'], pods);
  const plan = planPodPairs(picks.map((p) => p.nodeName), 400);
  const checks = matrixChecks(picks, plan, service);
  const collections: NodeCollection[] = picks.map((p) => {
    const token = 'tok';
    const mine = checks.filter((c) => c.sourceNode === p.nodeName);
    const body = mine.map((c) => {
      const name = `probe/${c.sourceKey}/tcp/${c.address}/${c.port}`;
      if (p.nodeName === noNamespaceOn) return `@@NETDIAG ${token} BEGIN ${name}\nno namespace for this pod\n@@NETDIAG ${token} END ${name} rc=1\n`;
      const bad = failInto !== null && c.address === failInto;
      const line = (i: number) => (bad ? `attempt ${i} rc=1 nc: connect to ${c.address} port ${c.port} (tcp) timed out: Operation now in progress` : `attempt ${i} rc=0 Connection to ${c.address} ${c.port} port [tcp/*] succeeded!`);
      return `@@NETDIAG ${token} BEGIN ${name}\n${line(1)}\n${line(2)}\n\n@@NETDIAG ${token} END ${name} rc=0\n`;
    });
    return { nodeName: p.nodeName, ok: true, token, raw: `${body.join('')}@@NETDIAG ${token} DONE\n`, podName: `probe-${p.nodeName}`, durationMs: 1 };
  });
  return analyzeMatrix({ picks, skipped, plan, service, serviceNote: null, attempts: 2, checks }, collections);
}

function parseJunit(text: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'netdiag-matrix-junit-')), 'm.xml');
  writeFileSync(file, text);
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
def case(c):
    f = c.find('failure'); s = c.find('skipped')
    return {'classname': c.get('classname'), 'name': c.get('name'),
            'failure': None if f is None else {'type': f.get('type'), 'message': f.get('message'), 'text': f.text},
            'skipped': None if s is None else s.get('message')}
print(json.dumps({'tests': int(root.get('tests')), 'failures': int(root.get('failures')), 'skipped': int(root.get('skipped')),
  'suites': [{'name': s.get('name'), 'tests': int(s.get('tests')), 'failures': int(s.get('failures')), 'cases': [case(c) for c in s.findall('testcase')]} for s in root.findall('testsuite')]}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as {
    tests: number;
    failures: number;
    skipped: number;
    suites: Array<{ name: string; tests: number; failures: number; cases: Array<{ classname: string; name: string; failure: { type: string; message: string; text: string } | null; skipped: string | null }> }>;
  };
}

describe('smoke --matrix: report, output and JUnit', () => {
  it('fails exactly the pairs into the unreachable pod, with one finding each', () => {
    const report = labLikeReport('10.244.3.1');
    expect(report.results).to.have.length(12);
    const failed = report.results.filter((r) => r.status === 'failed');
    expect(failed).to.have.length(3);
    expect(failed.every((r) => r.destination === 'pod default/web-3' && r.reason === 'timeout')).to.equal(true);
    expect(report.findings.filter((f) => f.code === 'smoke.pod-pair-failed')).to.have.length(3);
    expect(report.findings.filter((f) => f.code === 'smoke.node-skipped').map((f) => f.subject)).to.deep.equal(['node n4']);
    // The same-node pair goes from the node's second pod.
    const same = report.results.find((r) => r.kind === 'pod' && r.sourceNode === 'n3' && r.destinationNode === 'n3')!;
    expect(same.source).to.equal('pod default/side-3');
  });

  it('reports checks a probe could not try (the source pod\'s namespace not found) as not run, with an error finding', () => {
    const report = labLikeReport(null, 'n2');
    const notRun = report.results.filter((r) => r.status === 'not-run');
    expect(notRun).to.have.length(4);
    expect(notRun.every((r) => r.sourceNode === 'n2' && r.detail === 'no namespace for this pod')).to.equal(true);
    const findings = report.findings.filter((f) => f.code === 'smoke.check-failed');
    expect(findings).to.have.length(4);
    expect(findings.every((f) => f.severity === 'error')).to.equal(true);
    expect(report.results.filter((r) => r.status === 'failed')).to.deep.equal([]);
  });

  it('prints one line per failure and a summary by default, every check with -o wide', () => {
    const report = labLikeReport('10.244.3.1');
    report.results.find((r) => r.status === 'failed')!.explanation = 'dropped on node n3 by filter/FORWARD rule 1';
    const plain = renderSmokeMatrix(report, readGlobalOptions({ output: 'table' }), paint(false)).trimEnd().split('\n');
    expect(plain).to.have.length(3 + 1 + 1 + 1); // 3 failures, one hop line, the skipped node, the summary
    expect(plain.filter((l) => l.startsWith('FAILED '))).to.have.length(3);
    expect(plain).to.include('        hop: dropped on node n3 by filter/FORWARD rule 1');
    expect(plain[plain.length - 1]).to.match(/^matrix: 3 nodes, 2 attempt\(s\) per check; 9 pod pairs \(all of 9\): 6 ok, 3 failed; 3 Service checks to default\/web 10\.96\.0\.10:80: 3 ok, 0 failed; 1 node\(s\) skipped \(no usable pod\): n4$/);
    const wide = renderSmokeMatrix(report, readGlobalOptions({ output: 'wide' }), paint(false)).trimEnd().split('\n');
    expect(wide).to.have.length(1 + 12 + 1 + 1); // header, 12 checks, the skipped node, the summary
  });

  it('names a few skipped nodes by default, all of them with -o wide', () => {
    const report = labLikeReport(null);
    report.skipped = Array.from({ length: 8 }, (_, i) => ({ nodeName: `empty-${i}`, reason: 'no pod on the pod network runs here (only hostNetwork or probe pods)' }));
    const plain = renderSmokeMatrix(report, readGlobalOptions({ output: 'table' }), paint(false)).trimEnd().split('\n');
    expect(plain).to.have.length(5 + 1 + 1);
    expect(plain[5]).to.equal('SKIPPED 3 more node(s); -o wide lists them all');
    expect(plain[6]).to.match(/8 node\(s\) skipped \(no usable pod\): empty-0, empty-1, empty-2, empty-3, empty-4, \.\.\.$/);
    const wide = renderSmokeMatrix(report, readGlobalOptions({ output: 'wide' }), paint(false)).split('\n').filter((l) => l.startsWith('SKIPPED node '));
    expect(wide).to.have.length(8);
  });

  it('writes one JUnit case per pair and Service check, classname per source node, failures typed by code', () => {
    const parsed = parseJunit(renderMatrixJunit(labLikeReport('10.244.3.1')));
    expect(parsed.tests).to.equal(13); // 9 pairs, 3 Service checks, 1 skipped node
    expect(parsed.failures).to.equal(3);
    expect(parsed.skipped).to.equal(1);
    const fromNodes = parsed.suites.filter((s) => s.name.startsWith('matrix from node '));
    expect(fromNodes.map((s) => s.name)).to.deep.equal(['matrix from node n1', 'matrix from node n2', 'matrix from node n3']);
    for (const s of fromNodes) {
      expect(s.cases).to.have.length(4);
      expect(new Set(s.cases.map((c) => c.classname))).to.deep.equal(new Set([`netdiag.smoke-matrix.${s.name.slice('matrix from node '.length)}`]));
    }
    const failed = parsed.suites.flatMap((s) => s.cases).filter((c) => c.failure !== null);
    expect(failed).to.have.length(3);
    for (const c of failed) {
      expect(c.failure!.type).to.equal('smoke.pod-pair-failed');
      expect(c.failure!.message).to.match(/^timeout: 0\/2 connected; connect to 10\.244\.3\.1 port 8080/);
      expect(c.name).to.match(/^pod default\/web-3 \(n3\) 10\.244\.3\.1:8080 from pod /);
    }
    const healthy = parseJunit(renderMatrixJunit(labLikeReport(null)));
    expect(healthy.failures).to.equal(0);
  });
});
