// dns-check: where name resolution breaks for a pod. The pod's resolver setup, the DNS Service and
// its endpoints, CoreDNS (pods, logs, Corefile, its own container's resolv.conf) and a query
// matrix (each name as the pod's resolver expands it x each server, over UDP and TCP) that tells
// "the Service IP does not reach CoreDNS" from "CoreDNS is down" from "upstream fails" from "the
// name needs its full form".
//
// The query plan is a pure function of the API facts and what the node answered so far
// (planDnsQueries), so the probe's follow-up rounds and the analysis of a saved snapshot walk the
// very same chains.
import type { Finding } from '../finding.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import { parseNodeScriptOutput, type RawSection } from '../../probe/sections.js';
import { nodeFailedFinding } from '../common/node-facts.js';
import { actionSectionName, type NodeRequest } from '../../node-script/node-script.js';
import { parseDig, type DigResult } from '../../parse/dig.js';
import { parseResolvConf, planQueries, type ResolvConf } from '../../parse/resolv-conf.js';

// No outside name is asked by default: any fixed name would only answer on some networks (a
// name that fails is a false warning). --external-name or --name asks one.
export const API_SERVER_NAME = 'kubernetes.default';
export const NODELOCAL_DNS_IP = '169.254.20.10';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
// Bounds: every chain costs at most one dig timeout (2 s) per round.
export const MAX_NAMES = 6;
export const MAX_COREDNS_SERVERS = 3;
export const MAX_CANDIDATES = 7;
const MAX_LOG_LINES = 6;

// ---------------------------------------------------------------- what the plan resolved (snapshots keep it)

export type NameZone = 'cluster' | 'external';

export interface DnsName {
  name: string;
  origin: 'default' | 'flag' | 'full-form';
  zone: NameZone; // cluster names are answered by CoreDNS itself and never forwarded upstream
  fullFormOf: string | null; // "api.team-a" is the full form of the short name "api"
  otherNamespaces: string[]; // namespaces (not the pod's) holding a Service of this short name
}

export interface DnsPodInfo {
  key: string; // "p0": the node script's name for this pod
  namespace: string;
  name: string;
  nodeName: string;
  podIP: string;
  containerId: string | null;
  hostNetwork: boolean;
  dnsPolicy: string;
  dnsConfig: { nameservers: string[]; searches: string[]; options: string[] } | null;
}

export interface CorednsPodInfo {
  key: string; // "c0", ...
  namespace: string;
  name: string;
  nodeName: string;
  podIP: string | null;
  containerId: string | null;
  phase: string;
  ready: boolean;
  restarts: number;
  state: string; // Running, CrashLoopBackOff, ...
  lastTermination: string | null; // "Error (exit 1)"
  dnsPolicy: string;
  hostNetwork?: boolean; // absent in snapshots taken before it was recorded: read as false
  logTail: string[];
  logError: string | null;
}

export interface DnsEndpoint {
  address: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName: string | null;
  podName: string | null;
}

export interface DnsServiceInfo {
  namespace: string;
  name: string;
  clusterIP: string | null;
  ports: string[]; // "dns 53/UDP"
}

export interface DnsCheckApi {
  pod: DnsPodInfo;
  service: DnsServiceInfo | null;
  serviceError: string | null;
  endpoints: DnsEndpoint[];
  corednsPods: CorednsPodInfo[];
  corefile: string | null;
  corefileError: string | null;
  nodeLocalDnsPods: Array<{ name: string; nodeName: string; ready: boolean }>;
  kubeProxyOnPodNode: { name: string; phase: string; ready: boolean } | null;
  names: DnsName[];
}

// ---------------------------------------------------------------- servers and query chains

export type ServerKind = 'service' | 'coredns-pod' | 'nodelocal' | 'upstream';

export interface DnsServer {
  id: string; // "service", "pod/<name>", "nodelocal", "upstream/<ip>"
  kind: ServerKind;
  address: string;
  label: string; // column header
  nodeName: string; // the node whose probe sends the queries
  where: string; // the node script's place: a pod key or "host"
}

export type Protocol = 'udp' | 'tcp';
export const PROTOCOLS: readonly Protocol[] = ['udp', 'tcp'];

/** One name asked of one server over one protocol, candidate by candidate as the resolver would. */
export interface QueryChain {
  name: DnsName;
  server: DnsServer;
  protocol: Protocol;
  candidates: string[]; // fully qualified, trailing dot
}

export type StepStatus = 'answer' | 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'other-rcode' | 'timeout' | 'port-unreachable' | 'unreachable' | 'error';

export interface QueryStep {
  query: string;
  status: StepStatus;
  rcode: string | null;
  answers: string[]; // "A 10.96.0.1"
  timeMs: number | null;
  evidence: string; // the dig line that says it
}

export type CellStatus = 'ok' | 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'other-rcode' | 'timeout' | 'port-unreachable' | 'unreachable' | 'error' | 'not-run';

export interface MatrixCell {
  serverId: string;
  status: CellStatus;
  rcode: string | null;
  answeredBy: string | null; // the candidate that answered
  answers: string[];
  queries: number; // queries this server saw for the name (per record type)
  latencyMs: number | null; // of the query that decided the cell
  steps: QueryStep[];
}

// A step that ends the resolver's walk down the search list. glibc goes on after NXDOMAIN, NODATA
// and SERVFAIL (res_search), and stops at a timeout, a refused connection or a REFUSED answer.
const CONTINUES: ReadonlySet<StepStatus> = new Set(['nxdomain', 'nodata', 'servfail']);
const TRANSPORT_FAILURES: ReadonlySet<CellStatus> = new Set(['timeout', 'port-unreachable', 'unreachable', 'error']);

export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1';
}

/** The cluster domain from a ClusterFirst search list ("<ns>.svc.<domain>"), else cluster.local. */
export function clusterDomainOf(conf: Pick<ResolvConf, 'search'> | null, namespace: string): string {
  const prefix = `${namespace}.svc.`;
  const entry = conf?.search.find((s) => s.startsWith(prefix));
  return entry ? entry.slice(prefix.length).replace(/\.$/, '') : DEFAULT_CLUSTER_DOMAIN;
}

/** cluster: a short name, name.namespace, *.svc, or inside the cluster domain. */
export function classifyName(name: string, namespaces: ReadonlySet<string>, clusterDomain = DEFAULT_CLUSTER_DOMAIN): NameZone {
  const bare = name.replace(/\.$/, '');
  const labels = bare.split('.');
  if (bare === clusterDomain || bare.endsWith(`.${clusterDomain}`) || bare.endsWith('.svc') || labels.includes('svc')) return 'cluster';
  if (labels.length === 1) return 'cluster';
  if (labels.length === 2 && namespaces.has(labels[1]!)) return 'cluster';
  return 'external';
}

