// What users read names no internal documents: the project traces its findings to incident
// write-ups numbered "seed 000".."seed 004", which users have never seen. Catalogue titles and
// explanations (what `explain` prints) and every string the sources can print (finding messages,
// evidence, remedies, help) say what happened instead. Comments may keep the numbers.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FINDING_CATALOG } from '../../../src/checks/catalog.js';
import { renderExplainEntry, renderExplainStructured, renderExplainTable } from '../../../src/cli/commands/explain-render.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');
// The incident write-ups ("seed 001") and the project's own documents (docs/x.md): a user who
// installed the plugin with krew has neither.
const INTERNAL_REFERENCE = /seed\s*0\d\d|\b[a-z][\w/-]*\.md\b/i;

/** Source text without its comments: what can end up in front of a user. */
function codeWithoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** The lines of a source, comments removed, that name an internal write-up. */
function internalReferences(text: string): string[] {
  return codeWithoutComments(text)
    .split('\n')
    .filter((line) => INTERNAL_REFERENCE.test(line))
    .map((line) => line.trim());
}

function sources(dir: string): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full));
    else if (entry.name.endsWith('.ts')) out.push({ path: relative(REPO, full), text: readFileSync(full, 'utf8') });
  }
  return out;
}

describe('user-facing text names no internal documents', () => {
  it('finds a citation in a string and none in a comment', () => {
    const fake = [
      "// kube-proxy Pending on a new node (seed 003)",
      "/* seed 001: arp_ignore=2 */",
      "find('node.x', 'warn', `arp_ignore=${n} (seed 001)`, [], 'fix');",
      "remedy: 'see Seed004 for the loop',",
      "const url = 'https://example.com/a'; // seed 002",
      "explanation: 'docs/compatibility.md lists the evidence',",
    ].join('\n');
    const found = internalReferences(fake);
    expect(found).to.have.length(3);
    expect(found[0]).to.contain('(seed 001)');
    expect(found[1]).to.contain('Seed004');
  });

  it('in the catalogue: titles and explanations', () => {
    expect(FINDING_CATALOG.length).to.be.greaterThan(100);
    const citing = FINDING_CATALOG.filter((e) => INTERNAL_REFERENCE.test(e.title) || INTERNAL_REFERENCE.test(e.explanation)).map((e) => e.code);
    expect(citing).to.deep.equal([]);
  });

  it('in what explain prints: one entry, the table, -o wide, json and yaml', () => {
    const outputs = [
      ...FINDING_CATALOG.map((e) => renderExplainEntry(e)),
      renderExplainTable(FINDING_CATALOG, { wide: false, noHeaders: false }),
      renderExplainTable(FINDING_CATALOG, { wide: true, noHeaders: false }),
      renderExplainStructured(FINDING_CATALOG, 'json'),
      renderExplainStructured(FINDING_CATALOG, 'yaml'),
    ];
    expect(outputs).to.have.length(FINDING_CATALOG.length + 4);
    expect(outputs.filter((o) => /seed/i.test(o) || INTERNAL_REFERENCE.test(o))).to.deep.equal([]);
  });

  it('in every string the sources can print (finding messages, evidence, remedies, help)', () => {
    const all = sources(join(REPO, 'src'));
    expect(all.length).to.be.greaterThan(50);
    // The guard reads the files the citations used to be in.
    expect(all.filter((s) => /^src\/checks\/[^/]+\/(analysis|findings)\.ts$/.test(s.path)).length).to.be.greaterThan(15);
    const found = all.flatMap((s) => internalReferences(s.text).map((line) => `${s.path}: ${line}`));
    expect(found).to.deep.equal([]);
  });
});
