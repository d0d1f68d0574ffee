// The probe pods' whole life: create one per node in parallel, wait until they run (failing fast
// on image pulls and scheduling), run the node script, and delete them always: on success, on
// error, and when the run is interrupted.
import type { ClusterApi, Node, Pod } from '../kube/cluster-api.js';
import { buildNodeScriptArgv, loadNodeScript, NODE_SCRIPT_ENV, type NodeRequest } from '../node-script/node-script.js';
import { parseNodeScriptOutput, type NodeScriptOutput } from './sections.js';
import { buildProbePod, MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROBE_CONTAINER, RUN_ID_LABEL } from './probe-pod.js';
import { EXIT, InterruptedError, UserError } from '../errors.js';
import { httpStatusOf } from '../kube/api-error.js';
import type { Progress } from '../render/progress.js';
import { createLimiter, DEFAULT_MAX_PARALLEL, type Limiter } from './bounded.js';
import { watchProbePods, type PodSeen, type ProbePodBoard } from './probe-watch.js';
import { explainPodCreateFailure, preflightProbeAdmission, unprobeableNodeMessage, unprobeableNodeReason } from './admission.js';

export interface ProbeSettings {
  /** Warn about probe pods of earlier runs (off for smoke's parallel checks, which see each other's). */
  warnStale?: boolean;
  namespace: string; // --probe-namespace
  image: string;
  imagePullSecrets: readonly string[];
  timeoutSeconds: number; // --timeout: how long a node may take from create to output
  keepPod: boolean;
  /** --reuse-pod: exec into a Running probe pod kept on the node by an earlier run (never deleted here). */
  reusePod?: boolean;
  priorityClassName?: string | undefined;
  command: string;
  /** --max-parallel: probe pods (and exec streams) alive at once; the rest queue. */
  maxParallel?: number;
}

export interface ProbeTarget {
  nodeName: string;
  requests: NodeRequest[];
  /**
   * Further calls to the same probe pod after the first, each deciding on what came back so far
   * (mtu-probe's binary search). Every call's output is appended to the node's raw output, so a
   * snapshot replays the whole conversation.
   */
  followUp?: FollowUp;
  /** Called when this node fails and will make no (further) calls: follow-ups of other nodes waiting on it stop waiting. */
  onGiveUp?: () => void;
}

export interface FollowUpContext {
  nodeName: string;
  /** Everything the node has answered so far in this run. */
  output(): NodeScriptOutput;
  run(requests: NodeRequest[]): Promise<NodeScriptOutput>;
}
export type FollowUp = (ctx: FollowUpContext) => Promise<void>;

/** The raw output of one node, or why there is none. Serialisable: this is what snapshots hold. */
export type NodeCollection =
  | { nodeName: string; ok: true; token: string; raw: string; podName: string; durationMs: number }
  | { nodeName: string; ok: false; error: string; podName: string | null; hint?: string | undefined };

export interface ProbeDeps {
  api: ClusterApi;
  progress: Progress;
  signal: AbortSignal;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  randomSuffix(): string;
  randomToken(): string;
  /** Shared by checks that run side by side (smoke), so the bound holds for the whole command. */
  limiter?: Limiter;
}

export const PROBE_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
export { RUN_ID_LABEL };

// Without a watch (RBAC from before it was needed), a waiting node reads its pod this often, as
// every node did before the watch.
const POLL_WITHOUT_WATCH_MS = 250;
// With a watch, a pod not heard of for this long is read once directly (a lost event must not hang).
const READ_IF_SILENT_MS = 10_000;
// A pod still Pending after this long makes us look at its node (kubelet down, node gone).
const NODE_CHECK_AFTER_MS = 1000;
const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const START_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** What every node of one run shares: its id, the watch on its pods, the node reads, the bound. */
interface RunContext {
  runId: string;
  lifetimeSeconds: number;
  settings: ProbeSettings;
  deps: ProbeDeps;
  created: Map<string, string>; // node -> pod name, until deleted
  board: ProbePodBoard;
  nodes: NodeReader;
}

