// NetworkPolicy (networking.k8s.io/v1) for one flow SRC -> DST:port/protocol, as the API reference
// defines it: the source's egress and the destination's ingress must both allow the flow. Pure:
// the caller reads the policies, pods and namespace labels. Where the API leaves the answer to the
// CNI, or an object could not pass API validation, the side is "undecided" with its reason.
import type { Namespace, NetworkPolicy, Pod } from '../../kube/cluster-api.js';
import { cidrContains, parseCidr, parseIp } from '../../net/ip.js';

export interface PolicyPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  namespaceLabels: Record<string, string>;
  ip: string;
  containerPorts: { name?: string; containerPort: number; protocol?: string }[];
  /** The node the pod runs on: traffic between a pod and its own node is treated apart. */
  nodeName?: string;
}

/** A pod, or an address that is no pod: a node (give its name), a hostNetwork pod, an outside IP. */
export type PolicyPeer = { kind: 'pod'; pod: PolicyPod } | { kind: 'ip'; ip: string; node?: string };

export type PolicyProtocol = 'TCP' | 'UDP' | 'SCTP';
export type PolicyVerdict = 'allowed' | 'denied' | 'undecided';
export type PolicyDirection = 'ingress' | 'egress';

export interface PolicyRef {
  namespace: string;
  name: string;
}

/** The rule that let the flow through: peerIndex/portIndex null when the rule lists none (= all). */
export interface PolicyRuleMatch {
  policy: PolicyRef;
  direction: PolicyDirection;
  ruleIndex: number;
  peerIndex: number | null;
  portIndex: number | null;
}

/** A rule of an isolating policy that did not match, and which half of it failed. */
export interface PolicyRuleMiss {
  policy: PolicyRef;
  direction: PolicyDirection;
  ruleIndex: number;
  failed: 'peer' | 'port' | 'peer-and-port';
}

export type PolicySideReason =
  | 'not-a-pod' // the endpoint is an address: no policy of this direction can apply
  | 'self' // a pod cannot block traffic to itself
  | 'own-node' // ingress from the pod's own node: always allowed
  | 'not-isolated' // no policy selects the pod for this direction
  | 'allowed-by-rule'
  | 'no-rule-allows'
  | 'invalid-policy'
  | 'cni-dependent';

export interface PolicySide {
  direction: PolicyDirection;
  /** The pod whose policies decide this side; null when that endpoint is no pod. */
  pod: PolicyRef | null;
  verdict: PolicyVerdict;
  reason: PolicySideReason;
  isolatedBy: PolicyRef[];
  allowedBy: PolicyRuleMatch[];
  misses: PolicyRuleMiss[];
  /** Set when undecided: what stops a definite answer. */
  undecidedBecause: string | null;
}

export interface PolicyAnswer {
  verdict: PolicyVerdict;
  from: PolicyPeer;
  to: PolicyPeer;
  port: number;
  protocol: PolicyProtocol;
  egress: PolicySide;
  ingress: PolicySide;
}

/** Evaluates the flow from -> to:port/protocol against every given policy (any namespace). */
export function evaluateNetworkPolicies(
  policies: readonly NetworkPolicy[],
  from: PolicyPeer,
  to: PolicyPeer,
  port: number,
  protocol: PolicyProtocol,
): PolicyAnswer {
  const flow: Flow = { from, to, port, protocol };
  const egress = evaluateSide(policies, 'egress', flow);
  const ingress = evaluateSide(policies, 'ingress', flow);
  return { verdict: combineVerdicts(egress.verdict, ingress.verdict), from, to, port, protocol, egress, ingress };
}

/**
 * A pod as policy sees it. A hostNetwork pod is its node's address (no policy selects it, only
 * ipBlock peers match it); a pod without an IP yet cannot be placed at all.
 */
