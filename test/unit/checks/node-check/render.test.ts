// node-check's table on a terminal: the VALUE column wraps to the terminal's width; a pipe and
// -o wide print one line per check, as the golden files show.
import { expect } from 'chai';
import { join } from 'node:path';
import { runCli } from '../../../../src/cli/cli.js';
import { displayWidth } from '../../../../src/render/table.js';
import { fakeDeps } from '../../../support/fake-deps.js';
import { REPO } from '../../../support/lab-harness.js';

const SNAPSHOT = join(REPO, 'test/fixtures/snapshots/node-check/node-2-broken');

async function run(args: string[], stdout: { isTTY: boolean; columns?: number }): Promise<{ code: number; lines: string[] }> {
  let text = '';
  const deps = { ...fakeDeps(), stdout: { ...stdout, write: (t: string) => void (text += t) } };
  const code = await runCli(['node-check', '--from-snapshot', SNAPSHOT, ...args], deps);
  return { code, lines: text.split('\n') };
}

describe('node-check table width', () => {
  it('wraps VALUE on a 90-column terminal so that every table line fits, keeping every word', async () => {
    const piped = await run([], { isTTY: false });
    const terminal = await run([], { isTTY: true, columns: 90 });
    expect(piped.code).to.equal(1);
    expect(terminal.code).to.equal(1);
    const table = (lines: string[]) => lines.slice(0, lines.indexOf(''));
    const wrapped = table(terminal.lines);
    const oneLine = table(piped.lines);
    expect(oneLine.length).to.be.greaterThan(1);
    expect(oneLine.some((l) => displayWidth(l) > 90)).to.equal(true);
    expect(wrapped.length).to.be.greaterThan(oneLine.length);
    expect(wrapped.filter((l) => displayWidth(l) > 90)).to.deep.equal([]);
    // Each check's VALUE, read back from its line and the lines under it (whitespace aside: a
    // wrap drops the space it breaks at).
    expect(values(wrapped)).to.deep.equal(values(oneLine));
    // Below the table (findings) nothing changes.
    expect(terminal.lines.slice(wrapped.length)).to.deep.equal(piped.lines.slice(oneLine.length));
  });

  it('prints the same as into a pipe with -o wide on a terminal, and into a pipe whatever its width', async () => {
    expect((await run(['-o', 'wide'], { isTTY: true, columns: 90 })).lines).to.deep.equal((await run(['-o', 'wide'], { isTTY: false })).lines);
    expect((await run([], { isTTY: false, columns: 90 })).lines).to.deep.equal((await run([], { isTTY: false })).lines);
  });
});

function values(table: string[]): string[] {
  const start = table[0]!.indexOf('VALUE');
  const end = table[0]!.indexOf('STATUS');
  const out: string[] = [];
  for (const line of table.slice(1)) {
    if (line.startsWith(' ')) out[out.length - 1] += line.slice(start);
    else out.push(line.slice(start, end));
  }
  return out.map((v) => v.replace(/\s+/g, ''));
}
