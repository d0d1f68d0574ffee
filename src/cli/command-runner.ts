// The one flow every diagnosing command follows: resolve API objects and plan which nodes to
// probe -> collect raw node output (or load a snapshot) -> analyse (pure) -> render -> exit code.
import { join } from 'node:path';
import type { Deps } from './deps.js';
import type { GlobalOptions } from './global-options.js';
import type { ClusterApi } from '../kube/cluster-api.js';
import type { Limiter } from '../probe/bounded.js';
import { runProbes, type NodeCollection, type ProbeTarget } from '../probe/probe-run.js';
import { createProgress } from '../render/progress.js';
import { exitCodeFor } from './exit-code.js';
import type { Finding } from '../checks/finding.js';
import { diagnoseProbeOutput } from '../checks/common/probe-output.js';
import { EXIT, UserError, type ExitCode } from '../errors.js';
import { colourEnabled, paint, type Painter } from '../render/colour.js';
import { wrapColumns, type TableLayout } from '../render/table.js';

export const SNAPSHOT_API_VERSION = 'kubectl-netdiag.io/v1alpha1';

/** Everything analysis needs: the API objects a command resolved and each node's raw output. */
export interface Collected<A> {
  command: string;
  api: A;
  nodes: NodeCollection[];
}

export interface Plan<A> {
  api: A;
  targets: ProbeTarget[];
}

/** What a renderer reads: the run's options and the width its tables may wrap to. */
export type RenderOptions = GlobalOptions & TableLayout;

export interface CommandSpec<A, R extends { findings: Finding[] }> {
  name: string;
  /** Resolve the target objects through the API and say which nodes to probe for what. */
  plan(api: ClusterApi, options: GlobalOptions): Promise<Plan<A>>;
  analyze(collected: Collected<A>): R;
  render(report: R, options: RenderOptions, colour: Painter): string;
}

export interface CommandContext {
  deps: Deps;
  options: GlobalOptions;
  /** smoke runs checks side by side: it looks for stale probe pods once, before them. */
  parallelRun?: boolean;
  /** smoke's checks share one --max-parallel bound. */
  limiter?: Limiter;
}

export async function connect(ctx: CommandContext): Promise<ClusterApi> {
  return ctx.deps.connect({
    kubeconfig: ctx.options.kubeconfig,
    context: ctx.options.context,
    requestTimeoutMs: ctx.options.requestTimeoutMs,
  });
}

export async function runCommand<A, R extends { findings: Finding[] }>(spec: CommandSpec<A, R>, ctx: CommandContext): Promise<ExitCode> {
  const { options, deps } = ctx;
  const { collected, report } = await collectAndAnalyze(spec, ctx);
  const colour = options.color === 'auto' ? colourEnabled(deps.stdout.isTTY, deps.env) : options.color === 'always';
  deps.stdout.write(spec.render(report, { ...options, columns: wrapColumns(deps.stdout, options.output) }, paint(colour)));
  assertSomeNodeAnswered(collected);
  return exitCodeFor(report.findings, options.failOn);
}

/** Everything but rendering: what `smoke` runs for each of its checks. */
export async function collectAndAnalyze<A, R extends { findings: Finding[] }>(spec: CommandSpec<A, R>, ctx: CommandContext): Promise<{ collected: Collected<A>; report: R }> {
  const { options, deps } = ctx;
  const collected = options.fromSnapshot
    ? await loadSnapshot<A>(deps, options.fromSnapshot, spec.name)
    : await collect(spec, ctx);
  if (options.saveSnapshot) await saveSnapshot(deps, options.saveSnapshot, collected);
  const report = spec.analyze(collected);
  // Cut-off node output is an error finding for every command, unless the command already said so.
  const known = new Set(report.findings.map((f) => `${f.code} ${f.subject}`));
  report.findings.push(...diagnoseProbeOutput(collected.nodes).filter((f) => !known.has(`${f.code} ${f.subject}`)));
  return { collected, report };
}

/** Exit 3 only when no node at all could be diagnosed; one failed node is a finding. */
export function assertSomeNodeAnswered(collected: Collected<unknown>): void {
  if (collected.nodes.length > 0 && collected.nodes.every((n) => !n.ok)) {
    const first = collected.nodes.find((n) => !n.ok);
    throw new UserError(`no node could be diagnosed: ${first && !first.ok ? first.error : 'unknown error'}`, {
      hint: first && !first.ok ? first.hint : undefined,
      exitCode: EXIT.cannotDiagnose,
    });
  }
}

