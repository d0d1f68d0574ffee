// Shell completion, one engine for two front ends:
//  - kubectl (>= 1.26) completes `kubectl netdiag ...` by running `kubectl_complete-netdiag ARGS
//    PARTIAL` from PATH; that helper runs `kubectl-netdiag __complete ARGS PARTIAL`, which prints
//    one candidate per line (`name<TAB>description` allowed) and a final `:N` directive line.
//  - `kubectl-netdiag completion bash|zsh` prints a script that asks the same `__complete` when
//    the plugin is run directly.
// Names come from the cluster through the same kube layer as every command (Deps.connect), with
// -n/--namespace, --kubeconfig and --context already on the line honoured. Any error prints
// nothing but the directive: completion must never spill text into the user's prompt.
import type { Deps } from './deps.js';
import type { ClusterApi } from '../kube/cluster-api.js';
import { EXIT, type ExitCode } from '../errors.js';
import { OUTPUT_FORMATS } from './global-options.js';
import { SEVERITIES } from '../checks/finding.js';
import { commandName, maxPositionals, type CommandDeclaration, type NameKind, type ValueSource } from '../checks/command-line.js';
import { COMMAND_LINES } from './command-list.js';
import { COMPLETION_SHELLS, type CompletionShell } from './commands/tool-commands.js';

export const COMPLETE_COMMAND = '__complete';

/** cobra's ShellCompDirective values, which kubectl passes on to the shell. */
export const DIRECTIVE = {
  files: 0, // no candidates: let the shell complete file names
  noFiles: 4,
  dirs: 16,
} as const;
export type Directive = (typeof DIRECTIVE)[keyof typeof DIRECTIVE];

export type { NameKind, ValueSource };

export interface FlagSpec {
  name: string; // long name without dashes
  short?: string;
  description: string;
  value: ValueSource | null; // null = boolean flag
}

export interface CommandSpec {
  name: string;
  description: string;
  positional: { kind: 'names'; of: NameKind } | { kind: 'fixed'; values: readonly string[] } | null;
  /** How many positionals the command takes (node-check takes any number of nodes). */
  maxPositionals: number;
  flags: readonly FlagSpec[];
}

const NONE: ValueSource = { kind: 'none' };

/** Mirrors addGlobalOptions (global-options.ts); test/unit/packaging/completion.test.ts keeps them in step. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'kubeconfig', description: 'path to the kubeconfig file', value: { kind: 'file' } },
  { name: 'context', description: 'the kubeconfig context to use', value: { kind: 'context' } },
  { name: 'namespace', short: 'n', description: 'namespace of the target object', value: NONE },
  { name: 'all-namespaces', short: 'A', description: 'look in every namespace', value: null },
  { name: 'request-timeout', description: 'per API request', value: NONE },
  { name: 'output', short: 'o', description: 'output format', value: { kind: 'fixed', values: OUTPUT_FORMATS } },
  { name: 'no-headers', description: 'omit table headers', value: null },
  { name: 'color', description: 'colour: auto, always, never', value: { kind: 'fixed', values: ['auto', 'always', 'never'] } },
  { name: 'image', description: 'probe pod image', value: NONE },
  { name: 'image-pull-secret', description: 'pull secret for --image', value: NONE },
  { name: 'priority-class', description: 'priorityClassName for probe pods', value: NONE },
  { name: 'probe-namespace', description: 'namespace for probe pods', value: NONE },
  { name: 'timeout', description: 'how long a node may take to answer', value: NONE },
  { name: 'keep-pod', description: 'leave the probe pods running', value: null },
  { name: 'reuse-pod', description: 'use a probe pod kept by an earlier run', value: null },
  { name: 'max-parallel', description: 'probe pods alive at once', value: NONE },
  { name: 'fail-on', description: 'exit 1 on findings at or above', value: { kind: 'fixed', values: [...SEVERITIES, 'never'] } },
  { name: 'save-snapshot', description: 'write the raw node facts to DIR', value: { kind: 'dir' } },
  { name: 'from-snapshot', description: 'analyse a saved snapshot DIR', value: { kind: 'dir' } },
  { name: 'verbose', short: 'v', description: 'show error causes', value: null },
  { name: 'help', short: 'h', description: 'show help', value: null },
];

/** A command as completion reads it, from the same declaration --help and yargs use. */
export function commandSpecOf(declaration: CommandDeclaration): CommandSpec {
  return {
    name: commandName(declaration),
    description: declaration.tab.describe,
    positional: declaration.tab.positional,
    maxPositionals: maxPositionals(declaration),
    flags: declaration.flags.map((f) => ({
      name: f.name,
      ...(typeof f.options.alias === 'string' ? { short: f.options.alias } : {}),
      description: f.tab,
      value: f.options.type === 'boolean' ? null : (f.value ?? NONE),
    })),
  };
}

