// dns-check's command line: its help, flags and completion; the check loads only when it runs.
import { POD_NAMES, type CommandDeclaration } from '../command-line.js';

export const dnsCheckCommandLine: CommandDeclaration = {
  command: 'dns-check <pod>',
  describe: "the pod's resolver setup, CoreDNS health and a query matrix",
  positionals: [{ name: 'pod', options: { type: 'string', describe: 'pod whose name resolution to check' } }],
  flags: [
    {
      name: 'name',
      options: { type: 'string', array: true, default: [] as string[], describe: 'names to resolve (repeatable; default: kubernetes.default and --external-name if given)' },
      tab: 'a name to resolve',
    },
    {
      name: 'external-name',
      options: { type: 'string', describe: 'an outside name your upstream serves, resolved through CoreDNS and the upstream (without it that check is skipped)' },
      tab: 'an outside name to resolve upstream',
    },
  ],
  examples: [
    ['kubectl netdiag dns-check web-1', 'where name resolution breaks for web-1'],
    ['kubectl netdiag dns-check client-1 -n team-b --name api --name www.google.com', 'why "api" does not resolve from team-b, and an external name'],
    ['kubectl netdiag dns-check web-1 -o json', 'the query matrix and findings as JSON for CI'],
  ],
  tab: { describe: "a pod's resolver setup, CoreDNS and a query matrix", positional: POD_NAMES },
  async run(args, cli) {
    const { runCommand } = await import('../../cli/command-runner.js');
    const { dnsCheckCommand, readDnsCheckTarget } = await import('./command.js');
    return runCommand(dnsCheckCommand(readDnsCheckTarget(args)), cli.context());
  },
};
