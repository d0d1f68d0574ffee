// trace-svc's tables sit two spaces in: on a terminal their RULE and ROUTE ON THIS NODE columns
// wrap so that the indented lines fit; into a pipe they stay one line a row (the golden files).
import { expect } from 'chai';
import { join } from 'node:path';
import { runCli } from '../../../../src/cli/cli.js';
import { displayWidth } from '../../../../src/render/table.js';
import { fakeDeps } from '../../../support/fake-deps.js';
import { REPO } from '../../../support/lab-harness.js';

const SNAPSHOT = join(REPO, 'test/fixtures/snapshots/trace-svc/web');

async function run(stdout: { isTTY: boolean; columns?: number }): Promise<string[]> {
  let text = '';
  const deps = { ...fakeDeps(), stdout: { ...stdout, write: (t: string) => void (text += t) } };
  expect(await runCli(['trace-svc', '--from-snapshot', SNAPSHOT], deps)).to.equal(0);
  return text.split('\n');
}

/** The lines of every table whose header line starts with `header`, up to the blank line after each. */
function tables(lines: string[], header: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.startsWith(header)) inside = true;
    else if (line === '') inside = false;
    if (inside) out.push(line);
  }
  return out;
}

describe('trace-svc tables on a terminal', () => {
  for (const header of ['  #   CHAIN', '  TO ENDPOINT']) {
    it(`wraps the "${header.trim()}" tables to 100 columns, two spaces in`, async () => {
      const piped = tables(await run({ isTTY: false }), header);
      const terminal = tables(await run({ isTTY: true, columns: 100 }), header);
      expect(piped.length).to.be.greaterThan(1);
      expect(piped.some((l) => displayWidth(l) > 100)).to.equal(true);
      expect(terminal.length).to.be.greaterThan(piped.length);
      expect(terminal.filter((l) => displayWidth(l) > 100 || !l.startsWith('  '))).to.deep.equal([]);
      // The same characters, only broken over more lines.
      const chars = (ls: string[]) => ls.join('').replace(/\s+/g, '').split('').sort().join('');
      expect(chars(terminal)).to.equal(chars(piped));
    });
  }
});
