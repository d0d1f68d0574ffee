// NetworkPolicy enforcement on the lab's Calico-style nodes, written the way Felix's iptables
// dataplane writes it (felix/rules/endpoints.go, policy.go, static.go in projectcalico/calico;
// real dumps in test/fixtures/calico/):
//   FORWARD -> cali-FORWARD -> cali-from-wl-dispatch (-i caliX -g cali-fw-caliX)
//                           -> cali-to-wl-dispatch   (-o caliX -g cali-tw-caliX)
//   cali-tw-/cali-fw-<iface>: conntrack accept/drop, clear the mark bits, then for the policies
//   that select the endpoint in that direction a jump to cali-pi-/cali-po-<hash> each, "Return if
//   policy accepted", and "Drop if no policies passed packet"; then the namespace profile
//   cali-pri-/cali-pro-kns.<ns> (allow all), "Return if profile accepted", "Drop if no profiles
//   matched". A policy chain sets the accept mark (0x10000) for what one of its rules allows.
// The selection logic (which policy selects which pod, which peers a rule names) is the lab's own,
// so the lab stays an oracle independent of the tool's evaluator.
// Simplification: Felix matches selected pods through ipsets (cali40s:...) and named ports
// through (ip,proto,port) ipsets; the lab has no ipset tool, so each selected pod IP becomes its
// own -s/-d rule (same verdicts, more rules).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { V1LabelSelector, V1NetworkPolicy, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import { matchesLabels, type LabelRequirement } from './api-server/selectors.js';
import { execIn } from './lab-exec.js';
import type { LabNode, LabPod, LabState } from './lab-state.js';
import { calicoVethName } from './lab-topology.js';

export const MARK_ACCEPT = 0x10000;
export const MARK_PASS = 0x20000;
export const MARK_SCRATCH = 0x40000;
const MAX_CHAIN_NAME = 28; // iptables' limit, which Felix shortens names to
const VXLAN_PORT = 4789;

export const DROP_NO_POLICY_COMMENT = 'Drop if no policies passed packet';
export const DROP_NO_PROFILE_COMMENT = 'Drop if no profiles matched';

