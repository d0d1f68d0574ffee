// Bundles the CLI and everything it imports into one file, so the npm package, the krew archive
// and the single executable need no node_modules at run time.
//   esm (default): dist-bundle/kubectl-netdiag.mjs, the npm `bin` and the krew archive's binary
//   cjs (--sea):   dist-sea/kubectl-netdiag.cjs, the entry of a Node single executable (SEA runs
//                  CommonJS only)
// Run through scripts/bundle.sh (ts-node): `bash scripts/bundle.sh [--sea]`.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import ts from 'typescript';

export type BundleFormat = 'esm' | 'cjs';

export interface BundleResult {
  outfile: string;
  bytes: number;
  warnings: string[];
}

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
  const result = await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    banner: { js: format === 'esm' ? ESM_BANNER : CJS_BANNER },
    define: {
      // The node script rides inside the bundle (see src/node-script/node-script.ts).
      __NETDIAG_NODE_SCRIPT__: JSON.stringify(readFileSync(NODE_SCRIPT, 'utf8')),
      ...(format === 'cjs' ? { 'import.meta.url': '__netdiagImportMetaUrl' } : {}),
    },
    plugins: format === 'cjs' ? [wrapTopLevelAwait(ENTRY)] : [],
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'eof', // dependencies' licence headers stay in the shipped file
    logLevel: 'silent',
  });
  if (format === 'esm' && !readFileSync(outfile, 'utf8').startsWith('#!')) {
    writeFileSync(outfile, HASHBANG + readFileSync(outfile, 'utf8'));
  }
  chmodSync(outfile, 0o755);
  const warnings = result.warnings.map((w) => `${w.location?.file ?? ''}: ${w.text}`);
  return { outfile, bytes: readFileSync(outfile).length, warnings };
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
  const { outfile, bytes, warnings } = await bundleCli(format);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  process.stderr.write(`bundled ${outfile} (${(bytes / 1024).toFixed(0)} KiB)\n`);
}
