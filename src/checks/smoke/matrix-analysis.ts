// smoke --matrix: which pod answers for each node, which node pairs to try (all of them, or a
// deterministic sample that still has every node as source and destination), the node script
// requests that try them, and what the answers mean. Pure: the command does the API calls.
import type { Finding } from '../finding.js';
import type { NodeRequest } from '../../node-script/node-script.js';
import { actionSectionName } from '../../node-script/node-script.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import { parseNodeScriptOutput, type RawSection } from '../../probe/sections.js';
import { parseProbeAttempts } from '../../parse/probe-attempts.js';
import { parsePing } from '../../parse/ping.js';

/** A pod as the matrix sees it (the command reads it from the API). */
export interface MatrixPod {
  namespace: string;
  name: string;
  nodeName: string;
  ip: string | null; // the first IPv4 pod IP (the node script's actions take IPv4 only)
  containerId: string | null;
  tcpPort: number | null; // the first TCP containerPort: something that should listen
  ready: boolean;
  hostNetwork: boolean;
  probePod: boolean;
  deleting: boolean;
}

/** The pods one node answers with: `primary` is source and destination, `peer` the same-node source. */
export interface NodePick {
  nodeName: string;
  primary: MatrixPod;
  peer: MatrixPod | null;
}

export interface SkippedNode {
  nodeName: string;
  reason: string;
}

const usable = (p: MatrixPod) => p.ready && !p.hostNetwork && !p.probePod && !p.deleting && p.ip !== null;

/** Pods that listen first, then application pods before kube-system, then by namespace/name. */
function rankPods(a: MatrixPod, b: MatrixPod): number {
  const listens = Number(b.tcpPort !== null) - Number(a.tcpPort !== null);
  const system = Number(a.namespace === 'kube-system') - Number(b.namespace === 'kube-system');
  return listens || system || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);
}

/** One ready pod-network pod per node (and a second one for the same-node pair), or why not. */
export function pickMatrixPods(nodeNames: readonly string[], pods: readonly MatrixPod[]): { picks: NodePick[]; skipped: SkippedNode[] } {
  const picks: NodePick[] = [];
  const skipped: SkippedNode[] = [];
  for (const nodeName of [...nodeNames].sort()) {
    const here = pods.filter((p) => p.nodeName === nodeName);
    const ranked = here.filter(usable).sort(rankPods);
    if (ranked.length > 0) {
      picks.push({ nodeName, primary: ranked[0]!, peer: ranked[1] ?? null });
      continue;
    }
    const onPodNetwork = here.filter((p) => !p.hostNetwork && !p.probePod);
    const reason = onPodNetwork.length === 0
      ? 'no pod on the pod network runs here (only hostNetwork or probe pods)'
      : onPodNetwork.some((p) => p.ready && !p.deleting && p.ip === null)
        ? 'its ready pods have no IPv4 address (IPv6-only pods are not probed yet)'
        : `none of its ${onPodNetwork.length} pod-network pod(s) is ready`;
    skipped.push({ nodeName, reason });
  }
  return { picks, skipped };
}

export interface PlannedPair {
  source: string; // node names
  destination: string;
}

export interface PairPlan {
  pairs: PlannedPair[];
  possible: number; // every ordered pair, same-node pairs included
  sampled: boolean;
  /** The limit in force: --matrix-limit, raised to the node count so every node can take part. */
  limit: number;
}

/** Bit-reversed position: the first m positions of this order are spread over the whole range. */
function spreadOrder(length: number): number[] {
  const bits = Math.max(1, Math.ceil(Math.log2(Math.max(2, length))));
  const reversed = (p: number) => parseInt(p.toString(2).padStart(bits, '0').split('').reverse().join(''), 2);
  return Array.from({ length }, (_, p) => p).sort((a, b) => reversed(a) - reversed(b));
}

/**
 * Ordered node pairs, same-node pairs included. Over the limit, source i gets destinations
 * i+offset (mod n) for the same offsets: offset 1 (the next node), 0 (itself), then offsets spread
 * over the rest. Each offset maps the nodes onto themselves, so every node is a destination as
 * often as a source; the first limit mod n sources take one offset more. Deterministic: nodes are
 * sorted by name and nothing is random.
 */