export const COMMAND_SPECS: readonly CommandSpec[] = COMMAND_LINES.map(commandSpecOf);

/** What the words before the cursor say: the command, its positionals, and the cluster flags. */
export interface CompletionLine {
  command: CommandSpec | undefined;
  /** The first positional word, a command name or not. */
  commandWord: string | undefined;
  positionals: string[];
  namespace: string | undefined;
  kubeconfig: string | undefined;
  context: string | undefined;
  /** The word being completed is the value of this flag (`-o <TAB>`). */
  pendingFlag: FlagSpec | undefined;
}

function findFlag(flags: readonly FlagSpec[], long: string | undefined, short: string | undefined): FlagSpec | undefined {
  return flags.find((f) => (long !== undefined && f.name === long) || (short !== undefined && f.short === short));
}

/** Reads the completed words (not the partial one) the way yargs would, without yargs. */
export function parseCompletionLine(words: readonly string[]): CompletionLine {
  const line: CompletionLine = { command: undefined, commandWord: undefined, positionals: [], namespace: undefined, kubeconfig: undefined, context: undefined, pendingFlag: undefined };
  const flags = () => [...GLOBAL_FLAGS, ...(line.command?.flags ?? [])];
  const record = (flag: FlagSpec, value: string) => {
    if (flag.name === 'namespace') line.namespace = value;
    if (flag.name === 'kubeconfig') line.kubeconfig = value;
    if (flag.name === 'context') line.context = value;
  };
  let onlyPositionals = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    let flag: FlagSpec | undefined;
    let inline: string | undefined;
    if (!onlyPositionals && word === '--') {
      onlyPositionals = true;
      continue;
    } else if (!onlyPositionals && word.startsWith('--')) {
      const eq = word.indexOf('=');
      flag = findFlag(flags(), eq === -1 ? word.slice(2) : word.slice(2, eq), undefined);
      if (eq !== -1) inline = word.slice(eq + 1);
    } else if (!onlyPositionals && word.startsWith('-') && word.length > 1) {
      flag = findFlag(flags(), undefined, word[1]);
      // -ojson, -n=kube-system: glued values, as normaliseArgv accepts them.
      if (word.length > 2 && flag?.value) inline = word.slice(2).replace(/^=/, '');
    } else {
      if (line.commandWord === undefined) {
        line.commandWord = word;
        line.command = COMMAND_SPECS.find((c) => c.name === word);
      } else line.positionals.push(word);
      continue;
    }
    if (!flag?.value) continue; // boolean or unknown flag: no value follows
    if (inline === undefined) {
      if (i + 1 >= words.length) {
        line.pendingFlag = flag;
        break;
      }
      inline = words[++i]!;
    }
    record(flag, inline);
  }
  return line;
}

/** Where names come from; the real one asks the cluster, tests pass plain lists. */
export interface NameSource {
  names(kind: NameKind, namespace: string | undefined): Promise<string[]>;
  contexts(): Promise<string[]>;
}

export interface Completion {
  candidates: string[]; // `value` or `value<TAB>description`
  directive: Directive;
}

const candidatesOf = (values: readonly string[], partial: string, prefix = ''): string[] =>
  values.filter((v) => v.startsWith(partial)).map((v) => prefix + v);

