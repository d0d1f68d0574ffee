// The command line: flags -> GlobalOptions -> one command; the single place errors become text.
import yargs, { type Argv } from 'yargs';
import type { Deps } from './deps.js';
import { addGlobalOptions, assertDnsLabel, assertDnsSubdomain, normaliseArgv, readGlobalOptions } from './global-options.js';
import { EXIT, InterruptedError, UserError, type ExitCode } from '../errors.js';
import type { CommandContext } from './command-runner.js';
import { rewriteExplainFlag } from './commands/explain.js';
import type { SmokeTarget } from '../checks/smoke/command.js';
import type { VethPeerTarget } from '../checks/veth-peer/command.js';
import type { TraceSvcTarget } from '../checks/trace-svc/command.js';
import { VERSION } from '../version.js';
import { COMPLETE_COMMAND, completionCommand, runComplete } from './completion.js';

const EXIT_CODES_HELP = `Exit codes:
  0    ran; no finding at or above --fail-on
  1    findings at or above --fail-on (default: error)
  2    usage error or bad input (unknown pod, bad flag)
  3    could not diagnose (API server, RBAC, probe pod failure)
  130  interrupted (probe pods are still deleted)`;

type Handler = (args: Record<string, unknown>) => Promise<ExitCode>;

// Commands, their analyses and the API client load when a command runs: --help, version,
// explain and completion (on every TAB) must not wait for them.
const commandRunner = () => import('./command-runner.js');

