// arp-check's command line: its help, flags and completion; the check loads only when it runs.
import { NODE_NAMES, POD_NAMES, type CommandDeclaration } from '../command-line.js';

export const arpCheckCommandLine: CommandDeclaration = {
  command: 'arp-check [pod]',
  describe: "neighbour tables, proxy_arp and arp_ignore on both sides of a pod's veth",
  positionals: [{ name: 'pod', options: { type: 'string', describe: 'pod name' } }],
  flags: [
    { name: 'node', options: { type: 'string', describe: 'every pod on this node, from one probe pod' }, tab: 'every pod on this node', value: NODE_NAMES },
    { name: 'probe', options: { type: 'boolean', default: false, describe: 'send ARP for real: arping from the node to the pod and from the pod to its gateway' }, tab: 'send ARP for real' },
  ],
  examples: [
    ['kubectl netdiag arp-check web-1', 'why web-1 does not answer ARP or cannot reach its gateway'],
    ['kubectl netdiag arp-check web-1 --probe', 'also arping both ways and say who answered with which MAC'],
    ['kubectl netdiag arp-check --node worker-3 -o wide', 'every pod on node worker-3, with raw sysctls and MACs'],
  ],
  tab: { describe: 'neighbour tables, proxy_arp and arp_ignore around a pod', positional: POD_NAMES },
  async run(args, cli) {
    const { runCommand } = await import('../../cli/command-runner.js');
    const { arpCheckCommand, readArpCheckTarget } = await import('./command.js');
    return runCommand(arpCheckCommand(readArpCheckTarget(args)), cli.context());
  },
};
