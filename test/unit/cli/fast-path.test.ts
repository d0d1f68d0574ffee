// version, explain CODE and __complete answered without yargs must say exactly what the full
// command line says.
import { expect } from 'chai';
import { prerenderedHelp, runFastPath } from '../../../src/cli/fast-path.js';
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

  describe('pre-rendered help (the bundle defines the texts)', () => {
    const texts = { '': 'top help\n', 'veth-peer': 'veth-peer help\n' };
    it('serves --help, -h, CMD --help and CMD -h from the texts', () => {
      expect(prerenderedHelp(['--help'], texts)).to.equal('top help\n');
      expect(prerenderedHelp(['-h'], texts)).to.equal('top help\n');
      expect(prerenderedHelp(['veth-peer', '--help'], texts)).to.equal('veth-peer help\n');
      expect(prerenderedHelp(['veth-peer', '-h'], texts)).to.equal('veth-peer help\n');
    });
    it('leaves other lines, unknown commands and builds without texts to yargs', () => {
      for (const argv of [[], ['veth-peer'], ['veth-peer', 'web-1', '--help'], ['--help', 'veth-peer'], ['nope', '--help'], ['toString', '--help'], ['-o', 'json', '--help']]) {
        expect(prerenderedHelp(argv, texts), argv.join(' ')).to.equal(undefined);
      }
      expect(prerenderedHelp(['--help'], undefined)).to.equal(undefined);
    });
  });
});