/** What the compiler needs to know of the cluster besides the policies. */
export interface PolicyWorld {
  pods: readonly Pick<LabPod, 'namespace' | 'name' | 'ip' | 'labels' | 'ports' | 'hostNetwork' | 'nodeName'>[];
  namespaceLabels: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

type WorldPod = PolicyWorld['pods'][number];

// ---------------------------------------------------------------- names

/** hashutils.GetLengthLimitedID: prefix + suffix, or prefix + "_" + base64url(sha256(suffix)) cut to fit. */
export function lengthLimitedId(prefix: string, suffix: string, maxLength = MAX_CHAIN_NAME): string {
  const total = prefix.length + suffix.length;
  if (total > maxLength || (total === maxLength && suffix.startsWith('_'))) {
    const hash = createHash('sha256').update(suffix).digest('base64url');
    return prefix + '_' + hash.slice(0, maxLength - 1 - prefix.length);
  }
  return prefix + suffix;
}

/** Calico names a Kubernetes NetworkPolicy "knp.default.<name>" in its namespace. */
export function calicoPolicyName(policy: Pick<V1NetworkPolicy, 'metadata'>): string {
  return `${policy.metadata?.namespace ?? 'default'}/knp.default.${policy.metadata?.name ?? ''}`;
}

export function policyChainName(direction: 'ingress' | 'egress', policy: Pick<V1NetworkPolicy, 'metadata'>): string {
  return lengthLimitedId(direction === 'ingress' ? 'cali-pi-' : 'cali-po-', calicoPolicyName(policy));
}

/** A profile's chain: "kns.<namespace>" or "ksa.<namespace>.<serviceaccount>". */
export function profileChainName(direction: 'ingress' | 'egress', profile: string): string {
  return lengthLimitedId(direction === 'ingress' ? 'cali-pri-' : 'cali-pro-', profile);
}

/** The profiles Calico's Kubernetes datastore gives a pod (the lab's pods run as "default"). */
export function workloadProfiles(workload: Pick<LabPod, 'namespace'>): [string, string] {
  return [`kns.${workload.namespace}`, `ksa.${workload.namespace}.default`];
}

export function endpointChainName(direction: 'to' | 'from', iface: string): string {
  return lengthLimitedId(direction === 'to' ? 'cali-tw-' : 'cali-fw-', iface);
}

const hex = (n: number): string => `0x${n.toString(16)}`;
const setMark = (bits: number): string => `-j MARK --set-xmark ${hex(bits)}/${hex(bits)}`;
const clearMark = (bits: number): string => `-j MARK --set-xmark 0x0/${hex(bits)}`;
const markSet = (bits: number): string => `-m mark --mark ${hex(bits)}/${hex(bits)}`;
const markClear = (bits: number): string => `-m mark --mark 0x0/${hex(bits)}`;

// ---------------------------------------------------------------- selection (Kubernetes semantics)

export function selectorRequirements(selector: V1LabelSelector | undefined | null): LabelRequirement[] {
  if (!selector) return [];
  const reqs: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({ key, op: 'in', values: [value] }));
  for (const e of selector.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        reqs.push({ key: e.key, op: 'in', values: e.values ?? [] });
        break;
      case 'NotIn':
        reqs.push({ key: e.key, op: 'notin', values: e.values ?? [] });
        break;
      case 'Exists':
        reqs.push({ key: e.key, op: 'exists' });
        break;
      case 'DoesNotExist':
        reqs.push({ key: e.key, op: '!exists' });
        break;
      default:
        throw new Error(`unknown label selector operator "${e.operator}"`);
    }
  }
  return reqs;
}

export function selectorMatches(selector: V1LabelSelector | undefined | null, labels: Readonly<Record<string, string>>): boolean {
  return matchesLabels(selectorRequirements(selector), { ...labels });
}

/** policyTypes as the API server defaults them: Ingress, plus Egress when the policy has egress rules. */
export function effectivePolicyTypes(policy: V1NetworkPolicy): ('Ingress' | 'Egress')[] {
  const given = policy.spec?.policyTypes;
  if (given && given.length > 0) return given.filter((t): t is 'Ingress' | 'Egress' => t === 'Ingress' || t === 'Egress');
  return (policy.spec?.egress?.length ?? 0) > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

function namespaceLabelsOf(world: PolicyWorld, namespace: string): Record<string, string> {
  return { ...(world.namespaceLabels[namespace] ?? {}), 'kubernetes.io/metadata.name': namespace };
}

/** Pods a policy applies to (its namespace, its podSelector); host-network pods are no Calico workloads. */
export function podsSelectedBy(policy: V1NetworkPolicy, world: PolicyWorld): WorldPod[] {
  const ns = policy.metadata?.namespace ?? 'default';
  return world.pods.filter((p) => !p.hostNetwork && p.namespace === ns && selectorMatches(policy.spec?.podSelector, p.labels));
}

/** Pods a podSelector/namespaceSelector peer names (null for an ipBlock peer). */
export function peerPods(peer: V1NetworkPolicyPeer, policyNamespace: string, world: PolicyWorld): WorldPod[] | null {
  if (peer.ipBlock) return null;
  const inNamespace = (p: WorldPod): boolean =>
    peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, namespaceLabelsOf(world, p.namespace)) : p.namespace === policyNamespace;
  return world.pods.filter((p) => !p.hostNetwork && inNamespace(p) && selectorMatches(peer.podSelector, p.labels));
}

// ---------------------------------------------------------------- rule rendering

