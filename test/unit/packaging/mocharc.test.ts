// The test runner's own settings: a stray `.only` must fail the run instead of silently running one
// test, and nothing that runs the suite (npm scripts, scripts/test.sh, .ci/run) may turn that off.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../../support/lab-harness.js';

describe('mocha settings', () => {
  it('forbids .only in .mocharc.json, and no runner of the suite overrides it', () => {
    const rc = JSON.parse(readFileSync(join(REPO, '.mocharc.json'), 'utf8')) as Record<string, unknown>;
    expect(rc['forbid-only']).to.equal(true);
    const scripts = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const runners = [...Object.values(scripts), readFileSync(join(REPO, 'scripts/test.sh'), 'utf8'), readFileSync(join(REPO, '.ci/run'), 'utf8')];
    const mochaRunners = runners.filter((text) => /\bmocha\b/.test(text));
    expect(mochaRunners.length, 'scripts that run mocha').to.be.greaterThan(0);
    for (const text of mochaRunners) expect(text).not.to.match(/forbid-only|--config|--no-config|\.mocharc/);
  });

  it('fails a run that contains .only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-mocharc-'));
    try {
      const file = join(dir, 'only.test.mjs');
      writeFileSync(file, "it.only('runs alone', () => {});\nit('is skipped by .only', () => {});\n");
      const run = spawnSync(process.execPath, [join(REPO, 'node_modules/mocha/bin/mocha.js'), file], { cwd: REPO, encoding: 'utf8' });
      expect(run.status).to.not.equal(0);
      expect(`${run.stdout}${run.stderr}`).to.match(/only.*forbidden/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