// ---------------------------------------------------------------- Corefile, conntrack (small readers)

export interface CorefileForward {
  from: string;
  to: string[];
  raw: string;
}

export interface CorefileFacts {
  forwards: CorefileForward[];
  plugins: string[]; // plugin names at block depth 1
  loopPlugin: boolean;
  forwardsToResolvConf: boolean;
  forwardAddresses: string[]; // literal upstream IPs in forward lines (dns:// and :port stripped)
}

/** Enough of the Corefile to know where CoreDNS forwards and whether the loop plugin is on. */
export function readCorefile(text: string): CorefileFacts {
  const forwards: CorefileForward[] = [];
  const plugins: string[] = [];
  let depth = 0;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*$/, '').trim();
    if (line === '') continue;
    if (depth === 1) {
      const words = line.replace(/[{}]/g, ' ').trim().split(/\s+/);
      if (words[0]) plugins.push(words[0]);
      if (words[0] === 'forward' || words[0] === 'proxy') forwards.push({ from: words[1] ?? '.', to: words.slice(2), raw: rawLine.trim() });
    }
    depth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
  }
  const targets = forwards.flatMap((f) => f.to);
  const forwardAddresses = targets
    .filter((t) => !t.startsWith('/') && !t.startsWith('tls://'))
    .map((t) => t.replace(/^dns:\/\//, '').replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/^([0-9.]+):\d+$/, '$1'))
    .filter((t) => /^[0-9.]+$/.test(t) || t.includes(':'));
  return {
    forwards,
    plugins,
    loopPlugin: plugins.includes('loop'),
    forwardsToResolvConf: targets.some((t) => t.startsWith('/')),
    forwardAddresses,
  };
}

/** Sum of insert_failed over the per-CPU lines of `conntrack -S`. */
export function conntrackInsertFailed(text: string): { total: number; lines: string[] } | null {
  const lines = text.split('\n').filter((l) => /insert_failed=\d+/.test(l));
  if (lines.length === 0) return null;
  const total = lines.reduce((sum, l) => sum + Number(/insert_failed=(\d+)/.exec(l)![1]), 0);
  return { total, lines: lines.filter((l) => !/insert_failed=0\b/.test(l)).map((l) => l.trim()) };
}

// The loop plugin's fatal line: "Loop (127.0.0.1:44222 -> :53) detected for zone ..." (CoreDNS >=
// 1.3), "Seen \"HINFO IN ...\" more than twice, loop detected" and "Forwarding loop detected" (1.2.x).
const LOOP_LOG = /Loop \(.*\) detected|loop detected|Forwarding loop detected/i;
const LOG_THAT_MATTERS = /Loop \(.*\) detected|loop detected|\[(ERROR|FATAL|WARNING)\]|plugin\/errors|i\/o timeout|no such host|connection refused|SERVFAIL/;

export function logLinesThatMatter(lines: readonly string[]): string[] {
  return lines.filter((l) => LOG_THAT_MATTERS.test(l)).slice(-MAX_LOG_LINES);
}

// ---------------------------------------------------------------- reading one node's sections

type Sections = ReadonlyMap<string, RawSection>;

function pidFound(sections: Sections, key: string): boolean {
  const s = sections.get(`pod/${key}/pid`);
  return s !== undefined && s.exitCode === 0 && /^pid=\d+$/m.test(s.stdout);
}

function resolvConfFrom(section: RawSection | undefined): ResolvConf | null {
  if (!section || section.exitCode !== 0) return null;
  const r = parseResolvConf(section.stdout);
  return r.ok ? r.value : null;
}

/** The resolver config the pod's queries follow: its real file, else what its dnsPolicy implies. */
export function podResolvConf(api: DnsCheckApi, sections: Sections): { conf: ResolvConf; source: 'pod' | 'assumed' } {
  const conf = resolvConfFrom(sections.get(`pod/${api.pod.key}/resolv.conf`));
  if (conf) return { conf, source: 'pod' };
  const ns = api.pod.namespace;
  const d = DEFAULT_CLUSTER_DOMAIN;
  const assumed = parseResolvConf(`search ${ns}.svc.${d} svc.${d} ${d}\nnameserver ${api.service?.clusterIP ?? '0.0.0.0'}\noptions ndots:5\n`);
  return { conf: (assumed as { ok: true; value: ResolvConf }).value, source: 'assumed' };
}

/** The section holding CoreDNS's own /etc/resolv.conf (the checked pod's, when it is that CoreDNS pod). */
function corednsResolvSection(api: DnsCheckApi, c: CorednsPodInfo, sections: Sections): RawSection | undefined {
  const same = c.nodeName === api.pod.nodeName && c.podIP !== null && c.podIP === api.pod.podIP;
  return sections.get(`pod/${same ? api.pod.key : c.key}/resolv.conf`);
}

/**
 * What `forward . /etc/resolv.conf` means for this CoreDNS pod: its container's own file (kubelet
 * writes it from its resolvConf for dnsPolicy Default: /etc/resolv.conf, or
 * /run/systemd/resolve/resolv.conf where kubeadm, RKE, k3s or microk8s found systemd-resolved).
 * "coredns": read from the container; "node": the container's file could not be read, so the
 * node's files stand in (only to choose whom to query: never evidence of a loop); "none": no file.
 */
export type UpstreamSource = 'corefile' | 'coredns' | 'node' | 'none';

export interface CorednsUpstreams {
  addresses: string[]; // not loopback: queried from CoreDNS's namespace
  loopback: string[]; // loopback targets CoreDNS itself forwards to (only from the Corefile or its own file)
  source: UpstreamSource;
  resolvConf: ResolvConf | null; // CoreDNS's own /etc/resolv.conf, when read
  unreadable: string | null; // why CoreDNS's file could not be read, when the Corefile needs it
}

export function upstreamsFor(api: DnsCheckApi, c: CorednsPodInfo, sections: Sections): CorednsUpstreams {
  const corefile = api.corefile === null ? null : readCorefile(api.corefile);
  const literal = [...(corefile?.forwardAddresses ?? [])];
  const own = resolvConfFrom(corednsResolvSection(api, c, sections));
  let fromFile: string[] = [];
  let source: UpstreamSource = literal.length > 0 ? 'corefile' : 'none';
  let unreadable: string | null = null;
  let loopback = literal.filter(isLoopback);
  if (corefile === null || corefile.forwardsToResolvConf) {
    if (own) {
      fromFile = own.nameservers;
      loopback = [...loopback, ...own.nameservers.filter(isLoopback)];
      source = 'coredns';
    } else {
      unreadable = whyUnreadable(api, c, sections);
      // The node's files only say whom to ask; the stub 127.0.0.53 is skipped for the uplink list.
      const nodeConf = resolvConfFrom(sections.get('host/resolv.conf'));
      const uplink = resolvConfFrom(sections.get('host/resolved-resolv.conf'));
      fromFile = (nodeConf?.nameservers ?? []).filter((a) => !isLoopback(a));
      if (fromFile.length === 0) fromFile = (uplink?.nameservers ?? []).filter((a) => !isLoopback(a));
      if (fromFile.length > 0) source = 'node';
    }
  }
  const unique = [...new Set([...literal, ...fromFile])];
  return { addresses: unique.filter((a) => !isLoopback(a)), loopback: [...new Set(loopback)], source, resolvConf: own, unreadable };
}

function whyUnreadable(api: DnsCheckApi, c: CorednsPodInfo, sections: Sections): string {
  const same = c.nodeName === api.pod.nodeName && c.podIP !== null && c.podIP === api.pod.podIP;
  const key = same ? api.pod.key : c.key;
  const section = sections.get(`pod/${key}/resolv.conf`);
  if (section) return section.stderr.trim().split('\n')[0] || `cat exited ${section.exitCode}`;
  if (sections.has(`pod/${key}/pid`) && !pidFound(sections, key)) return 'no process of its container was found';
  return 'not read by this probe';
}

/** Every server the node `nodeName` queries, in column order. */
export function serversFor(api: DnsCheckApi, nodeName: string, sections: Sections): DnsServer[] {
  const servers: DnsServer[] = [];
  if (nodeName === api.pod.nodeName) {
    const where = pidFound(sections, api.pod.key) ? api.pod.key : 'host';
    if (api.service?.clusterIP) {
      servers.push({ id: 'service', kind: 'service', address: api.service.clusterIP, label: `svc ${api.service.clusterIP}`, nodeName, where });
    }
    const { conf } = podResolvConf(api, sections);
    // NodeLocal DNSCache is link-local on the pod's own node: safe to ask. Other foreign
    // nameservers in the pod's file are reported, never contacted (they may be outside the cluster).
    if (conf.nameservers.includes(NODELOCAL_DNS_IP)) {
      servers.push({ id: 'nodelocal', kind: 'nodelocal', address: NODELOCAL_DNS_IP, label: `nodelocal ${NODELOCAL_DNS_IP}`, nodeName, where });
    }
    for (const c of api.corednsPods.filter((p) => p.podIP).slice(0, MAX_COREDNS_SERVERS)) {
      servers.push({ id: `pod/${c.name}`, kind: 'coredns-pod', address: c.podIP!, label: `${c.name} ${c.podIP}`, nodeName, where });
    }
  }
  // Upstreams are asked from the network namespace CoreDNS forwards from (one CoreDNS pod per node).
  const local = api.corednsPods.find((c) => c.nodeName === nodeName);
  if (local) {
    const where = pidFound(sections, local.key) ? local.key : 'host';
    for (const address of upstreamsFor(api, local, sections).addresses) {
      servers.push({ id: `upstream/${address}`, kind: 'upstream', address, label: `upstream ${address}`, nodeName, where });
    }
  }
  return servers;
}

/** The chains a node runs: pod-side names through the search list, upstream only the bare name of external names. */
export function chainsFor(api: DnsCheckApi, nodeName: string, sections: Sections): QueryChain[] {
  const { conf } = podResolvConf(api, sections);
  const chains: QueryChain[] = [];
  for (const server of serversFor(api, nodeName, sections)) {
    for (const name of api.names) {
      let candidates: string[];
      if (server.kind === 'upstream') {
        if (name.zone === 'cluster') continue;
        candidates = [`${name.name.replace(/\.$/, '')}.`];
      } else {
        candidates = planQueries(name.name, conf).candidates.slice(0, MAX_CANDIDATES);
      }
      for (const protocol of PROTOCOLS) chains.push({ name, server, protocol, candidates });
    }
  }
  return chains;
}

function digRequest(chain: QueryChain, query: string): Extract<NodeRequest, { kind: 'dig' }> {
  return { kind: 'dig', where: chain.server.where, server: chain.server.address, protocol: chain.protocol, name: query };
}

export function readStep(query: string, section: RawSection): QueryStep {
  const dig: DigResult = parseDig(`${section.stdout}\n${section.stderr}`);
  const answers = dig.answers.map((a) => `${a.type} ${a.data}`).concat(dig.short);
  let status: StepStatus;
  switch (dig.outcome) {
    case 'answer':
      if (dig.rcode === 'NOERROR' || dig.rcode === null) status = answers.length > 0 ? 'answer' : 'nodata';
      else if (dig.rcode === 'NXDOMAIN') status = 'nxdomain';
      else if (dig.rcode === 'SERVFAIL') status = 'servfail';
      else if (dig.rcode === 'REFUSED') status = 'refused';
      else status = 'other-rcode';
      break;
    case 'timeout':
      status = 'timeout';
      break;
    case 'refused-connection':
      status = 'port-unreachable';
      break;
    case 'unreachable':
      status = 'unreachable';
      break;
    default:
      status = 'error';
  }
  const evidence = dig.errors[0] ?? (dig.rcode ? `${query} -> ${dig.rcode}${answers.length ? ` ${answers.join(', ')}` : ''}${dig.queryTimeMs !== null ? ` (${dig.queryTimeMs} ms)` : ''}` : (section.stdout.trim().split('\n')[0] ?? `rc=${section.exitCode}`));
  return { query, status, rcode: dig.rcode, answers, timeMs: dig.queryTimeMs, evidence };
}

/** Walks a chain over the answers so far: the steps taken, and the next query or the end. */
export function walkChain(chain: QueryChain, sections: Sections): { steps: QueryStep[]; next: string | null } {
  const steps: QueryStep[] = [];
  for (const query of chain.candidates) {
    const section = sections.get(actionSectionName(digRequest(chain, query)));
    if (!section) return { steps, next: query };
    const step = readStep(query, section);
    steps.push(step);
    if (!CONTINUES.has(step.status)) break;
  }
  return { steps, next: null };
}

/**
 * The next round of requests for a node: the pid lookups the actions need (a script call only
 * knows pods named in it) and one dig per unfinished chain. Empty when every chain has ended.
 */
export function planDnsQueries(api: DnsCheckApi, nodeName: string, sections: Sections): NodeRequest[] {
  const digs: NodeRequest[] = [];
  const places = new Set<string>();
  for (const chain of chainsFor(api, nodeName, sections)) {
    const { next } = walkChain(chain, sections);
    if (next === null) continue;
    digs.push(digRequest(chain, next));
    places.add(chain.server.where);
  }
  if (digs.length === 0) return [];
  const lookups: NodeRequest[] = [];
  if (places.has(api.pod.key)) lookups.push({ kind: 'podpid', key: api.pod.key, containerId: api.pod.containerId, podIP: api.pod.podIP });
  for (const c of api.corednsPods) {
    if (places.has(c.key) && c.podIP) lookups.push({ kind: 'podpid', key: c.key, containerId: c.containerId, podIP: c.podIP });
  }
  return [...lookups, ...digs];
}

export function cellOf(chain: QueryChain, sections: Sections): MatrixCell {
  const { steps, next } = walkChain(chain, sections);
  const base = { serverId: chain.server.id, queries: steps.length, steps };
  const last = steps[steps.length - 1];
  if (!last || next !== null) return { ...base, status: 'not-run', rcode: null, answeredBy: null, answers: [], latencyMs: null };
  if (last.status === 'answer') {
    return { ...base, status: 'ok', rcode: last.rcode ?? 'NOERROR', answeredBy: last.query, answers: last.answers, latencyMs: last.timeMs };
  }
  if (CONTINUES.has(last.status)) {
    // The whole search list failed: SERVFAIL anywhere says more than NXDOMAIN at the end.
    const status: CellStatus = steps.some((s) => s.status === 'servfail') ? 'servfail' : steps.some((s) => s.status === 'nodata') ? 'nodata' : 'nxdomain';
    return { ...base, status, rcode: last.rcode, answeredBy: null, answers: [], latencyMs: last.timeMs };
  }
  return { ...base, status: last.status as CellStatus, rcode: last.rcode, answeredBy: null, answers: [], latencyMs: last.timeMs };
}

// ---------------------------------------------------------------- the report

export interface MatrixRow {
  name: string;
  zone: NameZone;
  origin: DnsName['origin'];
  protocol: Protocol;
  cells: MatrixCell[]; // one per server, in `servers` order
}

export interface QueryCost {
  name: string;
  candidates: string[];
  answeredBy: string | null;
  queriesPerRecordType: number | null; // until the answer, at the pod's first nameserver path (Service IP)
  worstCase: number;
}

export interface CorednsRow {
  name: string;
  nodeName: string;
  podIP: string | null;
  phase: string;
  ready: boolean;
  restarts: number;
  state: string;
  lastTermination: string | null;
  logLines: string[];
  resolvConf: string[] | null; // the directive lines of CoreDNS's own /etc/resolv.conf (what `forward . /etc/resolv.conf` reads)
  nodeResolvConf: string[] | null; // the directive lines of the node's /etc/resolv.conf (context only)
  upstreams: string[];
  upstreamSource: UpstreamSource;
}

/** The outside (non-cluster) name check: only when a name was asked for; no default depends on a network. */
export interface OutsideNameCheck {
  status: 'asked' | 'skipped';
  names: string[];
  reason: string | null; // why skipped
}

export interface DnsCheckReport {
  pod: { namespace: string; name: string; nodeName: string; dnsPolicy: string; hostNetwork: boolean };
  resolver: { source: 'pod' | 'assumed'; nameservers: string[]; search: string[]; ndots: number; options: string[]; lines: string[] };
  clusterDomain: string;
  service: (DnsServiceInfo & { endpoints: DnsEndpoint[] }) | null;
  coredns: CorednsRow[];
  corefile: { forward: string[]; loopPlugin: boolean; forwardsToResolvConf: boolean } | null;
  outsideName: OutsideNameCheck;
  nodeLocalDns: boolean;
  servers: Array<Omit<DnsServer, 'where'> & { queriedFrom: string }>;
  matrix: MatrixRow[];
  queryCost: QueryCost[];
  findings: Finding[];
  problems: string[];
}

interface NodeView {
  nodeName: string;
  sections: Sections;
}

export function diagnoseDnsCheck(api: DnsCheckApi, nodes: readonly NodeCollection[]): DnsCheckReport {
  const findings: Finding[] = [];
  const problems: string[] = [];
  const views = new Map<string, NodeView>();
  for (const node of nodes) {
    if (!node.ok) {
      findings.push(nodeFailedFinding(node.nodeName, node.error));
      continue;
    }
    const out = parseNodeScriptOutput(node.raw, node.token);
    problems.push(...out.problems.map((p) => `node ${node.nodeName}: ${p}`));
    views.set(node.nodeName, { nodeName: node.nodeName, sections: out.sections });
  }
  const empty: Sections = new Map();
  const podNode = views.get(api.pod.nodeName);
  const podSections = podNode?.sections ?? empty;
  const { conf, source } = podResolvConf(api, podSections);
  if (podNode && source === 'assumed') {
    problems.push(`node ${api.pod.nodeName}: could not read /etc/resolv.conf of pod ${api.pod.namespace}/${api.pod.name}; queries assume the ClusterFirst default`);
  }
  if (podNode && !pidFound(podSections, api.pod.key)) {
    problems.push(`node ${api.pod.nodeName}: the network namespace of pod ${api.pod.namespace}/${api.pod.name} was not found; queries were sent from the node's namespace`);
  }
  const clusterDomain = clusterDomainOf(conf, api.pod.namespace);

  // Columns and rows: every node's chains, in a stable order (pod-side servers, then upstreams).
  const allServers: DnsServer[] = [];
  const cells = new Map<string, MatrixCell>(); // name|protocol|serverId
  for (const view of [podNode, ...[...views.values()].filter((v) => v !== podNode)]) {
    if (!view) continue;
    for (const chain of chainsFor(api, view.nodeName, view.sections)) {
      if (!allServers.some((s) => s.id === chain.server.id)) allServers.push(chain.server);
      const key = `${chain.name.name}|${chain.protocol}|${chain.server.id}`;
      if (!cells.has(key)) cells.set(key, cellOf(chain, view.sections));
    }
  }
  // An upstream with no chain (only cluster names asked) is still a column, so the table shows it.
  for (const view of views.values()) {
    for (const s of serversFor(api, view.nodeName, view.sections)) if (!allServers.some((x) => x.id === s.id)) allServers.push(s);
  }
  const servers = [
    ...allServers.filter((s) => s.kind === 'service'),
    ...allServers.filter((s) => s.kind === 'nodelocal'),
    ...allServers.filter((s) => s.kind === 'coredns-pod'),
    ...allServers.filter((s) => s.kind === 'upstream'),
  ];
  const notRun = (serverId: string): MatrixCell => ({ serverId, status: 'not-run', rcode: null, answeredBy: null, answers: [], queries: 0, latencyMs: null, steps: [] });
  const cell = (name: string, protocol: Protocol, serverId: string): MatrixCell => cells.get(`${name}|${protocol}|${serverId}`) ?? notRun(serverId);
  const matrix: MatrixRow[] = api.names.flatMap((n) =>
    PROTOCOLS.map((protocol) => ({ name: n.name, zone: n.zone, origin: n.origin, protocol, cells: servers.map((s) => cell(n.name, protocol, s.id)) })),
  );

  const queryCost: QueryCost[] = api.names.map((n) => {
    const plan = planQueries(n.name, conf);
    const via = servers.find((s) => s.kind === 'service' || s.kind === 'nodelocal') ?? servers.find((s) => s.kind === 'coredns-pod');
    const c = via ? cell(n.name, 'udp', via.id) : null;
    return {
      name: n.name,
      candidates: plan.candidates,
      answeredBy: c?.answeredBy ?? null,
      queriesPerRecordType: c && c.status === 'ok' ? c.queries : null,
      worstCase: plan.worstCaseQueries,
    };
  });

  const corefile = api.corefile === null ? null : readCorefile(api.corefile);
  const coredns: CorednsRow[] = api.corednsPods.map((c) => {
    const sections = views.get(c.nodeName)?.sections;
    const parsed = resolvConfFrom(sections?.get('host/resolv.conf'));
    const up = sections ? upstreamsFor(api, c, sections) : null;
    if (up?.unreadable && (corefile === null || corefile.forwardsToResolvConf)) {
      problems.push(`node ${c.nodeName}: could not read /etc/resolv.conf of CoreDNS pod ${c.namespace}/${c.name}: ${up.unreadable}${up.source === 'node' ? `; upstream ${up.addresses.join(', ')} taken from the node's resolv.conf` : ''}`);
    }
    return {
      name: c.name,
      nodeName: c.nodeName,
      podIP: c.podIP,
      phase: c.phase,
      ready: c.ready,
      restarts: c.restarts,
      state: c.state,
      lastTermination: c.lastTermination,
      logLines: logLinesThatMatter(c.logTail),
      resolvConf: up?.resolvConf?.rawLines ?? null,
      nodeResolvConf: parsed ? parsed.rawLines : null,
      upstreams: up?.addresses ?? [],
      upstreamSource: up?.source ?? 'none',
    };
  });

  const report: DnsCheckReport = {
    pod: { namespace: api.pod.namespace, name: api.pod.name, nodeName: api.pod.nodeName, dnsPolicy: api.pod.dnsPolicy, hostNetwork: api.pod.hostNetwork },
    resolver: { source, nameservers: conf.nameservers, search: conf.search, ndots: conf.ndots, options: conf.options.map((o) => o.raw), lines: conf.rawLines },
    clusterDomain,
    service: api.service ? { ...api.service, endpoints: api.endpoints } : null,
    coredns,
    corefile: corefile ? { forward: corefile.forwards.map((f) => f.raw.replace(/\s*\{\s*$/, '')), loopPlugin: corefile.loopPlugin, forwardsToResolvConf: corefile.forwardsToResolvConf } : null,
    outsideName: outsideNameCheck(api.names),
    nodeLocalDns: api.nodeLocalDnsPods.length > 0,
    servers: servers.map(({ where, ...s }) => ({ ...s, queriedFrom: where === 'host' ? `node ${s.nodeName}` : where === api.pod.key ? `pod ${api.pod.namespace}/${api.pod.name}` : `pod ${api.corednsPods.find((c) => c.key === where)?.name ?? where}` })),
    matrix,
    queryCost,
    findings,
    problems,
  };
  findings.push(...diagnoseFindings(api, report, servers, cell, views, conf));
  return report;
}

function outsideNameCheck(names: readonly DnsName[]): OutsideNameCheck {
  const outside = names.filter((n) => n.zone === 'external').map((n) => n.name);
  return outside.length > 0
    ? { status: 'asked', names: outside, reason: null }
    : { status: 'skipped', names: [], reason: 'no outside name asked for: pass --external-name NAME (a name your upstream resolver serves) to check forwarding' };
}

// ---------------------------------------------------------------- findings

/**
 * A forwarding loop with its evidence: CoreDNS (in its own network namespace) forwards to a loopback
 * address, named by the Corefile or by its own container's /etc/resolv.conf. Inside the pod that is
 * CoreDNS itself. The node's /etc/resolv.conf is not evidence: kubelet may give CoreDNS another file
 * (/run/systemd/resolve/resolv.conf), and a hostNetwork CoreDNS really reaches the node's stub.
 */
function forwardLoopFindings(api: DnsCheckApi, corefile: CorefileFacts | null, views: ReadonlyMap<string, NodeView>): Finding[] {
  const findings: Finding[] = [];
  if (!corefile) return findings;
  for (const c of api.corednsPods) {
    const sections = views.get(c.nodeName)?.sections;
    if (!sections || c.hostNetwork === true) continue;
    const up = upstreamsFor(api, c, sections);
    const emptyFile = corefile.forwardsToResolvConf && up.resolvConf !== null && up.resolvConf.nameservers.length === 0;
    if (up.loopback.length === 0 && !emptyFile) continue;
    const fromFile = up.resolvConf?.nameservers.filter(isLoopback) ?? [];
    const where = fromFile.length > 0 && corefile.forwardsToResolvConf ? `its /etc/resolv.conf names ${fromFile.join(', ')}` : `the Corefile forwards to ${up.loopback.join(', ')}`;
    const loopLogs = c.logTail.filter((l) => LOOP_LOG.test(l)).slice(-2).map((l) => `log: ${l}`);
    const nodeLines = resolvConfFrom(sections.get('host/resolv.conf'))?.rawLines ?? [];
    findings.push({
      code: 'dns.coredns-forward-loopback',
      severity: 'error',
      subject: `pod ${c.namespace}/${c.name}`,
      message: emptyFile && up.loopback.length === 0
        ? `CoreDNS on ${c.nodeName} forwards to /etc/resolv.conf, and its container's file names no nameserver: names outside the cluster cannot be forwarded`
        : `CoreDNS on ${c.nodeName} forwards to a loopback address (${where}): inside CoreDNS's pod that is CoreDNS itself, a forwarding loop${corefile.loopPlugin ? ' (with the loop plugin on, CoreDNS exits once it sees its probe come back: CrashLoopBackOff)' : ''}`,
      evidence: [
        ...(up.resolvConf?.rawLines ?? []).map((l) => `CoreDNS pod ${c.name} /etc/resolv.conf: ${l}`),
        ...corefile.forwards.map((f) => `Corefile: ${f.raw.replace(/\s*\{\s*$/, '')}`),
        ...(corefile.loopPlugin ? ['Corefile: loop'] : []),
        `CoreDNS dnsPolicy: ${c.dnsPolicy}`,
        ...nodeLines.map((l) => `node ${c.nodeName} /etc/resolv.conf (context): ${l}`),
        ...loopLogs,
      ],
      remedy: fromFile.length > 0
        ? `kubelet on ${c.nodeName} wrote CoreDNS's resolv.conf from its resolvConf file: point resolvConf at a file with reachable nameservers (systemd-resolved: /run/systemd/resolve/resolv.conf) or write upstreams into the Corefile (forward . 10.0.0.2), then restart the CoreDNS pods so kubelet writes their file again`
        : 'point the Corefile forward at reachable upstream resolvers (kubectl -n kube-system edit configmap coredns), not a loopback address',
    });
  }
  return findings;
}

type CellLookup = (name: string, protocol: Protocol, serverId: string) => MatrixCell;

function gotResponse(c: MatrixCell): boolean {
  return c.status !== 'not-run' && !TRANSPORT_FAILURES.has(c.status);
}

function stepEvidence(label: string, c: MatrixCell): string {
  const last = c.steps[c.steps.length - 1];
  return `${label}: ${last ? last.evidence : c.status}`;
}

function diagnoseFindings(api: DnsCheckApi, report: DnsCheckReport, servers: readonly DnsServer[], cell: CellLookup, views: ReadonlyMap<string, NodeView>, conf: ResolvConf): Finding[] {
  const findings: Finding[] = [];
  const podRef = `pod ${api.pod.namespace}/${api.pod.name}`;
  const service = servers.find((s) => s.kind === 'service');
  const corednsServers = servers.filter((s) => s.kind === 'coredns-pod');
  const upstreams = servers.filter((s) => s.kind === 'upstream');
  const names = api.names;
  const queried = (s: DnsServer) => names.some((n) => cell(n.name, 'udp', s.id).status !== 'not-run');

  // --- the pod's own resolver configuration
  const expected = [api.service?.clusterIP, ...(api.nodeLocalDnsPods.length > 0 ? [NODELOCAL_DNS_IP] : [])].filter((x): x is string => Boolean(x));
  const first = conf.nameservers[0];
  if (report.resolver.source === 'pod' && expected.length > 0 && (first === undefined || !expected.includes(first))) {
    const clusterFirst = api.pod.dnsPolicy === 'ClusterFirst' || (api.pod.dnsPolicy === 'ClusterFirstWithHostNet' && api.pod.hostNetwork);
    const byDesign = api.pod.dnsPolicy === 'Default' || (api.pod.dnsPolicy === 'ClusterFirst' && api.pod.hostNetwork);
    findings.push({
      code: 'dns.wrong-nameserver',
      severity: byDesign ? 'info' : clusterFirst ? 'error' : 'warn',
      subject: podRef,
      message: first === undefined
        ? 'the pod\'s /etc/resolv.conf names no nameserver, so its resolver falls back to 127.0.0.1 inside the pod'
        : `the pod asks ${first} first, not the cluster DNS ${expected.join(' or ')}, so cluster names${clusterFirst ? ' (which dnsPolicy ' + api.pod.dnsPolicy + ' promises)' : ''} do not resolve there`,
      evidence: [...report.resolver.lines.map((l) => `pod /etc/resolv.conf: ${l}`), `dnsPolicy: ${api.pod.dnsPolicy}`, ...(api.pod.dnsConfig ? [`dnsConfig.nameservers: ${api.pod.dnsConfig.nameservers.join(' ') || '<none>'}`] : []), `Service ${api.service?.namespace}/${api.service?.name} ClusterIP ${api.service?.clusterIP}`],
      remedy: byDesign
        ? `dnsPolicy ${api.pod.dnsPolicy} uses the node's resolver by design; set dnsPolicy ClusterFirst${api.pod.hostNetwork ? 'WithHostNet' : ''} if the pod needs cluster names`
        : clusterFirst
          ? `kubelet on node ${api.pod.nodeName} writes the nameserver from its clusterDNS setting: make it ${api.service?.clusterIP} (kubelet --cluster-dns / KubeletConfiguration clusterDNS) and recreate the pod; if something in the image rewrites /etc/resolv.conf, stop it`
          : `fix spec.dnsConfig.nameservers of the pod (dnsPolicy ${api.pod.dnsPolicy}) to ${expected[0]}`,
    });
  }

  // --- the DNS Service and its endpoints
  if (!api.service) {
    findings.push({
      code: 'dns.service-missing',
      severity: 'error',
      subject: 'service kube-system/kube-dns',
      message: 'the cluster DNS Service could not be read, so pods have no cluster DNS address',
      evidence: [api.serviceError ?? 'not found'],
      remedy: 'recreate the kube-dns Service (ClusterIP matching kubelet clusterDNS) from your CoreDNS deployment manifests',
    });
  } else {
    const ready = api.endpoints.filter((e) => e.ready);
    if (ready.length === 0) {
      findings.push({
        code: 'dns.service-no-endpoints',
        severity: 'error',
        subject: `service ${api.service.namespace}/${api.service.name}`,
        message: 'the DNS Service has no ready endpoint, so kube-proxy has nothing to send queries to',
        evidence: api.endpoints.length > 0 ? api.endpoints.map((e) => `endpoint ${e.address} ready=${e.ready} pod=${e.podName ?? '?'} node=${e.nodeName ?? '?'}`) : ['EndpointSlices list no endpoints'],
        remedy: 'get the CoreDNS pods Ready (kubectl -n kube-system get pods -l k8s-app=kube-dns; describe and logs) and check the Service selector',
      });
    }
  }

  // --- CoreDNS pods as the API sees them
  const apiReady = api.corednsPods.filter((c) => c.ready && c.phase === 'Running');
  for (const c of api.corednsPods) {
    if (c.restarts > 0 || c.state === 'CrashLoopBackOff') {
      findings.push({
        code: 'dns.coredns-restarting',
        severity: 'warn',
        subject: `pod ${c.namespace}/${c.name}`,
        message: `CoreDNS is ${c.state} with ${c.restarts} restart(s)`,
        evidence: [`state ${c.state}, restarts ${c.restarts}${c.lastTermination ? `, last termination ${c.lastTermination}` : ''}`, ...logLinesThatMatter(c.logTail).map((l) => `log: ${l}`)],
        remedy: `read why it exits: kubectl -n ${c.namespace} logs ${c.name} --previous`,
      });
    }
  }

  // --- the query matrix: which layer answers
  const clusterNames = names.filter((n) => n.zone === 'cluster' && n.origin !== 'full-form');
  const podAnswering = corednsServers.filter((s) => names.some((n) => gotResponse(cell(n.name, 'udp', s.id)) || gotResponse(cell(n.name, 'tcp', s.id))));
  const podsQueried = corednsServers.filter(queried);
  const serviceQueried = service !== undefined && queried(service);
  const serviceDead = serviceQueried && names.every((n) => !gotResponse(cell(n.name, 'udp', service!.id)) && !gotResponse(cell(n.name, 'tcp', service!.id)));
  const corednsDeadByQuery = podsQueried.length > 0 && podAnswering.length === 0;
  const corednsLogs = api.corednsPods.flatMap((c) => logLinesThatMatter(c.logTail).map((l) => `${c.name} log: ${l}`));

  if (api.corednsPods.length === 0 || corednsDeadByQuery || (api.corednsPods.length > 0 && apiReady.length === 0)) {
    const evidence: string[] = [];
    if (api.corednsPods.length === 0) evidence.push('no pod in kube-system carries the label k8s-app=kube-dns');
    for (const c of api.corednsPods) evidence.push(`pod ${c.name} on ${c.nodeName}: phase ${c.phase}, ready=${c.ready}, container ${c.state}, restarts ${c.restarts}`);
    for (const s of podsQueried) evidence.push(stepEvidence(`dig @${s.address} (${s.label})`, cell(names[0]!.name, 'udp', s.id)));
    if (service && serviceQueried) evidence.push(stepEvidence(`dig @${service.address} (Service)`, cell(names[0]!.name, 'udp', service.id)));
    evidence.push(...corednsLogs);
    findings.push({
      code: 'dns.coredns-down',
      severity: 'error',
      subject: 'CoreDNS (kube-system, k8s-app=kube-dns)',
      message: corednsDeadByQuery
        ? 'no CoreDNS pod answers on port 53 when asked directly, so the DNS Service has no working backend'
        : api.corednsPods.length === 0 ? 'there are no CoreDNS pods' : 'no CoreDNS pod is Ready',
      evidence,
      remedy: 'kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide; kubectl -n kube-system logs -l k8s-app=kube-dns --previous; restart with kubectl -n kube-system rollout restart deployment coredns once the cause is fixed',
    });
  } else if (serviceDead && podAnswering.length > 0) {
    const kp = api.kubeProxyOnPodNode;
    findings.push({
      code: 'dns.service-unreachable',
      severity: 'error',
      subject: `service ${api.service?.namespace}/${api.service?.name} from node ${api.pod.nodeName}`,
      message: `queries to the Service IP ${service!.address} get no answer from ${podRef} while CoreDNS answers at its pod IP, so the node does not translate the ClusterIP (${kp ? 'kube-proxy rules' : 'the Service dataplane, kube-proxy or its replacement,'} missing on ${api.pod.nodeName})`,
      evidence: [
        ...names.slice(0, 2).map((n) => stepEvidence(`dig @${service!.address} ${n.name} (udp)`, cell(n.name, 'udp', service!.id))),
        ...names.slice(0, 1).map((n) => stepEvidence(`dig @${service!.address} ${n.name} (tcp)`, cell(n.name, 'tcp', service!.id))),
        ...podAnswering.slice(0, 2).map((s) => stepEvidence(`dig @${s.address} ${names[0]!.name} (CoreDNS pod, udp)`, cell(names[0]!.name, 'udp', s.id))),
        kp ? `kube-proxy on ${api.pod.nodeName}: pod ${kp.name} ${kp.phase}, ready=${kp.ready}` : `kube-proxy on ${api.pod.nodeName}: no pod labelled k8s-app=kube-proxy on this node`,
      ],
      remedy: `check kube-proxy on node ${api.pod.nodeName} (running? evicted? give it priorityClassName system-node-critical) and its rules, or the replacement that steers Services there: kubectl netdiag trace-svc kube-dns -n kube-system; on the node: iptables-save -t nat | grep ${service!.address}`,
    });
  } else if (serviceQueried && !serviceDead) {
    // Some names lost at the Service but answered at a pod: intermittent loss (the conntrack race).
    for (const s of corednsServers) {
      if (queried(s) && !podAnswering.includes(s)) {
        findings.push({
          code: 'dns.coredns-pod-unresponsive',
          severity: 'warn',
          subject: `pod ${s.label}`,
          message: `CoreDNS pod ${s.address} does not answer while others do; the Service sends part of the queries there`,
          evidence: [stepEvidence(`dig @${s.address}`, cell(names[0]!.name, 'udp', s.id))],
          remedy: `look at the pod: kubectl -n kube-system describe pod ${s.id.slice('pod/'.length)}; delete it so the Deployment replaces it`,
        });
      }
    }
  }

  // --- upstream: cluster names fine, external names fail
  const clusterDns = service && serviceQueried && !serviceDead ? service : podAnswering[0];
  if (clusterDns) {
    const clusterOk = clusterNames.some((n) => cell(n.name, 'udp', clusterDns.id).status === 'ok');
    for (const n of names.filter((x) => x.zone === 'external')) {
      const c = cell(n.name, 'udp', clusterDns.id);
      const direct = upstreams.map((u) => ({ u, c: cell(n.name, 'udp', u.id) })).filter((x) => x.c.status !== 'not-run');
      const failing = c.status === 'servfail' || TRANSPORT_FAILURES.has(c.status);
      if (failing && (clusterOk || clusterNames.length === 0)) {
        const upstreamDown = direct.length > 0 && direct.every((x) => x.c.status !== 'ok');
        findings.push({
          code: 'dns.upstream-failing',
          severity: 'error',
          subject: `name ${n.name}`,
          message: upstreamDown
            ? `cluster names resolve but ${n.name} fails (${c.status}) because the upstream resolver ${direct.map((x) => x.u.address).join(', ')} does not answer from CoreDNS's network`
            : direct.length === 0
              ? `cluster names resolve but ${n.name} fails (${c.status}): CoreDNS has no usable upstream to forward to`
              : `cluster names resolve but ${n.name} fails (${c.status}) through CoreDNS although the upstream answers directly: CoreDNS's forward is broken`,
          evidence: [stepEvidence(`dig @${clusterDns.address} ${n.name}`, c), ...direct.map((x) => stepEvidence(`dig @${x.u.address} ${n.name} (from ${x.u.where === 'host' ? `node ${x.u.nodeName}` : 'the CoreDNS pod'})`, x.c)), ...(report.corefile?.forward ?? []).map((l) => `Corefile: ${l}`)],
          remedy: upstreamDown
            ? `make the upstream reachable from the pod network (firewall, security group, route) or point CoreDNS's forward at a resolver that answers (kubectl -n kube-system edit configmap coredns)`
            : 'check the forward plugin in the coredns ConfigMap and the CoreDNS logs (plugin/errors lines)',
        });
      } else if (c.status === 'nxdomain' && direct.every((x) => x.c.status === 'nxdomain' || x.c.status === 'not-run')) {
        findings.push({
          code: 'dns.name-not-found',
          severity: 'warn',
          subject: `name ${n.name}`,
          message: `${n.name} does not exist: every candidate of the search list is NXDOMAIN${direct.length > 0 ? ', at the upstream too' : ''}`,
          evidence: c.steps.map((s) => s.evidence),
          remedy: 'check the spelling, or the zone at the authoritative server',
        });
      }
    }

    // --- short names across namespaces (seed 004)
    for (const n of names.filter((x) => x.origin !== 'full-form' && x.zone === 'cluster')) {
      const c = cell(n.name, 'udp', clusterDns.id);
      // Every candidate inside the cluster domain said NXDOMAIN; the bare name then went upstream
      // (NXDOMAIN or REFUSED there, depending on the upstream).
      const inCluster = c.steps.filter((s) => s.query.endsWith(`.${report.clusterDomain}.`));
      if (c.status === 'ok' || inCluster.length === 0 || !inCluster.every((s) => s.status === 'nxdomain')) continue;
      const full = names.filter((x) => x.fullFormOf === n.name);
      const working = full.filter((x) => cell(x.name, 'udp', clusterDns.id).status === 'ok');
      if (n.otherNamespaces.length === 0 && working.length === 0) continue;
      findings.push({
        code: 'dns.short-name-other-namespace',
        severity: 'warn',
        subject: `name ${n.name} from namespace ${api.pod.namespace}`,
        message: n.otherNamespaces.length > 0
          ? `"${n.name}" does not resolve from namespace ${api.pod.namespace} because the Service lives in ${n.otherNamespaces.join(', ')}: a short name only searches the pod's own namespace`
          : `"${n.name}" does not resolve from namespace ${api.pod.namespace}, but its full form does`,
        evidence: [
          ...c.steps.map((s) => s.evidence),
          ...full.map((x) => stepEvidence(`dig ${x.name}`, cell(x.name, 'udp', clusterDns.id))),
        ],
        remedy: `use the full form ${full[0]?.name ?? `${n.name}.${n.otherNamespaces[0]}`} (or ${(full[0]?.name ?? `${n.name}.${n.otherNamespaces[0]}`)}.svc.${report.clusterDomain}) in the application's configuration`,
      });
    }
  }

  const corefile = api.corefile === null ? null : readCorefile(api.corefile);
  const loopPods = new Set<string>();
  for (const f of forwardLoopFindings(api, corefile, views)) {
    loopPods.add(f.subject);
    findings.push(f);
  }
  for (const c of api.corednsPods) {
    const loopLines = c.logTail.filter((l) => LOOP_LOG.test(l));
    if (loopLines.length === 0 || loopPods.has(`pod ${c.namespace}/${c.name}`)) continue;
    findings.push({
      code: 'dns.coredns-loop',
      severity: 'error',
      subject: `pod ${c.namespace}/${c.name}`,
      message: 'CoreDNS detected that its queries come back to itself and exits',
      evidence: loopLines.slice(-3).map((l) => `log: ${l}`),
      remedy: 'find the resolver that forwards back to CoreDNS (its own /etc/resolv.conf, a local dnsmasq/systemd-resolved, an upstream that forwards cluster queries back, the Corefile forward) and point it elsewhere',
    });
  }
  if (corefile && corefile.forwards.length === 0) {
    findings.push({
      code: 'dns.corefile-no-forward',
      severity: 'info',
      subject: 'configmap kube-system/coredns',
      message: 'the Corefile has no forward plugin: names outside the cluster domain are not resolved',
      evidence: corefile.plugins.map((p) => `plugin ${p}`),
      remedy: 'add "forward . /etc/resolv.conf" (or explicit resolvers) to the server block if pods need external names',
    });
  }

  // --- search list and ndots cost (info)
  const costly = report.queryCost.filter((q) => q.queriesPerRecordType !== null && q.queriesPerRecordType > 1);
  if (costly.length > 0) {
    findings.push({
      code: 'dns.ndots-amplification',
      severity: 'info',
      subject: podRef,
      message: `with ndots:${conf.ndots} and ${conf.search.length} search domains, names cost several queries before they resolve (each record type; A and AAAA double it)`,
      evidence: costly.map((q) => `${q.name}: ${q.queriesPerRecordType} queries until ${q.answeredBy} answered (${q.queriesPerRecordType! * 2} with A+AAAA)`),
      remedy: 'write names in full with a trailing dot (www.example.test.) or lower ndots for this pod (spec.dnsConfig.options: [{name: ndots, value: "2"}])',
    });
  }

  // --- the UDP conntrack race (insert_failed) on the pod's node
  const conntrack = conntrackInsertFailed(views.get(api.pod.nodeName)?.sections.get('host/conntrack')?.stdout ?? '');
  if (conntrack && conntrack.total > 0) {
    const udpLost = servers.some((s) => s.kind !== 'upstream' && names.some((n) => TRANSPORT_FAILURES.has(cell(n.name, 'udp', s.id).status) && cell(n.name, 'tcp', s.id).status === 'ok'));
    findings.push({
      code: 'dns.conntrack-insert-failed',
      severity: udpLost ? 'warn' : 'info',
      subject: `node ${api.pod.nodeName}`,
      message: `conntrack reports ${conntrack.total} failed inserts: parallel A and AAAA queries over UDP from one socket can race and one is dropped, a 5 s resolver timeout${udpLost ? '; some UDP queries here timed out while TCP answered' : ''}`,
      evidence: conntrack.lines.slice(0, 4).map((l) => `conntrack -S: ${l}`),
      remedy: 'add options single-request-reopen (glibc) to the pod dnsConfig, use NodeLocal DNSCache, or upgrade the kernel (fixes in 5.0+)',
    });
  }
  return findings;
}
