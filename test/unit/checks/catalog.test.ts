// The finding catalogue must never drift from the code: every finding code the sources can emit
// is catalogued, every catalogued code is emitted somewhere, the catalogued severity is the one
// the source uses, and each code is catalogued in the findings.ts of the check that emits it
// (common/findings.ts when several checks do, and for the probe's own codes). The sources are
// read as text, the way a reviewer would grep them.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FINDING_AREAS,
  FINDING_CATALOG,
  catalogByArea,
  closestCodes,
  findCatalogEntry,
  type CatalogSeverity,
} from '../../../src/checks/catalog.js';
import { DIFF_RANKING } from '../../../src/checks/node-diff/analysis.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const SRC = join(REPO, 'src');
// The catalogue's own files: the assembly and each check's findings.ts list.
const isCatalogFile = (path: string) => /[\\/]checks[\\/](catalog|catalog-entry|[^\\/]+[\\/]findings)\.ts$/.test(path);

interface SourceFile {
  path: string; // relative to the repo, for messages
  text: string;
}

function readSources(dir: string): SourceFile[] {
  const out: SourceFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...readSources(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !isCatalogFile(full)) {
      // Whole-line comments may name codes as examples; they emit nothing.
      out.push({ path: relative(REPO, full), text: readFileSync(full, 'utf8').replace(/^\s*(\/\/|\/?\*).*$/gm, '') });
    }
  }
  return out;
}

const AREA_PREFIX = `(?:${[...FINDING_AREAS].sort((a, b) => b.length - a.length).map((a) => a.replace('-', '\\-')).join('|')})`;
// A whole string literal that looks like a finding code of a known area: 'dns.coredns-loop'.
const CODE_LITERAL = new RegExp(`(['"\`])(${AREA_PREFIX}\\.[a-z0-9]+(?:-[a-z0-9]+)*)\\1`, 'g');
// `code: <expression>` up to the end of the property: literals, ternaries, constants.
const CODE_PROPERTY = /\bcode:\s*([^,\n}]+)/g;
// A literal followed by the severity it is emitted with: `code: 'x', severity: 'warn'`,
// `find('x', 'warn', ...)`, `add(\n 'x',\n cond ? 'warn' : 'error', ...)`.
const SEVERITY_AFTER = /^\s*,\s*(?:severity:\s*)?([^,\n]+)/;
const SEVERITY_LITERAL = /'(info|warn|error)'/g;

interface CodeUse {
  code: string;
  file: string;
  severity: CatalogSeverity | null; // null: not readable from the source text
}

function stringConstants(files: readonly SourceFile[]): Map<string, string> {
  const constants = new Map<string, string>();
  for (const f of files) {
    for (const m of f.text.matchAll(/\bconst\s+([A-Za-z_$][\w$]*)\s*(?::\s*[^=]+)?=\s*'([^']*)'/g)) constants.set(m[1]!, m[2]!);
  }
  return constants;
}

function severityAfter(text: string, index: number): CatalogSeverity | null {
  const m = SEVERITY_AFTER.exec(text.slice(index));
  if (!m) return null;
  const found = [...m[1]!.matchAll(SEVERITY_LITERAL)].map((s) => s[1] as CatalogSeverity);
  if (found.length === 0) return null;
  return found.length === 1 && /^\s*'(info|warn|error)'\s*$/.test(m[1]!) ? found[0]! : 'varies';
}

/** Every finding code the sources use, with the severity next to it where one is written. */
function findCodeUses(files: readonly SourceFile[]): { uses: CodeUse[]; dynamic: string[] } {
  const diffKinds = new Set<string>(DIFF_RANKING.map((r) => r.kind));
  const constants = stringConstants(files);
  const uses: CodeUse[] = [];
  const dynamic: string[] = [];
  for (const f of files) {
    for (const m of f.text.matchAll(CODE_LITERAL)) {
      const code = m[2]!;
      // node-diff's fact kinds ('mtu.nic', ...) look like codes of the mtu area but are not.
      if (diffKinds.has(code)) continue;
      // A code chosen by a ternary (`peer ? 'a' : 'b'`) has a severity chosen the same way: unreadable.
      const inTernary = /(\?\s*|'\s*:\s*)$/.test(f.text.slice(Math.max(0, m.index! - 40), m.index!));
      uses.push({ code, file: f.path, severity: inTernary ? null : severityAfter(f.text, m.index! + m[0].length) });
    }
    for (const m of f.text.matchAll(CODE_PROPERTY)) {
      const expression = m[1]!.trim();
      // A type, not a value: `code: Finding['code']` in a helper's parameter list.
      if (/^[A-Z][\w$]*\['code'\]/.test(expression)) continue;
      if (expression.includes('`')) {
        dynamic.push(`${f.path}: code: ${expression}`);
        continue;
      }
      const afterProperty = m.index! + m[0].length;
      for (const lit of expression.matchAll(/'([^']+)'/g)) {
        // Literals of known areas were taken above; this catches codes of a new area.
        if (!new RegExp(`^${AREA_PREFIX}\\.`).test(lit[1]!)) uses.push({ code: lit[1]!, file: f.path, severity: null });
      }
      if (/^[A-Za-z_$][\w$]*$/.test(expression) && constants.has(expression)) {
        const code = constants.get(expression)!;
        uses.push({ code, file: f.path, severity: severityAfter(f.text, afterProperty) });
      }
    }
  }
  return { uses, dynamic };
}

