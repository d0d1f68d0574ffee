// `kubectl netdiag smoke --matrix`: pod-to-pod between every pair of nodes (same-node pairs
// included) and pod-to-Service from every node, through the pods already running there. One probe
// pod per source node runs all of that node's connects; --max-parallel bounds the pods and their
// exec streams alive at once.
import type { CommandContext } from '../../cli/command-runner.js';
import { connect, runProbesWithProgress } from '../../cli/command-runner.js';
import type { ClusterApi, Node, Pod, Service } from '../../kube/cluster-api.js';
import { containerIdOf, podIPsOf } from '../../kube/resolve.js';
import { httpStatusOf } from '../../kube/api-error.js';
import { isIpv4 } from '../../net/ip.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../probe/probe-pod.js';
import type { ProbeTarget } from '../../probe/probe-run.js';
import { colourEnabled, paint } from '../../render/colour.js';
import { exitCodeFor } from '../../cli/exit-code.js';
import { EXIT, InterruptedError, UserError, type ExitCode } from '../../errors.js';
import {
  analyzeMatrix,
  checksPerCall,
  matrixChecks,
  matrixRequests,
  pickMatrixPods,
  planPodPairs,
  type MatrixPod,
  type MatrixResult,
  type MatrixService,
} from './matrix-analysis.js';
import { renderMatrixJunit, renderSmokeMatrix } from './matrix-render.js';

export interface SmokeMatrixTarget {
  limit: number; // --matrix-limit: pod pairs at most (raised to the node count)
  attempts: number; // --attempts: connects (or pings) per check
  service: { namespace: string; name: string } | null; // --service NS/NAME; null = pick one
  junit: string | null;
}

export interface SmokeMatrixDeps {
  /**
   * Names the hop where a failed check's packets die (conn-check: connCheckExplainer); its answer
   * is printed under the failure. Undefined skips it.
   */
  explainFailure?: ((pair: MatrixResult) => Promise<string | undefined>) | undefined;
}

export async function runSmokeMatrix(ctx: CommandContext, target: SmokeMatrixTarget, matrixDeps: SmokeMatrixDeps = {}): Promise<ExitCode> {
  const { deps, options } = ctx;
  const api = await connect(ctx);
  const nodes = (await api.listNodes()).filter((n) => (n.metadata?.labels?.['kubernetes.io/os'] ?? 'linux') === 'linux');
  const pods = await api.listPods({ namespace: undefined });
  const { picks, skipped } = pickMatrixPods(nodes.map(nodeName), pods.map(matrixPodOf));
  if (picks.length === 0) {
    throw new UserError(`no node runs a ready pod on the pod network, so there is no pod to connect from (${nodes.length} node(s) looked at)`, { exitCode: EXIT.cannotDiagnose, hint: 'the matrix uses the pods already running on each node; run a small DaemonSet first' });
  }
  const { service, note } = await chooseService(api, target.service);
  const plan = planPodPairs(picks.map((p) => p.nodeName), target.limit);
  const checks = matrixChecks(picks, plan, service);
  const perCall = checksPerCall(options.timeoutSeconds, target.attempts);
  const checksFrom = new Map<string, typeof checks>();
  for (const c of checks) {
    const list = checksFrom.get(c.sourceNode);
    if (list) list.push(c);
    else checksFrom.set(c.sourceNode, [c]);
  }
  const targets: ProbeTarget[] = picks.flatMap((pick): ProbeTarget[] => {
    const calls = matrixRequests(checksFrom.get(pick.nodeName) ?? [], target.attempts, perCall);
    if (calls.length === 0) return [];
    const [first, ...rest] = calls;
    return [{ nodeName: pick.nodeName, requests: first!, followUp: rest.length === 0 ? undefined : async (node) => { for (const call of rest) await node.run(call); } }];
  });
  const collections = await runProbesWithProgress(ctx, api, targets, 'smoke');
  if (collections.length > 0 && collections.every((c) => !c.ok)) {
    const first = collections.find((c) => !c.ok);
    throw new UserError(`no node could run the matrix: ${first && !first.ok ? first.error : 'unknown error'}`, { hint: first && !first.ok ? first.hint : undefined, exitCode: EXIT.cannotDiagnose });
  }
  const report = analyzeMatrix({ picks, skipped, plan, service, serviceNote: note, attempts: target.attempts, checks }, collections);
  if (matrixDeps.explainFailure) {
    for (const r of report.results.filter((x) => x.status === 'failed')) {
      if (deps.signal.aborted) throw new InterruptedError('signal');
      const said = await matrixDeps.explainFailure(r).catch((err: unknown) => `could not be explained: ${(err as Error).message}`);
      if (said) r.explanation = said;
    }
  }
  if (target.junit) await deps.writeFile(target.junit, renderMatrixJunit(report));
  const colour = options.color === 'auto' ? colourEnabled(deps.stdout.isTTY, deps.env) : options.color === 'always';
  deps.stdout.write(renderSmokeMatrix(report, options, paint(colour)));
  return exitCodeFor(report.findings, options.failOn);
}

function nodeName(n: Node): string {
  return n.metadata?.name ?? '';
}

