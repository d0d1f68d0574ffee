// What kubectl runs on every TAB (`__complete`), `version`, `explain CODE` and (in the bundle)
// `--help` answered without yargs, the commands or the API client: these must start about as fast
// as node itself.
import type { Deps } from './deps.js';
import { EXIT, type ExitCode } from '../errors.js';

// The bundle (scripts/bundle.ts) defines the help texts yargs printed for its own build: '' is
// `--help`, a command name `CMD --help`. Unbundled (dist/, ts-node) it is undefined: yargs prints.
declare const __NETDIAG_HELP__: Readonly<Record<string, string>> | undefined;

/** The pre-rendered text for `--help`, `-h`, `CMD --help` or `CMD -h`; undefined for anything else. */
export function prerenderedHelp(argv: readonly string[], texts: Readonly<Record<string, string>> | undefined): string | undefined {
  if (texts === undefined || argv.length === 0 || argv.length > 2) return undefined;
  const last = argv[argv.length - 1];
  if (last !== '--help' && last !== '-h') return undefined;
  const key = argv.length === 1 ? '' : argv[0]!;
  return Object.hasOwn(texts, key) ? texts[key] : undefined;
}

/** The exit code when argv is one of the fast commands as typed plainly; null: parse it in full. */
export async function runFastPath(argv: readonly string[], deps: Deps): Promise<ExitCode | null> {
  const help = prerenderedHelp(argv, typeof __NETDIAG_HELP__ === 'object' ? __NETDIAG_HELP__ : undefined);
  if (help !== undefined) {
    deps.stdout.write(help);
    return EXIT.ok;
  }
  if (argv[0] === '__complete') {
    const { runComplete } = await import('./completion.js');
    return runComplete(argv.slice(1), deps);
  }
  if (argv.length === 1 && argv[0] === 'version') {
    const { VERSION } = await import('../version.js');
    deps.stdout.write(`kubectl-netdiag ${VERSION}\n`);
    return EXIT.ok;
  }
  if (argv.length === 2 && argv[0] === 'explain' && /^[a-z0-9][a-z0-9.*-]*$/.test(argv[1]!)) {
    const { readExplainTarget, runExplain } = await import('./commands/explain.js');
    const { wrapColumns } = await import('../render/table.js');
    let text = '';
    try {
      const code = runExplain((t) => void (text += t), readExplainTarget(argv[1]), { output: 'table', noHeaders: false, columns: wrapColumns(deps.stdout, 'table') });
      deps.stdout.write(text);
      return code;
    } catch {
      return null; // an unknown code: the full CLI says so, with its suggestions
    }
  }
  return null;
}

/** The fast commands first; everything else through the full command line, loaded only then. */
export async function runCli(argv: readonly string[], deps: Deps): Promise<ExitCode> {
  return (await runFastPath(argv, deps)) ?? (await import('./cli.js')).runCli(argv, deps);
}
