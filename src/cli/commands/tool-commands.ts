// The command lines of the commands that diagnose nothing: cleanup, explain, rbac, completion and
// version. Like the checks' own (src/checks/<check>/command-line.ts), they load their work only
// when they run.
import type { CommandDeclaration } from '../../checks/command-line.js';
import { FINDING_AREAS, FINDING_CATALOG } from '../../checks/catalog.js';
import { EXIT } from '../../errors.js';
import { VERSION } from '../../version.js';

export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

export const cleanupCommandLine: CommandDeclaration = {
  command: 'cleanup',
  describe: 'delete every probe pod this tool left behind (all namespaces)',
  positionals: [],
  flags: [{ name: 'dry-run', options: { type: 'boolean', default: false, describe: 'list them only' }, tab: 'list them only' }],
  examples: [
    ['kubectl netdiag cleanup', 'delete leftover probe pods'],
    ['kubectl netdiag cleanup --dry-run', 'list them without deleting'],
  ],
  tab: { describe: 'delete leftover probe pods', positional: null },
  async run(args, cli) {
    return (await import('./cleanup.js')).runCleanup(cli.context(), Boolean(args['dry-run']));
  },
};

export const explainCommandLine: CommandDeclaration = {
  command: 'explain [code]',
  describe: 'what a finding code means, why it breaks pod networking and how to fix it (no code: every code); also --explain CODE',
  positionals: [{ name: 'code', options: { type: 'string', describe: 'a finding code (dns.coredns-loop), an area (dns) or nothing' } }],
  flags: [],
  examples: [
    ['kubectl netdiag explain arp.ignore-blocks-host', 'the long form of one finding'],
    ['kubectl netdiag explain', 'every code by area: CODE, SEVERITY, TITLE'],
    ['kubectl netdiag explain -o json', 'the whole catalogue, for CI tooling'],
    ['kubectl netdiag --explain svc.rules-missing', 'the same as explain CODE, from any command line'],
  ],
  tab: { describe: 'what a finding code means', positional: { kind: 'fixed', values: [...FINDING_AREAS, ...FINDING_CATALOG.map((e) => e.code)] } },
  async run(args, cli) {
    const { options } = cli.context();
    const { runExplain, readExplainTarget } = await import('./explain.js');
    const { wrapColumns } = await import('../../render/table.js');
    const target = readExplainTarget(args.code === undefined ? undefined : String(args.code));
    return runExplain((t) => cli.deps.stdout.write(t), target, { ...options, columns: wrapColumns(cli.deps.stdout, options.output) });
  },
};

export const rbacCommandLine: CommandDeclaration = {
  command: 'rbac',
  describe: 'print the least-privilege ClusterRole/Role (and bindings) the plugin needs',
  positionals: [],
  flags: [
    {
      name: 'subject',
      options: { type: 'string', default: 'group:netdiag-users', describe: 'who gets it: user:NAME, group:NAME, serviceaccount:NS/NAME' },
      tab: 'who gets it',
    },
  ],
  examples: [
    ['kubectl netdiag rbac --subject user:alice | kubectl apply -f -', 'grant alice what the plugin needs'],
    ['kubectl netdiag rbac --probe-namespace netdiag --subject serviceaccount:ci/netdiag', 'for a CI service account, probes in namespace netdiag'],
  ],
  tab: { describe: 'print the RBAC the plugin needs', positional: null },
  async run(args, cli) {
    const { options } = cli.context();
    return (await import('./rbac.js')).runRbac((t) => cli.deps.stdout.write(t), options.probeNamespace ?? 'default', String(args.subject), options.output);
  },
};

export const completionCommandLine: CommandDeclaration = {
  command: 'completion <shell>',
  describe: 'print a bash or zsh completion script (kubectl netdiag <TAB> needs kubectl_complete-netdiag on PATH instead)',
  positionals: [{ name: 'shell', options: { type: 'string', choices: COMPLETION_SHELLS, demandOption: true } }],
  flags: [],
  examples: [['source <(kubectl-netdiag completion bash)', 'complete kubectl-netdiag in this bash session']],
  tab: { describe: 'print a bash or zsh completion script', positional: { kind: 'fixed', values: COMPLETION_SHELLS } },
  async run(args, cli) {
    const { renderCompletionScript } = await import('../completion.js');
    cli.deps.stdout.write(renderCompletionScript(args.shell as CompletionShell));
    return EXIT.ok;
  },
};

export const versionCommandLine: CommandDeclaration = {
  command: 'version',
  describe: 'print the plugin version',
  positionals: [],
  flags: [],
  examples: [],
  tab: { describe: 'print the plugin version', positional: null },
  async run(_args, cli) {
    // No global options read: `version` answers whatever else is on the line.
    cli.deps.stdout.write(`kubectl-netdiag ${VERSION}\n`);
    return EXIT.ok;
  },
};
