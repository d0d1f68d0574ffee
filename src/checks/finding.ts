// A finding is data: what is wrong, on what, the raw evidence, and the fix. CI jobs match on
// `code`, so codes are stable kebab-case ids grouped by area ("arp.ignore-blocks-host"), and the
// compiler holds every emitted code to the catalogue (FindingCode).
import type { FindingCode } from './catalog.js';

export type { FindingCode };

export const SEVERITIES = ['info', 'warn', 'error'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  code: FindingCode;
  severity: Severity;
  subject: string; // what it is about: "node lab-node-1", "pod default/web-0 eth0"
  message: string; // one sentence: what is wrong
  evidence: string[]; // raw lines as the kernel or API gave them
  remedy: string; // what to change
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function worstSeverity(findings: readonly Finding[]): Severity | null {
  let worst: Severity | null = null;
  for (const f of findings) {
    if (worst === null || severityRank(f.severity) > severityRank(worst)) worst = f.severity;
  }
  return worst;
}