export async function runProbes(targets: readonly ProbeTarget[], settings: ProbeSettings, deps: ProbeDeps): Promise<NodeCollection[]> {
  const runId = deps.randomSuffix() + deps.randomSuffix();
  const nodeNames = [...new Set(targets.map((t) => t.nodeName))];
  const nodes = createNodeReader(deps, nodeNames);
  // Two round trips before any create: the watch on this run's pods starts, and the preflight
  // checks (the namespace, stale pods, the target nodes) go out together. A new
  // read-only preflight belongs in this Promise.all.
  const board = watchProbePods(settings.namespace, `${RUN_ID_LABEL}=${runId}`, deps);
  try {
    await Promise.all([
      checkProbeNamespace(deps.api, settings.namespace, deps.progress, settings.warnStale !== false),
      nodes.prefetch(),
    ]);
    // Then one dry-run create names an admission refusal (PodSecurity, SCC, webhook, quota) before
    // any pod exists; after the namespace check, so a missing namespace is named as such.
    if (targets.length > 0 && !settings.reusePod) {
      await preflightProbeAdmission(deps.api, { ...settings, nodeName: targets[0]!.nodeName, runId, lifetimeSeconds: settings.timeoutSeconds + 60, nameSuffix: deps.randomSuffix() }, deps.progress);
    }
  } catch (err) {
    board.stop();
    throw err;
  }
  const run: RunContext = { runId, lifetimeSeconds: settings.timeoutSeconds + 60, settings, deps, created: new Map(), board, nodes };
  const limiter = deps.limiter ?? createLimiter(settings.maxParallel ?? DEFAULT_MAX_PARALLEL, deps.signal);
  for (const t of targets) deps.progress.nodeState(t.nodeName, 'queued');
  try {
    // allSettled, not all: an interrupt must not start deleting while a create is still in flight.
    // A failure that is not one node's (RBAC on create, Pod Security) stops this run's queued nodes.
    let stopReason: { err: unknown } | null = null;
    const settled = await Promise.allSettled(
      targets.map((target) =>
        limiter.run(async () => {
          if (stopReason) {
            target.onGiveUp?.();
            throw stopReason.err;
          }
          try {
            return await probeOneNode(target, run);
          } catch (err) {
            stopReason ??= { err };
            target.onGiveUp?.();
            throw err;
          }
        }),
      ),
    );
    const interrupted = settled.find((r) => r.status === 'rejected' && r.reason instanceof InterruptedError);
    if (interrupted || deps.signal.aborted) throw new InterruptedError('signal');
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<NodeCollection>).value);
  } finally {
    board.stop();
    if (settings.keepPod) {
      for (const [node, pod] of run.created) {
        deps.progress.note(`kept probe pod ${settings.namespace}/${pod} on node ${node}; delete it with: kubectl delete pod -n ${settings.namespace} ${pod}`);
      }
    } else {
      // Each node deletes its own pod when it is done; this sweeps what an error or interrupt left.
      const left = await deleteProbePods(deps.api, settings.namespace, [...run.created.values()], deps.progress);
      // An interrupted run must not claim its pods are gone when a delete failed.
      if (left > 0 && deps.signal.aborted) throw new InterruptedError('signal', left); // eslint-disable-line no-unsafe-finally
    }
  }
}

