// Progress goes to stderr so `-o json | jq` always works. On a terminal it is one live line per
// node; otherwise only the probe pods created and deleted are named (so nobody wonders what a
// privileged pod in their cluster was), and nothing at all in quiet mode (-o json|yaml).
import type { OutputStream } from '../cli/deps.js';

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
    for (const [node, state] of states) out += `\x1b[2K  ${node}: ${state} (${secs}s)\n`;
    drawn = states.size;
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