export function policyPeerOfPod(pod: Pod, namespace: Namespace | null): { peer: PolicyPeer } | { problem: string } {
  const name = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  const nodeName = pod.spec?.nodeName;
  if (pod.spec?.hostNetwork) {
    const ip = pod.status?.hostIP ?? pod.status?.podIP;
    if (!ip) return { problem: `pod ${name} has no IP yet` };
    return { peer: { kind: 'ip', ip, ...(nodeName ? { node: nodeName } : {}) } };
  }
  const ip = pod.status?.podIP;
  if (!ip) return { problem: `pod ${name} has no IP yet` };
  const containerPorts = (pod.spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? []).map((p) => ({ containerPort: p.containerPort, ...(p.name ? { name: p.name } : {}), ...(p.protocol ? { protocol: p.protocol } : {}) })),
  );
  return {
    peer: {
      kind: 'pod',
      pod: {
        namespace: pod.metadata?.namespace ?? '',
        name: pod.metadata?.name ?? '',
        labels: pod.metadata?.labels ?? {},
        namespaceLabels: namespace?.metadata?.labels ?? {},
        ip,
        containerPorts,
        ...(nodeName ? { nodeName } : {}),
      },
    },
  };
}

// One side denying settles it; otherwise any undecided side leaves the whole answer undecided.
function combineVerdicts(a: PolicyVerdict, b: PolicyVerdict): PolicyVerdict {
  if (a === 'denied' || b === 'denied') return 'denied';
  if (a === 'undecided' || b === 'undecided') return 'undecided';
  return 'allowed';
}

interface Flow {
  from: PolicyPeer;
  to: PolicyPeer;
  port: number;
  protocol: PolicyProtocol;
}

function evaluateSide(policies: readonly NetworkPolicy[], direction: PolicyDirection, flow: Flow): PolicySide {
  const subjectPeer = direction === 'egress' ? flow.from : flow.to;
  const otherPeer = direction === 'egress' ? flow.to : flow.from;
  const side = (verdict: PolicyVerdict, reason: PolicySideReason, extra: Partial<PolicySide> = {}): PolicySide => ({
    direction,
    pod: subjectPeer.kind === 'pod' ? refOfPod(subjectPeer.pod) : null,
    verdict,
    reason,
    isolatedBy: [],
    allowedBy: [],
    misses: [],
    undecidedBecause: null,
    ...extra,
  });
  if (subjectPeer.kind !== 'pod') return side('allowed', 'not-a-pod');
  const subject = subjectPeer.pod;
  if (otherPeer.kind === 'pod' && sameRef(refOfPod(otherPeer.pod), refOfPod(subject))) return side('allowed', 'self');
  // The API reference exempts traffic *from* the pod's own node (kubelet probes) on ingress only;
  // egress to the own node is filtered like any other (Calico runs egress policy before
  // DefaultEndpointToHostAction).
  if (direction === 'ingress' && isOwnNode(otherPeer, subject)) return side('allowed', 'own-node');

  const isolating: NetworkPolicy[] = [];
  for (const policy of policies) {
    if (policy.metadata?.namespace !== subject.namespace) continue;
    const problem = validateNetworkPolicy(policy);
    if (problem !== null) {
      // A policy the API would have refused may select the pod: nothing it says can be trusted.
      const selects = problem.startsWith('spec.podSelector') ? null : labelSelectorMatches(policy.spec?.podSelector ?? {}, subject.labels);
      if (selects === false) continue;
      return side('undecided', 'invalid-policy', { undecidedBecause: `${refText(refOfPolicy(policy))} is not a valid NetworkPolicy: ${problem}` });
    }
    if (labelSelectorMatches(policy.spec?.podSelector ?? {}, subject.labels) && effectivePolicyTypes(policy).includes(direction)) isolating.push(policy);
  }
  const isolatedBy = isolating.map(refOfPolicy);
  if (isolating.length === 0) return side('allowed', 'not-isolated');

  const allowedBy: PolicyRuleMatch[] = [];
  const misses: PolicyRuleMiss[] = [];
  for (const policy of isolating) {
    const rules = (direction === 'ingress' ? policy.spec?.ingress : policy.spec?.egress) ?? [];
    rules.forEach((rule, ruleIndex) => {
      const peers = direction === 'ingress' ? ingressPeers(rule) : (rule as { to?: PeerSpec[] }).to;
      const peerIndex = matchingPeerIndex(peers, otherPeer, policy.metadata!.namespace!);
      const portIndex = matchingPortIndex(rule.ports, flow);
      const ref = refOfPolicy(policy);
      if (peerIndex !== undefined && portIndex !== undefined) allowedBy.push({ policy: ref, direction, ruleIndex, peerIndex, portIndex });
      else misses.push({ policy: ref, direction, ruleIndex, failed: peerIndex === undefined ? (portIndex === undefined ? 'peer-and-port' : 'peer') : 'port' });
    });
  }
  if (flow.protocol === 'SCTP') {
    return side('undecided', 'cni-dependent', {
      isolatedBy, allowedBy, misses,
      undecidedBecause: `SCTP is filtered only where the CNI and the node's kernel support it (sctp module), which the API cannot tell`,
    });
  }
  if (allowedBy.length > 0) return side('allowed', 'allowed-by-rule', { isolatedBy, allowedBy, misses });
  return side('denied', 'no-rule-allows', { isolatedBy, misses });
}