export function planPodPairs(nodeNames: readonly string[], matrixLimit: number): PairPlan {
  const nodes = [...new Set(nodeNames)].sort();
  const n = nodes.length;
  const possible = n * n;
  const limit = Math.max(matrixLimit, n);
  if (possible <= limit) {
    return { pairs: nodes.flatMap((source) => nodes.map((destination) => ({ source, destination }))), possible, sampled: false, limit };
  }
  const offsets = [1, 0, ...spreadOrder(n - 2).map((p) => p + 2)];
  const perSource = Math.floor(limit / n);
  const extra = limit % n;
  const pairs: PlannedPair[] = [];
  nodes.forEach((source, i) => {
    const mine = offsets.slice(0, perSource + (i < extra ? 1 : 0));
    for (const offset of [...mine].sort((a, b) => ((i + a) % n) - ((i + b) % n))) pairs.push({ source, destination: nodes[(i + offset) % n]! });
  });
  return { pairs, possible, sampled: true, limit };
}

export interface MatrixService {
  namespace: string;
  name: string;
  address: string; // ClusterIP
  port: number; // the first TCP port
  readyEndpoints: number;
}

/** One connection to try: a pod pair or a node's pod to the Service. */
export interface MatrixCheck {
  id: string;
  kind: 'pod' | 'service';
  sourceNode: string;
  source: MatrixPod;
  sourceKey: 'src' | 'peer'; // the node script's name for the source pod
  destinationNode: string | null; // null for the Service
  destination: string; // "pod NS/NAME" or "service NS/NAME"
  address: string;
  port: number | null; // null: ping, no port is known
  selfOnly: boolean; // a same-node pair on a node with one usable pod: skipped
}

/** The checks of a plan, grouped by source node in the order planned. */
export function matrixChecks(picks: readonly NodePick[], plan: PairPlan, service: MatrixService | null): MatrixCheck[] {
  const byNode = new Map(picks.map((p) => [p.nodeName, p] as const));
  const checks: MatrixCheck[] = [];
  const pairsFrom = new Map<string, PlannedPair[]>();
  for (const pair of plan.pairs) {
    const list = pairsFrom.get(pair.source);
    if (list) list.push(pair);
    else pairsFrom.set(pair.source, [pair]);
  }
  for (const pick of picks) {
    for (const pair of pairsFrom.get(pick.nodeName) ?? []) {
      const dst = byNode.get(pair.destination)!.primary;
      // Same node: from a second pod on it. A pod connecting to its own address never leaves its
      // loopback, so without a second pod the pair is skipped, not tried.
      const from = pair.destination === pick.nodeName && pick.peer ? pick.peer : pick.primary;
      checks.push({
        id: `pod:${pick.nodeName}:${pair.destination}`,
        kind: 'pod',
        sourceNode: pick.nodeName,
        source: from,
        sourceKey: from === pick.primary ? 'src' : 'peer',
        destinationNode: pair.destination,
        destination: `pod ${dst.namespace}/${dst.name}`,
        address: dst.ip!,
        port: dst.tcpPort,
        selfOnly: pair.destination === pick.nodeName && !pick.peer,
      });
    }
    if (service) {
      checks.push({
        id: `service:${pick.nodeName}`,
        kind: 'service',
        sourceNode: pick.nodeName,
        source: pick.primary,
        sourceKey: 'src',
        destinationNode: null,
        destination: `service ${service.namespace}/${service.name}`,
        address: service.address,
        port: service.port,
        selfOnly: false,
      });
    }
  }
  return checks;
}

const PING_BYTES = 56;

type ActionRequest = Extract<NodeRequest, { kind: 'probe' | 'ping' }>;

function actionOf(check: MatrixCheck, attempts: number): ActionRequest {
  return check.port === null
    ? { kind: 'ping', where: check.sourceKey, destination: check.address, payloadBytes: PING_BYTES, count: attempts }
    : { kind: 'probe', where: check.sourceKey, protocol: 'tcp', address: check.address, port: check.port, count: attempts };
}

/**
 * The node script calls for one source node: each call names the source pods again (a call finds
 * its namespaces itself) and carries at most `perCall` checks, so one call stays within --timeout.
 */
export function matrixRequests(checks: readonly MatrixCheck[], attempts: number, perCall: number): NodeRequest[][] {
  const calls: NodeRequest[][] = [];
  const tried = checks.filter((c) => !c.selfOnly);
  for (let i = 0; i < tried.length; i += Math.max(1, perCall)) {
    const chunk = tried.slice(i, i + Math.max(1, perCall));
    const sources = new Map(chunk.map((c) => [c.sourceKey, c.source] as const));
    calls.push([
      ...[...sources].map(([key, pod]): NodeRequest => ({ kind: 'podpid', key, containerId: pod.containerId, podIP: pod.ip! })),
      ...chunk.map((c) => actionOf(c, attempts)),
    ]);
  }
  return calls;
}

/** How many checks one node script call may carry: a failing connect costs 2 s per attempt. */
export function checksPerCall(timeoutSeconds: number, attempts: number): number {
  return Math.max(1, Math.floor((timeoutSeconds * 0.8) / (attempts * 2 + 1)));
}