function matrixPodOf(p: Pod): MatrixPod {
  const tcpPort = (p.spec?.containers ?? []).flatMap((c) => c.ports ?? []).find((port) => (port.protocol ?? 'TCP') === 'TCP')?.containerPort ?? null;
  return {
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    nodeName: p.spec?.nodeName ?? '',
    ip: podIPsOf(p).find(isIpv4) ?? null,
    containerId: containerIdOf(p),
    tcpPort,
    ready: p.status?.phase === 'Running' && (p.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'True') === 'True',
    hostNetwork: p.spec?.hostNetwork === true,
    probePod: p.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE,
    deleting: Boolean(p.metadata?.deletionTimestamp),
  };
}

/** A ClusterIP Service with a selector, a TCP port and ready endpoints: what pods talk to. */
function serviceCandidate(s: Service): boolean {
  const ip = s.spec?.clusterIP;
  return (s.spec?.type ?? 'ClusterIP') === 'ClusterIP' && Boolean(ip) && ip !== 'None' && isIpv4(ip!) && Object.keys(s.spec?.selector ?? {}).length > 0 && (s.spec?.ports ?? []).some((p) => (p.protocol ?? 'TCP') === 'TCP');
}

async function readyEndpoints(api: ClusterApi, s: Service): Promise<number> {
  const slices = await api.listEndpointSlices(s.metadata?.namespace ?? '', s.metadata?.name ?? '');
  return slices.flatMap((sl) => sl.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length;
}

function matrixServiceOf(s: Service, ready: number): MatrixService {
  return { namespace: s.metadata?.namespace ?? '', name: s.metadata?.name ?? '', address: s.spec!.clusterIP!, port: s.spec!.ports!.find((p) => (p.protocol ?? 'TCP') === 'TCP')!.port, readyEndpoints: ready };
}

// Candidates read for endpoints one by one; a cluster of Services without endpoints stops here.
const SERVICES_TRIED = 20;

/** --service NS/NAME, or the first Service (default namespace first, then by name) with ready endpoints. */
async function chooseService(api: ClusterApi, wanted: SmokeMatrixTarget['service']): Promise<{ service: MatrixService | null; note: string | null }> {
  if (wanted) {
    const s = await api.readService(wanted.namespace, wanted.name).catch((err: unknown) => {
      if (httpStatusOf(err) === 404 || (err instanceof UserError && /not found/.test(err.message))) throw new UserError(`service ${wanted.namespace}/${wanted.name} not found`, { hint: 'kubectl get services -A lists them' });
      throw err;
    });
    if (!serviceCandidate(s)) throw new UserError(`service ${wanted.namespace}/${wanted.name} is not a ClusterIP Service with a selector and a TCP port; the matrix connects to a ClusterIP`);
    // Without ready endpoints its connects fail, and that is reported: the user asked for this one.
    return { service: matrixServiceOf(s, await readyEndpoints(api, s)), note: null };
  }
  const ns = (s: Service) => s.metadata?.namespace ?? '';
  const candidates = (await api.listServices({ namespace: undefined }))
    .filter(serviceCandidate)
    .sort((a, b) => Number(ns(a) !== 'default') - Number(ns(b) !== 'default') || `${ns(a)}/${a.metadata?.name}`.localeCompare(`${ns(b)}/${b.metadata?.name}`));
  for (const s of candidates.slice(0, SERVICES_TRIED)) {
    const ready = await readyEndpoints(api, s);
    if (ready > 0) return { service: matrixServiceOf(s, ready), note: null };
  }
  return { service: null, note: candidates.length === 0 ? 'no ClusterIP Service with a selector and a TCP port' : `none of the first ${Math.min(candidates.length, SERVICES_TRIED)} ClusterIP Services has a ready endpoint; name one with --service NS/NAME` };
}

/** Failed checks explained by conn-check (the hop where the packets die), at most `max` per run. */
export function connCheckExplainer(ctx: CommandContext, max = 5): (r: MatrixResult) => Promise<string | undefined> {
  let explained = 0;
  return async (r) => {
    if (explained >= max) return undefined;
    explained += 1;
    const source = /^pod ([^/]+)\/(.+)$/.exec(r.source);
    if (!source) return undefined;
    const service = /^service ([^/]+)\/(.+)$/.exec(r.destination);
    const { connCheckCommand } = await import('../conn-check/command.js');
    const { collectAndAnalyze } = await import('../../cli/command-runner.js');
    const spec = connCheckCommand({
      source: { kind: 'pod', namespace: source[1]!, name: source[2]! },
      destination: service ? { kind: 'service', name: service[2]! } : { kind: 'ip', address: r.address, port: r.port },
      port: r.port,
      protocol: r.port === null ? 'icmp' : 'tcp',
      count: 3,
      probe: true,
    });
    const options = { ...ctx.options, namespace: service ? service[1]! : source[1]!, saveSnapshot: undefined, fromSnapshot: undefined };
    const { report } = await collectAndAnalyze(spec, { ...ctx, options });
    return `conn-check: ${report.verdict.sentence}`;
  };
}
