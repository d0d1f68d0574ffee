// The layering DESIGN.md describes, enforced by reading the source rather than by memory:
// imports point down the list of layers, process/clock/randomness only in the entry point, no
// console anywhere, Kubernetes client imports only in the cluster layer, no I/O below the commands.
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { REPO } from '../support/lab-harness.js';

interface Source {
  file: string; // repo-relative, e.g. src/checks/arp-check/analysis.ts
  text: string;
}

function sources(dir: string): Source[] {
  const out: Source[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts')) out.push({ file: relative(REPO, path), text: readFileSync(path, 'utf8') });
  }
  return out;
}

// Top to bottom: a module may import its own layer and the layers below it, never above.
const LAYERS = ['cli', 'checks', 'kube-proxy', 'probe', 'kube', 'node-script', 'parse', 'render', 'base'] as const;
// What a check's command may read from cli: the global options, the command runner, the exit code
// and the Deps seam (DESIGN.md).
const CLI_FOR_CHECKS = new Set(['src/cli/global-options.ts', 'src/cli/command-runner.ts', 'src/cli/exit-code.ts', 'src/cli/deps.ts']);

export function layerOf(file: string): number {
  const top = file.split('/')[1] ?? '';
  const index = (LAYERS as readonly string[]).indexOf(top);
  // src/errors.ts, src/version.ts and src/net/: the base every layer may use.
  return index === -1 ? LAYERS.indexOf('base') : index;
}

/** Each relative import of a source as a repo-relative .ts path. */
export function importsOf(source: Source): string[] {
  const out: string[] = [];
  for (const m of code(source.text).matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    out.push(posix.normalize(posix.join(dirname(source.file), m[1]!)).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** The imports that break the layering, as "from -> to". */
export function layerViolations(all: readonly Source[]): string[] {
  const out: string[] = [];
  for (const s of all) {
    for (const target of importsOf(s)) {
      if (layerOf(target) >= layerOf(s.file)) continue;
      if (s.file.startsWith('src/checks/') && CLI_FOR_CHECKS.has(target)) continue;
      out.push(`${s.file} -> ${target}`);
    }
  }
  return out;
}

/** Shared check code (common/, the finding model) must not reach into one check's folder. */
export function sharedCheckViolations(all: readonly Source[]): string[] {
  const checkFolder = (f: string) => /^src\/checks\/(?!common\/)[^/]+\//.test(f);
  const out: string[] = [];
  for (const s of all) {
    if (!s.file.startsWith('src/checks/') || checkFolder(s.file)) continue;
    for (const target of importsOf(s)) {
      // The catalogue is assembled from each check's own findings list, and from nothing else there.
      if (s.file === 'src/checks/catalog.ts' && /^src\/checks\/[^/]+\/findings\.ts$/.test(target)) continue;
      if (checkFolder(target)) out.push(`${s.file} -> ${target}`);
    }
  }
  return out;
}

// Code only: comments may talk about process.* and console.
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
const offenders = (all: readonly Source[], pattern: RegExp, allowed: (file: string) => boolean) =>
  all.filter((s) => !allowed(s.file) && pattern.test(code(s.text))).map((s) => s.file);

describe('layer boundaries', () => {
  const all = sources(join(REPO, 'src'));

  it('reads the whole source tree', () => {
    expect(all.length).to.be.greaterThan(50);
    expect(all.filter((s) => s.file.startsWith('src/checks/')).length).to.be.greaterThan(20);
  });
  it('imports point down: cli, checks, kube-proxy, probe, kube, node-script, parse, render, base', () => {
    expect(layerViolations(all)).to.deep.equal([]);
  });
  it('finds an upward import when there is one', () => {
    const fake = [
      { file: 'src/parse/x.ts', text: "import { a } from '../checks/arp-check/analysis.js';" },
      { file: 'src/probe/y.ts', text: "import { EXIT } from '../errors.js';\n// import { b } from '../cli/cli.js';" },
      { file: 'src/checks/smoke/command.ts', text: "import { c } from '../../cli/global-options.js';\nimport { d } from '../../cli/cli.js';" },
    ];
    expect(layerViolations(fake)).to.deep.equal(['src/parse/x.ts -> src/checks/arp-check/analysis.ts', 'src/checks/smoke/command.ts -> src/cli/cli.ts']);
  });
  it("shared check code does not import one check's folder", () => {
    expect(sharedCheckViolations(all)).to.deep.equal([]);
    const fake = [{ file: 'src/checks/common/node-facts.ts', text: "import { e } from '../node-check/analysis.js';" }];
    expect(sharedCheckViolations(fake)).to.deep.equal(['src/checks/common/node-facts.ts -> src/checks/node-check/analysis.ts']);
  });
  it('only the entry point touches process, the clock and randomness', () => {
    expect(offenders(all, /\bprocess\.|\bDate\.now\(|\bMath\.random\(|\bnew Date\(\)/, (f) => f === 'src/cli/main.ts')).to.deep.equal([]);
  });
  it('nothing writes with console; output goes through the Deps streams', () => {
    expect(offenders(all, /\bconsole\./, () => false)).to.deep.equal([]);
  });
  it('only src/kube imports the Kubernetes client', () => {
    expect(offenders(all, /from '@kubernetes\/client-node'/, (f) => f.startsWith('src/kube/'))).to.deep.equal([]);
  });
  it('parsers, rule walkers, analyses and renderers do no I/O; only commands, kube, probe and cli do', () => {
    const io = /from 'node:(fs|fs\/promises|child_process|net|http|https)'/;
    const mayDoIo = (f: string) =>
      /^src\/(cli|kube|probe|node-script)\//.test(f) || /^src\/checks\/[^/]+\/(command|[a-z-]+-command)\.ts$/.test(f);
    expect(offenders(all, io, mayDoIo)).to.deep.equal([]);
  });
});
