import { severityRank, worstSeverity, type Finding } from '../checks/finding.js';
import { EXIT, type ExitCode } from '../errors.js';
import type { FailOn } from './global-options.js';

/** 1 when a finding is at or above --fail-on, else 0. */
export function exitCodeFor(findings: readonly Finding[], failOn: FailOn): ExitCode {
  if (failOn === 'never') return EXIT.ok;
  const worst = worstSeverity(findings);
  return worst !== null && severityRank(worst) >= severityRank(failOn) ? EXIT.findings : EXIT.ok;
}