export async function runCli(rawArgv: readonly string[], deps: Deps): Promise<ExitCode> {
  // Hidden: shell completion asks here (kubectl_complete-netdiag, `completion bash|zsh` scripts).
  if (rawArgv[0] === COMPLETE_COMMAND) return runComplete(rawArgv.slice(1), deps);
  // `--explain CODE` anywhere (with or without a command) means `explain CODE`.
  const explainArgv = rewriteExplainFlag(rawArgv);
  if (explainArgv) return runCli(explainArgv, deps);
  let exitCode: ExitCode = EXIT.ok;
  let verbose = rawArgv.includes('-v') || rawArgv.includes('--verbose');
  const context = (args: Record<string, unknown>): CommandContext => {
    const options = readGlobalOptions(args);
    verbose = options.verbose;
    return { deps, options };
  };
  const run = (handler: Handler) => async (args: Record<string, unknown>) => {
    exitCode = await handler(args);
  };

  const parser = addGlobalOptions(
    yargs()
      .scriptName('kubectl netdiag')
      .usage('kubectl netdiag <command> [flags]\n\nDiagnoses pod networking from the nodes\' own kernel facts, with a short-lived privileged probe pod per node.')
      .parserConfiguration({ 'boolean-negation': false })
      .exitProcess(false)
      .strict()
      .strictCommands()
      .wrap(Math.min(110, 200))
      .epilogue(EXIT_CODES_HELP),
  )
    .command(
      'veth-peer [pod]',
      "map a pod's interfaces to their host-side veth and the path to the node NIC",
      (y: Argv) =>
        y
          .positional('pod', { type: 'string', describe: 'pod name' })
          .option('selector', { alias: 'l', type: 'string', describe: 'pods matching this label selector' })
          .option('node', { type: 'string', describe: 'every pod on this node, from one probe pod (repeatable: several nodes)' })
          .example('kubectl netdiag veth-peer web-1', "the host interface of pod web-1's eth0, and its path")
          .example('kubectl netdiag veth-peer -n kube-system -l k8s-app=kube-dns -o wide', 'every CoreDNS pod, with per-interface sysctls')
          .example('kubectl netdiag veth-peer --node worker-3', 'every pod on node worker-3')
          .example('kubectl netdiag veth-peer web-1 -o dot | dot -Tpng > path.png', 'a picture of the path'),
      run(async (args) => (await commandRunner()).runCommand((await import('../checks/veth-peer/command.js')).vethPeerCommand(readVethPeerTarget(args)), context(args))),
    )
    .command(
      'trace-svc [service]',
      "walk a Service's kube-proxy rules on the nodes and cross-check them with its EndpointSlices",
      (y: Argv) =>
        y
          .positional('service', { type: 'string', describe: 'service name' })
          .option('port', { type: 'string', describe: 'only this Service port (name or number)' })
          .option('from', { type: 'string', describe: 'trace from this pod, POD or NAMESPACE/POD (its node, its address)' })
          .option('from-node', { type: 'string', describe: 'trace on this node only' })
          .option('probe', { type: 'boolean', default: false, describe: 'also connect to the ClusterIP and each endpoint (TCP)' })
          .option('all-nodes', { type: 'boolean', default: false, describe: 'trace on every node (default: nodes with an endpoint plus one without)' })
          .example('kubectl netdiag trace-svc web', 'the chain on every node with an endpoint, plus one without')
          .example('kubectl netdiag trace-svc kube-dns -n kube-system --port dns -o wide', 'one port, with every rule and why it matched')
          .example('kubectl netdiag trace-svc web --from team-b/client-1 --probe', 'from pod client-1 in team-b, and test the connections')
          .example('kubectl netdiag trace-svc web -o json --fail-on warn', 'for CI'),
      run(async (args) => (await commandRunner()).runCommand((await import('../checks/trace-svc/command.js')).traceSvcCommand(readTraceSvcTarget(args)), context(args))),
    )
    .command(
      'arp-check [pod]',
      'neighbour tables, proxy_arp and arp_ignore on both sides of a pod\'s veth',
      (y: Argv) =>
        y
          .positional('pod', { type: 'string', describe: 'pod name' })
          .option('node', { type: 'string', describe: 'every pod on this node, from one probe pod' })
          .option('probe', { type: 'boolean', default: false, describe: 'send ARP for real: arping from the node to the pod and from the pod to its gateway' })
          .example('kubectl netdiag arp-check web-1', 'why web-1 does not answer ARP or cannot reach its gateway')
          .example('kubectl netdiag arp-check web-1 --probe', 'also arping both ways and say who answered with which MAC')
          .example('kubectl netdiag arp-check --node worker-3 -o wide', 'every pod on node worker-3, with raw sysctls and MACs'),
      run(async (args) => {
        const m = await import('../checks/arp-check/command.js');
        return (await commandRunner()).runCommand(m.arpCheckCommand(m.readArpCheckTarget(args)), context(args));
      }),
    )
    .command(
      'mtu-probe <pod>',
      'the MTU of every hop and the path MTU found with don\'t-fragment pings',
      (y: Argv) =>
        y
          .positional('pod', { type: 'string', describe: 'the pod to probe from' })
          .option('to', { type: 'string', describe: 'target: POD, NAMESPACE/POD, node/NODE or an IPv4 address (default: a pod on another node)' })
          .option('no-probe', { type: 'boolean', default: false, describe: 'configuration only: no pings' })
          .example('kubectl netdiag mtu-probe web-1', 'path MTU from web-1 to a pod on another node, both ways')
          .example('kubectl netdiag mtu-probe web-1 --to node/worker-2', 'path MTU from web-1 to node worker-2')
          .example('kubectl netdiag mtu-probe web-1 --to 10.0.3.7 -o json', 'to an address, as JSON for CI')
          .example('kubectl netdiag mtu-probe web-1 --no-probe', 'the MTU and encapsulation overhead of every hop, without pings'),
      run(async (args) => {
        const m = await import('../checks/mtu-probe/command.js');
        return (await commandRunner()).runCommand(m.mtuProbeCommand(m.readMtuProbeTarget(args)), context(args));
      }),
    )
    .command(
      'conn-check <src> <dst>',
      'send probes from SRC to DST and name the hop where they stop, from the kernel counters of every node on the path',
      (y: Argv) =>
        y
          .positional('src', { type: 'string', describe: 'POD, NAMESPACE/POD or node/NODE to send from' })
          .positional('dst', { type: 'string', describe: 'POD, NAMESPACE/POD, svc/SERVICE, node/NODE or IP[:PORT]' })
          .option('port', { type: 'string', describe: 'destination port (a Service port for svc/NAME; default: the pod\'s first container port, else icmp)' })
          .option('protocol', { type: 'string', describe: 'tcp, udp or icmp (default: tcp with a port, icmp without)' })
          .option('count', { type: 'string', describe: 'probes to send (1-10, default 3)' })
          .option('no-probe', { type: 'boolean', default: false, describe: 'the expected path only: send nothing' })
          .option('capture', { type: 'boolean', default: false, describe: 'a bounded tcpdump of the flow in both pods while the probes run, summarised per hop' })
          .option('pcap', { type: 'string', describe: 'with the capture, write one pcap per hop into this existing directory' })
          .example('kubectl netdiag conn-check web-1 web-2', 'TCP to web-2\'s first container port, and where it stops if it fails')
          .example('kubectl netdiag conn-check team-b/client-1 svc/api -n team-a', 'through the Service\'s kube-proxy rules to its endpoints')
          .example('kubectl netdiag conn-check web-1 node/worker-2 --protocol icmp --count 5', 'ping a node from a pod')
          .example('kubectl netdiag conn-check node/worker-1 10.244.2.7:8080 -o json', 'from a node to an address, every counter delta as JSON'),
      run(async (args) => {
        const m = await import('../checks/conn-check/command.js');
        return (await commandRunner()).runCommand(m.connCheckCommand(m.readConnCheckTarget(args)), context(args));
      }),
    )
    .command(
      'dns-check <pod>',
      "the pod's resolver setup, CoreDNS health and a query matrix",
      (y: Argv) =>
        y
          .positional('pod', { type: 'string', describe: 'pod whose name resolution to check' })
          .option('name', { type: 'string', array: true, default: [] as string[], describe: `names to resolve (repeatable; default: kubernetes.default and --external-name if given)` })
          .option('external-name', { type: 'string', describe: 'an outside name your upstream serves, resolved through CoreDNS and the upstream (without it that check is skipped)' })
          .example('kubectl netdiag dns-check web-1', 'where name resolution breaks for web-1')
          .example('kubectl netdiag dns-check client-1 -n team-b --name api --name www.google.com', 'why "api" does not resolve from team-b, and an external name')
          .example('kubectl netdiag dns-check web-1 -o json', 'the query matrix and findings as JSON for CI'),
      run(async (args) => {
        const m = await import('../checks/dns-check/command.js');
        return (await commandRunner()).runCommand(m.dnsCheckCommand(m.readDnsCheckTarget(args)), context(args));
      }),
    )
    .command(
      'cleanup',
      'delete every probe pod this tool left behind (all namespaces)',
      (y: Argv) =>
        y
          .option('dry-run', { type: 'boolean', default: false, describe: 'list them only' })
          .example('kubectl netdiag cleanup', 'delete leftover probe pods')
          .example('kubectl netdiag cleanup --dry-run', 'list them without deleting'),
      run(async (args) => (await import('./commands/cleanup.js')).runCleanup(context(args), Boolean(args['dry-run']))),
    )
    .command(
      'node-check [node..]',
      "a node's network health: forwarding sysctls, pod CIDR routes, CIDR overlaps, kube-proxy and CNI agent, conntrack",
      (y: Argv) =>
        y
          .positional('node', { type: 'string', array: true, describe: 'node names' })
          .option('all', { type: 'boolean', default: false, describe: 'every Linux node, one probe pod each, in parallel' })
          .option('service-cidr', { type: 'string', describe: 'the Service CIDR (default: inferred from the ClusterIPs and kube-proxy rules)' })
          .example('kubectl netdiag node-check worker-3', 'why pods on worker-3 cannot reach Services or other nodes')
          .example('kubectl netdiag node-check --all -o json', 'every node, as JSON for CI')
          .example('kubectl netdiag node-check worker-3 worker-4 --service-cidr 10.96.0.0/12', 'two nodes, with the Service CIDR given'),
      run(async (args) => {
        const m = await import('../checks/node-check/command.js');
        return (await commandRunner()).runCommand(m.nodeCheckCommand(m.readNodeCheckTarget(args)), context(args));
      }),
    )
    .command(
      'node-diff [good] [bad]',
      'what differs between a healthy node and a broken one, most likely culprit first',
      (y: Argv) =>
        y
          .positional('good', { type: 'string', describe: 'a node where pod networking works' })
          .positional('bad', { type: 'string', describe: 'the node where it does not' })
          .example('kubectl netdiag node-diff worker-1 worker-3', 'sysctls, MTUs, routes, kube-proxy rules and CNI config that differ')
          .example('kubectl netdiag node-diff worker-1 worker-3 -o json', 'the differences as JSON for CI'),
      run(async (args) => {
        const m = await import('../checks/node-diff/command.js');
        return (await commandRunner()).runCommand(m.nodeDiffCommand(m.readNodeDiffTarget(args)), context(args));
      }),
    )
    .command(
      'smoke',
      'check the whole cluster network in one go, for CI (dns-check, trace-svc, veth-peer, mtu-probe)',
      (y: Argv) =>
        y
          .option('pod', { type: 'string', describe: 'NAMESPACE/POD to run dns-check and mtu-probe from (default: one is picked)' })
          .option('external-name', { type: 'string', describe: 'also resolve this name through the upstream DNS' })
          .option('junit', { type: 'string', describe: 'write a JUnit XML report to FILE (one test per finding code)' })
          .option('matrix', { type: 'boolean', describe: 'instead: pod-to-pod between every pair of nodes and pod-to-Service from every node' })
          .option('matrix-limit', { type: 'string', describe: 'with --matrix: pod pairs at most, sampled so every node is source and destination (default 400)' })
          .option('service', { type: 'string', describe: 'with --matrix: NAMESPACE/SERVICE to connect to (default: the first ClusterIP Service with ready endpoints)' })
          .option('attempts', { type: 'string', describe: 'with --matrix: connects (or pings) per pair, 1-10 (default 3)' })
          .example('kubectl netdiag smoke --fail-on warn -o json', 'the CI gate: exit 1 on any warning')
          .example('kubectl netdiag smoke --junit netdiag.xml --external-name example.com', 'JUnit for the CI test tab')
          .example('kubectl netdiag smoke --matrix --junit matrix.xml', 'every node pair and the Service from every node, one JUnit case per pair'),
      run(async (args) => (await import('../checks/smoke/command.js')).runSmoke(context(args), readSmokeTarget(args))),
    )
    .command(
      'explain [code]',
      'what a finding code means, why it breaks pod networking and how to fix it (no code: every code); also --explain CODE',
      (y: Argv) =>
        y
          .positional('code', { type: 'string', describe: 'a finding code (dns.coredns-loop), an area (dns) or nothing' })
          .example('kubectl netdiag explain arp.ignore-blocks-host', 'the long form of one finding')
          .example('kubectl netdiag explain', 'every code by area: CODE, SEVERITY, TITLE')
          .example('kubectl netdiag explain -o json', 'the whole catalogue, for CI tooling')
          .example('kubectl netdiag --explain svc.rules-missing', 'the same as explain CODE, from any command line'),
      run(async (args) => {
        const { options } = context(args);
        const { runExplain, readExplainTarget } = await import('./commands/explain.js');
        return runExplain((t) => deps.stdout.write(t), readExplainTarget(args.code === undefined ? undefined : String(args.code)), options);
      }),
    )
    .command(
      'rbac',
      'print the least-privilege ClusterRole/Role (and bindings) the plugin needs',
      (y: Argv) =>
        y
          .option('subject', { type: 'string', default: 'group:netdiag-users', describe: 'who gets it: user:NAME, group:NAME, serviceaccount:NS/NAME' })
          .example('kubectl netdiag rbac --subject user:alice | kubectl apply -f -', 'grant alice what the plugin needs')
          .example('kubectl netdiag rbac --probe-namespace netdiag --subject serviceaccount:ci/netdiag', 'for a CI service account, probes in namespace netdiag'),
      run(async (args) => {
        const { options } = context(args);
        return (await import('./commands/rbac.js')).runRbac((t) => deps.stdout.write(t), options.probeNamespace ?? 'default', String(args.subject), options.output);
      }),
    )
    .command(completionCommand((t) => deps.stdout.write(t)))
    .command('version', 'print the plugin version', (y: Argv) => y, run(async () => {
      deps.stdout.write(`kubectl-netdiag ${VERSION}\n`);
      return EXIT.ok;
    }))
    .demandCommand(1, 'name a command: veth-peer, trace-svc, arp-check, mtu-probe, conn-check, dns-check or cleanup')
    .help()
    .alias('help', 'h')
    .version(false)
    .fail((message: string | null, err: Error | undefined) => {
      throw err ?? new UsageError(message ?? 'invalid arguments');
    });

  try {
    let helpText = '';
    await parser.parseAsync(normaliseArgv(rawArgv), {}, (_err: unknown, _argv: unknown, output: string) => {
      helpText = output;
    });
    if (helpText) deps.stdout.write(helpText.endsWith('\n') ? helpText : `${helpText}\n`);
    return exitCode;
  } catch (err) {
    return printError(err, deps, verbose);
  }
}

