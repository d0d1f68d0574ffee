// The command line: flags -> GlobalOptions -> one command; the single place errors become text.
// The commands declare themselves (src/checks/<check>/command-line.ts, commands/tool-commands.ts);
// this file only puts them together.
import yargs, { type Argv, type CommandModule } from 'yargs';
import type { Deps } from './deps.js';
import { addGlobalOptions, normaliseArgv, readGlobalOptions } from './global-options.js';
import { EXIT, InterruptedError, UserError, type ExitCode } from '../errors.js';
import type { CommandContext } from './command-runner.js';
import type { CommandDeclaration } from '../checks/command-line.js';
import { rewriteExplainFlag } from './commands/explain.js';
import { HELP_ORDER } from './command-list.js';
import { COMPLETE_COMMAND, runComplete } from './completion.js';

const EXIT_CODES_HELP = `Exit codes:
  0    ran; no finding at or above --fail-on
  1    findings at or above --fail-on (default: error)
  2    usage error or bad input (unknown pod, bad flag)
  3    could not diagnose (API server, RBAC, probe pod failure)
  130  interrupted (probe pods are still deleted)`;

type Args = Record<string, unknown>;

export async function runCli(rawArgv: readonly string[], deps: Deps): Promise<ExitCode> {
  // Hidden: shell completion asks here (kubectl_complete-netdiag, `completion bash|zsh` scripts).
  if (rawArgv[0] === COMPLETE_COMMAND) return runComplete(rawArgv.slice(1), deps);
  // `--explain CODE` anywhere (with or without a command) means `explain CODE`.
  const explainArgv = rewriteExplainFlag(rawArgv);
  if (explainArgv) return runCli(explainArgv, deps);
  let exitCode: ExitCode = EXIT.ok;
  let verbose = rawArgv.includes('-v') || rawArgv.includes('--verbose');
  const context = (args: Args): CommandContext => {
    const options = readGlobalOptions(args);
    verbose = options.verbose;
    return { deps, options };
  };
  let parser = addGlobalOptions(
    yargs()
      .scriptName('kubectl netdiag')
      .usage('kubectl netdiag <command> [flags]\n\nDiagnoses pod networking from the nodes\' own kernel facts, with a short-lived privileged probe pod per node.')
      .parserConfiguration({ 'boolean-negation': false })
      .exitProcess(false)
      .strict()
      .strictCommands()
      .wrap(Math.min(110, 200))
      .epilogue(EXIT_CODES_HELP),
  );
  for (const declaration of HELP_ORDER) {
    parser = parser.command(yargsCommand(declaration, async (args) => {
      exitCode = await declaration.run(args, { deps, context: () => context(args) });
    }));
  }
  parser = parser
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

/** A declaration as yargs takes it: positionals, then flags, then examples, as --help shows them. */
function yargsCommand(declaration: CommandDeclaration, handler: (args: Args) => Promise<void>): CommandModule<object, Args> {
  return {
    command: declaration.command,
    describe: declaration.describe,
    builder: (y: Argv<object>) => {
      let built = y;
      for (const p of declaration.positionals) built = built.positional(p.name, p.options);
      for (const f of declaration.flags) built = built.option(f.name, f.options);
      for (const [command, description] of declaration.examples) built = built.example(command, description);
      return built as Argv<Args>;
    },
    handler,
  };
}

class UsageError extends Error {}

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
