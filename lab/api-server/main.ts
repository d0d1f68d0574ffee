// Entry point of the simulated API server:
//   node --import ./test/ts-node-register.mjs lab/api-server/main.ts --state .lab/topology.json --dir .lab [--port 0]
//     [--scale-nodes N] [--exec-slots N] [--scale-exec live|replay]   (scale.ts, exec-replay.ts)
// Writes <dir>/kubeconfig, prints `listening https://127.0.0.1:PORT` when ready, runs until
// SIGTERM/SIGINT.

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { CALICO_POLICY_FILE, programCalicoPolicy } from '../calico-policy.js';
import { startApiServer, type NetworkPolicyChange } from './server.js';
import { parseScaleNodes } from './scale.js';
import { parseScaleExecMode } from './exec-replay.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      state: { type: 'string', default: '.lab/topology.json' },
      dir: { type: 'string', default: '.lab' },
      port: { type: 'string', default: '0' },
      token: { type: 'string' },
      'scale-nodes': { type: 'string', default: '0' },
      'exec-slots': { type: 'string', default: '0' },
      'scale-exec': { type: 'string', default: 'live' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got "${values.port}"`);
  const scaleNodes = parseScaleNodes(values['scale-nodes'], '--scale-nodes');
  const execSlots = Number(values['exec-slots']);
  if (!Number.isInteger(execSlots) || execSlots < 0) throw new Error(`--exec-slots must be a whole number >= 0, got "${values['exec-slots']}"`);
  // As root (lab:up), NetworkPolicy changes are programmed into the Calico nodes' kernels.
  const savedPolicies = join(values.dir, CALICO_POLICY_FILE);
  const program = (change: NetworkPolicyChange): Promise<void> =>
    programCalicoPolicy(change.state, { policies: change.policies as unknown as V1NetworkPolicy[], namespaceLabels: change.namespaceLabels }, savedPolicies);
  const server = await startApiServer({
    statePath: values.state, dir: values.dir, port, scaleNodes, execSlots, scaleExec: parseScaleExecMode(values['scale-exec']),
    ...(values.token ? { token: values.token } : {}),
    ...(process.getuid?.() === 0 ? { onNetworkPoliciesChanged: program } : {}),
  });
  // A new server has no policies: forget any a previous lab left for whole-table restores.
  if (process.getuid?.() === 0) await server.reprogramNetworkPolicies();
  process.stdout.write(`listening ${server.url}\n`);
  const stop = (): void => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
