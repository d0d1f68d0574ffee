// smoke --matrix through the real kubectl binary against the lab: every node pair and the Service
// from every node, connects made from the pods' own namespaces in the kernel; a DROP rule put into
// one node's FORWARD chain for its pod's port fails exactly the pairs into that pod. The JUnit file is parsed
// by a real XML parser (python3's ElementTree).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropForwardedToPod } from '../../lab/lab-faults.js';
import { labState, probePodsLeft, runPlugin, skipUnlessLab } from '../support/lab-harness.js';

interface JunitCase {
  classname: string;
  name: string;
  failure: { type: string; message: string } | null;
  error: string | null;
  skipped: string | null;
}

function parseJunit(file: string): { tests: number; failures: number; cases: JunitCase[] } {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
def case(c):
    f = c.find('failure'); e = c.find('error'); s = c.find('skipped')
    return {'classname': c.get('classname'), 'name': c.get('name'),
            'failure': None if f is None else {'type': f.get('type'), 'message': f.get('message')},
            'error': None if e is None else e.get('message'), 'skipped': None if s is None else s.get('message')}
print(json.dumps({'tests': int(root.get('tests')), 'failures': int(root.get('failures')),
  'cases': [case(c) for s in root.findall('testsuite') for c in s.findall('testcase')]}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

interface MatrixJson {
  kind: string;
  nodes: string[];
  sampled: boolean;
  possiblePairs: number;
  service: { namespace: string; name: string } | null;
  results: Array<{ kind: 'pod' | 'service'; sourceNode: string; source: string; destinationNode: string | null; destination: string; status: string; reason: string | null; detail: string; explanation?: string }>;
  findings: Array<{ code: string; severity: string }>;
}

// team-a/api's only backend (api-1) is not a matrix destination: the fault below cannot touch it.
const SERVICE = 'team-a/api';

describe('e2e: kubectl netdiag smoke --matrix', function () {
  this.timeout(180_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('connects every node pair and the Service from every node on the healthy lab, exit 0', async () => {
    const junit = join(mkdtempSync(join(tmpdir(), 'netdiag-matrix-')), 'matrix.xml');
    const run = await runPlugin(['smoke', '--matrix', '--service', SERVICE, '--junit', junit, '-o', 'json'], 170_000);
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as MatrixJson;
    expect(report.kind).to.equal('SmokeMatrixReport');
    const nodes = labState().nodes.map((n) => n.name).sort();
    expect(report.nodes).to.deep.equal(nodes);
    const pods = report.results.filter((r) => r.kind === 'pod');
    expect(pods).to.have.length(nodes.length * nodes.length);
    expect(report.sampled).to.equal(false);
    expect(new Set(pods.map((r) => `${r.sourceNode}>${r.destinationNode}`)).size).to.equal(9);
    const services = report.results.filter((r) => r.kind === 'service');
    expect(services.map((r) => r.sourceNode).sort()).to.deep.equal(nodes);
    expect(report.results.filter((r) => r.status !== 'ok').map((r) => `${r.source} -> ${r.destination}: ${r.detail}`)).to.deep.equal([]);
    const parsed = parseJunit(junit);
    expect(parsed.tests).to.equal(12);
    expect(parsed.failures).to.equal(0);
    expect(new Set(parsed.cases.map((c) => c.classname))).to.deep.equal(new Set(nodes.map((n) => `netdiag.smoke-matrix.${n}`)));

    // The default output: no line per healthy pair, one summary line.
    const plain = await runPlugin(['smoke', '--matrix', '--service', SERVICE], 170_000);
    expect(plain.code, plain.stderr).to.equal(0);
    const lines = plain.stdout.trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^matrix: 3 nodes, .*9 pod pairs \(all of 9\): 9 ok, 0 failed; 3 Service checks to team-a\/api .*: 3 ok, 0 failed$/);
  });

  it('fails exactly the pairs into a pod whose node drops its forwarded traffic, exit 1, and passes again once restored', async () => {
    const victim = labState().pods.find((p) => p.namespace === 'default' && p.name === 'web-3')!;
    // Connections to its port die; its own outgoing connects (replies to an ephemeral port) live.
    const restore = await dropForwardedToPod('default/web-3', 8080);
    let restored = false;
    try {
      const junit = join(mkdtempSync(join(tmpdir(), 'netdiag-matrix-')), 'matrix.xml');
      const run = await runPlugin(['smoke', '--matrix', '--service', SERVICE, '--attempts', '2', '--junit', junit, '-o', 'json'], 170_000);
      expect(run.code, run.stderr).to.equal(1);
      const report = JSON.parse(run.stdout) as MatrixJson;
      const failed = report.results.filter((r) => r.status !== 'ok');
      expect(failed, JSON.stringify(failed)).to.have.length(3);
      for (const r of failed) {
        expect(r.status).to.equal('failed');
        expect(r.destination).to.equal('pod default/web-3');
        expect(r.destinationNode).to.equal(victim.nodeName);
        expect(r.reason).to.equal('timeout');
        // conn-check names the hop of each failed pair: the rule on the destination's node.
        expect(r.explanation ?? '', JSON.stringify(r)).to.match(new RegExp(`^conn-check: .*${victim.nodeName}.*FORWARD`));
      }
      expect(failed.map((r) => r.sourceNode).sort()).to.deep.equal(labState().nodes.map((n) => n.name).sort());
      expect(report.findings.filter((f) => f.code === 'smoke.pod-pair-failed')).to.have.length(3);
      const parsed = parseJunit(junit);
      const failedCases = parsed.cases.filter((c) => c.failure !== null);
      expect(failedCases).to.have.length(3);
      expect(parsed.failures).to.equal(3);
      for (const c of failedCases) {
        expect(c.failure!.type).to.equal('smoke.pod-pair-failed');
        expect(c.name).to.contain('pod default/web-3');
        expect(c.failure!.message).to.match(/^timeout: /);
      }

      // The default output names each failed pair on its own line, then the summary.
      const plain = await runPlugin(['smoke', '--matrix', '--service', SERVICE, '--attempts', '1'], 170_000);
      expect(plain.code, plain.stderr).to.equal(1);
      const lines = plain.stdout.trim().split('\n');
      // Each failed pair: its line, then the hop conn-check names; then the summary.
      expect(lines).to.have.length(7);
      const failedLines = lines.filter((l) => l.startsWith('FAILED'));
      expect(failedLines).to.have.length(3);
      for (const line of failedLines) expect(line).to.match(new RegExp(`^FAILED .* -> pod default/web-3 \\(${victim.nodeName}\\) ${victim.ip.replace(/\./g, '\\.')}:8080: timeout: `));
      const hopLines = lines.filter((l) => /^\s+hop: conn-check: /.test(l));
      expect(hopLines).to.have.length(3);
      for (const line of hopLines) expect(line).to.contain(victim.nodeName);
      expect(lines[6]).to.match(/6 ok, 3 failed/);

      await restore();
      restored = true;
      const again = await runPlugin(['smoke', '--matrix', '--service', SERVICE, '-o', 'json'], 170_000);
      expect(again.code, again.stderr).to.equal(0);
      const healthy = JSON.parse(again.stdout) as MatrixJson;
      expect(healthy.results).to.have.length(12);
      expect(healthy.results.filter((r) => r.status !== 'ok')).to.deep.equal([]);
    } finally {
      if (!restored) await restore();
    }
  });
});
