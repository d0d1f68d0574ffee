// mtu-probe's command line: its help, flags and completion; the check loads only when it runs.
import { POD_NAMES, type CommandDeclaration } from '../command-line.js';

export const mtuProbeCommandLine: CommandDeclaration = {
  command: 'mtu-probe <pod>',
  describe: "the MTU of every hop and the path MTU found with don't-fragment pings",
  positionals: [{ name: 'pod', options: { type: 'string', describe: 'the pod to probe from' } }],
  flags: [
    {
      name: 'to',
      options: { type: 'string', describe: 'target: POD, NAMESPACE/POD, node/NODE or an IPv4 address (default: a pod on another node)' },
      tab: 'target: POD, node/NODE or an address',
      value: { kind: 'pod-or-node' },
    },
    { name: 'no-probe', options: { type: 'boolean', default: false, describe: 'configuration only: no pings' }, tab: 'configuration only: no pings' },
  ],
  examples: [
    ['kubectl netdiag mtu-probe web-1', 'path MTU from web-1 to a pod on another node, both ways'],
    ['kubectl netdiag mtu-probe web-1 --to node/worker-2', 'path MTU from web-1 to node worker-2'],
    ['kubectl netdiag mtu-probe web-1 --to 10.0.3.7 -o json', 'to an address, as JSON for CI'],
    ['kubectl netdiag mtu-probe web-1 --no-probe', 'the MTU and encapsulation overhead of every hop, without pings'],
  ],
  tab: { describe: 'hop MTUs and the path MTU from a pod', positional: POD_NAMES },
  async run(args, cli) {
    const { runCommand } = await import('../../cli/command-runner.js');
    const { mtuProbeCommand, readMtuProbeTarget } = await import('./command.js');
    return runCommand(mtuProbeCommand(readMtuProbeTarget(args)), cli.context());
  },
};