/** The check folder a source belongs to ('arp-check'); 'common' for shared check code; null outside src/checks. */
function checkFolderOf(path: string): string | null {
  const p = path.replace(/\\/g, '/');
  if (/^src\/checks\/[^/]+\.ts$/.test(p)) return 'common'; // finding.ts, catalog.ts: shared like common/
  return /^src\/checks\/([^/]+)\//.exec(p)?.[1] ?? null;
}

/** Each catalogued code with the folder whose findings.ts lists it, read from the files themselves. */
function catalogueHomes(): Map<string, string> {
  const homes = new Map<string, string>();
  for (const dir of readdirSync(join(SRC, 'checks'), { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    let text: string;
    try {
      text = readFileSync(join(SRC, 'checks', dir.name, 'findings.ts'), 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^\s*code: '([^']+)',$/gm)) {
      if (homes.has(m[1]!)) throw new Error(`${m[1]} is catalogued in both ${homes.get(m[1]!)} and ${dir.name}`);
      homes.set(m[1]!, dir.name);
    }
  }
  return homes;
}

/**
 * Codes catalogued away from the check that emits them. A code emitted by one check belongs in
 * that check's findings.ts; one emitted by several checks, or by shared code, in common/; the
 * probe's own codes (area probe) in common/ whoever emits them.
 */
function misplacedCodes(uses: readonly { code: string; file: string }[], homes: ReadonlyMap<string, string>): string[] {
  const emitters = new Map<string, Set<string>>();
  for (const u of uses) emitters.set(u.code, (emitters.get(u.code) ?? new Set()).add(checkFolderOf(u.file) ?? 'outside src/checks'));
  const out: string[] = [];
  for (const [code, folders] of emitters) {
    const home = homes.get(code);
    if (home === undefined) continue; // not catalogued: the test above names it
    const expected = code.startsWith('probe.') || folders.size > 1 ? 'common' : [...folders][0]!;
    if (home !== expected) out.push(`${code}: catalogued in ${home}/findings.ts, emitted by ${[...folders].sort().join(', ')} (belongs in ${expected}/findings.ts)`);
  }
  return out.sort();
}

describe('finding catalogue', () => {
  const files = readSources(SRC);
  const { uses, dynamic } = findCodeUses(files);
  const usedCodes = new Set(uses.map((u) => u.code));
  const catalogued = new Set<string>(FINDING_CATALOG.map((e) => e.code));
  const homes = catalogueHomes();

  it('reads the sources (guards the scan itself)', () => {
    expect(files.length).to.be.greaterThan(20);
    expect(uses.length).to.be.greaterThan(FINDING_CATALOG.length);
    expect(files.some((f) => /[\\/]findings\.ts$/.test(f.path)), 'the findings lists are the catalogue, not sources').to.equal(false);
    // One code of each way of writing it: object literal, helper call, ternary, constant, table.
    for (const code of ['dns.coredns-loop', 'node.ip-forward-off', 'arp.ignore-blocks-host', 'probe.peer-node-failed', 'probe.output-incomplete', 'node-diff.mtu', 'smoke.check-failed']) {
      expect(usedCodes, code).to.include(code);
    }
    expect(usedCodes).to.not.include('mtu.nic'); // a node-diff kind, not a code
  });

  it('catalogues every code the sources emit', () => {
    const missing = uses.filter((u) => !catalogued.has(u.code)).map((u) => `${u.code} (${u.file})`);
    expect([...new Set(missing)], "add these to the emitting check's findings.ts").to.deep.equal([]);
  });

  it('has no entry that no source emits', () => {
    const unused = [...catalogued].filter((c) => !usedCodes.has(c));
    expect(unused, 'remove these from their findings.ts, or emit them').to.deep.equal([]);
  });

  it("assembles the catalogue from every check's findings.ts, each code once", () => {
    expect(homes.size, 'codes found in the findings.ts files').to.be.greaterThan(100);
    expect(FINDING_CATALOG.length).to.equal(homes.size);
    expect([...catalogued].sort()).to.deep.equal([...homes.keys()].sort());
    expect(new Set(homes.values())).to.include.members(['common', 'veth-peer', 'trace-svc', 'arp-check', 'mtu-probe', 'dns-check', 'node-check', 'node-diff', 'smoke', 'conn-check']);
  });

  it('catalogues each code in the findings.ts of the check that emits it', () => {
    expect(homes.size).to.equal(catalogued.size);
    expect(misplacedCodes(uses, homes)).to.deep.equal([]);
  });

  it('names a code catalogued away from its check', () => {
    const fakeHomes = new Map([['arp.mac-conflict', 'common'], ['node.ip-forward-off', 'node-check'], ['probe.node-failed', 'arp-check'], ['dns.coredns-loop', 'dns-check']]);
    const fakeUses = [
      { code: 'arp.mac-conflict', file: 'src/checks/arp-check/analysis.ts' },
      { code: 'node.ip-forward-off', file: 'src/checks/node-check/analysis.ts' },
      { code: 'node.ip-forward-off', file: 'src/checks/trace-svc/analysis.ts' },
      { code: 'probe.node-failed', file: 'src/checks/arp-check/command.ts' },
      { code: 'dns.coredns-loop', file: 'src/checks/dns-check/analysis.ts' },
    ];
    const found = misplacedCodes(fakeUses, fakeHomes);
    expect(found).to.have.length(3);
    expect(found[0]).to.match(/^arp\.mac-conflict: catalogued in common\/findings\.ts, emitted by arp-check \(belongs in arp-check/);
    expect(found[1]).to.match(/^node\.ip-forward-off: .* emitted by node-check, trace-svc \(belongs in common/);
    expect(found[2]).to.match(/^probe\.node-failed: .*belongs in common/);
  });

  it('builds codes from literals only, so CI jobs can match them', () => {
    expect(dynamic).to.deep.equal([]);
  });

  it('gives each code the severity the source emits it with', () => {
    const seen = new Map<string, Set<CatalogSeverity>>();
    for (const u of uses) {
      if (u.severity === null) continue;
      seen.set(u.code, (seen.get(u.code) ?? new Set()).add(u.severity));
    }
    const wrong: string[] = [];
    for (const [code, severities] of seen) {
      const expected: CatalogSeverity = severities.size === 1 ? [...severities][0]! : 'varies';
      const entry = findCatalogEntry(code);
      if (entry && entry.severity !== expected) wrong.push(`${code}: catalogue ${entry.severity}, source ${[...severities].join('/')}`);
    }
    expect(wrong).to.deep.equal([]);
    expect(seen.size, 'severities read from the source').to.be.greaterThan(80);
  });

  it('gives node-diff codes the severity of their ranking entry', () => {
    expect(DIFF_RANKING.length).to.be.greaterThan(0);
    for (const r of DIFF_RANKING) expect(findCatalogEntry(r.code)?.severity, r.code).to.equal(r.severity);
  });

  it('has well-formed entries: unique kebab-case codes in their area, one-line titles, 3-8 sentences, known incidents', () => {
    expect(FINDING_CATALOG.length).to.be.greaterThan(0);
    expect(catalogued.size).to.equal(FINDING_CATALOG.length);
    for (const e of FINDING_CATALOG) {
      expect(e.code, e.code).to.match(/^[a-z][a-z-]*\.[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(e.code.startsWith(`${e.area}.`), `${e.code} is in area ${e.area}`).to.equal(true);
      expect(e.title, e.code).to.match(/^[^\n]{10,100}$/);
      expect(e.title, `${e.code}: titles are fragments, no final period`).to.not.match(/\.$/);
      const sentences = e.explanation.replace(/\be\.g\./g, 'eg').match(/[.!?](?=\s|$)/g) ?? [];
      expect(sentences.length, `${e.code}: ${sentences.length} sentences`).to.be.within(3, 8);
      // `seeds` traces an entry to the project's incident write-ups; the text itself never cites them.
      for (const seed of e.seeds) expect(['000', '001', '002', '003', '004'], e.code).to.include(seed);
    }
  });

  it('covers every seed incident', () => {
    const seeds = new Set(FINDING_CATALOG.flatMap((e) => [...e.seeds]));
    expect([...seeds].sort()).to.deep.equal(['000', '001', '002', '003', '004']);
  });

  it('groups entries by area in FINDING_AREAS order, sorted by code', () => {
    const groups = catalogByArea();
    expect(groups.map((g) => g.area)).to.deep.equal([...FINDING_AREAS]);
    expect(groups.reduce((n, g) => n + g.entries.length, 0)).to.equal(FINDING_CATALOG.length);
    for (const g of groups) {
      expect(g.entries.length, `entries of ${g.area}`).to.be.greaterThan(0);
      expect(g.entries.every((e) => e.area === g.area)).to.equal(true);
      expect(g.entries.map((e) => e.code)).to.deep.equal(g.entries.map((e) => e.code).sort((a, b) => a.localeCompare(b)));
    }
  });

  it('suggests the nearest codes for a mistyped one', () => {
    expect(closestCodes('dns.coredns-lop')[0]).to.equal('dns.coredns-loop');
    expect(closestCodes('arp.ignore-block-host')[0]).to.equal('arp.ignore-blocks-host');
    expect(closestCodes('ip-forward')).to.include.members(['node.ip-forward-off', 'node-diff.ip-forward']);
    expect(closestCodes('zzzzzzzzzzzzzzzzzzzz')).to.deep.equal([]);
    expect(closestCodes('')).to.deep.equal([]);
  });
});