class UsageError extends Error {}

function readVethPeerTarget(args: Record<string, unknown>): VethPeerTarget {
  const pod = args.pod === undefined ? undefined : String(args.pod);
  const selector = args.selector === undefined ? undefined : String(args.selector);
  const nodes = args.node === undefined ? [] : [args.node].flat().map(String);
  const node = nodes[0];
  const given = [pod, selector, node].filter((v) => v !== undefined).length;
  // A snapshot already names its pods.
  if (given === 0 && args['from-snapshot'] !== undefined) return { kind: 'snapshot' };
  if (given !== 1) {
    throw new UserError('veth-peer needs exactly one of: a POD name, -l SELECTOR, or --node NODE', {
      hint: 'kubectl netdiag veth-peer --help',
    });
  }
  if (pod !== undefined) assertDnsSubdomain(pod, 'pod name');
  for (const n of nodes) assertDnsSubdomain(n, 'node name');
  if (selector !== undefined && !/^[A-Za-z0-9_./\-=!,() ]+$/.test(selector)) {
    throw new UserError(`invalid label selector ${JSON.stringify(selector)}`);
  }
  if (pod !== undefined) return { kind: 'pod', name: pod };
  if (selector !== undefined) return { kind: 'selector', selector };
  return nodes.length === 1 ? { kind: 'node', name: node! } : { kind: 'nodes', names: [...new Set(nodes)] };
}

