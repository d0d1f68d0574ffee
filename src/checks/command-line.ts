// The shape of a command line (each check's command-line.ts, and cli/commands/tool-commands.ts):
// what --help shows, what yargs parses, what shell completion offers, and the handler. cli.ts and
// completion.ts both read these declarations, so they must stay light: the handler imports the
// check itself (analysis, rendering, the API client's users) only when the command runs, and
// nothing on a declaration's import path may load @kubernetes/client-node (--help, every TAB).
import type { Options, PositionalOptions } from 'yargs';
import type { CommandContext } from '../cli/command-runner.js';
import type { Deps } from '../cli/deps.js';
import type { ExitCode } from '../errors.js';

export type NameKind = 'pod' | 'service' | 'node';

/** What completion offers as a value. */
export type ValueSource =
  | { kind: 'none' } // a value nobody can guess (an image, a duration)
  | { kind: 'fixed'; values: readonly string[] }
  | { kind: 'names'; of: NameKind }
  | { kind: 'pod-or-node' } // mtu-probe --to: POD or node/NODE
  | { kind: 'context' }
  | { kind: 'file' }
  | { kind: 'dir' };

export const POD_NAMES = { kind: 'names', of: 'pod' } as const;
export const NODE_NAMES = { kind: 'names', of: 'node' } as const;
export const SERVICE_NAMES = { kind: 'names', of: 'service' } as const;

export interface FlagDeclaration {
  name: string;
  /** As yargs takes it (alias, type, array, default, describe): the help text comes from here. */
  options: Options & { type: 'string' | 'boolean' };
  /** The shorter text completion shows beside --NAME. */
  tab: string;
  /** What completion offers as the value of a string flag (default: nothing to guess). */
  value?: ValueSource;
}

export interface PositionalDeclaration {
  name: string;
  options: PositionalOptions;
}

/** What the handler gets from the command line around it. */
export interface CommandLineContext {
  deps: Deps;
  /** Reads and checks the global options; each command calls it when its arguments are read. */
  context(): CommandContext;
}

export interface CommandDeclaration {
  /** yargs' form: the name, then <required>, [optional] and [variadic..] positionals. */
  command: string;
  describe: string;
  positionals: readonly PositionalDeclaration[];
  flags: readonly FlagDeclaration[];
  examples: ReadonlyArray<readonly [command: string, description: string]>;
  /** What completion shows beside the name, and offers for the positionals. */
  tab: { describe: string; positional: Extract<ValueSource, { kind: 'names' | 'fixed' }> | null };
  run(args: Record<string, unknown>, cli: CommandLineContext): Promise<ExitCode>;
}

/** The command's name: the first word of its yargs form. */
export function commandName(declaration: CommandDeclaration): string {
  return declaration.command.split(' ', 1)[0]!;
}

/** How many positionals the command takes: node-check [node..] takes any number. */
export function maxPositionals(declaration: CommandDeclaration): number {
  const words = declaration.command.split(' ').slice(1);
  return words.some((w) => w.endsWith('..]') || w.endsWith('..>')) ? Number.POSITIVE_INFINITY : words.length;
}