interface PortMatch {
  text: string; // "-p tcp -m multiport --dports 9090" or "" for any
  ip: string | null; // a named port resolved to one pod's address
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const [base = '', bitsText = '32'] = cidr.split('/');
  const bits = Number(bitsText);
  const size = 2 ** (32 - bits);
  return Math.floor(ipToInt(ip) / size) === Math.floor(ipToInt(base) / size);
}

/** One Kubernetes port entry as matches; a named port becomes one match per pod that has it. */
function portMatches(port: V1NetworkPolicyPort, candidates: readonly WorldPod[]): PortMatch[] {
  const protocol = port.protocol ?? 'TCP';
  const p = protocol.toLowerCase();
  if (port.port === undefined) return [{ text: `-p ${p}`, ip: null }];
  if (typeof port.port === 'number' || /^\d+$/.test(String(port.port))) {
    const first = Number(port.port);
    const range = port.endPort !== undefined ? `${first}:${port.endPort}` : String(first);
    return [{ text: `-p ${p} -m multiport --dports ${range}`, ip: null }];
  }
  const name = String(port.port);
  const out: PortMatch[] = [];
  for (const pod of candidates) {
    for (const cp of pod.ports) {
      if (cp.name === name && (cp.protocol ?? 'TCP') === protocol) out.push({ text: `-p ${p} -m multiport --dports ${cp.containerPort}`, ip: pod.ip });
    }
  }
  return out;
}

/** A rule's peers whether the object came as JSON ("from") or as a client-node model ("_from"). */
function rulePeers(rule: object, direction: 'ingress' | 'egress'): V1NetworkPolicyPeer[] {
  const r = rule as { from?: V1NetworkPolicyPeer[]; _from?: V1NetworkPolicyPeer[]; to?: V1NetworkPolicyPeer[] };
  return (direction === 'ingress' ? (r.from ?? r._from) : r.to) ?? [];
}

/**
 * An allowing Calico rule: set the accept mark, then return. With except CIDRs, a block first
 * clears a scratch bit for each excepted range, and the rule requires the bit (as Felix's match
 * blocks do for negated CIDRs).
 */
function pushAllow(lines: string[], match: string, peerFlag: string, excepts: readonly string[]): void {
  if (excepts.length > 0) {
    lines.push(setMark(MARK_SCRATCH));
    for (const cidr of excepts) lines.push(`${peerFlag} ${cidr} ${clearMark(MARK_SCRATCH)}`);
    lines.push(`${match} ${markSet(MARK_SCRATCH)} ${setMark(MARK_ACCEPT)}`.trim());
  } else {
    lines.push(`${match} ${setMark(MARK_ACCEPT)}`.trim());
  }
  lines.push(`${markSet(MARK_ACCEPT)} -j RETURN`);
}

const joinMatch = (...parts: string[]): string => parts.filter((s) => s !== '').join(' ');

/**
 * The rules of one policy's chain in one direction. Ingress: peers are sources (-s) and a named
 * port resolves on the selected pods (-d pod). Egress: peers are destinations (-d) and a named
 * port resolves on the destination pods the peer names (which pins -d to that pod).
 */