export type FailureReason = 'timeout' | 'refused' | 'no route' | 'network unreachable' | 'unreachable' | 'error';

export interface CheckOutcome {
  status: 'ok' | 'failed' | 'not-run' | 'skipped';
  attempts: number;
  succeeded: number;
  reason: FailureReason | null;
  detail: string; // nc's or ping's own words, or why it did not run
}

function reasonOf(text: string): FailureReason {
  if (/refused/i.test(text)) return 'refused';
  if (/timed out|100% packet loss/i.test(text)) return 'timeout';
  if (/no route to host|host unreachable/i.test(text)) return 'no route';
  if (/network is unreachable|net unreachable/i.test(text)) return 'network unreachable';
  if (/unreachable|prohibited/i.test(text)) return 'unreachable';
  return 'error';
}

/** Reads a tcp probe's output: one "attempt N rc=RC words" line per attempt; rc 0 is a connect. */
export function readConnect(section: RawSection | undefined, attempts: number): CheckOutcome {
  if (!section) return { status: 'not-run', attempts, succeeded: 0, reason: null, detail: 'the node script gave no answer for this check' };
  const lines = parseProbeAttempts(section.stdout, 'tcp');
  if (lines.length === 0) {
    const said = `${section.stdout}\n${section.stderr}`.trim().split('\n')[0] || `exit ${section.exitCode}`;
    return { status: 'not-run', attempts, succeeded: 0, reason: null, detail: said };
  }
  const failed = lines.filter((a) => a.rc !== 0);
  const succeeded = lines.length - failed.length;
  if (failed.length === 0 && lines.length >= attempts) return { status: 'ok', attempts, succeeded, reason: null, detail: `${succeeded}/${attempts} connected` };
  const first = failed[0]?.detail ?? 'fewer attempts ran than asked';
  return { status: 'failed', attempts, succeeded, reason: reasonOf(first), detail: `${succeeded}/${attempts} connected; ${first.replace(/^nc: /, '')}` };
}

/** Reads ping output: "N packets transmitted, M received". */
export function readPing(section: RawSection | undefined, attempts: number): CheckOutcome {
  if (!section) return { status: 'not-run', attempts, succeeded: 0, reason: null, detail: 'the node script gave no answer for this check' };
  const text = `${section.stdout}\n${section.stderr}`;
  const parsed = parsePing(text);
  const ping = parsed.ok && parsed.value.statsLine !== null ? parsed.value : null;
  if (!ping) return { status: 'not-run', attempts, succeeded: 0, reason: null, detail: text.trim().split('\n')[0] || `exit ${section.exitCode}` };
  const succeeded = ping.received ?? 0;
  if (succeeded >= attempts) return { status: 'ok', attempts, succeeded, reason: null, detail: `${succeeded}/${attempts} echo replies` };
  const saysWhy = (line: string) => /unreachable|prohibited|Unreachable/.test(line);
  const unrecognised = parsed.ok ? parsed.skipped.map((s) => s.raw.trim()) : [];
  const why = ping.errorLines.find(saysWhy) ?? unrecognised.find(saysWhy) ?? ping.statsLine ?? 'no reply';
  return { status: 'failed', attempts, succeeded, reason: reasonOf(why), detail: `${succeeded}/${attempts} echo replies; ${why}` };
}

export interface MatrixResult extends CheckOutcome {
  id: string;
  kind: 'pod' | 'service';
  sourceNode: string;
  source: string; // "pod NS/NAME"
  destinationNode: string | null;
  destination: string;
  address: string;
  port: number | null;
  method: 'tcp' | 'ping';
  explanation?: string; // what explainFailure (conn-check) said about a failed check
}

export interface SmokeMatrixReport {
  nodes: string[]; // nodes that took part
  skipped: SkippedNode[];
  possiblePairs: number;
  sampled: boolean;
  limit: number;
  service: MatrixService | null;
  serviceNote: string | null; // why there are no Service checks
  attempts: number;
  results: MatrixResult[];
  findings: Finding[];
}

export interface MatrixInput {
  picks: NodePick[];
  skipped: SkippedNode[];
  plan: PairPlan;
  service: MatrixService | null;
  serviceNote: string | null;
  attempts: number;
  checks: MatrixCheck[];
}

