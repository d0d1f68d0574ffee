// Every finding code the analysis can emit, with what it means and what to do about it. CI jobs
// match on these codes, so the catalogue is the contract: each check keeps its entries in its own
// <check>/findings.ts (common/findings.ts for codes several checks emit), this module assembles
// them. test/unit/checks/catalog.test.ts scans src/ and fails when a code is emitted but not
// catalogued, catalogued but never emitted, or catalogued in another check's folder.
// `kubectl netdiag explain CODE` (and `--explain CODE`) prints an entry; docs/ci.md shows how to
// match codes with jq.
import { FINDING_AREAS, type FindingArea, type FindingCatalogEntry } from './catalog-entry.js';
import { VETH_PEER_FINDINGS } from './veth-peer/findings.js';
import { TRACE_SVC_FINDINGS } from './trace-svc/findings.js';
import { NODE_CHECK_FINDINGS } from './node-check/findings.js';
import { ARP_CHECK_FINDINGS } from './arp-check/findings.js';
import { MTU_PROBE_FINDINGS } from './mtu-probe/findings.js';
import { DNS_CHECK_FINDINGS } from './dns-check/findings.js';
import { COMMON_FINDINGS } from './common/findings.js';
import { SMOKE_FINDINGS } from './smoke/findings.js';
import { NODE_DIFF_FINDINGS } from './node-diff/findings.js';
import { CONN_CHECK_FINDINGS } from './conn-check/findings.js';

export { FINDING_AREAS, type CatalogSeverity, type FindingArea, type FindingCatalogEntry, type SeedIncident } from './catalog-entry.js';

export const FINDING_CATALOG = [
  ...VETH_PEER_FINDINGS,
  ...TRACE_SVC_FINDINGS,
  ...NODE_CHECK_FINDINGS,
  ...ARP_CHECK_FINDINGS,
  ...MTU_PROBE_FINDINGS,
  ...DNS_CHECK_FINDINGS,
  ...COMMON_FINDINGS,
  ...SMOKE_FINDINGS,
  ...NODE_DIFF_FINDINGS,
  ...CONN_CHECK_FINDINGS,
] as const;

export type FindingCode = (typeof FINDING_CATALOG)[number]['code'];

const BY_CODE: ReadonlyMap<string, FindingCatalogEntry> = new Map(FINDING_CATALOG.map((e) => [e.code, e]));

export function findCatalogEntry(code: string): FindingCatalogEntry | undefined {
  return BY_CODE.get(code);
}

export function isFindingArea(text: string): text is FindingArea {
  return (FINDING_AREAS as readonly string[]).includes(text);
}

/** The catalogue in area order (FINDING_AREAS), codes sorted within an area. */
export function catalogByArea(): ReadonlyArray<{ area: FindingArea; entries: FindingCatalogEntry[] }> {
  return FINDING_AREAS.map((area) => ({
    area,
    entries: FINDING_CATALOG.filter((e) => e.area === area).sort((a, b) => a.code.localeCompare(b.code)),
  }));
}

/**
 * The codes nearest to a mistyped one: codes containing it first (`loop` -> dns.coredns-loop),
 * then by edit distance, counting the part after the area as well so `node.ip-forward` finds
 * node.ip-forward-off and node-diff.ip-forward.
 */
export function closestCodes(query: string, limit = 3): string[] {
  const q = query.trim().toLowerCase();
  if (q === '') return [];
  const scored = FINDING_CATALOG.map((e) => {
    const name = e.code.slice(e.code.indexOf('.') + 1);
    const qName = q.includes('.') ? q.slice(q.indexOf('.') + 1) : q;
    const contains = e.code.includes(q) || (qName.length >= 3 && name.includes(qName));
    const distance = Math.min(editDistance(q, e.code), editDistance(qName, name) + (q.includes('.') && !q.startsWith(`${e.area}.`) ? 2 : 0));
    return { code: e.code, score: (contains ? 0 : 1000) + distance };
  });
  const maxDistance = Math.max(3, Math.floor(q.length / 2));
  return scored
    .filter((s) => s.score < 1000 + maxDistance)
    .sort((a, b) => a.score - b.score || a.code.localeCompare(b.code))
    .slice(0, limit)
    .map((s) => s.code);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