async function probeOneNode(target: ProbeTarget, run: RunContext): Promise<NodeCollection> {
  const { settings, deps } = run;
  throwIfAborted(deps.signal);
  const started = deps.now();
  const pod = buildProbePod({
    nodeName: target.nodeName,
    namespace: settings.namespace,
    image: settings.image,
    runId: run.runId,
    nameSuffix: deps.randomSuffix(),
    lifetimeSeconds: run.lifetimeSeconds,
    imagePullSecrets: settings.imagePullSecrets,
    priorityClassName: settings.priorityClassName,
    command: settings.command,
    nodeScript: loadNodeScript(),
  });
  const reused = settings.reusePod ? await findReusableProbePod(deps.api, target.nodeName, settings, deps.now()) : null;
  const podName = reused ?? pod.metadata!.name!;
  throwIfAborted(deps.signal);
  const unfit = reused !== null ? null : linuxNodeProblem(target.nodeName, run.nodes.initial(target.nodeName));
  if (unfit) {
    deps.progress.nodeState(target.nodeName, `failed: ${unfit.message}`);
    target.onGiveUp?.();
    return { nodeName: target.nodeName, ok: false, error: unfit.message, podName: null, hint: unfit.hint };
  }
  if (reused === null) {
    await createProbePod(target.nodeName, pod, run);
  } else {
    // Not in `created`: a pod this run did not create is not this run's to delete.
    deps.progress.note(`reusing probe pod ${settings.namespace}/${podName} on node ${target.nodeName} (--reuse-pod); it stays until its deadline or kubectl netdiag cleanup`);
  }
  try {
    if (reused === null) await waitUntilRunning(target.nodeName, podName, run, started);
    deps.progress.nodeState(target.nodeName, 'collecting');
    const token = deps.randomToken();
    const call = { nodeName: target.nodeName, namespace: settings.namespace, podName, timeoutSeconds: settings.timeoutSeconds };
    let raw = (await execWithRetry(deps, call, buildNodeScriptArgv(token, target.requests))).stdout;
    if (target.followUp) {
      await target.followUp({
        nodeName: target.nodeName,
        output: () => parseNodeScriptOutput(raw, token),
        run: async (requests) => {
          raw += (await execWithRetry(deps, call, buildNodeScriptArgv(token, requests))).stdout;
          return parseNodeScriptOutput(raw, token);
        },
      });
    }
    deps.progress.nodeState(target.nodeName, 'done');
    return { nodeName: target.nodeName, ok: true, token, raw, podName, durationMs: deps.now() - started };
  } catch (err) {
    if (err instanceof InterruptedError || deps.signal.aborted) throw new InterruptedError('signal');
    // A node that fails becomes a row and a finding; the other nodes still report.
    const message = err instanceof Error ? err.message : String(err);
    deps.progress.nodeState(target.nodeName, `failed: ${message}`);
    target.onGiveUp?.();
    return { nodeName: target.nodeName, ok: false, error: message, podName, hint: err instanceof UserError ? err.hint : undefined };
  } finally {
    // The slot frees only once the pod is gone, so --max-parallel bounds the pods alive.
    await deleteOwnPod(target.nodeName, run);
  }
}

async function createProbePod(nodeName: string, pod: Pod, run: RunContext): Promise<void> {
  const { settings, deps } = run;
  const podName = pod.metadata!.name!;
  // Recorded before the call returns: if we are interrupted mid-create, cleanup still tries it.
  run.created.set(nodeName, podName);
  try {
    await deps.api.createPod(settings.namespace, pod);
  } catch (err) {
    // The API answered with an error status: nothing was created, so there is nothing to delete
    // (and no "deleted" line to print). A timeout or a dropped connection may still have created it.
    if (httpStatusOf(err) !== null) run.created.delete(nodeName);
    throw explainPodCreateFailure(err, settings.namespace) ?? err;
  }
  deps.progress.podCreated(nodeName, `${settings.namespace}/${podName}`);
}

/** Deletes this node's pod now; one that cannot be deleted stays in `created` for the final sweep. */
async function deleteOwnPod(nodeName: string, run: RunContext): Promise<void> {
  const podName = run.created.get(nodeName);
  if (podName === undefined || run.settings.keepPod) return;
  try {
    await run.deps.api.deletePod(run.settings.namespace, podName, 0);
    run.created.delete(nodeName);
    run.deps.progress.podDeleted(`${run.settings.namespace}/${podName}`);
  } catch {
    // The sweep in runProbes tries again and names it if it still fails.
  }
}
interface ExecCall {
  nodeName: string;
  namespace: string;
  podName: string;
  timeoutSeconds: number;
}

/**
 * One node script call, bounded by --timeout (a hung iptables-save must not hang the CLI) and
 * retried once when the stream drops.
 */
