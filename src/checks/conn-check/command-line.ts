// conn-check's command line: its help, flags and completion; the check loads only when it runs.
import { POD_NAMES, type CommandDeclaration } from '../command-line.js';

export const connCheckCommandLine: CommandDeclaration = {
  command: 'conn-check <src> <dst>',
  describe: 'send probes from SRC to DST and name the hop where they stop, from the kernel counters of every node on the path',
  positionals: [
    { name: 'src', options: { type: 'string', describe: 'POD, NAMESPACE/POD or node/NODE to send from' } },
    { name: 'dst', options: { type: 'string', describe: 'POD, NAMESPACE/POD, svc/SERVICE, node/NODE or IP[:PORT]' } },
  ],
  flags: [
    { name: 'port', options: { type: 'string', describe: "destination port (a Service port for svc/NAME; default: the pod's first container port, else icmp)" }, tab: 'destination port' },
    // No yargs choices: readConnCheckTarget says what is wrong in its own words.
    { name: 'protocol', options: { type: 'string', describe: 'tcp, udp or icmp (default: tcp with a port, icmp without)' }, tab: 'tcp, udp or icmp', value: { kind: 'fixed', values: ['tcp', 'udp', 'icmp'] } },
    { name: 'count', options: { type: 'string', describe: 'probes to send (1-10, default 3)' }, tab: 'probes to send' },
    { name: 'no-probe', options: { type: 'boolean', default: false, describe: 'the expected path only: send nothing' }, tab: 'the expected path only: send nothing' },
    { name: 'capture', options: { type: 'boolean', default: false, describe: 'a bounded tcpdump of the flow in both pods while the probes run, summarised per hop' }, tab: 'a bounded tcpdump of the flow in both pods' },
    { name: 'pcap', options: { type: 'string', describe: 'with the capture, write one pcap per hop into this existing directory' }, tab: 'directory for one pcap per hop', value: { kind: 'dir' } },
  ],
  examples: [
    ['kubectl netdiag conn-check web-1 web-2', "TCP to web-2's first container port, and where it stops if it fails"],
    ['kubectl netdiag conn-check team-b/client-1 svc/api -n team-a', "through the Service's kube-proxy rules to its endpoints"],
    ['kubectl netdiag conn-check web-1 node/worker-2 --protocol icmp --count 5', 'ping a node from a pod'],
    ['kubectl netdiag conn-check node/worker-1 10.244.2.7:8080 -o json', 'from a node to an address, every counter delta as JSON'],
  ],
  tab: { describe: 'probe SRC -> DST and name the hop where packets stop', positional: POD_NAMES },
  async run(args, cli) {
    const { runCommand } = await import('../../cli/command-runner.js');
    const { connCheckCommand, readConnCheckTarget } = await import('./command.js');
    return runCommand(connCheckCommand(readConnCheckTarget(args)), cli.context());
  },
};
