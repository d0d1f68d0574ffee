// The probe pods' whole life: create one per node in parallel, wait until they run (failing fast
// on image pulls and scheduling), run the node script, and delete them always: on success, on
// error, and when the run is interrupted.
import type { ClusterApi, Pod } from '../kube/cluster-api.js';
import { buildNodeScriptArgv, loadNodeScript, type NodeRequest } from '../node-script/node-script.js';
import { parseNodeScriptOutput, type NodeScriptOutput } from './sections.js';
import { buildProbePod, MANAGED_BY_LABEL, MANAGED_BY_VALUE, PROBE_CONTAINER, RUN_ID_LABEL } from './probe-pod.js';
import { EXIT, InterruptedError, UserError } from '../cli/errors.js';
import type { Progress } from '../render/progress.js';

export interface ProbeSettings {
  namespace: string; // --probe-namespace
  image: string;
  imagePullSecrets: readonly string[];
  timeoutSeconds: number; // --timeout: how long a node may take from create to output
  keepPod: boolean;
  priorityClassName?: string | undefined;
  command: string;
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
  | { nodeName: string; ok: false; error: string; podName: string | null };

export interface ProbeDeps {
  api: ClusterApi;
  progress: Progress;
  signal: AbortSignal;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  randomSuffix(): string;
  randomToken(): string;
}

export const PROBE_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
export { RUN_ID_LABEL };

const POLL_MS = 250;
const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const START_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export async function runProbes(targets: readonly ProbeTarget[], settings: ProbeSettings, deps: ProbeDeps): Promise<NodeCollection[]> {
  await checkProbeNamespace(deps.api, settings.namespace, deps.progress);
  const runId = deps.randomSuffix() + deps.randomSuffix();
  const lifetimeSeconds = settings.timeoutSeconds + 60;
  const created = new Map<string, string>(); // node -> pod name
  try {
    // allSettled, not all: an interrupt must not start deleting while a create is still in flight.
    const settled = await Promise.allSettled(
      targets.map((target) => probeOneNode(target, runId, lifetimeSeconds, settings, deps, created)),
    );
    const interrupted = settled.find((r) => r.status === 'rejected' && r.reason instanceof InterruptedError);
    if (interrupted || deps.signal.aborted) throw new InterruptedError('signal');
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<NodeCollection>).value);
  } finally {
    if (settings.keepPod) {
      for (const [node, pod] of created) {
        deps.progress.note(`kept probe pod ${settings.namespace}/${pod} on node ${node}; delete it with: kubectl delete pod -n ${settings.namespace} ${pod}`);
      }
    } else {
      await deleteProbePods(deps.api, settings.namespace, [...created.values()], deps.progress);
    }
  }
}