async function execWithRetry(deps: ProbeDeps, call: ExecCall, argv: string[]) {
  const { namespace, podName } = call;
  const expired = new AbortController();
  const finished = new AbortController();
  const deadline = deps.now() + call.timeoutSeconds * 1000;
  void deps.sleep(call.timeoutSeconds * 1000, finished.signal).then(() => {
    // Asked of the clock too: a test's sleep that returns at once must not expire every exec.
    if (!finished.signal.aborted && deps.now() >= deadline - 50) expired.abort(new Error('timeout'));
  });
  const signal = AbortSignal.any([deps.signal, expired.signal]);
  const timedOut = () =>
    new UserError(`the node script on node ${call.nodeName} did not finish within ${call.timeoutSeconds}s`, {
      hint: 'raise --timeout; if it keeps happening, run the command again with --keep-pod and look at the node (iptables lock, slow disk)',
      exitCode: EXIT.cannotDiagnose,
    });
  try {
    return await deps.api.exec(namespace, podName, PROBE_CONTAINER, argv, signal);
  } catch (err) {
    if (deps.signal.aborted) throw new InterruptedError('signal');
    if (expired.signal.aborted) throw timedOut();
    // Not allowed (RBAC on pods/exec) or not there: a second try cannot help.
    const status = httpStatusOf(err);
    if (status !== null && status >= 400 && status < 500) throw err;
    // A dropped stream is retried once; the script only reads, so running it twice is harmless.
    return await deps.api.exec(namespace, podName, PROBE_CONTAINER, argv, signal).catch((second: unknown) => {
      if (deps.signal.aborted) throw new InterruptedError('signal');
      if (expired.signal.aborted) throw timedOut();
      throw new UserError(`running the node script on node ${call.nodeName} failed twice: ${(second as Error).message}`, {
        hint: 'the connection to the node (API server -> kubelet) dropped mid-stream; run the command again, or check the kubelet on that node',
        exitCode: EXIT.cannotDiagnose,
        cause: err,
      });
    });
  } finally {
    finished.abort();
  }
}

async function waitUntilRunning(nodeName: string, podName: string, run: RunContext, started: number): Promise<void> {
  const { settings, deps, board } = run;
  const deadline = started + settings.timeoutSeconds * 1000;
  let lastState = '';
  let nodeNote = '';
  let lastRead = deps.now();
  for (;;) {
    throwIfAborted(deps.signal);
    const now = deps.now();
    let seen = board.latest(podName);
    const silentFor = now - Math.max(seen?.atMs ?? started, lastRead);
    if (!board.watching() ? silentFor >= POLL_WITHOUT_WATCH_MS || seen === undefined : silentFor >= READ_IF_SILENT_MS) {
      seen = await readProbePod(nodeName, podName, run);
      lastRead = deps.now();
    }
    if (seen?.kind === 'deleted') {
      throw new UserError(`probe pod ${settings.namespace}/${podName} on node ${nodeName} was deleted before it ran (by someone else, or its node went away)`, {
        hint: `check the node: kubectl describe node ${nodeName}`,
        exitCode: EXIT.cannotDiagnose,
      });
    }
    const verdict: ProbePodVerdict = seen ? classifyProbePod(seen.pod, settings.image) : { kind: 'waiting', state: 'pod created' };
    if (verdict.kind === 'running') return;
    if (verdict.kind === 'failed') throw new UserError(verdict.reason, { hint: verdict.hint, exitCode: EXIT.cannotDiagnose });
    if (verdict.state !== lastState) {
      deps.progress.nodeState(nodeName, verdict.state);
      lastState = verdict.state;
    }
    // A node whose kubelet stopped reporting will never start the pod: say so now, not at --timeout.
    // A node that is NotReady for another reason (often its CNI) still runs hostNetwork pods: wait.
    if (deps.now() - started >= NODE_CHECK_AFTER_MS) {
      const health = await run.nodes.health(nodeName);
      if (health.kind === 'gone' || health.kind === 'kubelet-down') {
        throw new UserError(health.message, { hint: `check the node: kubectl describe node ${nodeName}`, exitCode: EXIT.cannotDiagnose });
      }
      nodeNote = health.kind === 'not-ready' ? `; ${health.message}` : '';
    }
    if (deps.now() >= deadline) {
      throw new UserError(`probe pod ${podName} on node ${nodeName} did not start within ${settings.timeoutSeconds}s (${verdict.state}${nodeNote})`, {
        hint: `raise --timeout, or check the node: kubectl describe node ${nodeName}`,
        exitCode: EXIT.cannotDiagnose,
      });
    }
    // Woken by the pod's next event, else when the node is due a look or the pod a direct read.
    const nowMs = deps.now();
    const nodeCheckAt = nowMs < started + NODE_CHECK_AFTER_MS ? started + NODE_CHECK_AFTER_MS : nowMs + NODE_REFRESH_MS;
    const readAt = board.watching() ? Math.max(seen?.atMs ?? started, lastRead) + READ_IF_SILENT_MS : nowMs + POLL_WITHOUT_WATCH_MS;
    const nextLook = Math.min(nodeCheckAt, readAt);
    await board.changed(podName, Math.min(deadline, nextLook), deps.signal);
  }
}

