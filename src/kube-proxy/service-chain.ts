// The result of tracing one packet to a Service through kube-proxy's rules, the same shape for
// iptables, nftables and IPVS mode, plus the small IPv4 helpers the walkers share.

export type ProxyMode = 'iptables' | 'nftables' | 'ipvs';
export type L4Protocol = 'tcp' | 'udp' | 'sctp';

// The first packet of a new connection, as the node's netfilter sees it.
export interface ServicePacket {
  protocol: L4Protocol;
  sourceIp: string;
  destinationIp: string;
  destinationPort: number;
  sourcePort?: number;
  // 'prerouting': arrives on an interface (from a pod or another host);
  // 'output': sent by a host-network process on this node.
  hook: 'prerouting' | 'output';
  inInterface?: string;
  outInterface?: string; // for POSTROUTING rules with -o; unknown interfaces never match `-o X`
  destinationIsLocal?: boolean; // the destination is one of the node's addresses (NodePorts)
  localAddresses?: string[]; // the node's addresses: decides INPUT vs FORWARD after DNAT
}

export interface ChainStep {
  table: string; // nat / filter, or the nft table "ip kube-proxy"
  chain: string;
  rule: string; // the raw rule (or "policy ACCEPT" when a built-in chain ends)
  why: string; // which matches made it apply: "-d 10.96.0.10/32 matches 10.96.0.10, --dport 53"
}

export interface HostPort {
  ip: string;
  port: number | null;
}

export interface MasqueradeDecision {
  masquerade: boolean;
  markedBy: string | null; // the rule that set the masquerade mark (jump KUBE-MARK-MASQ)
  decidedBy: string | null; // the rule that masqueraded or returned without it
}

export interface RuleCounters {
  packets: number;
  bytes: number;
}

export type FilterVerdict = 'accept' | 'drop' | 'reject' | 'not-evaluated';

export interface EndpointBranch {
  endpointChain: string; // KUBE-SEP-..., endpoint-..., or the IPVS real server
  probability: number; // effective share of new connections, 0..1
  dnatTarget: HostPort | null;
  masquerade: MasqueradeDecision;
  counters: RuleCounters | null; // of the DNAT rule, when the dump carries counters
  filterVerdict: FilterVerdict; // what the filter table does after DNAT
  filterRule: string | null; // the rule that decided filterVerdict (null: policy / not evaluated)
  steps: ChainStep[]; // the whole path of this branch
}

export type ServiceChainOutcome =
  | 'dnat' // at least one endpoint branch rewrites the destination
  | 'reject' // e.g. filter KUBE-SERVICES "has no endpoints"
  | 'drop'
  | 'no-match' // no kube-proxy rule for this destination
  | 'undecided'; // only a branch behind a match the walker cannot evaluate reaches an endpoint

// A drop kube-proxy writes on purpose: the Service's own policy at work, not missing rules.
export type IntendedDropReason =
  | 'no-local-endpoints' // externalTrafficPolicy (or internalTrafficPolicy) Local, no endpoint on this node
  | 'source-range' // loadBalancerSourceRanges does not admit the source
  | 'no-endpoints'; // the Service has no ready endpoint at all

export interface IntendedDrop {
  reason: IntendedDropReason;
  rule: string;
}

export interface SessionAffinityRules {
  timeoutSeconds: number | null; // --seconds N, or the affinity set's timeout
  rule: string; // one rcheck jump / `ip saddr @affinity-...` rule
}

export interface MasqueradeScope {
  cidr: string; // the cluster CIDR kube-proxy was given (`! -s 10.244.0.0/16 ... -j KUBE-MARK-MASQ`)
  rule: string;
}

export interface ServiceChain {
  mode: ProxyMode;
  packet: ServicePacket;
  servicePort: string | null; // "kube-system/kube-dns:dns" from kube-proxy's comments
  serviceChain: string | null; // KUBE-SVC-..., KUBE-SVL-..., service-...-ns/name/tcp/port
  steps: ChainStep[]; // the path shared by every branch (up to the load-balancing split)
  endpoints: EndpointBranch[];
  outcome: ServiceChainOutcome;
  outcomeRule: string | null; // the DNAT / REJECT / DROP rule, null for no-match
  unmatchedShare: number; // share of connections that got no DNAT (0 when every branch DNATs)
  masqueradeScope: MasqueradeScope | null;
  intendedDrop: IntendedDrop | null; // set when outcome is drop/reject by a Service policy
  sessionAffinity: SessionAffinityRules | null; // ClientIP affinity rules seen on the path
  undecided: string[]; // matches not evaluated; the walk followed both branches of each
  notes: string[]; // e.g. an excerpt dump, matches that could not be evaluated
}

// Which kube-proxy policy a drop/reject rule carries out, from its comment or chain/map name
// (iptables "has no local endpoints", KUBE-PROXY-FIREWALL; nftables no-endpoint-* maps, firewall-*).
export function intendedDropOf(rule: string, why = ''): IntendedDropReason | null {
  if (rule.includes('has no local endpoints')) return 'no-local-endpoints';
  if (rule.includes('traffic not accepted by KUBE-FW') || rule.startsWith('-A KUBE-PROXY-FIREWALL') || / firewall-[A-Z0-9]{8}-/.test(` ${rule}`)) return 'source-range';
  if (rule.includes('has no endpoints') || why.includes('@no-endpoint-')) return 'no-endpoints';
  return null;
}

// "kube-system/kube-dns:dns cluster IP" -> "kube-system/kube-dns:dns"; null when the comment is
// not a kube-proxy service comment.
export function servicePortFromComment(comment: string | null): string | null {
  if (comment === null) return null;
  // kube-proxy writes the ServicePortName: "ns/name:port" for a named port, "ns/name" for an
  // unnamed one, then a space and the rest ("cluster IP", "has no endpoints", ...).
  const slash = comment.indexOf('/');
  if (slash <= 0 || comment.slice(0, slash).indexOf(' ') !== -1) return null;
  const space = comment.indexOf(' ', slash);
  const name = space === -1 ? comment : comment.slice(0, space);
  return name.length > slash + 1 ? name : null;
}

/** A branch's share of new connections, rounded so that 1/3 + 1/3 + 1/3 adds up in reports. */
export function roundShare(p: number): number {
  return Math.round(p * 1e9) / 1e9;
}

/** A share as the notes print it: at most six decimals. */
export function formatShare(p: number): string {
  return String(Math.round(p * 1e6) / 1e6);
}
