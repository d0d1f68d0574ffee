// dns-check's vocabulary: what the plan resolved through the API (snapshots keep it), the servers
// and query chains the node runs, the matrix cells and the report. Types and small pure helpers
// only, so every part of the check imports them without importing each other.
import type { Finding } from '../finding.js';
import type { RawSection } from '../../probe/sections.js';
import type { ResolvConf } from '../../parse/resolv-conf.js';
import type { CorefileFacts } from '../../parse/corefile.js';
import { cidrContainsAddress } from '../../net/ip.js';

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
export const CONTINUES: ReadonlySet<StepStatus> = new Set(['nxdomain', 'nodata', 'servfail']);
export const TRANSPORT_FAILURES: ReadonlySet<CellStatus> = new Set(['timeout', 'port-unreachable', 'unreachable', 'error']);

/** 127.0.0.0/8 or ::1: inside a pod's network namespace, the pod itself. */
export function isLoopback(address: string): boolean {
  return cidrContainsAddress('127.0.0.0/8', address) || cidrContainsAddress('::1/128', address);
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

// The loop plugin's fatal line: "Loop (127.0.0.1:44222 -> :53) detected for zone ..." (CoreDNS >=
// 1.3), "Seen \"HINFO IN ...\" more than twice, loop detected" and "Forwarding loop detected" (1.2.x).
export const LOOP_LOG = /Loop \(.*\) detected|loop detected|Forwarding loop detected/i;
const LOG_THAT_MATTERS = /Loop \(.*\) detected|loop detected|\[(ERROR|FATAL|WARNING)\]|plugin\/errors|i\/o timeout|no such host|connection refused|SERVFAIL/;

export function logLinesThatMatter(lines: readonly string[]): string[] {
  return lines.filter((l) => LOG_THAT_MATTERS.test(l)).slice(-MAX_LOG_LINES);
}

export function podRefOf(api: DnsCheckApi): string {
  return `pod ${api.pod.namespace}/${api.pod.name}`;
}

// ---------------------------------------------------------------- one node's sections

export type Sections = ReadonlyMap<string, RawSection>;

export interface NodeView {
  nodeName: string;
  sections: Sections;
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


// ---------------------------------------------------------------- what every diagnosis reads

export type CellLookup = (name: string, protocol: Protocol, serverId: string) => MatrixCell;

export interface DiagnosisContext {
  api: DnsCheckApi;
  report: DnsCheckReport; // everything but the findings
  conf: ResolvConf; // the pod's resolver config (read, or assumed from its dnsPolicy)
  views: ReadonlyMap<string, NodeView>;
  servers: readonly DnsServer[]; // the matrix columns
  cell: CellLookup;
  corefile: CorefileFacts | null; // null: the coredns ConfigMap could not be read
}