/** A direct read of one probe pod, for when the watch is silent or not running. */
async function readProbePod(nodeName: string, podName: string, run: RunContext): Promise<PodSeen> {
  const { settings, deps, board } = run;
  const at = deps.now();
  let seen: PodSeen;
  try {
    seen = { kind: 'pod', pod: await deps.api.readPod(settings.namespace, podName), atMs: at };
  } catch (err) {
    if (httpStatusOf(err) !== 404) throw err;
    seen = { kind: 'deleted', atMs: at };
  }
  board.record(podName, seen);
  return board.latest(podName) ?? seen;
}

type NodeHealth =
  | { kind: 'ready' }
  | { kind: 'unknown' } // not allowed to read nodes, or the API hiccuped: no opinion
  | { kind: 'gone'; message: string }
  | { kind: 'kubelet-down'; message: string }
  | { kind: 'not-ready'; message: string };

/** A node as first read ('missing' = 404 or absent from the list; null = could not read). */
type NodeRead = Node | 'missing' | null;

interface NodeReader {
  /** Reads the run's nodes once, before any create. */
  prefetch(): Promise<void>;
  initial(nodeName: string): NodeRead;
  /** The node's health, re-read at most every NODE_REFRESH_MS for all waiting nodes together. */
  health(nodeName: string): Promise<NodeHealth>;
}

const NODE_REFRESH_MS = 2000;
// Up to this many nodes are read one by one (in parallel); more are listed in one call.
const READ_NODES_SINGLY_UP_TO = 3;

function createNodeReader(deps: ProbeDeps, nodeNames: readonly string[]): NodeReader {
  let initial = new Map<string, NodeRead>();
  let latest: { atMs: number; nodes: Promise<Map<string, NodeRead>> } | null = null;
  const readAll = async (): Promise<Map<string, NodeRead>> => {
    if (nodeNames.length <= READ_NODES_SINGLY_UP_TO) {
      const reads = await Promise.all(nodeNames.map((name) => deps.api.readNode(name).then(
        (n): NodeRead => n,
        (err: unknown): NodeRead => (httpStatusOf(err) === 404 ? 'missing' : null),
      )));
      return new Map(nodeNames.map((name, i) => [name, reads[i]!]));
    }
    const list = await deps.api.listNodes().catch(() => null);
    const byName = new Map((list ?? []).map((n) => [n.metadata?.name ?? '', n] as const));
    return new Map(nodeNames.map((name) => [name, list === null ? null : (byName.get(name) ?? 'missing')]));
  };
  return {
    prefetch: async () => {
      initial = await readAll();
      latest = { atMs: deps.now(), nodes: Promise.resolve(initial) };
    },
    initial: (name) => initial.get(name) ?? null,
    health: async (name) => {
      if (latest === null || deps.now() - latest.atMs >= NODE_REFRESH_MS) latest = { atMs: deps.now(), nodes: readAll() };
      return nodeHealthOf(name, (await latest.nodes).get(name) ?? null);
    },
  };
}

function nodeHealthOf(nodeName: string, node: NodeRead): NodeHealth {
  if (node === 'missing') return { kind: 'gone', message: `node ${nodeName} no longer exists (deleted from the cluster while it was being diagnosed)` };
  if (node === null) return { kind: 'unknown' };
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready || ready.status === 'True') return { kind: 'ready' };
  const why = `${ready.reason ?? 'NotReady'}${ready.message ? `: ${ready.message.replace(/\.$/, '')}` : ''}`;
  if (ready.status === 'Unknown') {
    return { kind: 'kubelet-down', message: `node ${nodeName} is NotReady (${why}); its kubelet is not running pods, so the probe pod cannot start` };
  }
  return { kind: 'not-ready', message: `node ${nodeName} is NotReady (${why})` };
}

