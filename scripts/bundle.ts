// Bundles the CLI and everything it imports, so the npm package, the krew archive and the single
// executable need no node_modules at run time.
//   esm (default): dist-bundle/kubectl-netdiag.mjs, the npm `bin` and the krew archive's binary,
//                  plus the chunks it loads on demand (dist-bundle/kubectl-netdiag-*.mjs): the
//                  entry holds only main.ts and the fast path, so --help, version, explain CODE
//                  and completion (every TAB) do not compile yargs, client-node or the analyses
//   cjs (--sea):   dist-sea/kubectl-netdiag.cjs, one file, the entry of a Node single executable
//                  (SEA runs CommonJS only)
// Run through scripts/bundle.sh (ts-node): `bash scripts/bundle.sh [--sea] [--outfile FILE]`.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import ts from 'typescript';

export type BundleFormat = 'esm' | 'cjs';

export interface BundleResult {
  outfile: string;
  /** Every file the bundle is made of, the entry first (esm: the entry and its chunks). */
  files: string[];
  bytes: number;
  warnings: string[];
}

/** The ESM bundle's chunks sit beside the entry under this prefix (npm `files`, krew `files`). */
export const CHUNK_PREFIX = 'kubectl-netdiag-';

const REPO = resolve(import.meta.dirname, '..');
export const ENTRY = join(REPO, 'src', 'cli', 'main.ts');
export const NODE_SCRIPT = join(REPO, 'src', 'node-script', 'netdiag-node.sh');
export const DEFAULT_OUTFILE: Record<BundleFormat, string> = {
  esm: join(REPO, 'dist-bundle', 'kubectl-netdiag.mjs'),
  cjs: join(REPO, 'dist-sea', 'kubectl-netdiag.cjs'),
};

// Bundled CommonJS dependencies call require() for node builtins; an ES module has no require,
// so the ESM bundle defines one first (esbuild's __require shim then finds it). esbuild keeps the
// entry's own `#!` line above the banner; bundleCli adds one if the entry ever loses it.
const HASHBANG = '#!/usr/bin/env node\n';
const ESM_BANNER = [
  "import { createRequire as __netdiagCreateRequire } from 'node:module';",
  'const require = __netdiagCreateRequire(import.meta.url);',
].join('\n');

// In CommonJS import.meta is empty, yet bundled ESM dependencies (yargs-parser) call
// createRequire(import.meta.url): give them this file's URL (the executable's path under SEA).
const CJS_BANNER = [
  "const __netdiagImportMetaUrl = require('node:url').pathToFileURL(typeof __filename === 'string' ? __filename : process.execPath).href;",
].join('\n');

export async function bundleCli(format: BundleFormat, outfile = DEFAULT_OUTFILE[format]): Promise<BundleResult> {
  if (format === 'cjs') return finish(outfile, [outfile], await esbuildOnce('cjs', outfile, {}));
  // The entry answers `--help` and `CMD --help` from texts rendered by the bundle itself: build
  // once without them, ask that build for every help text, then build again with them inside.
  const dir = dirname(outfile);
  await esbuildOnce('esm', outfile, {});
  const help = renderHelpTexts(outfile);
  const result = await esbuildOnce('esm', outfile, { __NETDIAG_HELP__: JSON.stringify(help) });
  const chunks = readdirSync(dir).filter((f) => f.startsWith(CHUNK_PREFIX) && f.endsWith('.mjs')).sort();
  return finish(outfile, [outfile, ...chunks.map((f) => join(dir, f))], result);
}

type BuildOutput = Awaited<ReturnType<typeof build>>;

