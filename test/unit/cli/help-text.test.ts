// `--help` and every `CMD --help` are what users read and what the bundle pre-renders: they stay
// byte-for-byte what was reviewed. The files under test/fixtures/golden/help/ were captured from
// the CLI before the commands moved into their checks' own declarations (issue 18); a help text
// changed on purpose is rewritten with UPDATE_GOLDEN=1 and reviewed in the diff. A missing file fails.
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/cli.js';
import { fakeDeps } from '../../support/fake-deps.js';
import { REPO } from '../../support/lab-harness.js';
import { expectGolden } from '../../support/golden.js';

const GOLDEN = join(REPO, 'test/fixtures/golden/help');
const COMMANDS = ['veth-peer', 'trace-svc', 'arp-check', 'mtu-probe', 'conn-check', 'dns-check', 'cleanup', 'node-check', 'node-diff', 'smoke', 'explain', 'rbac', 'completion', 'version'];

async function helpOf(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const deps = fakeDeps();
  const code = await runCli(argv, deps);
  return { code, out: deps.out(), err: deps.err() };
}

describe('help texts', () => {
  it('has a reviewed golden file for the top help and for every command', () => {
    const files = readdirSync(GOLDEN).filter((f) => f.endsWith('.txt')).sort();
    expect(files).to.have.length(COMMANDS.length + 1);
    expect(files).to.deep.equal(['netdiag.txt', ...COMMANDS.map((c) => `${c}.txt`)].sort());
  });

  it('--help prints the golden top help, exit 0', async () => {
    const { code, out, err } = await helpOf(['--help']);
    expect(code).to.equal(0);
    expect(err).to.equal('');
    expectGolden(join(GOLDEN, 'netdiag.txt'), out);
  });

  it('the top help names exactly the commands that have a golden help, in order', async () => {
    const { out } = await helpOf(['--help']);
    const listed = [...out.matchAll(/^ {2}kubectl netdiag ([a-z][a-z-]*)/gm)].map((m) => m[1]);
    expect(listed).to.have.length(COMMANDS.length);
    expect(listed).to.deep.equal(COMMANDS);
  });

  for (const command of COMMANDS) {
    it(`${command} --help prints its golden help, exit 0`, async () => {
      const { code, out, err } = await helpOf([command, '--help']);
      expect(code).to.equal(0);
      expect(err).to.equal('');
      expectGolden(join(GOLDEN, `${command}.txt`), out);
    });
  }
});