function readTraceSvcTarget(args: Record<string, unknown>): TraceSvcTarget {
  const opt = (k: string) => (args[k] === undefined ? undefined : String(args[k]));
  const service = opt('service');
  if (service === undefined && args['from-snapshot'] === undefined) {
    throw new UserError('trace-svc needs a SERVICE name', { hint: 'kubectl netdiag trace-svc --help' });
  }
  if (service !== undefined) assertDnsLabel(service, 'service name');
  const fromPod = opt('from');
  const fromNode = opt('from-node');
  if (fromPod !== undefined) {
    // --from NAME (the Service's namespace) or --from NAMESPACE/NAME.
    const [a, b] = fromPod.split('/', 2);
    if (b !== undefined) assertDnsLabel(a!, 'namespace');
    assertDnsSubdomain(b ?? a!, 'pod name');
  }
  if (fromNode !== undefined) assertDnsSubdomain(fromNode, 'node name');
  if (fromPod !== undefined && fromNode !== undefined) throw new UserError('--from and --from-node cannot be used together');
  const port = opt('port');
  if (port !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(port)) throw new UserError(`invalid --port ${JSON.stringify(port)}: a port name or number`);
  if (args['all-nodes'] && (fromPod !== undefined || fromNode !== undefined)) throw new UserError('--all-nodes cannot be used with --from or --from-node');
  return { service: service ?? null, port, fromPod, fromNode, probe: Boolean(args.probe), allNodes: Boolean(args['all-nodes']) };
}

