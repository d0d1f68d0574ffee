// smoke through the real kubectl binary: every check runs against the lab, and the JUnit file it
// writes is parsed by a real XML parser (python3's ElementTree), not matched as text.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setSysctl } from '../../lab/lab-faults.js';
import { probePodsLeft, runPlugin, skipUnlessLab } from '../support/lab-harness.js';

interface JunitCase {
  classname: string;
  name: string;
  failure: { type: string; message: string } | null;
  error: string | null;
}
interface JunitSuite {
  name: string;
  tests: number;
  failures: number;
  errors: number;
  cases: JunitCase[];
}

/** Parses JUnit XML with a real parser and returns its suites. */
function parseJunit(file: string): { tests: number; failures: number; suites: JunitSuite[] } {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
def case(c):
    f = c.find('failure'); e = c.find('error')
    return {'classname': c.get('classname'), 'name': c.get('name'),
            'failure': None if f is None else {'type': f.get('type'), 'message': f.get('message')},
            'error': None if e is None else e.get('message')}
print(json.dumps({'tests': int(root.get('tests')), 'failures': int(root.get('failures')),
  'suites': [{'name': s.get('name'), 'tests': int(s.get('tests')), 'failures': int(s.get('failures')),
              'errors': int(s.get('errors')), 'cases': [case(c) for c in s.findall('testcase')]} for s in root.findall('testsuite')]}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

describe('e2e: kubectl netdiag smoke', function () {
  this.timeout(180_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('runs every check on the healthy lab, exits 0 and writes JUnit with one suite per check', async () => {
    const junit = join(mkdtempSync(join(tmpdir(), 'netdiag-junit-')), 'smoke.xml');
    const run = await runPlugin(['smoke', '--junit', junit, '-o', 'json'], 170_000);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.not.match(/Warning/); // e.g. Node's MaxListenersExceededWarning for the shared Ctrl-C signal
    const report = JSON.parse(run.stdout) as { kind: string; checks: Array<{ check: string; error: string | null }> };
    expect(report.kind).to.equal('SmokeReport');
    expect(report.checks.map((c) => c.check).sort()).to.deep.equal(['dns-check', 'mtu-probe', 'trace-svc', 'veth-peer', 'veth-peer', 'veth-peer']);
    expect(report.checks.filter((c) => c.error !== null)).to.deep.equal([]);
    const parsed = parseJunit(junit);
    expect(parsed.suites.map((s) => s.name.split(' ')[0]).sort()).to.deep.equal(['dns-check', 'mtu-probe', 'trace-svc', 'veth-peer', 'veth-peer', 'veth-peer']);
    expect(parsed.failures).to.equal(0);
    for (const s of parsed.suites) expect(s.cases[0]!.name).to.match(/^ran: /);
  });

  it('fails the gate with ip_forward off on a node, naming the stable code in the JUnit failure', async () => {
    const restore = await setSysctl('lab-node-3', 'net.ipv4.ip_forward', 0);
    try {
      const junit = join(mkdtempSync(join(tmpdir(), 'netdiag-junit-')), 'smoke.xml');
      const run = await runPlugin(['smoke', '--junit', junit, '--fail-on', 'warn'], 170_000);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stdout).to.match(/node\.ip-forward-off/);
      const parsed = parseJunit(junit);
      const failures = parsed.suites.flatMap((s) => s.cases).filter((c) => c.failure !== null);
      expect(failures.map((c) => c.failure!.type)).to.include('node.ip-forward-off');
      expect(parsed.failures).to.equal(failures.length);
    } finally {
      await restore();
    }
  });
});
