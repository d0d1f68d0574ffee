// version, explain CODE and __complete answered without yargs must say exactly what the full
// command line says.
import { expect } from 'chai';
import { runFastPath } from '../../../src/cli/fast-path.js';
import { runCli } from '../../../src/cli/cli.js';
import { fakeDeps } from '../../support/fake-deps.js';

async function both(argv: string[]) {
  const fast = fakeDeps();
  const full = fakeDeps();
  const fastCode = await runFastPath(argv, fast);
  const fullCode = await runCli(argv, full);
  return { fastCode, fullCode, fast: fast.out(), full: full.out() };
}

describe('fast path', () => {
  for (const argv of [['version'], ['explain', 'node.ip-forward-off'], ['explain', 'dns'], ['__complete', '']]) {
    it(`answers ${argv.join(' ')} as the full command line does`, async () => {
      const r = await both(argv);
      expect(r.fastCode).to.equal(r.fullCode);
      expect(r.fast.length).to.be.greaterThan(0);
      expect(r.fast).to.equal(r.full);
    });
  }
  it('leaves anything else to the full command line', async () => {
    for (const argv of [['version', '-o', 'json'], ['explain', 'no.such-code'], ['explain', '--help'], ['--help'], ['veth-peer', 'web-1']]) {
      expect(await runFastPath(argv, fakeDeps()), argv.join(' ')).to.equal(null);
    }
  });
});
