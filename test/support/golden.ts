// Golden files: reviewed renderings kept under test/fixtures/golden/. A missing or different file
// fails the test. Writing them is an explicit, local opt-in (UPDATE_GOLDEN=1, see
// test/fixtures/README.md), refused under CI so a run there can never bless its own output.
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { REPO } from './lab-harness.js';

export function updatingGoldens(): boolean {
  if (process.env.UPDATE_GOLDEN !== '1') return false;
  if (process.env.CI) throw new Error('UPDATE_GOLDEN=1 is refused under CI: golden files are written and reviewed locally');
  return true;
}

export function expectGolden(path: string, actual: string): void {
  const shown = relative(REPO, path);
  if (updatingGoldens()) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  expect(existsSync(path), `golden file ${shown} is missing: write it with UPDATE_GOLDEN=1, review it, commit it`).to.equal(true);
  expect(actual, `output differs from ${shown}`).to.equal(readFileSync(path, 'utf8'));
}