function readSmokeTarget(args: Record<string, unknown>): SmokeTarget {
  let pod: SmokeTarget['pod'] = null;
  if (args.pod !== undefined) {
    const [a, b] = String(args.pod).split('/', 2);
    if (b === undefined) throw new UserError(`--pod takes NAMESPACE/POD, not ${JSON.stringify(String(args.pod))}`);
    assertDnsLabel(a!, 'namespace');
    assertDnsSubdomain(b, 'pod name');
    pod = { namespace: a!, name: b };
  }
  const externalName = args['external-name'] === undefined ? null : String(args['external-name']);
  if (externalName !== null && !/^[A-Za-z0-9._-]+$/.test(externalName)) throw new UserError(`invalid --external-name ${JSON.stringify(externalName)}`);
  return { pod, externalName, junit: args.junit === undefined ? null : String(args.junit), matrix: readSmokeMatrix(args) };
}

function readSmokeMatrix(args: Record<string, unknown>): SmokeTarget['matrix'] {
  const given = (k: string) => (args[k] === undefined ? undefined : String(args[k]));
  if (!args.matrix) {
    const stray = ['matrix-limit', 'service', 'attempts'].find((k) => args[k] !== undefined);
    if (stray) throw new UserError(`--${stray} needs --matrix`);
    return null;
  }
  if (args.pod !== undefined || args['external-name'] !== undefined) throw new UserError('--pod and --external-name are for the default checks, not --matrix');
  const whole = (k: string, fallback: number, max: number): number => {
    const text = given(k) ?? String(fallback);
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new UserError(`invalid --${k} ${JSON.stringify(text)}: a whole number from 1 to ${max}`);
    return Number(text);
  };
  let service: { namespace: string; name: string } | null = null;
  const svc = given('service');
  if (svc !== undefined) {
    const [a, b] = svc.split('/', 2);
    if (b === undefined) throw new UserError(`--service takes NAMESPACE/SERVICE, not ${JSON.stringify(svc)}`);
    assertDnsLabel(a!, 'namespace');
    assertDnsLabel(b, 'service name');
    service = { namespace: a!, name: b };
  }
  return { limit: whole('matrix-limit', 400, 1_000_000), attempts: whole('attempts', 3, 10), service };
}