/** Each check's outcome from its source node's output, and one finding per failure. */
export function analyzeMatrix(input: MatrixInput, collections: readonly NodeCollection[]): SmokeMatrixReport {
  const byNode = new Map(collections.map((c) => [c.nodeName, c] as const));
  const sectionsOf = new Map<string, Map<string, RawSection> | string>();
  for (const [node, c] of byNode) sectionsOf.set(node, c.ok ? parseNodeScriptOutput(c.raw, c.token).sections : `the probe on node ${node} failed: ${c.error}`);
  const results: MatrixResult[] = input.checks.map((check) => {
    const sections = sectionsOf.get(check.sourceNode);
    const action = actionOf(check, input.attempts);
    const outcome: CheckOutcome = check.selfOnly
      ? { status: 'skipped', attempts: input.attempts, succeeded: 0, reason: null, detail: `skipped: ${check.sourceNode} has one usable pod, and a pod's connect to its own address stays on its loopback` }
      : sections === undefined || typeof sections === 'string'
      ? { status: 'not-run', attempts: input.attempts, succeeded: 0, reason: null, detail: typeof sections === 'string' ? sections : 'its source node was not probed' }
      : action.kind === 'probe'
        ? readConnect(sections.get(actionSectionName(action)), input.attempts)
        : readPing(sections.get(actionSectionName(action)) ?? sections.get(`${actionSectionName(action)}/${action.count}`), input.attempts);
    return {
      id: check.id,
      kind: check.kind,
      sourceNode: check.sourceNode,
      source: `pod ${check.source.namespace}/${check.source.name}`,
      destinationNode: check.destinationNode,
      destination: check.destination,
      address: check.address,
      port: check.port,
      method: check.port === null ? 'ping' : 'tcp',
      ...outcome,
    };
  });
  return {
    nodes: input.picks.map((p) => p.nodeName),
    skipped: input.skipped,
    possiblePairs: input.plan.possible,
    sampled: input.plan.sampled,
    limit: input.plan.limit,
    service: input.service,
    serviceNote: input.serviceNote,
    attempts: input.attempts,
    results,
    findings: matrixFindings(input, results, collections),
  };
}

export function targetText(r: Pick<MatrixResult, 'address' | 'port'>): string {
  return r.port === null ? `${r.address} (ping)` : `${r.address}:${r.port}`;
}

export function pairText(r: MatrixResult): string {
  return `${r.source} (${r.sourceNode}) -> ${r.destination}${r.destinationNode ? ` (${r.destinationNode})` : ''} ${targetText(r)}`;
}

function matrixFindings(input: MatrixInput, results: readonly MatrixResult[], collections: readonly NodeCollection[]): Finding[] {
  const findings: Finding[] = [];
  for (const r of results.filter((x) => x.status === 'failed')) {
    const pod = r.kind === 'pod';
    findings.push({
      code: pod ? 'smoke.pod-pair-failed' : 'smoke.service-failed',
      severity: 'error',
      subject: pairText(r),
      message: `${r.method === 'ping' ? 'ping' : 'TCP connect'} failed (${r.reason}): ${r.succeeded} of ${r.attempts} attempts got through`,
      evidence: [r.detail],
      remedy: pod
        ? `find the hop that drops it: kubectl netdiag node-check ${r.destinationNode} and veth-peer --node ${r.destinationNode}; a refused connect means the packet arrived and nothing listens (or a REJECT rule answered)`
        : `trace the Service from that node: kubectl netdiag trace-svc ${input.service?.name ?? 'SERVICE'} -n ${input.service?.namespace ?? 'NAMESPACE'} --from-node ${r.sourceNode} --probe`,
    });
  }
  for (const s of input.skipped) {
    findings.push({ code: 'smoke.node-skipped', severity: 'info', subject: `node ${s.nodeName}`, message: `skipped, not failed: ${s.reason}`, evidence: [], remedy: 'nothing to fix for the matrix; to cover this node, run a small pod on it (a DaemonSet does)' });
  }
  // A probe that ran but could not try a check (the source pod's namespace was not found): not a
  // network failure, but not a pass either.
  const probed = new Set(collections.filter((c) => c.ok).map((c) => c.nodeName));
  for (const r of results.filter((x) => x.status === 'not-run' && probed.has(x.sourceNode))) {
    findings.push({ code: 'smoke.check-failed', severity: 'error', subject: pairText(r), message: 'this check could not run on its source node', evidence: [r.detail], remedy: `look at the source pod's namespace on its node: kubectl netdiag veth-peer ${r.source.replace(/^pod [^/]+\//, '')} -n ${r.source.replace(/^pod ([^/]+)\/.*$/, '$1')}` });
  }
  for (const c of collections.filter((x) => !x.ok)) {
    findings.push({ code: 'smoke.check-failed', severity: 'error', subject: `matrix from node ${c.nodeName}`, message: 'the probe pod on this node could not run its checks', evidence: [c.ok ? '' : c.error], remedy: `run one check alone for details: kubectl netdiag veth-peer --node ${c.nodeName} -v` });
  }
  return findings;
}