async function probeOneNode(
  target: ProbeTarget,
  runId: string,
  lifetimeSeconds: number,
  settings: ProbeSettings,
  deps: ProbeDeps,
  created: Map<string, string>,
): Promise<NodeCollection> {
  const started = deps.now();
  const pod = buildProbePod({
    nodeName: target.nodeName,
    namespace: settings.namespace,
    image: settings.image,
    runId,
    nameSuffix: deps.randomSuffix(),
    lifetimeSeconds,
    imagePullSecrets: settings.imagePullSecrets,
    priorityClassName: settings.priorityClassName,
    command: settings.command,
    nodeScript: loadNodeScript(),
  });
  const podName = pod.metadata!.name!;
  throwIfAborted(deps.signal);
  // Recorded before the call returns: if we are interrupted mid-create, cleanup still tries it.
  created.set(target.nodeName, podName);
  try {
    await deps.api.createPod(settings.namespace, pod);
  } catch (err) {
    if (isPodSecurityRejection(err)) throw podSecurityError(settings.namespace, err);
    throw err;
  }
  deps.progress.podCreated(target.nodeName, `${settings.namespace}/${podName}`);
  try {
    await waitUntilRunning(target.nodeName, settings, podName, deps, started);
    deps.progress.nodeState(target.nodeName, 'collecting');
    const token = deps.randomToken();
    let raw = (await execWithRetry(deps, settings.namespace, podName, buildNodeScriptArgv(token, target.requests))).stdout;
    if (target.followUp) {
      await target.followUp({
        nodeName: target.nodeName,
        output: () => parseNodeScriptOutput(raw, token),
        run: async (requests) => {
          raw += (await execWithRetry(deps, settings.namespace, podName, buildNodeScriptArgv(token, requests))).stdout;
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
    return { nodeName: target.nodeName, ok: false, error: message, podName };
  }
}

async function execWithRetry(deps: ProbeDeps, namespace: string, podName: string, argv: string[]) {
  try {
    return await deps.api.exec(namespace, podName, PROBE_CONTAINER, argv, deps.signal);
  } catch (err) {
    if (deps.signal.aborted) throw new InterruptedError('signal');
    // A dropped stream is retried once; the script only reads, so running it twice is harmless.
    return await deps.api.exec(namespace, podName, PROBE_CONTAINER, argv, deps.signal).catch((second: unknown) => {
      throw new UserError(`running the node script failed twice: ${(second as Error).message}`, {
        exitCode: EXIT.cannotDiagnose,
        cause: err,
      });
    });
  }
}

async function waitUntilRunning(nodeName: string, settings: ProbeSettings, podName: string, deps: ProbeDeps, started: number): Promise<void> {
  const deadline = started + settings.timeoutSeconds * 1000;
  let lastState = '';
  for (;;) {
    throwIfAborted(deps.signal);
    const pod = await deps.api.readPod(settings.namespace, podName);
    const verdict = classifyProbePod(pod, settings.image);
    if (verdict.kind === 'running') return;
    if (verdict.kind === 'failed') throw new UserError(verdict.reason, { hint: verdict.hint, exitCode: EXIT.cannotDiagnose });
    if (verdict.state !== lastState) {
      deps.progress.nodeState(nodeName, verdict.state);
      lastState = verdict.state;
    }
    if (deps.now() >= deadline) {
      throw new UserError(`probe pod ${podName} on node ${nodeName} did not start within ${settings.timeoutSeconds}s (${verdict.state})`, {
        hint: 'raise --timeout, or check the node with kubectl describe node',
        exitCode: EXIT.cannotDiagnose,
      });
    }
    await deps.sleep(POLL_MS, deps.signal);
  }
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
 * Before creating anything: Pod Security Admission that would reject a privileged pod is named up
 * front, and probe pods left by earlier runs (a SIGKILLed CLI) are pointed out.
 */
async function checkProbeNamespace(api: ClusterApi, namespace: string, progress: Progress): Promise<void> {
  const ns = await api.readNamespace(namespace).catch((err: unknown) => {
    if (err instanceof UserError && /not found/.test(err.message)) {
      throw new UserError(`probe namespace "${namespace}" does not exist`, { hint: 'pick one with --probe-namespace NS' });
    }
    return null; // not allowed to read namespaces: the create call will tell
  });
  const level = ns?.metadata?.labels?.['pod-security.kubernetes.io/enforce'];
  if (level === 'baseline' || level === 'restricted') {
    throw new UserError(`namespace "${namespace}" enforces Pod Security "${level}", which rejects the privileged probe pod`, {
      hint: `use --probe-namespace with a namespace whose pod-security.kubernetes.io/enforce is privileged (or unset), or: kubectl label ns ${namespace} pod-security.kubernetes.io/enforce=privileged --overwrite`,
      exitCode: EXIT.cannotDiagnose,
    });
  }
  const stale = await api.listPods({ namespace: undefined, labelSelector: PROBE_SELECTOR }).catch(() => []);
  if (stale.length > 0) {
    progress.note(`${stale.length} probe pod(s) from earlier runs are still in the cluster (${stale.slice(0, 3).map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(', ')}${stale.length > 3 ? ', ...' : ''}); kubectl netdiag cleanup removes them`);
  }
}

function isPodSecurityRejection(err: unknown): boolean {
  return err instanceof UserError && /violates PodSecurity/i.test(err.message);
}

function podSecurityError(namespace: string, err: unknown): UserError {
  return new UserError(`Pod Security Admission in namespace "${namespace}" rejected the privileged probe pod`, {
    hint: `use --probe-namespace with a namespace labelled pod-security.kubernetes.io/enforce=privileged, or: kubectl label ns ${namespace} pod-security.kubernetes.io/enforce=privileged`,
    exitCode: EXIT.cannotDiagnose,
    cause: err,
  });
}

export async function deleteProbePods(api: ClusterApi, namespace: string, names: readonly string[], progress: Progress): Promise<void> {
  const results = await Promise.allSettled(names.map((name) => api.deletePod(namespace, name, 0)));
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') progress.podDeleted(`${namespace}/${names[i]}`);
    else progress.note(`could not delete probe pod ${namespace}/${names[i]}: ${(r.reason as Error).message}; run kubectl netdiag cleanup`);
  });
}


function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new InterruptedError('signal');
}
