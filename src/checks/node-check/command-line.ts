// node-check's command line: its help, flags and completion; the check loads only when it runs.
import { NODE_NAMES, type CommandDeclaration } from '../command-line.js';

export const nodeCheckCommandLine: CommandDeclaration = {
  command: 'node-check [node..]',
  describe: "a node's network health: forwarding sysctls, pod CIDR routes, CIDR overlaps, kube-proxy and CNI agent, conntrack",
  positionals: [{ name: 'node', options: { type: 'string', array: true, describe: 'node names' } }],
  flags: [
    { name: 'all', options: { type: 'boolean', default: false, describe: 'every Linux node, one probe pod each, in parallel' }, tab: 'every Linux node' },
    { name: 'service-cidr', options: { type: 'string', describe: 'the Service CIDR (default: inferred from the ClusterIPs and kube-proxy rules)' }, tab: 'the Service CIDR' },
  ],
  examples: [
    ['kubectl netdiag node-check worker-3', 'why pods on worker-3 cannot reach Services or other nodes'],
    ['kubectl netdiag node-check --all -o json', 'every node, as JSON for CI'],
    ['kubectl netdiag node-check worker-3 worker-4 --service-cidr 10.96.0.0/12', 'two nodes, with the Service CIDR given'],
  ],
  tab: { describe: "a node's forwarding, bridge and kube-proxy setup", positional: NODE_NAMES },
  async run(args, cli) {
    const { runCommand } = await import('../../cli/command-runner.js');
    const { nodeCheckCommand, readNodeCheckTarget } = await import('./command.js');
    return runCommand(nodeCheckCommand(readNodeCheckTarget(args)), cli.context());
  },
};
