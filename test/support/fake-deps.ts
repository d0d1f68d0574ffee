// Deps for driving the CLI in-process: captured streams, a fixed clock, no cluster unless given.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Deps } from '../../src/cli/deps.js';
import type { ClusterApi } from '../../src/kube/cluster-api.js';

export interface CapturedDeps extends Deps {
  out(): string;
  err(): string;
}

/** `terminalColumns`: stdout is a terminal that wide (tables may wrap to it); otherwise a pipe. */
export function fakeDeps(options: { api?: ClusterApi; env?: Record<string, string>; terminalColumns?: number } = {}): CapturedDeps {
  let stdout = '';
  let stderr = '';
  return {
    stdout: options.terminalColumns ? { write: (t) => void (stdout += t), isTTY: true, columns: options.terminalColumns } : { write: (t) => void (stdout += t), isTTY: false },
    stderr: { write: (t) => void (stderr += t), isTTY: false },
    env: options.env ?? { NO_COLOR: '1' },
    now: () => 1_700_000_000_000,
    randomSuffix: () => 'abcde',
    randomToken: () => 'token0',
    signal: new AbortController().signal,
    sleep: async () => undefined,
    connect: async () => {
      if (!options.api) throw new Error('this test has no cluster');
      return options.api;
    },
    readFile: (p) => readFile(p, 'utf8'),
    writeFile: (p, t) => writeFile(p, t),
    mkdir: async (p) => void (await mkdir(p, { recursive: true })),
    out: () => stdout,
    err: () => stderr,
  };
}
