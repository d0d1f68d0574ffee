// veth-peer's command line: its help, flags and completion; the check loads only when it runs.
import { NODE_NAMES, POD_NAMES, type CommandDeclaration } from '../command-line.js';

export const vethPeerCommandLine: CommandDeclaration = {
  command: 'veth-peer [pod]',
  describe: "map a pod's interfaces to their host-side veth and the path to the node NIC",
  positionals: [{ name: 'pod', options: { type: 'string', describe: 'pod name' } }],
  flags: [
    { name: 'selector', options: { alias: 'l', type: 'string', describe: 'pods matching this label selector' }, tab: 'pods matching this label selector' },
    { name: 'node', options: { type: 'string', describe: 'every pod on this node, from one probe pod (repeatable: several nodes)' }, tab: 'every pod on this node', value: NODE_NAMES },
  ],
  examples: [
    ['kubectl netdiag veth-peer web-1', "the host interface of pod web-1's eth0, and its path"],
    ['kubectl netdiag veth-peer -n kube-system -l k8s-app=kube-dns -o wide', 'every CoreDNS pod, with per-interface sysctls'],
    ['kubectl netdiag veth-peer --node worker-3', 'every pod on node worker-3'],
    ['kubectl netdiag veth-peer web-1 -o dot | dot -Tpng > path.png', 'a picture of the path'],
  ],
  tab: { describe: "a pod's host-side veth and its path to the node NIC", positional: POD_NAMES },
  async run(args, cli) {
    const { runCommand } = await import('../../cli/command-runner.js');
    const { vethPeerCommand, readVethPeerTarget } = await import('./command.js');
    return runCommand(vethPeerCommand(readVethPeerTarget(args)), cli.context());
  },
};
