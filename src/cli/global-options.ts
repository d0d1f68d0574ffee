// kubectl's own flags plus the probe flags every command shares, parsed into one plain value.
import type { Argv } from 'yargs';
import { EXIT, UserError } from '../errors.js';
import { DEFAULT_PROBE_IMAGE } from '../probe/probe-pod.js';
import { DEFAULT_MAX_PARALLEL } from '../probe/bounded.js';
import { SEVERITIES, type Severity } from '../checks/finding.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'dot'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export type FailOn = Severity | 'never';

export interface GlobalOptions {
  kubeconfig: string | undefined;
  context: string | undefined;
  namespace: string | undefined; // -n; undefined = the context's namespace
  allNamespaces: boolean;
  requestTimeoutMs: number | null;
  output: OutputFormat;
  noHeaders: boolean;
  image: string;
  imagePullSecrets: string[];
  priorityClass?: string | undefined; // --priority-class: only set on the probe pod when asked
  probeNamespace: string | undefined;
  timeoutSeconds: number;
  keepPod: boolean;
  reusePod: boolean; // --reuse-pod: exec into a probe pod an earlier --keep-pod run left on the node
  maxParallel: number; // --max-parallel: probe pods (and exec streams) alive at once
  failOn: FailOn;
  saveSnapshot: string | undefined;
  fromSnapshot: string | undefined;
  verbose: boolean;
  color: 'auto' | 'always' | 'never';
}

export function addGlobalOptions<T>(y: Argv<T>) {
  return y
    .option('kubeconfig', { type: 'string', describe: 'path to the kubeconfig file', global: true })
    .option('context', { type: 'string', describe: 'the kubeconfig context to use', global: true })
    .option('namespace', { alias: 'n', type: 'string', describe: 'namespace of the target object', global: true })
    .option('all-namespaces', { alias: 'A', type: 'boolean', default: false, describe: 'look in every namespace', global: true })
    .option('request-timeout', { type: 'string', default: '0', describe: 'per API request: 0 (none), 30, 30s, 1m', global: true })
    .option('output', { alias: 'o', type: 'string', default: 'table', describe: `output format: ${OUTPUT_FORMATS.join('|')}`, global: true })
    .option('no-headers', { type: 'boolean', default: false, describe: 'omit table headers', global: true })
    .option('image', { type: 'string', default: DEFAULT_PROBE_IMAGE, describe: 'probe pod image (mirror it for air-gapped clusters)', global: true })
    .option('image-pull-secret', { type: 'string', array: true, default: [] as string[], describe: 'pull secret for --image (repeatable)', global: true })
    .option('priority-class', { type: 'string', describe: 'priorityClassName for probe pods (default: none)', global: true })
    .option('probe-namespace', { type: 'string', describe: 'namespace for probe pods (default: the context namespace)', global: true })
    .option('timeout', { type: 'string', default: '120s', describe: 'how long a node may take to answer', global: true })
    .option('keep-pod', { type: 'boolean', default: false, describe: 'leave the probe pods running and print how to delete them', global: true })
    .option('reuse-pod', { type: 'boolean', default: false, describe: 'use a Running probe pod kept by an earlier --keep-pod run on the node instead of creating one', global: true })
    .option('max-parallel', { type: 'string', default: String(DEFAULT_MAX_PARALLEL), describe: 'probe pods alive at once; the other nodes queue', global: true })
    .option('fail-on', { type: 'string', default: 'error', describe: 'exit 1 on findings at or above: info|warn|error|never', global: true })
    .option('save-snapshot', { type: 'string', describe: 'also write the raw node facts and API objects to DIR', global: true })
    .option('from-snapshot', { type: 'string', describe: 'analyse a saved snapshot DIR; no cluster needed', global: true })
    .option('color', { type: 'string', default: 'auto', describe: 'colour: auto (a terminal without NO_COLOR), always, never', global: true })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'show error causes', global: true });
}

/** kubectl's duration syntax: a bare number is seconds; otherwise h/m/s/ms parts. */
export function parseDurationMs(text: string, flag: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
    matched = re.lastIndex;
  }
  if (t === '' || matched !== t.length) {
    throw new UserError(`invalid duration "${text}" for --${flag}`, { hint: 'use a number of seconds or a duration like 30s, 2m, 1m30s' });
  }
  return Math.round(total);
}

