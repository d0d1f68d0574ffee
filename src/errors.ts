// The exit codes a CI job can act on, and the one error type the printer turns into text.

export const EXIT = {
  ok: 0,
  findings: 1, // findings at or above --fail-on
  usage: 2, // bad flags, bad names, objects that do not exist
  cannotDiagnose: 3, // API, RBAC, probe pod failures
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A problem the user can act on: printed as `error: message` and `hint: hint`, no stack. */
export class UserError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string | undefined; exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'UserError';
    this.exitCode = options.exitCode ?? EXIT.usage;
    this.hint = options.hint;
  }
}

/** The run was cancelled by SIGINT/SIGTERM; cleanup has run by the time this is thrown. */
export class InterruptedError extends Error {
  /** Probe pods whose delete failed during cleanup (named on stderr already). */
  readonly podsLeft: number;
  constructor(signal: string, podsLeft = 0) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
    this.podsLeft = podsLeft;
  }
}
