// "Functions stay short enough to read at once": no function body in src/, lab/ or scripts/ over
// 150 lines. Measured with the TypeScript parser, so nested functions count on their own.
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { REPO } from '../support/lab-harness.js';

const MAX_LINES = 150;

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every function-like node with a body longer than `max` lines, as "file:line name (N lines)". */
export function longFunctions(file: string, text: string, max: number): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      const named = node.name ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name : undefined);
      const name = named && ts.isIdentifier(named) ? named.text : '(anonymous)';
      if (lines > max) out.push(`${file}:${first + 1} ${name} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe('function length', () => {
  it(`no function in src/, lab/ or scripts/ is over ${MAX_LINES} lines`, () => {
    const files = ['src', 'lab', 'scripts'].flatMap((d) => tsFiles(join(REPO, d)));
    expect(files.length).to.be.greaterThan(100);
    const long = files.flatMap((f) => longFunctions(relative(REPO, f), readFileSync(f, 'utf8'), MAX_LINES));
    expect(long).to.deep.equal([]);
  });
  it('measures nested functions on their own', () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const text = `function outer() {\n${body(10)}\n  const inner = () => {\n${body(20)}\n  };\n}\n`;
    expect(longFunctions('x.ts', text, 15)).to.deep.equal(['x.ts:1 outer (34 lines)', 'x.ts:12 inner (22 lines)']);
    expect(longFunctions('x.ts', text, 40)).to.deep.equal([]);
  });
});
