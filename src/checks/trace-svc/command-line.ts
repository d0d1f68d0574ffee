// trace-svc's command line: its help, flags and completion; the check loads only when it runs.
import { NODE_NAMES, POD_NAMES, SERVICE_NAMES, type CommandDeclaration } from '../command-line.js';

export const traceSvcCommandLine: CommandDeclaration = {
  command: 'trace-svc [service]',
  describe: "walk a Service's kube-proxy rules on the nodes and cross-check them with its EndpointSlices",
  positionals: [{ name: 'service', options: { type: 'string', describe: 'service name' } }],
  flags: [
    { name: 'port', options: { type: 'string', describe: 'only this Service port (name or number)' }, tab: 'only this Service port' },
    { name: 'from', options: { type: 'string', describe: 'trace from this pod, POD or NAMESPACE/POD (its node, its address)' }, tab: 'trace from this pod', value: POD_NAMES },
    { name: 'from-node', options: { type: 'string', describe: 'trace on this node only' }, tab: 'trace on this node only', value: NODE_NAMES },
    { name: 'probe', options: { type: 'boolean', default: false, describe: 'also connect to the ClusterIP and each endpoint (TCP)' }, tab: 'also connect to the ClusterIP and each endpoint' },
    { name: 'all-nodes', options: { type: 'boolean', default: false, describe: 'trace on every node (default: nodes with an endpoint plus one without)' }, tab: 'trace on every node' },
  ],
  examples: [
    ['kubectl netdiag trace-svc web', 'the chain on every node with an endpoint, plus one without'],
    ['kubectl netdiag trace-svc kube-dns -n kube-system --port dns -o wide', 'one port, with every rule and why it matched'],
    ['kubectl netdiag trace-svc web --from team-b/client-1 --probe', 'from pod client-1 in team-b, and test the connections'],
    ['kubectl netdiag trace-svc web -o json --fail-on warn', 'for CI'],
  ],
  tab: { describe: "a Service's kube-proxy rules on the nodes", positional: SERVICE_NAMES },
  async run(args, cli) {
    const { runCommand } = await import('../../cli/command-runner.js');
    const { traceSvcCommand, readTraceSvcTarget } = await import('./command.js');
    return runCommand(traceSvcCommand(readTraceSvcTarget(args)), cli.context());
  },
};
