import type { Finding, Severity } from '../finding.js';
import { paint, type Painter } from '../../render/colour.js';

const ORDER: Record<Severity, number> = { error: 0, warn: 1, info: 2 };

/** Findings after the tables: worst first, each with its evidence and fix, ready to paste. */
export function renderFindings(findings: readonly Finding[], colour: Painter): string {
  if (findings.length === 0) return 'Findings: none\n';
  const sorted = [...findings].sort((a, b) => ORDER[a.severity] - ORDER[b.severity] || a.code.localeCompare(b.code));
  const lines = [`Findings (${findings.length}):`];
  for (const f of sorted) {
    const tag = f.severity === 'error' ? colour.red('ERROR') : f.severity === 'warn' ? colour.yellow('WARN ') : colour.dim('INFO ');
    lines.push(`  ${tag} ${f.code}  ${f.subject}: ${f.message}`);
    for (const e of f.evidence) lines.push(`        evidence: ${e}`);
    lines.push(`        fix: ${f.remedy}`);
  }
  return lines.join('\n') + '\n';
}

export { paint };

/** A check row's status as the tables show it (node-check, node-diff, veth-peer). */
export function statusText(status: 'ok' | Severity | 'n/a', colour: Painter): string {
  switch (status) {
    case 'ok':
      return colour.green('ok');
    case 'error':
      return colour.red('ERROR');
    case 'warn':
      return colour.yellow('WARN');
    case 'info':
      return colour.dim('info');
    default:
      return '-';
  }
}
