// The shape of one finding catalogue entry. Each check keeps its own entries in
// <check>/findings.ts; ../catalog.ts assembles them. Kept apart from catalog.ts so a check's list
// imports this file and nothing from another check.
import type { Severity } from './finding.js';

export const FINDING_AREAS = ['veth', 'svc', 'node', 'arp', 'mtu', 'dns', 'probe', 'smoke', 'node-diff', 'conn'] as const;
export type FindingArea = (typeof FINDING_AREAS)[number];

/** The severity a code is emitted with; 'varies' when the analysis picks it from the evidence. */
export type CatalogSeverity = Severity | 'varies';

/** The operator write-ups (the project's shared/seeds/) an entry comes from: traceability only, never printed. */
export type SeedIncident = '000' | '001' | '002' | '003' | '004';

export interface FindingCatalogEntry {
  readonly code: string;
  readonly area: FindingArea;
  readonly severity: CatalogSeverity;
  readonly title: string; // one line
  readonly seeds: readonly SeedIncident[];
  readonly explanation: string; // what it means, why it breaks pod networking, detection, checks, fix
}

// Sentences of an explanation, kept one per line in the source so diffs stay readable.
export function p(...sentences: string[]): string {
  return sentences.join(' ');
}
