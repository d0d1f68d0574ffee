import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../support/lab-harness.js';
import { CHUNK_PREFIX, ENTRY, wrapTopLevelAwaitSource } from '../../../scripts/bundle.js';

interface PackageJson {
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
}
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as PackageJson;

describe('bundle: package.json', () => {
  it('installs the one-file bundle as kubectl-netdiag, and the completion helper', () => {
    expect(pkg.bin).to.deep.equal({
      'kubectl-netdiag': 'dist-bundle/kubectl-netdiag.mjs',
      'kubectl_complete-netdiag': 'bin/kubectl_complete-netdiag',
    });
    for (const file of Object.values(pkg.bin)) expect(pkg.files).to.include(file);
  });

  it('ships the chunks the entry loads on demand, beside it', () => {
    expect(pkg.files).to.include(`dist-bundle/${CHUNK_PREFIX}*.mjs`);
  });

  it('needs nothing installed at run time: every package it imports is bundled', () => {
    expect(pkg.dependencies ?? {}).to.deep.equal({});
    for (const name of ['@kubernetes/client-node', 'yargs', 'esbuild']) expect(pkg.devDependencies).to.have.property(name);
  });

  it('builds the bundle before npm pack', () => {
    expect(pkg.scripts.prepack).to.equal('bash scripts/bundle.sh');
  });
});

describe('bundle: wrapTopLevelAwaitSource (CommonJS entry for the single executable)', () => {
  it('keeps the imports and moves the rest into an async function', () => {
    const source = "#!/usr/bin/env node\n// entry\nimport { a } from './a.js';\nimport type { B } from './b.js';\n\nconst x: B = a();\nawait x.run();\n";
    const wrapped = wrapTopLevelAwaitSource(source);
    expect(wrapped).to.equal(
      "#!/usr/bin/env node\n// entry\nimport { a } from './a.js';\nimport type { B } from './b.js';\nvoid (async () => {\n\nconst x: B = a();\nawait x.run();\n\n})();\n",
    );
  });

  it('wraps the real main.ts, whose body awaits at top level', () => {
    const source = readFileSync(ENTRY, 'utf8');
    expect(source).to.match(/^const code = await runCli/m);
    const wrapped = wrapTopLevelAwaitSource(source);
    expect(wrapped.indexOf('void (async () => {')).to.be.greaterThan(wrapped.lastIndexOf("from './cli.js'"));
    expect(wrapped.trimEnd().endsWith('})();')).to.equal(true);
  });

  it('refuses a module that exports or imports after its first statement', () => {
    expect(() => wrapTopLevelAwaitSource("import a from 'a';\nconst b = 1;\nexport const c = b;\n")).to.throw(/cannot wrap/);
    expect(() => wrapTopLevelAwaitSource("const b = 1;\nimport a from 'a';\n")).to.throw(/cannot wrap/);
  });

  it('leaves an import-only module alone', () => {
    expect(wrapTopLevelAwaitSource("import './x.js';\n")).to.equal("import './x.js';\n");
  });
});
