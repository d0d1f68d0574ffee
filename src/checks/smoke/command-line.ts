// smoke's command line (the default checks, or --matrix): its help, flags and completion; the
// checks load only when it runs.
import { POD_NAMES, type CommandDeclaration } from '../command-line.js';

export const smokeCommandLine: CommandDeclaration = {
  command: 'smoke',
  describe: 'check the whole cluster network in one go, for CI (dns-check, trace-svc, veth-peer, mtu-probe)',
  positionals: [],
  flags: [
    { name: 'pod', options: { type: 'string', describe: 'NAMESPACE/POD to run dns-check and mtu-probe from (default: one is picked)' }, tab: 'the pod to run dns-check and mtu-probe from', value: POD_NAMES },
    { name: 'external-name', options: { type: 'string', describe: 'also resolve this name through the upstream DNS' }, tab: 'also resolve this name upstream' },
    { name: 'junit', options: { type: 'string', describe: 'write a JUnit XML report to FILE (one test per finding code)' }, tab: 'write a JUnit XML report to FILE', value: { kind: 'file' } },
    // No default: --help shows it without one, as it always has.
    { name: 'matrix', options: { type: 'boolean', describe: 'instead: pod-to-pod between every pair of nodes and pod-to-Service from every node' }, tab: 'pod pairs between every two nodes and pod-to-Service' },
    { name: 'matrix-limit', options: { type: 'string', describe: 'with --matrix: pod pairs at most, sampled so every node is source and destination (default 400)' }, tab: 'with --matrix: pod pairs at most' },
    { name: 'service', options: { type: 'string', describe: 'with --matrix: NAMESPACE/SERVICE to connect to (default: the first ClusterIP Service with ready endpoints)' }, tab: 'with --matrix: NAMESPACE/SERVICE to connect to' },
    { name: 'attempts', options: { type: 'string', describe: 'with --matrix: connects (or pings) per pair, 1-10 (default 3)' }, tab: 'with --matrix: connects per pair' },
  ],
  examples: [
    ['kubectl netdiag smoke --fail-on warn -o json', 'the CI gate: exit 1 on any warning'],
    ['kubectl netdiag smoke --junit netdiag.xml --external-name example.com', 'JUnit for the CI test tab'],
    ['kubectl netdiag smoke --matrix --junit matrix.xml', 'every node pair and the Service from every node, one JUnit case per pair'],
  ],
  tab: { describe: 'check the whole cluster network in one go, for CI', positional: null },
  async run(args, cli) {
    const { runSmoke, readSmokeTarget } = await import('./command.js');
    // The global options are read before smoke's own flags, as they always were.
    return runSmoke(cli.context(), readSmokeTarget(args));
  },
};