export function policyChainRules(policy: V1NetworkPolicy, direction: 'ingress' | 'egress', world: PolicyWorld): string[] {
  const lines: string[] = [];
  const ns = policy.metadata?.namespace ?? 'default';
  const peerFlag = direction === 'ingress' ? '-s' : '-d';
  const selected = podsSelectedBy(policy, world);
  const workloads = world.pods.filter((p) => !p.hostNetwork);
  const rules = (direction === 'ingress' ? policy.spec?.ingress : policy.spec?.egress) ?? [];
  for (const rule of rules) {
    const peers = rulePeers(rule, direction);
    const ports = rule.ports && rule.ports.length > 0 ? rule.ports : [null];
    for (const peer of peers.length > 0 ? peers : [null]) {
      const named = peer ? peerPods(peer, ns, world) : null;
      const block = peer?.ipBlock ?? null;
      for (const port of ports) {
        const candidates = direction === 'ingress' ? selected : (named ?? workloads.filter((p) => !block || ipInCidr(p.ip, block.cidr)));
        for (const m of port ? portMatches(port, candidates) : [{ text: '', ip: null }]) {
          if (direction === 'egress' && m.ip !== null) {
            if ((block?.except ?? []).some((c) => ipInCidr(m.ip ?? '', c))) continue;
            pushAllow(lines, joinMatch(`-d ${m.ip}/32`, m.text), peerFlag, []);
            continue;
          }
          const local = m.ip !== null ? `-d ${m.ip}/32` : '';
          if (!peer) pushAllow(lines, joinMatch(local, m.text), peerFlag, []);
          else if (block) pushAllow(lines, joinMatch(`${peerFlag} ${block.cidr}`, local, m.text), peerFlag, block.except ?? []);
          else for (const pod of named ?? []) pushAllow(lines, joinMatch(`${peerFlag} ${pod.ip}/32`, local, m.text), peerFlag, []);
        }
      }
    }
  }
  return lines;
}

// ---------------------------------------------------------------- node chains

export interface CalicoChains {
  chains: Map<string, string[]>; // chain -> rule bodies in order (each already carries its cali:<hash> comment)
}

/** Felix's rule hash comment: a chain-scoped running hash over the rule texts. */
function withHashes(chain: string, bodies: readonly string[]): string[] {
  let previous = chain;
  return bodies.map((body) => {
    const hash = createHash('sha224').update(`${previous}\n${body}`).digest('base64url').slice(0, 16);
    previous = hash;
    return injectComment(body, `cali:${hash}`);
  });
}

// iptables-save prints -i/-o/-s/-d/-p first, then the matches in order: the hash comment leads them.
function injectComment(body: string, comment: string): string {
  const tokens = body.split(' ');
  let i = 0;
  while (i < tokens.length && ['-i', '-o', '-s', '-d', '-p'].includes(tokens[i] ?? '')) i += 2;
  return [...tokens.slice(0, i), '-m', 'comment', '--comment', `"${comment}"`, ...tokens.slice(i)].join(' ');
}

const comment = (text: string): string => `-m comment --comment "${text}"`;

export interface LocalWorkload {
  namespace: string;
  name: string;
  iface: string;
}

export function localWorkloads(node: Pick<LabNode, 'name'>, world: PolicyWorld): LocalWorkload[] {
  return world.pods
    .filter((p) => p.nodeName === node.name && !p.hostNetwork)
    .map((p) => ({ namespace: p.namespace, name: p.name, iface: calicoVethName(p.namespace, p.name) }))
    .sort((a, b) => a.iface.localeCompare(b.iface));
}

function sortedPolicies(policies: readonly V1NetworkPolicy[]): V1NetworkPolicy[] {
  // Felix orders policies of equal order (all Kubernetes ones: 1000) by name.
  return [...policies].sort((a, b) => calicoPolicyName(a).localeCompare(calicoPolicyName(b)));
}

function endpointChain(direction: 'ingress' | 'egress', workload: LocalWorkload, policies: readonly V1NetworkPolicy[]): string[] {
  const rules = [
    '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-m conntrack --ctstate INVALID -j DROP',
    clearMark(MARK_ACCEPT),
  ];
  if (direction === 'egress') {
    rules.push(`-p udp ${comment('Drop VXLAN encapped packets originating in workloads')} -m multiport --dports ${VXLAN_PORT} -j DROP`);
    rules.push(`-p 4 ${comment('Drop IPinIP encapped packets originating in workloads')} -j DROP`);
  }
  if (policies.length > 0) {
    rules.push(`${comment('Start of policies')} ${clearMark(MARK_PASS)}`);
    for (const policy of policies) {
      rules.push(`${markClear(MARK_PASS)} -j ${policyChainName(direction, policy)}`);
      rules.push(`${comment('Return if policy accepted')} ${markSet(MARK_ACCEPT)} -j RETURN`);
    }
    rules.push(`${comment(DROP_NO_POLICY_COMMENT)} ${markClear(MARK_PASS)} -j DROP`);
  }
  // The namespace's profile (allow all), then the service account's (no rules), as Calico's
  // Kubernetes datastore gives every pod.
  for (const profile of workloadProfiles(workload)) {
    rules.push(`-j ${profileChainName(direction, profile)}`);
    rules.push(`${comment('Return if profile accepted')} ${markSet(MARK_ACCEPT)} -j RETURN`);
  }
  rules.push(`${comment(DROP_NO_PROFILE_COMMENT)} -j DROP`);
  return rules;
}