async function completeValue(source: ValueSource, partial: string, line: CompletionLine, names: NameSource, prefix = ''): Promise<Completion> {
  switch (source.kind) {
    case 'none':
      return { candidates: [], directive: DIRECTIVE.noFiles };
    case 'file':
      return { candidates: [], directive: DIRECTIVE.files };
    case 'dir':
      return { candidates: [], directive: DIRECTIVE.dirs };
    case 'fixed':
      return { candidates: candidatesOf(source.values, partial, prefix), directive: DIRECTIVE.noFiles };
    case 'context':
      return { candidates: candidatesOf(await names.contexts(), partial, prefix), directive: DIRECTIVE.noFiles };
    case 'names':
      return { candidates: candidatesOf(await names.names(source.of, line.namespace), partial, prefix), directive: DIRECTIVE.noFiles };
    case 'pod-or-node': {
      if (partial.startsWith('node/')) {
        const nodes = (await names.names('node', undefined)).map((n) => `node/${n}`);
        return { candidates: candidatesOf(nodes, partial, prefix), directive: DIRECTIVE.noFiles };
      }
      const pods = await names.names('pod', line.namespace);
      return { candidates: candidatesOf([...pods, 'node/'], partial, prefix), directive: DIRECTIVE.noFiles };
    }
  }
}

/** The candidates for `partial`, the word under the cursor, after the completed `words`. */
export async function buildCompletion(words: readonly string[], partial: string, names: NameSource): Promise<Completion> {
  const line = parseCompletionLine(words);
  if (line.pendingFlag?.value) return completeValue(line.pendingFlag.value, partial, line, names);
  const flags = [...GLOBAL_FLAGS, ...(line.command?.flags ?? [])];
  const longWithValue = /^--([^=]+)=(.*)$/.exec(partial);
  if (longWithValue) {
    const flag = findFlag(flags, longWithValue[1], undefined);
    if (!flag?.value) return { candidates: [], directive: DIRECTIVE.noFiles };
    return completeValue(flag.value, longWithValue[2]!, line, names, `--${flag.name}=`);
  }
  const shortGlued = /^-([a-zA-Z])(.+)$/.exec(partial);
  if (shortGlued) {
    const flag = findFlag(flags, undefined, shortGlued[1]);
    if (!flag?.value) return { candidates: [], directive: DIRECTIVE.noFiles };
    return completeValue(flag.value, shortGlued[2]!.replace(/^=/, ''), line, names, `-${shortGlued[1]}`);
  }
  if (partial.startsWith('-')) {
    const offered = flags.flatMap((f) => [`--${f.name}\t${f.description}`, ...(f.short && partial.length <= 2 ? [`-${f.short}\t${f.description}`] : [])]);
    return { candidates: offered.filter((c) => c.startsWith(partial)), directive: DIRECTIVE.noFiles };
  }
  if (line.command === undefined) {
    // A first word that is no command (a typo) leaves nothing sensible to offer.
    if (line.commandWord !== undefined) return { candidates: [], directive: DIRECTIVE.noFiles };
    const commands = COMMAND_SPECS.filter((c) => c.name.startsWith(partial));
    return { candidates: commands.map((c) => `${c.name}\t${c.description}`), directive: DIRECTIVE.noFiles };
  }
  const positional = line.command.positional;
  if (positional === null || line.positionals.length >= line.command.maxPositionals) return { candidates: [], directive: DIRECTIVE.noFiles };
  const completion = await completeValue(positional, partial, line, names);
  // node-check a b <TAB>, node-diff good <TAB>: a node already named is not offered again.
  return { ...completion, candidates: completion.candidates.filter((c) => !line.positionals.includes(c)) };
}

export function renderCompletion(completion: Completion): string {
  return [...completion.candidates, `:${completion.directive}`].join('\n') + '\n';
}

const COMPLETION_REQUEST_TIMEOUT_MS = 5_000; // a TAB press must not hang on a dead API server

/** Names from the cluster, through Deps.connect (the kube layer every command uses). */
export function clusterNameSource(deps: Deps, line: Pick<CompletionLine, 'kubeconfig' | 'context'>): NameSource {
  let api: Promise<ClusterApi> | undefined;
  const connect = () =>
    (api ??= deps.connect({ kubeconfig: line.kubeconfig, context: line.context, requestTimeoutMs: COMPLETION_REQUEST_TIMEOUT_MS }));
  const nameOf = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? '';
  // Our own probe pods are never what a user wants to diagnose.
  const isProbePod = (o: { metadata?: { labels?: Record<string, string> } }) =>
    o.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'kubectl-netdiag';
  return {
    async names(kind, namespace) {
      const cluster = await connect();
      const ns = namespace ?? cluster.defaultNamespace;
      const objects =
        kind === 'pod'
          ? (await cluster.listPods({ namespace: ns })).filter((p) => !isProbePod(p))
          : kind === 'service'
            ? await cluster.listServices({ namespace: ns })
            : await cluster.listNodes();
      return objects.map(nameOf).filter((n) => n !== '').sort();
    },
    async contexts() {
      // Contexts are in the kubeconfig, no API call; the kube layer loads it as kubectl would.
      const { loadKubeConfig } = await import('../kube/kubeconfig.js');
      return loadKubeConfig({ kubeconfig: line.kubeconfig }, deps.env)
        .getContexts()
        .map((c) => c.name);
    },
  };
}

