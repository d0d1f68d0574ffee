// Benchmark: fan-out and probe pod reuse, against a PRIVATE simulated API server started in this
// process (startApiServer via test/support/private-api-server.ts, serving a copy of
// .lab/topology.json), never the shared lab server. Needs root and the lab up.
//  - fan-out: podStartDelayMs 2000; `node-check` on 1, 3 and 6 nodes (nodes 4-6 are extra entries
//    in the private state file reusing lab-node-1..3's netns and initPid), wall time.
//  - reuse: `veth-peer web-1` cold (a new probe pod each run) vs warm (--reuse-pod, exec into the pod
//    a first --keep-pod run left), same delay.
//
// usage: node --import ./test/ts-node-register.mjs scripts/bench/fanout-reuse.ts [--reps 3]
//   NETDIAG_TEST_BIN: the kubectl-netdiag build to run (default: the repo's bin/ -> dist/)
import { readFileSync, writeFileSync } from 'node:fs';
import { labUnavailableReason } from '../../test/support/lab-harness.js';
import { startPrivateLab, type PluginResult } from '../../test/support/private-api-server.js';
import { median, printUptime, table } from './stats.js';

interface StateNode {
  name: string;
  internalIP: string;
  labels: Record<string, string>;
  [k: string]: unknown;
}

async function main(argv: string[]): Promise<void> {
  const reps = argv.includes('--reps') ? Number(argv[argv.indexOf('--reps') + 1]) : 3;
  printUptime('fan-out and reuse');
  const why = process.getuid?.() !== 0 ? 'not root' : labUnavailableReason();
  if (why !== null) {
    process.stdout.write(`skip: the fan-out/reuse benchmark needs root and the lab up (${why})\n`);
    return;
  }
  const lab = await startPrivateLab();
  try {
    // Three more nodes, each sharing a real lab node's namespaces (its netns and init PID).
    const state = JSON.parse(readFileSync(lab.statePath, 'utf8')) as { nodes: StateNode[] };
    const real = state.nodes.slice(0, 3);
    real.forEach((n, i) => {
      const name = `lab-node-${state.nodes.length + 1}`;
      state.nodes.push({ ...n, name, internalIP: `192.168.77.${31 + i}`, labels: { ...n.labels, 'kubernetes.io/hostname': name } });
    });
    writeFileSync(lab.statePath, JSON.stringify(state, null, 2));
    await lab.server.reload();
    lab.setFaults({ podStartDelayMs: 2000 });
    const names = state.nodes.map((n) => n.name);
    const timeRuns = async (args: string[], n: number): Promise<PluginResult[]> => {
      const out: PluginResult[] = [];
      for (let i = 0; i < n; i++) out.push(await lab.run(args, { timeoutMs: 120_000 }));
      return out;
    };
    const describe = (runs: PluginResult[]) => {
      const codes = [...new Set(runs.map((r) => r.code))].join(',');
      return [median(runs.map((r) => r.elapsedMs)).toFixed(0), runs.map((r) => r.elapsedMs).join(' '), codes];
    };

    const rows: string[][] = [];
    for (const count of [1, 3, 6]) {
      const runs = await timeRuns(['node-check', ...names.slice(0, count), '-o', 'json'], reps);
      rows.push([`node-check, ${count} node(s)`, ...describe(runs)]);
    }
    const cold = await timeRuns(['veth-peer', 'web-1'], reps);
    rows.push(['veth-peer web-1, cold (new pod)', ...describe(cold)]);
    const keep = await timeRuns(['veth-peer', 'web-1', '--keep-pod'], 1);
    rows.push(['veth-peer web-1 --keep-pod (first)', ...describe(keep)]);
    const warm = await timeRuns(['veth-peer', 'web-1', '--reuse-pod'], reps);
    rows.push(['veth-peer web-1 --reuse-pod (warm)', ...describe(warm)]);
    const reusedAll = warm.every((r) => /reusing probe pod/.test(r.stderr));
    await lab.kubectl(['delete', 'pods', '-A', '-l', 'app.kubernetes.io/managed-by=kubectl-netdiag', '--grace-period=0']).catch(() => '');
    lab.setFaults({});
    process.stdout.write(`podStartDelayMs 2000 on a private API server; median of ${reps} runs (one for --keep-pod)\n`);
    process.stdout.write(table(['command', 'median ms', 'runs ms', 'exit codes'], rows));
    process.stdout.write(`warm runs reused the kept pod: ${reusedAll ? 'yes' : 'NO'}; probe pods left: ${lab.probePods().length}\n`);
  } finally {
    await lab.stop();
  }
}

await main(process.argv.slice(2));
