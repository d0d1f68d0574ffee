// Reads parser fixtures. realdata files carry a provenance header added by whoever collected them
// (/work/shared/realdata/README.md); only those header lines are stripped, the body stays verbatim.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const HEADER_LINE = /^# (source:|context:|command|body|what|NOTE|expected)/;

export function fixturePath(relative: string): string {
  return FIXTURES + relative;
}

export function readFixture(relative: string): string {
  const text = readFileSync(fixturePath(relative), 'utf8');
  const lines = text.split('\n');
  let start = 0;
  while (start < lines.length && HEADER_LINE.test(lines[start]!)) start++;
  return lines.slice(start).join('\n');
}

/** The stderr a lab capture recorded next to NAME, or '' when it printed none. */
export function readFixtureStderr(relative: string): string {
  const path = fixturePath(`${relative}.stderr`);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** The provenance header of a lab capture (scripts/capture-link-fixtures.sh). */
export function readFixtureMeta(relative: string): { command: string; exitStatus: number; capturedBy: string; kernel: string } {
  return JSON.parse(readFileSync(fixturePath(`${relative}.meta.json`), 'utf8')) as {
    command: string;
    exitStatus: number;
    capturedBy: string;
    kernel: string;
  };
}

/** Unwrap a ParseResult in a test: fail with the parser's own message. */
export function expectOk<T>(result: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!result.ok) throw new Error(`expected a parse, got error: ${result.error.message}`);
  return result.value;
}
