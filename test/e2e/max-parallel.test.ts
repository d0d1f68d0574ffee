// The client side of big clusters on the lab: --max-parallel bounds the probe pods alive, counted
// through the API by a watch of our own; and smoke's --junit on a run that cannot diagnose.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECONFIG, probePodsLeft, runPlugin, runPluginWith, setFaults, skipUnlessLab } from '../support/lab-harness.js';

/** Watches probe pods through kubectl while `during` runs; returns the most that existed at once. */
async function peakProbePods(during: () => Promise<void>): Promise<{ peak: number; added: number }> {
  const watcher = spawn('kubectl', [
    '--kubeconfig', KUBECONFIG, 'get', 'pods', '-A', '-l', 'app.kubernetes.io/managed-by=kubectl-netdiag',
    '--watch', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.namespace}/{.object.metadata.name}{"\\n"}',
  ]);
  const alive = new Set<string>();
  let peak = 0;
  let added = 0;
  let buffered = '';
  watcher.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [type, name] = line.trim().split(' ');
      if (!type || !name) continue;
      if (type === 'ADDED') {
        added += 1;
        alive.add(name);
      }
      if (type === 'DELETED') alive.delete(name);
      peak = Math.max(peak, alive.size);
    }
  });
  // The watch is open once kubectl has printed nothing for a moment: no pods exist yet.
  await new Promise((r) => setTimeout(r, 700));
  try {
    await during();
    await new Promise((r) => setTimeout(r, 500)); // the last DELETED events
  } finally {
    watcher.kill();
  }
  return { peak, added };
}

function parseJunit(file: string): { tests: number; failures: number; cases: Array<{ name: string; failure: { type: string; message: string } | null }> } {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = []
for c in root.iter('testcase'):
    f = c.find('failure')
    cases.append({'name': c.get('name'), 'failure': None if f is None else {'type': f.get('type'), 'message': f.get('message')}})
print(json.dumps({'tests': int(root.get('tests')), 'failures': int(root.get('failures')), 'cases': cases}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

describe('e2e: bounded fan-out and CI reports', function () {
  this.timeout(180_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    setFaults({});
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('node-check --all --max-parallel 1 has at most one probe pod alive and still checks every node', async () => {
    let run = { code: -1, stdout: '', stderr: '' };
    const { peak, added } = await peakProbePods(async () => {
      run = await runPlugin(['node-check', '--all', '--max-parallel', '1', '-o', 'json']);
    });
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as { nodes: Array<{ nodeName?: string; name?: string }> };
    expect(added, 'one probe pod per lab node').to.equal(3);
    expect(peak).to.equal(1);
    expect(report.nodes).to.have.length(3);
  });

  it('the default bound lets the three lab nodes run side by side', async () => {
    const { peak, added } = await peakProbePods(async () => {
      const run = await runPlugin(['node-check', '--all', '-o', 'json']);
      expect(run.code, run.stderr).to.equal(0);
    });
    expect(added).to.equal(3);
    expect(peak).to.be.within(2, 3);
  });

  it('Ctrl-C with nodes still queued deletes the running pod and never creates the queued ones', async () => {
    setFaults({ podStartDelayMs: 20_000 });
    let run = { code: -1, stdout: '', stderr: '' };
    const { added } = await peakProbePods(async () => {
      run = await runPluginWith(['node-check', '--all', '--max-parallel', '1'], (child, stderr) => {
        const timer = setInterval(() => {
          if (/created on node/.test(stderr())) {
            clearInterval(timer);
            child.kill('SIGINT');
          }
        }, 50);
      });
    });
    expect(run.code).to.equal(130);
    expect(added, 'pods created').to.equal(1);
    expect(run.stderr.match(/probe pod \S+ created on node/g)).to.have.length(1);
    expect(run.stderr.match(/probe pod \S+ deleted/g)).to.have.length(1);
    expect(run.stderr).to.contain('error: interrupted; probe pods were deleted');
  });

  it('without permission to watch pods, follows the probe pod by reading it and still answers', async () => {
    setFaults({ forbid: [{ verb: 'watch', resource: 'pods' }] });
    const run = await runPlugin(['veth-peer', 'web-1']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^default\s+web-1\s+lab-node-1\s+eth0@if\d+/m);
    expect(run.stderr).to.match(/probe pod \S+ deleted/);
  });

  it('rejects a --max-parallel that is not a whole number from 1, with exit 2 and one sentence', async () => {
    const run = await runPlugin(['node-check', '--all', '--max-parallel', '0']);
    expect(run.code).to.equal(2);
    expect(run.stderr.trim()).to.equal('error: invalid --max-parallel "0": must be a whole number from 1 to 1000');
  });

  it('smoke --junit writes one failed case saying why when smoke cannot run (exit 3)', async () => {
    setFaults({ forbid: [{ verb: 'list', resource: 'nodes' }] });
    const junit = join(mkdtempSync(join(tmpdir(), 'netdiag-junit-')), 'smoke.xml');
    const run = await runPlugin(['smoke', '--junit', junit]);
    expect(run.code, run.stderr).to.equal(3);
    const parsed = parseJunit(junit);
    expect(parsed.tests).to.equal(1);
    expect(parsed.failures).to.equal(1);
    expect(parsed.cases).to.have.length(1);
    expect(parsed.cases[0]!.failure!.type).to.equal('smoke.could-not-run');
    // The same sentence the terminal shows.
    const firstError = /^error: (.*)$/m.exec(run.stderr)?.[1];
    expect(firstError).to.be.a('string');
    expect(parsed.cases[0]!.failure!.message).to.equal(firstError);
    expect(readFileSync(junit, 'utf8')).to.match(/exit code: 3/);
  });
});