type PeerSpec = NonNullable<NonNullable<NonNullable<NetworkPolicy['spec']>['egress']>[number]['to']>[number];
type PortSpec = NonNullable<NonNullable<NonNullable<NetworkPolicy['spec']>['egress']>[number]['ports']>[number];
type LabelSelector = NonNullable<NonNullable<NetworkPolicy['spec']>['podSelector']>;

// client-node names the ingress rule's `from` field `_from`; objects read as plain JSON say `from`.
function ingressPeers(rule: object): PeerSpec[] | undefined {
  const r = rule as { _from?: PeerSpec[]; from?: PeerSpec[] };
  return r._from ?? r.from;
}

function isOwnNode(peer: PolicyPeer, pod: PolicyPod): boolean {
  return peer.kind === 'ip' && peer.node !== undefined && pod.nodeName !== undefined && peer.node === pod.nodeName;
}

/** policyTypes as the API server defaults it: Ingress always, Egress when egress rules exist. */
export function effectivePolicyTypes(policy: NetworkPolicy): PolicyDirection[] {
  const types = policy.spec?.policyTypes;
  if (types !== undefined && types.length > 0) return types.map((t) => (t === 'Egress' ? 'egress' : 'ingress'));
  return (policy.spec?.egress?.length ?? 0) > 0 ? ['ingress', 'egress'] : ['ingress'];
}

/** undefined: no peer matches; null: the rule lists no peer, so every peer does. */
function matchingPeerIndex(peers: PeerSpec[] | undefined, other: PolicyPeer, policyNamespace: string): number | null | undefined {
  if (peers === undefined || peers.length === 0) return null;
  const i = peers.findIndex((p) => peerMatches(p, other, policyNamespace));
  return i === -1 ? undefined : i;
}

function peerMatches(peer: PeerSpec, other: PolicyPeer, policyNamespace: string): boolean {
  const ip = other.kind === 'pod' ? other.pod.ip : other.ip;
  // ipBlock matches pod IPs too, as the API reference reads and Calico enforces (see docs/network-policy.md).
  if (peer.ipBlock) return ipBlockMatches(peer.ipBlock.cidr, peer.ipBlock.except ?? [], ip);
  // Selectors choose pods only: a node or an outside address never matches them.
  if (other.kind !== 'pod') return false;
  const pod = other.pod;
  const namespaceOk = peer.namespaceSelector
    ? labelSelectorMatches(peer.namespaceSelector, namespaceLabelsOf(pod))
    : pod.namespace === policyNamespace;
  const podOk = peer.podSelector ? labelSelectorMatches(peer.podSelector, pod.labels) : true;
  return namespaceOk && podOk;
}

// The control plane labels every namespace with its name (1.21+); keep that true when a caller's
// labels come from somewhere that lacks it.
function namespaceLabelsOf(pod: PolicyPod): Record<string, string> {
  return { 'kubernetes.io/metadata.name': pod.namespace, ...pod.namespaceLabels };
}

/** undefined: no port entry matches; null: the rule lists no port, so every port does. */
function matchingPortIndex(ports: PortSpec[] | undefined, flow: Flow): number | null | undefined {
  if (ports === undefined || ports.length === 0) return null;
  const i = ports.findIndex((p) => portMatches(p, flow));
  return i === -1 ? undefined : i;
}

function portMatches(entry: PortSpec, flow: Flow): boolean {
  const protocol = entry.protocol ?? 'TCP';
  if (protocol !== flow.protocol) return false;
  if (entry.port === undefined) return true;
  if (typeof entry.port === 'number') {
    return entry.endPort === undefined ? flow.port === entry.port : flow.port >= entry.port && flow.port <= entry.endPort;
  }
  // A named port is the destination pod's containerPort of that name and protocol, for ingress
  // and egress rules alike; an address that is no pod has no named ports.
  if (flow.to.kind !== 'pod') return false;
  return flow.to.pod.containerPorts.some((cp) => cp.name === entry.port && (cp.protocol ?? 'TCP') === protocol && cp.containerPort === flow.port);
}