/**
 * Before creating a pod on a node: one the probe cannot run on is a failed node at once (a row and
 * a finding), not a pod that waits for --timeout. Returns null when the node looks fit, or when we
 * may not read nodes (the pod itself will tell).
 */
function linuxNodeProblem(nodeName: string, node: NodeRead): { message: string; hint: string } | null {
  if (node === 'missing') return { message: `node ${nodeName} does not exist (any more)`, hint: 'kubectl get nodes lists the nodes' };
  if (node === null) return null;
  // Either source saying "not Linux" is enough: the label is what schedulers match on, nodeInfo is
  // what the kubelet reports.
  const unprobeable = unprobeableNodeReason(node);
  if (unprobeable) return { message: unprobeableNodeMessage(nodeName, unprobeable), hint: 'Fargate and virtual-kubelet nodes have no node kernel the probe can reach; diagnose pods on regular nodes' };
  const os = [node.metadata?.labels?.['kubernetes.io/os'], node.status?.nodeInfo?.operatingSystem].find((v) => v && v !== 'linux');
  if (os) {
    return {
      message: `node ${nodeName} runs ${os === 'windows' ? 'Windows' : os}; the probe pod needs a Linux node (hostNetwork, nsenter, iptables)`,
      hint: 'Windows node networking (HNS) is not covered; diagnose pods on Linux nodes',
    };
  }
  return null;
}

export type ProbePodVerdict =
  | { kind: 'running' }
  | { kind: 'waiting'; state: string }
  | { kind: 'failed'; reason: string; hint?: string | undefined };

/** Reads a probe pod's status: running, still on its way (and why), or failed for good. */
export function classifyProbePod(pod: Pod, image: string): ProbePodVerdict {
  const name = pod.metadata?.name ?? '?';
  const node = pod.spec?.nodeName ?? '?';
  const status = pod.status;
  const container = status?.containerStatuses?.find((c) => c.name === PROBE_CONTAINER);
  const waiting = container?.state?.waiting;
  if (waiting?.reason && PULL_FAILURES.has(waiting.reason)) {
    return {
      kind: 'failed',
      reason: `node ${node} cannot pull the probe image ${image} (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})`,
      hint: 'mirror the image and pass --image REGISTRY/IMAGE:TAG (and --image-pull-secret NAME if it is private)',
    };
  }
  if (waiting?.reason && START_FAILURES.has(waiting.reason)) {
    return { kind: 'failed', reason: `probe pod ${name} cannot start on node ${node}: ${waiting.reason} ${waiting.message ?? ''}`.trim() };
  }
  if (status?.phase === 'Running' && container?.state?.running) return { kind: 'running' };
  if (status?.phase === 'Failed' || status?.phase === 'Succeeded') {
    return { kind: 'failed', reason: `probe pod ${name} on node ${node} ended before it could run (${status.reason ?? status.phase}${status.message ? `: ${status.message}` : ''})` };
  }
  const unschedulable = status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unschedulable) return { kind: 'waiting', state: `not scheduled: ${unschedulable.message ?? unschedulable.reason ?? ''}`.trim() };
  if (waiting?.reason === 'ContainerCreating' || waiting?.reason === 'PodInitializing') return { kind: 'waiting', state: 'pulling image / starting' };
  return { kind: 'waiting', state: status?.phase ? `pod ${status.phase.toLowerCase()}` : 'pod created' };
}

/**
 * Before creating anything: the probe namespace exists, and probe pods left by earlier runs (a
 * SIGKILLed CLI) are pointed out. Admission is asked by the dry run (admission.ts), which also
 * knows PodSecurity exemptions a namespace label cannot show.
 */
