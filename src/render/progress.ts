// Progress goes to stderr so `-o json | jq` always works. On a terminal it is one live line per
// node; otherwise only the probe pods created and deleted are named (so nobody wonders what a
// privileged pod in their cluster was), and nothing at all in quiet mode (-o json|yaml).
import type { OutputStream } from './output-stream.js';

export interface Progress {
  podCreated(nodeName: string, pod: string): void;
  podDeleted(pod: string): void;
  nodeState(nodeName: string, state: string): void;
  note(text: string): void;
  done(): void;
}

export function createProgress(stderr: OutputStream, options: { quiet: boolean; now: () => number }): Progress {
  const started = options.now();
  const live = stderr.isTTY && !options.quiet;
  const states = new Map<string, string>();
  let drawn = 0;
  const redraw = () => {
    if (!live) return;
    let out = drawn > 0 ? `\x1b[${drawn}A` : '';
    const secs = Math.round((options.now() - started) / 1000);
    const rows = progressRows(states, secs);
    for (const row of rows) out += `\x1b[2K${row}\n`;
    // A shorter frame than the last one must not leave old rows below it.
    if (rows.length < drawn) out += '\x1b[J';
    drawn = rows.length;
    stderr.write(out);
  };
  const line = (text: string) => {
    if (options.quiet) return;
    if (live && drawn > 0) {
      stderr.write(`\x1b[${drawn}A\x1b[J`);
      drawn = 0;
    }
    stderr.write(`${text}\n`);
    redraw();
  };
  return {
    podCreated: (nodeName, pod) => {
      states.set(nodeName, 'created');
      line(`probe pod ${pod} created on node ${nodeName}`);
    },
    podDeleted: (pod) => line(`probe pod ${pod} deleted`),
    nodeState: (nodeName, state) => {
      states.set(nodeName, state);
      redraw();
    },
    // Notes are warnings the user must see even in quiet mode.
    note: (text) => {
      if (live && drawn > 0) {
        stderr.write(`\x1b[${drawn}A\x1b[J`);
        drawn = 0;
      }
      stderr.write(`warning: ${text}\n`);
    },
    done: () => {
      if (live && drawn > 0) stderr.write(`\x1b[${drawn}A\x1b[J`);
      drawn = 0;
    },
  };
}

const MAX_ACTIVE_ROWS = 8;

/**
 * One row per node for a few nodes; for many, a count line (done/running/queued) and the nodes in
 * progress, at most MAX_ACTIVE_ROWS of them, so a 1,000-node run keeps a small live frame.
 */
export function progressRows(states: ReadonlyMap<string, string>, secs: number): string[] {
  if (states.size <= MAX_ACTIVE_ROWS) return [...states].map(([node, state]) => `  ${node}: ${state} (${secs}s)`);
  let done = 0;
  let failed = 0;
  let queued = 0;
  const active: string[] = [];
  for (const [node, state] of states) {
    if (state === 'done') done += 1;
    else if (state.startsWith('failed')) failed += 1;
    else if (state === 'queued') queued += 1;
    else active.push(`  ${node}: ${state}`);
  }
  const head = `  ${done + failed}/${states.size} nodes done${failed > 0 ? ` (${failed} failed)` : ''}, ${active.length} running, ${queued} queued (${secs}s)`;
  const shown = active.slice(0, MAX_ACTIVE_ROWS);
  if (active.length > shown.length) shown.push(`  ... and ${active.length - shown.length} more running`);
  return [head, ...shown];
}