/** matchLabels AND every matchExpressions requirement; an empty selector matches everything. */
export function labelSelectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || !values.includes(labels[req.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[req.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // refused by validateNetworkPolicy before it gets here
    }
  }
  return true;
}

// ---- validation: what the API server would refuse, so a malformed object is never guessed at ----

/** The first reason the API server would refuse this policy, or null when it is valid. */
export function validateNetworkPolicy(policy: NetworkPolicy): string | null {
  if (!policy.metadata?.name || !policy.metadata.namespace) return 'metadata.name and metadata.namespace are required';
  const spec = policy.spec ?? {};
  const selectorProblem = validateLabelSelector(spec.podSelector ?? {});
  if (selectorProblem) return `spec.podSelector: ${selectorProblem}`;
  for (const t of spec.policyTypes ?? []) if (t !== 'Ingress' && t !== 'Egress') return `spec.policyTypes: unknown type ${JSON.stringify(t)}`;
  const rules: Array<{ path: string; peers: PeerSpec[] | undefined; ports: PortSpec[] | undefined }> = [
    ...(spec.ingress ?? []).map((r, i) => ({ path: `spec.ingress[${i}]`, peers: ingressPeers(r), ports: r.ports })),
    ...(spec.egress ?? []).map((r, i) => ({ path: `spec.egress[${i}]`, peers: r.to, ports: r.ports })),
  ];
  for (const rule of rules) {
    for (const [i, peer] of (rule.peers ?? []).entries()) {
      const problem = validatePeer(peer);
      if (problem) return `${rule.path} peer ${i}: ${problem}`;
    }
    for (const [i, port] of (rule.ports ?? []).entries()) {
      const problem = validatePort(port);
      if (problem) return `${rule.path} port ${i}: ${problem}`;
    }
  }
  return null;
}

function validatePeer(peer: PeerSpec): string | null {
  if (peer.ipBlock) {
    if (peer.podSelector || peer.namespaceSelector) return 'ipBlock cannot be combined with podSelector or namespaceSelector';
    return validateIpBlock(peer.ipBlock.cidr, peer.ipBlock.except ?? []);
  }
  if (!peer.podSelector && !peer.namespaceSelector) return 'a peer needs podSelector, namespaceSelector or ipBlock';
  for (const sel of [peer.podSelector, peer.namespaceSelector]) {
    const problem = sel ? validateLabelSelector(sel) : null;
    if (problem) return problem;
  }
  return null;
}

function validatePort(port: PortSpec): string | null {
  const protocol = port.protocol ?? 'TCP';
  if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') return `unknown protocol ${JSON.stringify(protocol)}`;
  if (port.endPort !== undefined) {
    if (typeof port.port !== 'number') return 'endPort needs a numeric port';
    if (!validPortNumber(port.endPort) || port.endPort < port.port) return `endPort ${port.endPort} must be a port number not below port ${port.port}`;
  }
  if (port.port === undefined) return null;
  if (typeof port.port === 'number') return validPortNumber(port.port) ? null : `port ${port.port} is not a port number`;
  return isIanaServiceName(port.port) ? null : `port ${JSON.stringify(port.port)} is neither a number nor a valid port name`;
}

const validPortNumber = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;