async function checkProbeNamespace(api: ClusterApi, namespace: string, progress: Progress, warnStale: boolean): Promise<void> {
  // Both reads in one round trip; the stale list only speaks once the namespace passed.
  const staleRead = warnStale ? api.listPods({ namespace: undefined, labelSelector: PROBE_SELECTOR }).catch(() => [] as Pod[]) : Promise.resolve([] as Pod[]);
  await api.readNamespace(namespace).catch((err: unknown) => {
    if (err instanceof UserError && /not found/.test(err.message)) {
      throw new UserError(`probe namespace "${namespace}" does not exist`, { hint: 'pick one with --probe-namespace NS' });
    }
    return null; // not allowed to read namespaces: the create call will tell
  });
  const stale = await staleRead;
  if (stale.length > 0) {
    // Named with their phase: a Running one may belong to a colleague's run in progress.
    const named = stale.slice(0, 3).map((p) => `${p.metadata?.namespace}/${p.metadata?.name} (${p.status?.phase ?? 'Pending'})`);
    progress.note(`${stale.length} probe pod(s) from earlier runs are still in the cluster: ${named.join(', ')}${stale.length > 3 ? ', ...' : ''}; unless another netdiag run is in progress, kubectl netdiag cleanup removes them`);
  }
}

/** Deletes the run's probe pods, naming each; returns how many could not be deleted. */
export async function deleteProbePods(api: ClusterApi, namespace: string, names: readonly string[], progress: Progress): Promise<number> {
  const results = await Promise.allSettled(names.map((name) => api.deletePod(namespace, name, 0)));
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') progress.podDeleted(`${namespace}/${names[i]}`);
    else progress.note(`could not delete probe pod ${namespace}/${names[i]}: ${(r.reason as Error).message}; run kubectl netdiag cleanup`);
  });
  return results.filter((r) => r.status === 'rejected').length;
}


/**
 * --reuse-pod: the name of a probe pod an earlier run kept on this node that can run this command
 * (see isReusableProbePod), the one with the most lifetime left; null when there is none or we may
 * not list pods (a new pod is created then).
 */
async function findReusableProbePod(api: ClusterApi, nodeName: string, settings: ProbeSettings, nowMs: number): Promise<string | null> {
  const pods = await api
    .listPods({ namespace: settings.namespace, labelSelector: PROBE_SELECTOR, fieldSelector: `spec.nodeName=${nodeName}` })
    .catch(() => [] as Pod[]);
  const script = loadNodeScript();
  let best: { name: string; leftMs: number } | null = null;
  for (const pod of pods) {
    const leftMs = reusableLifetimeMs(pod, { nodeName, image: settings.image, nodeScript: script, nowMs, timeoutSeconds: settings.timeoutSeconds });
    if (leftMs !== null && (best === null || leftMs > best.leftMs)) best = { name: pod.metadata!.name!, leftMs };
  }
  return best?.name ?? null;
}

export interface ReuseCriteria {
  nodeName: string;
  image: string;
  nodeScript: string; // the pod carries the script in its spec: an older tool's script is not ours
  nowMs: number;
  timeoutSeconds: number; // the pod must outlive this run's --timeout
}

/**
 * How long a kept probe pod has left, or null when this run must not use it: not ours (label),
 * another node, being deleted, not Running, another image or node script, or ending (its
 * container's `sleep` or activeDeadlineSeconds) before --timeout would.
 */
export function reusableLifetimeMs(pod: Pod, c: ReuseCriteria): number | null {
  if (pod.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE || pod.metadata?.deletionTimestamp) return null;
  if (pod.spec?.nodeName !== c.nodeName || classifyProbePod(pod, c.image).kind !== 'running') return null;
  const container = pod.spec.containers.find((x) => x.name === PROBE_CONTAINER);
  if (container?.image !== c.image) return null;
  if (container.env?.find((e) => e.name === NODE_SCRIPT_ENV)?.value !== c.nodeScript) return null;
  const startedAt = pod.status?.containerStatuses?.find((x) => x.name === PROBE_CONTAINER)?.state?.running?.startedAt;
  const sleepSeconds = container.command?.[0] === 'sleep' ? Number(container.command[1]) : NaN;
  if (startedAt === undefined || !Number.isFinite(sleepSeconds)) return null;
  let endMs = new Date(startedAt).getTime() + sleepSeconds * 1000;
  const podStart = pod.status?.startTime;
  const deadline = pod.spec.activeDeadlineSeconds;
  if (podStart !== undefined && deadline !== undefined) endMs = Math.min(endMs, new Date(podStart).getTime() + deadline * 1000);
  const leftMs = endMs - c.nowMs;
  return Number.isFinite(leftMs) && leftMs >= c.timeoutSeconds * 1000 ? leftMs : null;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new InterruptedError('signal');
}
