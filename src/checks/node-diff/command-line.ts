// node-diff's command line: its help and completion; the check loads only when it runs.
import { NODE_NAMES, type CommandDeclaration } from '../command-line.js';

export const nodeDiffCommandLine: CommandDeclaration = {
  command: 'node-diff [good] [bad]',
  describe: 'what differs between a healthy node and a broken one, most likely culprit first',
  positionals: [
    { name: 'good', options: { type: 'string', describe: 'a node where pod networking works' } },
    { name: 'bad', options: { type: 'string', describe: 'the node where it does not' } },
  ],
  flags: [],
  examples: [
    ['kubectl netdiag node-diff worker-1 worker-3', 'sysctls, MTUs, routes, kube-proxy rules and CNI config that differ'],
    ['kubectl netdiag node-diff worker-1 worker-3 -o json', 'the differences as JSON for CI'],
  ],
  tab: { describe: 'what differs between a good node and a bad one', positional: NODE_NAMES },
  async run(args, cli) {
    const { runCommand } = await import('../../cli/command-runner.js');
    const { nodeDiffCommand, readNodeDiffTarget } = await import('./command.js');
    return runCommand(nodeDiffCommand(readNodeDiffTarget(args)), cli.context());
  },
};