// IANA_SVC_NAME as Kubernetes validates a named port: 1-15 of [a-z0-9-], a letter, no -- or edge -.
function isIanaServiceName(s: string): boolean {
  return s.length >= 1 && s.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

function validateLabelSelector(selector: LabelSelector): string | null {
  for (const req of selector.matchExpressions ?? []) {
    const n = req.values?.length ?? 0;
    if (req.operator === 'In' || req.operator === 'NotIn') {
      if (n === 0) return `matchExpressions ${req.key} ${req.operator} needs values`;
    } else if (req.operator === 'Exists' || req.operator === 'DoesNotExist') {
      if (n > 0) return `matchExpressions ${req.key} ${req.operator} takes no values`;
    } else {
      return `unknown matchExpressions operator ${JSON.stringify(req.operator)}`;
    }
  }
  return null;
}

function validateIpBlock(cidr: string, except: readonly string[]): string | null {
  const block = parseCidr(cidr);
  if (block === null) return `ipBlock cidr ${JSON.stringify(cidr)} is not a CIDR`;
  for (const e of except) {
    const hole = parseCidr(e);
    if (hole === null) return `ipBlock except ${JSON.stringify(e)} is not a CIDR`;
    // The API requires each except to be a strict subset of cidr.
    if (hole.family !== block.family || hole.prefix <= block.prefix || !cidrContains(block, hole.network)) {
      return `ipBlock except ${e} is not inside ${cidr}`;
    }
  }
  return null;
}

// ---- addresses ----

function ipBlockMatches(cidr: string, except: readonly string[], ip: string): boolean {
  const block = parseCidr(cidr);
  const addr = parseIp(ip);
  if (block === null || addr === null || addr.family !== block.family || !cidrContains(block, addr.value)) return false;
  return !except.some((e) => {
    const hole = parseCidr(e);
    return hole !== null && hole.family === addr.family && cidrContains(hole, addr.value);
  });
}

// ---- sentences, shared by the conn-check renderer ----

function refOfPod(pod: PolicyPod): PolicyRef {
  return { namespace: pod.namespace, name: pod.name };
}

function refOfPolicy(policy: NetworkPolicy): PolicyRef {
  return { namespace: policy.metadata?.namespace ?? '', name: policy.metadata?.name ?? '' };
}

const sameRef = (a: PolicyRef, b: PolicyRef): boolean => a.namespace === b.namespace && a.name === b.name;
const refText = (r: PolicyRef): string => `${r.namespace}/${r.name}`;
const peerText = (p: PolicyPeer): string => (p.kind === 'pod' ? refText(refOfPod(p.pod)) : p.node ? `node ${p.node} (${p.ip})` : p.ip);

function listText(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function ruleText(m: PolicyRuleMatch): string {
  return `${refText(m.policy)} ${m.direction} rule ${m.ruleIndex}`;
}

/** One sentence for one side: "team-a/deny-all isolates api-1 for ingress, no rule allows ...". */
export function describePolicySide(answer: PolicyAnswer, direction: PolicyDirection): string {
  const side = direction === 'egress' ? answer.egress : answer.ingress;
  const subject = direction === 'egress' ? answer.from : answer.to;
  const other = direction === 'egress' ? answer.to : answer.from;
  const flowText = `${answer.protocol} ${answer.port}`;
  const isolation = () =>
    `${listText(side.isolatedBy.map(refText))} ${side.isolatedBy.length === 1 ? 'isolates' : 'isolate'} ${side.pod?.name ?? peerText(subject)} for ${direction}`;
  switch (side.reason) {
    case 'not-a-pod':
      return `${peerText(subject)} is no pod, so no ${direction} policy applies to it`;
    case 'self':
      return `a pod's traffic to itself is always allowed`;
    case 'own-node':
      return `traffic from ${side.pod?.name}'s own node is always allowed`;
    case 'not-isolated':
      return `no NetworkPolicy isolates ${peerText(subject)} for ${direction}`;
    case 'allowed-by-rule': {
      const more = side.allowedBy.length > 1 ? ` (and ${side.allowedBy.length - 1} more)` : '';
      return `allowed by ${ruleText(side.allowedBy[0]!)}${more}`;
    }
    case 'no-rule-allows':
      return `${isolation()}, no rule allows ${direction === 'ingress' ? peerText(other) : `it to reach ${peerText(other)}`} on ${flowText}`;
    case 'invalid-policy':
    case 'cni-dependent':
      return `${direction} of ${peerText(subject)} is undecided: ${side.undecidedBecause ?? 'unknown reason'}`;
  }
}

/** The verdict in one line: "denied: ..." / "allowed by ..." / "undecided: ...". */
export function describePolicyVerdict(answer: PolicyAnswer): string {
  const sides = [answer.egress, answer.ingress];
  const sentences = (verdict: PolicyVerdict) => [...new Set(sides.filter((s) => s.verdict === verdict).map((s) => describePolicySide(answer, s.direction)))];
  if (answer.verdict !== 'allowed') return `${answer.verdict}: ${sentences(answer.verdict).join('; ')}`;
  const byRule = sides.filter((s) => s.reason === 'allowed-by-rule').map((s) => describePolicySide(answer, s.direction));
  if (byRule.length > 0) return byRule.join('; ');
  return `allowed: ${sentences('allowed').join('; ')}`;
}