async function esbuildOnce(format: BundleFormat, outfile: string, extraDefine: Record<string, string>): Promise<BuildOutput> {
  const esm = format === 'esm';
  // Chunks of an earlier build must not linger beside the entry (only the bundle's own files go).
  if (esm && existsSync(dirname(outfile))) {
    for (const f of readdirSync(dirname(outfile))) {
      if (f === basename(outfile) || (f.startsWith(CHUNK_PREFIX) && f.endsWith('.mjs'))) rmSync(join(dirname(outfile), f), { force: true });
    }
  }
  return build({
    entryPoints: esm ? { [basename(outfile).replace(/\.mjs$/, '')]: ENTRY } : [ENTRY],
    ...(esm ? { outdir: dirname(outfile), splitting: true, outExtension: { '.js': '.mjs' }, chunkNames: `${CHUNK_PREFIX}[name]-[hash]` } : { outfile }),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    banner: { js: esm ? ESM_BANNER : CJS_BANNER },
    define: {
      // The node script rides inside the bundle (see src/node-script/node-script.ts).
      __NETDIAG_NODE_SCRIPT__: JSON.stringify(readFileSync(NODE_SCRIPT, 'utf8')),
      ...(esm ? {} : { 'import.meta.url': '__netdiagImportMetaUrl' }),
      ...extraDefine,
    },
    plugins: esm ? [] : [wrapTopLevelAwait(ENTRY)],
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'eof', // dependencies' licence headers stay in the shipped file
    logLevel: 'silent',
  });
}

function finish(outfile: string, files: string[], result: BuildOutput): BundleResult {
  if (outfile.endsWith('.mjs') && !readFileSync(outfile, 'utf8').startsWith('#!')) {
    writeFileSync(outfile, HASHBANG + readFileSync(outfile, 'utf8'));
  }
  chmodSync(outfile, 0o755);
  const warnings = result.warnings.map((w) => `${w.location?.file ?? ''}: ${w.text}`);
  return { outfile, files, bytes: files.reduce((n, f) => n + readFileSync(f).length, 0), warnings };
}

/** What the built bundle prints for `--help` and each `CMD --help`: keys '' and the command names. */
export function renderHelpTexts(entry: string): Record<string, string> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', NO_COLOR: '1' };
  const help = (args: string[]) => execFileSync(process.execPath, [entry, ...args], { env, encoding: 'utf8' });
  const texts: Record<string, string> = { '': help(['--help']) };
  // Every command the help lists (`  kubectl netdiag NAME ...`), so a new command needs no list here.
  for (const [, name] of texts['']!.matchAll(/^ {2}kubectl netdiag ([a-z][a-z-]*)/gm)) texts[name!] = help([name!, '--help']);
  return texts;
}

/**
 * main.ts awaits at top level, which the CommonJS output format cannot express. For the SEA
 * entry only, its statements after the imports go into an async function (imports are hoisted
 * either way, so the order of effects is unchanged). The import boundary comes from the
 * TypeScript parser, not from text patterns.
 */
export function wrapTopLevelAwaitSource(source: string, fileName = 'main.ts'): string {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const firstBodyStatement = file.statements.find((s) => !ts.isImportDeclaration(s));
  if (!firstBodyStatement) return source;
  const later = file.statements.slice(file.statements.indexOf(firstBodyStatement));
  if (later.some((s) => ts.isImportDeclaration(s) || hasExportModifier(s))) {
    throw new Error(`${fileName}: imports or exports after the first statement; cannot wrap for CommonJS`);
  }
  const start = firstBodyStatement.getFullStart();
  return `${source.slice(0, start)}\nvoid (async () => {${source.slice(start)}\n})();\n`;
}

function hasExportModifier(s: ts.Statement): boolean {
  return ts.canHaveModifiers(s) && (ts.getModifiers(s) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

function wrapTopLevelAwait(entry: string): Plugin {
  return {
    name: 'wrap-top-level-await',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]cli[\\/]main\.ts$/ }, (args) => {
        if (resolve(args.path) !== entry) return undefined;
        return { contents: wrapTopLevelAwaitSource(readFileSync(args.path, 'utf8'), args.path), loader: 'ts' };
      });
    },
  };
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const format: BundleFormat = process.argv.includes('--sea') ? 'cjs' : 'esm';
  // --outfile DIR/NAME.mjs: a private build (the benchmark's); chunks go beside it.
  const at = process.argv.indexOf('--outfile');
  const { outfile, files, bytes, warnings } = await bundleCli(format, at === -1 ? undefined : resolve(process.argv[at + 1]!));
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const entryKiB = (readFileSync(outfile).length / 1024).toFixed(0);
  process.stderr.write(`bundled ${outfile} (entry ${entryKiB} KiB; ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB in all)\n`);
}