export function readGlobalOptions(a: Record<string, unknown>): GlobalOptions {
  const output = String(a.output ?? 'table');
  if (!(OUTPUT_FORMATS as readonly string[]).includes(output)) {
    throw new UserError(`unknown output format "${output}"`, { hint: `use one of: ${OUTPUT_FORMATS.join(', ')}` });
  }
  const failOn = String(a['fail-on'] ?? 'error');
  if (failOn !== 'never' && !(SEVERITIES as readonly string[]).includes(failOn)) {
    throw new UserError(`unknown --fail-on value "${failOn}"`, { hint: 'use one of: info, warn, error, never' });
  }
  const requestTimeoutMs = parseDurationMs(String(a['request-timeout'] ?? '0'), 'request-timeout');
  const timeoutMs = parseDurationMs(String(a.timeout ?? '120s'), 'timeout');
  if (timeoutMs < 1000) throw new UserError('--timeout must be at least 1s');
  if (a['save-snapshot'] && a['from-snapshot']) {
    throw new UserError('--save-snapshot and --from-snapshot cannot be used together');
  }
  const maxParallelText = String(a['max-parallel'] ?? DEFAULT_MAX_PARALLEL);
  if (!/^\d+$/.test(maxParallelText) || Number(maxParallelText) < 1 || Number(maxParallelText) > 1000) {
    throw new UserError(`invalid --max-parallel "${maxParallelText}": must be a whole number from 1 to 1000`, { exitCode: EXIT.usage });
  }
  const color = String(a.color ?? 'auto');
  if (color !== 'auto' && color !== 'always' && color !== 'never') {
    throw new UserError(`unknown --color value "${color}"`, { hint: 'use one of: auto, always, never' });
  }
  const namespace = a.namespace === undefined ? undefined : String(a.namespace);
  if (namespace !== undefined) assertDnsLabel(namespace, 'namespace');
  const probeNamespace = a['probe-namespace'] === undefined ? undefined : String(a['probe-namespace']);
  const priorityClass = a['priority-class'] === undefined ? undefined : String(a['priority-class']);
  if (priorityClass !== undefined) assertDnsSubdomain(priorityClass, 'priority class');
  if (probeNamespace !== undefined) assertDnsLabel(probeNamespace, 'probe namespace');
  return {
    kubeconfig: a.kubeconfig === undefined ? undefined : String(a.kubeconfig),
    context: a.context === undefined ? undefined : String(a.context),
    namespace,
    allNamespaces: Boolean(a['all-namespaces']),
    requestTimeoutMs: requestTimeoutMs === 0 ? null : requestTimeoutMs,
    output: output as OutputFormat,
    noHeaders: Boolean(a['no-headers']),
    image: String(a.image),
    imagePullSecrets: ((a['image-pull-secret'] as unknown[]) ?? []).map(String),
    priorityClass,
    probeNamespace,
    timeoutSeconds: Math.ceil(timeoutMs / 1000),
    keepPod: Boolean(a['keep-pod']),
    reusePod: Boolean(a['reuse-pod']),
    maxParallel: Number(maxParallelText),
    failOn: failOn as FailOn,
    saveSnapshot: a['save-snapshot'] === undefined ? undefined : String(a['save-snapshot']),
    fromSnapshot: a['from-snapshot'] === undefined ? undefined : String(a['from-snapshot']),
    verbose: Boolean(a.verbose),
    color,
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Names are checked before any API call, so `$(touch x)` never reaches the cluster or a shell. */
export function assertDnsLabel(value: string, what: string): void {
  if (!DNS_LABEL.test(value)) {
    throw new UserError(`invalid ${what} ${JSON.stringify(value)}: must be a lowercase RFC 1123 label (a-z, 0-9, '-')`, { exitCode: EXIT.usage });
  }
}

export function assertDnsSubdomain(value: string, what: string): void {
  if (!DNS_SUBDOMAIN.test(value)) {
    throw new UserError(`invalid ${what} ${JSON.stringify(value)}: must be a lowercase RFC 1123 name (a-z, 0-9, '-', '.')`, { exitCode: EXIT.usage });
  }
}

/** yargs misreads glued short options (-ojson, -nkube-system): split them before it sees them. */
export function normaliseArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    const m = /^-([on])(?!=)(.+)$/.exec(arg);
    if (m) out.push(`-${m[1]}`, m[2]!.replace(/^=/, ''));
    else out.push(arg);
  }
  return out;
}