/**
 * Every cali-* filter chain of one Calico node for these policies: cali-FORWARD, the dispatch
 * chains, one tw/fw pair per local workload, the profiles of their namespaces and the chains of
 * the policies that select a local workload. With no policies this is the layout a fresh Calico
 * node has.
 */
export function buildCalicoFilterChains(node: Pick<LabNode, 'name'>, world: PolicyWorld, policies: readonly V1NetworkPolicy[]): CalicoChains {
  const chains = new Map<string, string[]>();
  const workloads = localWorkloads(node, world);
  chains.set('cali-FORWARD', [
    clearMark(MARK_PASS | MARK_SCRATCH | 0x80000),
    '-i cali+ -j cali-from-wl-dispatch',
    '-o cali+ -j cali-to-wl-dispatch',
  ]);
  chains.set('cali-from-wl-dispatch', [...workloads.map((w) => `-i ${w.iface} -g ${endpointChainName('from', w.iface)}`), `${comment('Unknown interface')} -j DROP`]);
  chains.set('cali-to-wl-dispatch', [...workloads.map((w) => `-o ${w.iface} -g ${endpointChainName('to', w.iface)}`), `${comment('Unknown interface')} -j DROP`]);
  const ordered = sortedPolicies(policies);
  for (const w of workloads) {
    const pod = world.pods.find((p) => p.namespace === w.namespace && p.name === w.name);
    const applies = (direction: 'Ingress' | 'Egress') => ordered.filter((p) => effectivePolicyTypes(p).includes(direction) && pod !== undefined && podsSelectedBy(p, world).includes(pod));
    const ingress = applies('Ingress');
    const egress = applies('Egress');
    chains.set(endpointChainName('to', w.iface), endpointChain('ingress', w, ingress));
    chains.set(endpointChainName('from', w.iface), endpointChain('egress', w, egress));
    for (const p of ingress) chains.set(policyChainName('ingress', p), policyRulesWithComment(p, 'ingress', world));
    for (const p of egress) chains.set(policyChainName('egress', p), policyRulesWithComment(p, 'egress', world));
    const [namespaceProfile, accountProfile] = workloadProfiles(w);
    for (const direction of ['ingress', 'egress'] as const) {
      chains.set(profileChainName(direction, namespaceProfile), [
        `${comment(`Profile ${namespaceProfile} ${direction}`)} ${setMark(MARK_ACCEPT)}`,
        `${markSet(MARK_ACCEPT)} -j RETURN`,
      ]);
      chains.set(profileChainName(direction, accountProfile), [comment(`Profile ${accountProfile} ${direction}`)]);
    }
  }
  return { chains: new Map([...chains].map(([name, bodies]) => [name, withHashes(name, bodies)])) };
}

function policyRulesWithComment(policy: V1NetworkPolicy, direction: 'ingress' | 'egress', world: PolicyWorld): string[] {
  const rules = policyChainRules(policy, direction, world);
  const label = comment(`Policy ${calicoPolicyName(policy)} ${direction}`);
  if (rules.length === 0) return [label]; // Felix keeps the chain's comment on an empty rule
  return [`${label} ${rules[0]}`, ...rules.slice(1)];
}