/** The one place an error becomes text: `error: ...`, an optional `hint: ...`, causes only with -v. */
export function printError(err: unknown, deps: Deps, verbose: boolean): ExitCode {
  if (err instanceof InterruptedError) {
    if (err.podsLeft > 0) {
      deps.stderr.write(`error: interrupted; ${err.podsLeft} probe pod(s) could not be deleted\nhint: kubectl netdiag cleanup removes them (they also end by themselves after --timeout + 60s)\n`);
    } else {
      deps.stderr.write('error: interrupted; probe pods were deleted\n');
    }
    return EXIT.interrupted;
  }
  if (err instanceof UsageError) {
    deps.stderr.write(`error: ${oneLine(err.message)}\nhint: see kubectl netdiag --help\n`);
    return EXIT.usage;
  }
  if (err instanceof UserError) {
    deps.stderr.write(`error: ${oneLine(err.message)}\n`);
    if (err.hint) deps.stderr.write(`hint: ${oneLine(err.hint)}\n`);
    if (verbose && err.cause) deps.stderr.write(`cause: ${oneLine(causeText(err.cause))}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  deps.stderr.write(`error: unexpected failure: ${oneLine(e?.message ?? String(err))}\n`);
  if (verbose && e?.stack) deps.stderr.write(`${e.stack}\n`);
  else deps.stderr.write('hint: run again with -v for details, and report it\n');
  return EXIT.cannotDiagnose;
}

/**
 * Messages quote user input and API text: newlines and control characters (a name like
 * "x\ntouch y", a terminal escape) are shown escaped, so an error is always exactly one line.
 */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

function causeText(cause: unknown): string {
  const c = cause as { message?: string; body?: unknown };
  return [c?.message, typeof c?.body === 'string' ? c.body : ''].filter(Boolean).join(' ');
}