/** `kubectl-netdiag __complete ARGS PARTIAL`: candidates and the directive on stdout, always exit 0. */
export async function runComplete(args: readonly string[], deps: Deps, names?: NameSource): Promise<ExitCode> {
  const words = args.slice(0, -1);
  const partial = args.at(-1) ?? '';
  try {
    const completion = await buildCompletion(words, partial, names ?? clusterNameSource(deps, parseCompletionLine(words)));
    deps.stdout.write(renderCompletion(completion));
  } catch {
    deps.stdout.write(`:${DIRECTIVE.noFiles}\n`);
  }
  return EXIT.ok;
}

export { COMPLETION_SHELLS, type CompletionShell };

/** A script for running `kubectl-netdiag` directly; it asks `kubectl-netdiag __complete`. */
export function renderCompletionScript(shell: CompletionShell): string {
  return shell === 'bash' ? BASH_SCRIPT : ZSH_SCRIPT;
}

const BASH_SCRIPT = `# bash completion for kubectl-netdiag run directly.
# (\`kubectl netdiag <TAB>\` goes through kubectl and kubectl_complete-netdiag instead.)
# Load it with: source <(kubectl-netdiag completion bash)
_kubectl_netdiag() {
  local cur out line directive
  local -a words cands
  cur="\${COMP_WORDS[COMP_CWORD]}"
  words=("\${COMP_WORDS[@]:1:COMP_CWORD-1}")
  # bash splits --output=json at '='; put such words back together for __complete.
  if [[ "\${COMP_WORDS[COMP_CWORD-1]:-}" == "=" && $COMP_CWORD -ge 2 ]]; then
    cur="\${COMP_WORDS[COMP_CWORD-2]}=$cur"
    words=("\${COMP_WORDS[@]:1:COMP_CWORD-3}")
  elif [[ "$cur" == "=" && $COMP_CWORD -ge 1 ]]; then
    cur="\${COMP_WORDS[COMP_CWORD-1]}="
    words=("\${COMP_WORDS[@]:1:COMP_CWORD-2}")
  fi
  out="$("\${COMP_WORDS[0]}" __complete "\${words[@]}" "$cur" 2>/dev/null)" || return 0
  directive=4
  while IFS= read -r line; do
    if [[ "$line" == :* ]]; then directive="\${line#:}"; continue; fi
    line="\${line%%$'\\t'*}"
    # bash replaces only the part after the last '=' of the word.
    [[ "$cur" == *=* ]] && line="\${line#*=}"
    cands+=("$line")
  done <<< "$out"
  COMPREPLY=()
  if (( \${#cands[@]} > 0 )); then
    COMPREPLY=("\${cands[@]}")
  elif [[ "$directive" == 16 ]]; then
    COMPREPLY=($(compgen -d -- "$cur"))
  elif [[ "$directive" == 0 ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _kubectl_netdiag kubectl-netdiag
`;

const ZSH_SCRIPT = `#compdef kubectl-netdiag
# zsh completion for kubectl-netdiag run directly.
# (\`kubectl netdiag <TAB>\` goes through kubectl and kubectl_complete-netdiag instead.)
# Load it with: source <(kubectl-netdiag completion zsh)
_kubectl_netdiag() {
  local out directive=4 line
  local -a cands
  out="$(\${words[1]} __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null)" || return 1
  for line in "\${(@f)out}"; do
    if [[ "$line" == :* ]]; then directive="\${line#:}"; continue; fi
    line="\${line//:/\\\\:}"
    cands+=("\${line/$'\\t'/:}")
  done
  if (( \${#cands} > 0 )); then
    _describe -t values 'kubectl-netdiag' cands
  elif [[ "$directive" == 16 ]]; then
    _files -/
  elif [[ "$directive" == 0 ]]; then
    _files
  fi
}
if (( $+functions[compdef] )); then
  compdef _kubectl_netdiag kubectl-netdiag
fi
`;
