// The layering DESIGN.md describes, enforced by reading the source rather than by memory:
// process/clock/randomness only in the entry point, no console anywhere, Kubernetes client imports
// only in the cluster layer, and parse/analyze free of I/O.
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO } from '../support/lab-harness.js';

function sources(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts')) out.push({ file: relative(REPO, path), text: readFileSync(path, 'utf8') });
  }
  return out;
}

// Code only: comments may talk about process.* and console.
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
const offenders = (pattern: RegExp, allowed: (file: string) => boolean) =>
  sources(join(REPO, 'src')).filter((s) => !allowed(s.file) && pattern.test(code(s.text))).map((s) => s.file);

describe('layer boundaries', () => {
  it('only the entry point touches process, the clock and randomness', () => {
    expect(offenders(/\bprocess\.|\bDate\.now\(|\bMath\.random\(|\bnew Date\(\)/, (f) => f === 'src/cli/main.ts')).to.deep.equal([]);
  });
  it('nothing writes with console; output goes through the Deps streams', () => {
    expect(offenders(/\bconsole\./, () => false)).to.deep.equal([]);
  });
  it('only src/kube imports the Kubernetes client', () => {
    expect(offenders(/from '@kubernetes\/client-node'/, (f) => f.startsWith('src/kube/'))).to.deep.equal([]);
  });
  it('parsers and analysis do no I/O', () => {
    expect(offenders(/from 'node:(fs|child_process|net|http|https)/, (f) => !(f.startsWith('src/parse/') || f.startsWith('src/analyze/')))).to.deep.equal([]);
  });
});