async function collect<A, R extends { findings: Finding[] }>(spec: CommandSpec<A, R>, ctx: CommandContext): Promise<Collected<A>> {
  const api = await connect(ctx);
  const plan = await spec.plan(api, ctx.options);
  const nodes = await runProbesWithProgress(ctx, api, plan.targets, spec.name, !ctx.parallelRun);
  return { command: spec.name, api: plan.api, nodes };
}

/** Runs the probe pods of one command with the run's options and a progress line on a terminal. */
export async function runProbesWithProgress(ctx: CommandContext, api: ClusterApi, targets: ProbeTarget[], command: string, warnStale = true): Promise<NodeCollection[]> {
  const { options, deps } = ctx;
  if (targets.length === 0) return [];
  // Machine output and CI logs get no progress; warnings (stale pods, kept pods) still show.
  const quiet = options.output === 'json' || options.output === 'yaml' || Boolean(deps.env.CI);
  const progress = createProgress(deps.stderr, { quiet, now: deps.now });
  try {
    return await runProbes(
      targets,
      {
        namespace: options.probeNamespace ?? api.defaultNamespace,
        image: options.image,
        imagePullSecrets: options.imagePullSecrets,
        priorityClassName: options.priorityClass,
        timeoutSeconds: options.timeoutSeconds,
        keepPod: options.keepPod,
        reusePod: options.reusePod,
        maxParallel: options.maxParallel,
        command,
        warnStale,
      },
      { api, progress, signal: deps.signal, now: deps.now, sleep: deps.sleep, randomSuffix: deps.randomSuffix, randomToken: deps.randomToken, limiter: ctx.limiter },
    );
  } finally {
    progress.done();
  }
}

interface SnapshotFile<A> {
  apiVersion: string;
  kind: 'Snapshot';
  command: string;
  api: A;
  nodes: Array<Omit<NodeCollection, 'raw'> & { rawFile?: string }>;
}

export async function saveSnapshot<A>(deps: Deps, dir: string, collected: Collected<A>): Promise<void> {
  await deps.mkdir(join(dir, 'nodes'));
  const nodes: SnapshotFile<A>['nodes'] = [];
  for (const node of collected.nodes) {
    if (node.ok) {
      const rawFile = `nodes/${node.nodeName}.txt`;
      await deps.writeFile(join(dir, rawFile), node.raw);
      const { raw: _raw, ...rest } = node;
      nodes.push({ ...rest, rawFile });
    } else {
      nodes.push(node);
    }
  }
  const file: SnapshotFile<A> = { apiVersion: SNAPSHOT_API_VERSION, kind: 'Snapshot', command: collected.command, api: collected.api, nodes };
  await deps.writeFile(join(dir, 'snapshot.json'), `${JSON.stringify(file, null, 2)}\n`);
}

export async function loadSnapshot<A>(deps: Deps, dir: string, command: string): Promise<Collected<A>> {
  let file: SnapshotFile<A>;
  try {
    file = JSON.parse(await deps.readFile(join(dir, 'snapshot.json'))) as SnapshotFile<A>;
  } catch (err) {
    throw new UserError(`cannot read snapshot ${join(dir, 'snapshot.json')}: ${(err as Error).message}`);
  }
  if (file.kind !== 'Snapshot' || file.apiVersion !== SNAPSHOT_API_VERSION) {
    throw new UserError(`${dir} is not a kubectl-netdiag snapshot (${SNAPSHOT_API_VERSION})`);
  }
  if (file.command !== command) {
    throw new UserError(`snapshot ${dir} was taken by "${file.command}", not "${command}"`, { hint: `run: kubectl netdiag ${file.command} --from-snapshot ${dir}` });
  }
  const nodes: NodeCollection[] = [];
  for (const n of file.nodes) {
    if (n.ok) {
      const raw = await deps.readFile(join(dir, n.rawFile ?? `nodes/${n.nodeName}.txt`));
      const { rawFile: _f, ...rest } = n as typeof n & { rawFile?: string };
      nodes.push({ ...(rest as Omit<Extract<NodeCollection, { ok: true }>, 'raw'>), raw });
    } else {
      nodes.push(n as NodeCollection);
    }
  }
  return { command: file.command, api: file.api, nodes };
}