/** The filter jumps Calico keeps in FORWARD (after kube-proxy's, as the lab installs them). */
export const CALICO_FORWARD_RULES: readonly string[] = [
  '-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD',
  '-A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m comment --comment "Policy explicitly accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT',
  '-A FORWARD -m comment --comment "cali:mp77cMpurHhyjLrM" -j MARK --set-xmark 0x10000/0x10000',
];

/** "-A CHAIN body" lines, chains in a stable order. */
export function renderChainRules(chains: CalicoChains): string[] {
  return [...chains.chains].flatMap(([name, bodies]) => bodies.map((b) => `-A ${name} ${b}`.trimEnd()));
}

/** An `iptables-restore --noflush` input that replaces exactly these cali-* chains, atomically. */
export function renderNoflushRestore(chains: CalicoChains): string {
  const names = [...chains.chains.keys()];
  return ['*filter', ...names.map((n) => `:${n} - [0:0]`), ...renderChainRules(chains), 'COMMIT', ''].join('\n');
}

// ---------------------------------------------------------------- programming the kernel

/** Under the lab directory: the policies last programmed, for whole-table restores (installNodeRules). */
export const CALICO_POLICY_FILE = 'calico-policy.json';

export interface SavedPolicyState {
  policies: V1NetworkPolicy[];
  namespaceLabels: Record<string, Record<string, string>>;
}

export function worldOf(state: Pick<LabState, 'pods'>, namespaceLabels: PolicyWorld['namespaceLabels']): PolicyWorld {
  return { pods: state.pods.filter((p) => p.ip !== ''), namespaceLabels };
}

const MANAGED_CHAIN = /^:(cali-(?:pi|po|pri|pro|tw|fw)-\S+) /;

/** Programs one Calico node: the new chains in one transaction, then the chains no longer used. */
export async function programCalicoNode(node: LabNode, world: PolicyWorld, policies: readonly V1NetworkPolicy[]): Promise<void> {
  const chains = buildCalicoFilterChains(node, world, policies);
  await execIn(node.netns, 'iptables-restore', ['-w', '--noflush'], { input: renderNoflushRestore(chains) });
  const saved = await execIn(node.netns, 'iptables-save', ['-t', 'filter']);
  const stale = saved.stdout.split('\n').map((l) => MANAGED_CHAIN.exec(l)?.[1]).filter((c): c is string => c !== undefined && !chains.chains.has(c));
  if (stale.length === 0) return;
  // nft cannot delete a chain still referenced in the same transaction: flush and delete after.
  const input = ['*filter', ...stale.map((c) => `:${c} - [0:0]`), ...stale.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
  await execIn(node.netns, 'iptables-restore', ['-w', '--noflush'], { input });
}

/** The real Calico nodes of a (possibly scaled) state: one per network namespace. */
export function calicoNodes(state: Pick<LabState, 'nodes'>): LabNode[] {
  const seen = new Set<string>();
  return state.nodes.filter((n) => {
    if (n.cni !== 'calico' || seen.has(n.netns)) return false;
    seen.add(n.netns);
    return true;
  });
}

/** Programs every Calico node for these policies and remembers them for later whole-table restores. */
export async function programCalicoPolicy(state: Pick<LabState, 'nodes' | 'pods'>, saved: SavedPolicyState, savedFile: string | null): Promise<void> {
  const world = worldOf(state, saved.namespaceLabels);
  await Promise.all(calicoNodes(state).filter((n) => existsSync(`/run/netns/${n.netns}`)).map((n) => programCalicoNode(n, world, saved.policies)));
  if (savedFile) {
    mkdirSync(dirname(savedFile), { recursive: true });
    writeFileSync(savedFile, JSON.stringify(saved) + '\n');
  }
}

export function readSavedPolicyState(savedFile: string): SavedPolicyState | null {
  if (!existsSync(savedFile)) return null;
  return JSON.parse(readFileSync(savedFile, 'utf8')) as SavedPolicyState;
}
