// Walks kube-proxy's iptables rules the way the kernel does for the first packet of a connection:
// nat PREROUTING/OUTPUT -> KUBE-SERVICES -> KUBE-SVC/SVL/EXT/FW/NODEPORTS -> KUBE-SEP (DNAT),
// then filter INPUT/FORWARD/OUTPUT, then nat POSTROUTING (masquerade). First match wins; -j
// pushes a return frame, -g does not; MARK is applied; `-m statistic --mode random` splits the
// walk in two branches weighted p and 1-p, so each endpoint ends with its effective share.

import type { IptablesChain, IptablesDump, IptablesRule, IptablesTable, IptablesUnknownMatch } from './iptables-save.js';
import { parseIptablesSave, splitHostPort } from './iptables-save.js';
import type { ChainStep, EndpointBranch, FilterVerdict, MasqueradeScope, ServiceChain, ServicePacket, SessionAffinityRules } from './service-chain.js';
import { formatShare, intendedDropOf, roundShare, servicePortFromComment } from './service-chain.js';
import { cidrContainsIpv4, parseIpv4, parseIpv4Cidr, parseIpv4HostCidr } from '../net/ip.js';

export interface IptablesTraceOptions {
  /** false walks every rule in order, as the kernel does (the benchmark's baseline); default true. */
  ruleIndex?: boolean;
}

const MAX_JUMPS = 10_000;
const MAX_FORKS = 100_000;
const NON_TERMINATING_TARGETS = new Set(['LOG', 'NFLOG', 'CONNMARK', 'CT', 'NOTRACK', 'TRACE', 'TCPMSS', 'CHECKSUM', 'TOS', 'DSCP', 'TTL', 'AUDIT']);

type Verdict = 'accept' | 'drop' | 'reject' | 'dnat' | 'snat' | 'masquerade' | 'return-policy' | 'unknown';

interface PacketView {
  protocol: string;
  src: string;
  dst: string;
  srcNum: number | null; // parsed once: KUBE-SERVICES of a big cluster has 50k+ rules to test
  dstNum: number | null;
  dport: number;
  sport: number | undefined;
  inInterface: string | undefined;
  outInterface: string | undefined;
  dstLocal: boolean;
  srcLocal: boolean;
  ctstates: Set<string>;
}

interface Branch {
  weight: number;
  mark: number;
  steps: ChainStep[];
  verdict: Verdict;
  verdictRule: IptablesRule | null;
  chainsSeen: string[]; // every chain entered, in order
  markMasqRule: IptablesRule | null; // last rule that jumped to a chain setting the mark
  undecided: string[]; // matches this branch assumed to match without evaluating them
  markDropRule: IptablesRule | null; // the jump to KUBE-MARK-DROP (pre-1.24 layouts), if any
}

// What a rule's matches say about a packet: no match, a match, or a match that depends on
// something the walker cannot evaluate (then the walk follows both branches).
interface MatchResult {
  why: string;
  undecided: string | null;
}

interface Frame {
  chain: IptablesChain;
  index: number; // next position in `order` (or in chain.rules when order is null)
  order: readonly number[] | null; // rule indices worth testing for this packet, ascending
}

// Resolving one Service must not test every rule of a 50k-Service KUBE-SERVICES chain: a long
// chain is indexed once by each rule's plain `-d IP/32`, and a packet only visits the rules for
// its own destination plus those the index cannot rule out (no -d, `! -d`, a wider CIDR).
const INDEX_MIN_RULES = 64;

interface DestinationIndex {
  byDestination: Map<number, number[]>;
  unindexed: number[];
  orders: Map<number, number[]>; // merged visiting order per destination, built on first use
}

const destinationIndexes = new WeakMap<IptablesChain, DestinationIndex>();

// The rule's destination when it is a plain, non-negated `-d A.B.C.D/32`; null otherwise.
// Read from the raw line without parsing the rule: iptables-save prints -d before any -m, so a
// " -d " ahead of the first " -m " and the first quote is the real option.
function plainDestinationOf(raw: string): number | null {
  const at = raw.indexOf(' -d ');
  if (at === -1) return null;
  const m = raw.indexOf(' -m ');
  const q = raw.indexOf('"');
  if ((m !== -1 && m < at) || (q !== -1 && q < at) || raw.charCodeAt(at - 1) === 33 /* ! */) return null;
  const end = raw.indexOf(' ', at + 4);
  const value = raw.slice(at + 4, end === -1 ? undefined : end);
  return parseIpv4HostCidr(value);
}

function destinationIndexOf(chain: IptablesChain): DestinationIndex {
  let idx = destinationIndexes.get(chain);
  if (idx !== undefined) return idx;
  idx = { byDestination: new Map(), unindexed: [], orders: new Map() };
  chain.rules.forEach((rule, i) => {
    const dst = plainDestinationOf(rule.raw);
    if (dst === null) {
      idx!.unindexed.push(i);
      return;
    }
    const list = idx!.byDestination.get(dst);
    if (list === undefined) idx!.byDestination.set(dst, [i]);
    else list.push(i);
  });
  destinationIndexes.set(chain, idx);
  return idx;
}

function visitOrder(chain: IptablesChain, dstNum: number | null): readonly number[] | null {
  if (chain.rules.length < INDEX_MIN_RULES) return null;
  const idx = destinationIndexOf(chain);
  // A rule with a plain -d never matches a packet whose destination is not IPv4.
  if (dstNum === null) return idx.unindexed;
  const cached = idx.orders.get(dstNum);
  if (cached !== undefined) return cached;
  const own = idx.byDestination.get(dstNum) ?? [];
  const merged: number[] = [];
  let a = 0;
  let b = 0;
  while (a < own.length || b < idx.unindexed.length) {
    const x = own[a] ?? Infinity;
    const y = idx.unindexed[b] ?? Infinity;
    if (x < y) {
      merged.push(x);
      a++;
    } else {
      merged.push(y);
      b++;
    }
  }
  idx.orders.set(dstNum, merged);
  return merged;
}

class Walker {
  readonly notes = new Set<string>();
  readonly missingChains = new Set<string>();
  affinity: SessionAffinityRules | null = null;
  private forks = 0;
  constructor(
    private readonly table: IptablesTable,
    private readonly useIndex = true,
  ) {}

  private enter(chain: IptablesChain, p: PacketView): Frame {
    return { chain, index: 0, order: this.useIndex ? visitOrder(chain, p.dstNum) : null };
  }

  run(start: string, p: PacketView, mark: number, weight: number): Branch[] {
    let chain = this.table.chains.get(start);
    if (chain === undefined) {
      // an excerpt without the built-in chain: start where kube-proxy hooks in
      const hooked = { PREROUTING: 'KUBE-SERVICES', OUTPUT: 'KUBE-SERVICES', POSTROUTING: 'KUBE-POSTROUTING' }[start];
      const alt = hooked !== undefined && this.table.name === 'nat' ? this.table.chains.get(hooked) : undefined;
      const synthetic = this.table.name === 'filter' ? kubeProxyFilterHooks(this.table, start) : undefined;
      if (synthetic !== undefined) {
        this.notes.add(`filter table has no ${start} chain; walked kube-proxy's own jumps from it (${synthetic.rules.map((r) => r.target?.name).join(', ')})`);
        chain = synthetic;
      } else if (alt !== undefined) {
        this.notes.add(`${this.table.name} table has no ${start} chain; started at ${alt.name}, where kube-proxy hooks it`);
        chain = alt;
        start = alt.name;
      }
    }
    const base: Branch = {
      weight,
      mark,
      steps: [],
      verdict: 'accept',
      verdictRule: null,
      chainsSeen: [start],
      markMasqRule: null,
      undecided: [],
      markDropRule: null,
    };
    if (chain === undefined) {
      this.notes.add(`${this.table.name} table has no ${start} chain`);
      return [base];
    }
    const out: Branch[] = [];
    this.walk([this.enter(chain, p)], p, base, out);
    return out;
  }

  private walk(stack: Frame[], p: PacketView, b: Branch, out: Branch[]): void {
    let jumps = 0;
    for (;;) {
      const frame = stack[stack.length - 1];
      if (frame === undefined) {
        out.push(b);
        return;
      }
      const rules = frame.chain.rules;
      const order = frame.order;
      if (frame.index >= (order === null ? rules.length : order.length)) {
        // end of chain: return to the caller, or apply the built-in chain's policy
        stack.pop();
        if (stack.length === 0) {
          const policy = (frame.chain.policy ?? 'ACCEPT').toUpperCase();
          b.steps.push({
            table: this.table.name,
            chain: frame.chain.name,
            rule: `policy ${policy}`,
            why: 'end of built-in chain',
          });
          b.verdict = policy === 'DROP' ? 'drop' : 'accept';
          if (policy === 'ACCEPT') b.verdict = 'return-policy';
          out.push(b);
          return;
        }
        continue;
      }
      const rule = rules[order === null ? frame.index : (order[frame.index] as number)] as IptablesRule;
      frame.index++;
      const m = this.matches(rule, p, b.mark);
      if (m === null) continue;
      const why = m.why;
      const target = rule.target;
      if (m.undecided !== null && target !== null) {
        // Not evaluated: the matched side is walked as its own branch, marked undecided and
        // carrying no share; this branch goes on as if the rule did not match.
        if (++this.forks > MAX_FORKS) continue;
        const taken: Branch = { ...b, steps: [...b.steps], chainsSeen: [...b.chainsSeen], undecided: [...b.undecided, m.undecided] };
        const takenStack = stack.map((f) => ({ chain: f.chain, index: f.index, order: f.order }));
        if (this.apply(rule, `${why}, if ${m.undecided} matches`, takenStack, taken, out, p)) this.walk(takenStack, p, taken, out);
        continue;
      }
      const stat = rule.statistic;
      if (stat !== null) {
        const prob = stat.mode === 'nth' ? 1 / (stat.every ?? 1) : (stat.probability ?? 1);
        const pTaken = stat.negated ? 1 - prob : prob;
        if (pTaken <= 0) continue;
        if (pTaken < 1 && ++this.forks > MAX_FORKS) {
          this.notes.add(`more than ${MAX_FORKS} statistic branches: the rest were not followed`);
          b.weight *= 1 - pTaken;
          continue;
        }
        if (pTaken < 1) {
          // fork: the taken branch continues separately; this one goes on with 1-p
          const taken: Branch = { ...b, weight: b.weight * pTaken, steps: [...b.steps], chainsSeen: [...b.chainsSeen], undecided: [...b.undecided] };
          const takenStack = stack.map((f) => ({ chain: f.chain, index: f.index, order: f.order }));
          if (this.apply(rule, why + `, probability ${formatShare(pTaken)} taken`, takenStack, taken, out, p)) {
            this.walk(takenStack, p, taken, out);
          }
          b.weight *= 1 - pTaken;
          continue;
        }
      }
      if (target === null) continue;
      if (!this.apply(rule, why, stack, b, out, p)) return;
      if (++jumps > MAX_JUMPS) {
        this.notes.add(`walk stopped after ${MAX_JUMPS} jumps (rule loop?)`);
        out.push(b);
        return;
      }
    }
  }

  // Applies a matched rule's target. Returns false when the walk of this branch is over.
  private apply(rule: IptablesRule, why: string, stack: Frame[], b: Branch, out: Branch[], p: PacketView): boolean {
    const target = rule.target;
    if (target === null) return true;
    const step: ChainStep = { table: this.table.name, chain: rule.chain, rule: rule.raw, why };
    b.steps.push(step);
    const name = target.name;
    const userChain = this.table.chains.get(name);
    if (userChain !== undefined && !userChain.builtin) {
      if (name === 'KUBE-MARK-DROP') b.markDropRule = rule;
      else if (b.markMasqRule === null && (name === 'KUBE-MARK-MASQ' || chainSetsMark(userChain))) b.markMasqRule = rule;
      b.chainsSeen.push(name);
      if (target.kind === 'goto') stack.pop();
      stack.push(this.enter(userChain, p));
      return true;
    }
    switch (name) {
      case 'RETURN':
        stack.pop();
        if (stack.length === 0) {
          b.verdict = 'return-policy';
          out.push(b);
          return false;
        }
        return true;
      case 'ACCEPT':
        return this.finish(b, 'accept', rule, out);
      case 'DROP':
        return this.finish(b, 'drop', rule, out);
      case 'REJECT':
        return this.finish(b, 'reject', rule, out);
      case 'DNAT':
        return this.finish(b, 'dnat', rule, out);
      case 'SNAT':
        return this.finish(b, 'snat', rule, out);
      case 'MASQUERADE':
        return this.finish(b, 'masquerade', rule, out);
      case 'MARK': {
        const x = target.setXmark;
        if (x !== null) b.mark = ((b.mark & ~x.mask) ^ x.value) >>> 0;
        return true;
      }
      default:
        // LOG, CONNMARK, NOTRACK, ... do not end the walk. A user chain missing from an excerpt
        // ends this branch: what it would do is unknown.
        if (NON_TERMINATING_TARGETS.has(name)) return true;
        this.missingChains.add(name);
        b.verdict = 'unknown';
        b.verdictRule = rule;
        out.push(b);
        return false;
    }
  }

  private finish(b: Branch, verdict: Verdict, rule: IptablesRule, out: Branch[]): boolean {
    b.verdict = verdict;
    b.verdictRule = rule;
    out.push(b);
    return false;
  }

  // Null when the rule does not apply; otherwise a short text of the matches that applied.
  private matches(rule: IptablesRule, p: PacketView, mark: number): MatchResult | null {
    const why: string[] = [];
    const s = rule.source;
    if (s !== null) {
      if (cidrContainsIpv4(s.cidr, p.srcNum) === s.negated) return null;
      why.push(`${s.negated ? '! ' : ''}-s ${s.cidr}`);
    }
    const d = rule.destination;
    if (d !== null) {
      if (cidrContainsIpv4(d.cidr, p.dstNum) === d.negated) return null;
      why.push(`${d.negated ? '! ' : ''}-d ${d.cidr}`);
    }
    const proto = rule.protocol;
    if (proto !== null) {
      const eq = protocolMatches(proto.name, p.protocol);
      if (eq === proto.negated) return null;
      why.push(`-p ${proto.name}`);
    }
    if (rule.inInterface !== null) {
      if (interfaceMatches(rule.inInterface.name, p.inInterface) === rule.inInterface.negated) return null;
      why.push(`-i ${rule.inInterface.name}`);
    }
    if (rule.outInterface !== null) {
      if (interfaceMatches(rule.outInterface.name, p.outInterface) === rule.outInterface.negated) return null;
      why.push(`-o ${rule.outInterface.name}`);
    }
    const dp = rule.destinationPorts;
    if (dp !== null) {
      const inRange = dp.ports.some((r) => p.dport >= r.from && p.dport <= r.to);
      if (inRange === dp.negated) return null;
      why.push(`--dport ${p.dport}`);
    }
    const sp = rule.sourcePorts;
    if (sp !== null) {
      if (p.sport === undefined) {
        this.notes.add(`source port unknown: rule with --sport assumed not to match (in ${rule.chain})`);
        return null;
      }
      const sport = p.sport;
      if (sp.ports.some((r) => sport >= r.from && sport <= r.to) === sp.negated) return null;
    }
    const at = rule.addrType;
    if (at !== null) {
      let ok = true;
      if (at.dstType !== null) ok = at.dstType === 'LOCAL' ? p.dstLocal : !p.dstLocal && at.dstType === 'UNICAST';
      if (ok && at.srcType !== null) ok = at.srcType === 'LOCAL' ? p.srcLocal : at.srcType === 'UNICAST';
      if (ok === at.negated) return null;
      why.push(`addrtype ${at.dstType !== null ? `dst ${at.dstType}` : `src ${at.srcType}`}`);
    }
    const m = rule.mark;
    if (m !== null) {
      const eq = ((mark & m.mask) >>> 0) === m.value;
      if (eq === m.negated) return null;
      why.push(`mark 0x${mark.toString(16)}${m.negated ? ' !' : ' '}matches 0x${m.value.toString(16)}/0x${m.mask.toString(16)}`);
    }
    const ct = rule.conntrack;
    if (ct !== null) {
      const any = ct.states.some((st) => p.ctstates.has(st));
      if (any === ct.negated) return null;
      why.push(`ctstate ${[...p.ctstates].join(',')}`);
    }
    if (rule.comment !== null) why.push(`"${rule.comment}"`);
    // Matches the walker does not model come last, once every modelled match has applied.
    let undecided: string | null = null;
    for (const u of rule.unknownMatches) {
      const r = this.unmodelledMatch(u, rule);
      if (r === 'no-match') return null;
      if (r === 'match') {
        if (u.module !== null) why.push(`-m ${u.module}`);
        continue;
      }
      undecided = undecided === null ? r : `${undecided} ${r}`;
    }
    if (undecided !== null) this.notes.add(`not evaluated: ${undecided} (in ${rule.chain}); both outcomes were followed`);
    return { why: why.length === 0 ? 'matches every packet' : why.join(', '), undecided };
  }

  // kube-proxy's own `-m recent` and `-m nfacct` are known: `--set` and nfacct only record (always
  // match); `--rcheck`/`--update` match a client seen before, so the first connection of a new
  // client (the packet traced) does not match them. Anything else is undecided (its text).
  private unmodelledMatch(u: IptablesUnknownMatch, rule: IptablesRule): 'match' | 'no-match' | string {
    const text = u.module !== null ? `-m ${u.module} ${u.text}` : u.text;
    if (u.module === 'nfacct') return 'match';
    if (u.module === 'recent' && !u.text.startsWith('!')) {
      if (/(^| )--(rcheck|update)( |$)/.test(u.text)) {
        if (this.affinity === null) {
          const seconds = /--seconds (\d+)/.exec(u.text);
          this.affinity = { timeoutSeconds: seconds !== null ? Number(seconds[1]) : null, rule: rule.raw };
        }
        return 'no-match';
      }
      if (/(^| )--set( |$)/.test(u.text)) return 'match';
    }
    return text;
  }
}

// kube-proxy's jumps from the filter table's built-in chains (1.29 layout). An excerpt (a unit
// test's expected output, a grep) often has only the KUBE-* chains; these stand in for the
// built-in chain, limited to the chains the excerpt has.
const KUBE_PROXY_FILTER_HOOKS: Record<string, Array<[string, boolean]>> = {
  INPUT: [['KUBE-PROXY-FIREWALL', true], ['KUBE-NODEPORTS', false], ['KUBE-EXTERNAL-SERVICES', true], ['KUBE-FIREWALL', false]],
  FORWARD: [['KUBE-PROXY-FIREWALL', true], ['KUBE-FORWARD', false], ['KUBE-SERVICES', true], ['KUBE-EXTERNAL-SERVICES', true]],
  OUTPUT: [['KUBE-PROXY-FIREWALL', true], ['KUBE-SERVICES', true], ['KUBE-FIREWALL', false]],
};

function kubeProxyFilterHooks(table: IptablesTable, builtin: string): IptablesChain | undefined {
  const hooks = (KUBE_PROXY_FILTER_HOOKS[builtin] ?? []).filter(([name]) => table.chains.has(name));
  if (hooks.length === 0) return undefined;
  const lines = hooks.map(([name, onlyNew]) => `-A ${builtin}${onlyNew ? ' -m conntrack --ctstate NEW' : ''} -j ${name}`);
  return parseIptablesSave(`*filter\n:${builtin} ACCEPT [0:0]\n${lines.join('\n')}\nCOMMIT\n`).tables.get('filter')?.chains.get(builtin);
}

function chainSetsMark(chain: IptablesChain): boolean {
  const first = chain.rules[0];
  return chain.rules.length <= 2 && first !== undefined && first.target?.name === 'MARK';
}

const PROTO_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '132': 'sctp' };

function protocolMatches(ruleProto: string, packetProto: string): boolean {
  const r = ruleProto.toLowerCase();
  if (r === 'all' || r === '0') return true;
  return (PROTO_NUMBERS[r] ?? r) === packetProto;
}

function interfaceMatches(pattern: string, iface: string | undefined): boolean {
  if (iface === undefined) return false;
  if (pattern.endsWith('+')) return iface.startsWith(pattern.slice(0, -1));
  return pattern === iface;
}

function viewOf(packet: ServicePacket, dst: string, dport: number, dnatted: boolean): PacketView {
  const local = packet.localAddresses ?? [];
  const dstLocal = dst === packet.destinationIp ? packet.destinationIsLocal === true || local.includes(dst) : local.includes(dst);
  return {
    protocol: packet.protocol,
    src: packet.sourceIp,
    dst,
    srcNum: parseIpv4(packet.sourceIp),
    dstNum: parseIpv4(dst),
    dport,
    sport: packet.sourcePort,
    inInterface: packet.hook === 'prerouting' ? packet.inInterface : undefined,
    outInterface: packet.outInterface,
    dstLocal,
    srcLocal: packet.hook === 'output' || local.includes(packet.sourceIp),
    ctstates: new Set(dnatted ? ['NEW', 'DNAT'] : ['NEW']),
  };
}

// One nat branch followed through the filter table and nat POSTROUTING.
interface Traced {
  nat: Branch;
  dnat: { ip: string; port: number | null } | null;
  filterVerdict: FilterVerdict;
  filterRule: IptablesRule | null;
  filterSteps: ChainStep[];
  post: Branch | null;
}

interface TraceOutcome {
  outcome: ServiceChain['outcome'];
  outcomeRule: string | null;
}

// Traces one packet through a parsed dump and returns the typed ServiceChain.
export function buildServiceChainFromIptables(dump: IptablesDump, packet: ServicePacket, options: IptablesTraceOptions = {}): ServiceChain {
  const notes = new Set<string>();
  if (!dump.complete) {
    notes.add(`the iptables dump is incomplete (${dump.warnings[0] ?? 'truncated or elided'}); missing rules are not traced`);
  }
  const nat = dump.tables.get('nat');
  const filter = dump.tables.get('filter');
  if (nat === undefined) notes.add('no nat table in the dump');
  if (filter === undefined) notes.add('no filter table in the dump: REJECT/DROP rules not evaluated');

  const useIndex = options.ruleIndex !== false;
  const natWalker = nat !== undefined ? new Walker(nat, useIndex) : null;
  const filterWalker = filter !== undefined ? new Walker(filter, useIndex) : null;
  const startNat = packet.hook === 'output' ? 'OUTPUT' : 'PREROUTING';
  const original = viewOf(packet, packet.destinationIp, packet.destinationPort, false);
  const natBranches: Branch[] =
    natWalker !== null
      ? natWalker.run(startNat, original, 0, 1)
      : [{ weight: 1, mark: 0, steps: [], verdict: 'accept', verdictRule: null, chainsSeen: [], markMasqRule: null, undecided: [], markDropRule: null }];
  const traced = natBranches.map((nb) => traceAfterNat(nb, packet, natWalker, filterWalker));
  addWalkerNotes(notes, natWalker, filterWalker);

  const decided = traced.filter((t) => t.nat.undecided.length === 0);
  const undecidedDnat = traced.filter((t) => t.nat.undecided.length > 0 && t.dnat !== null);
  for (const t of undecidedDnat) {
    notes.add(`if ${t.nat.undecided.join(' and ')} matched, the packet would go to ${t.dnat!.ip}${t.dnat!.port !== null ? `:${t.dnat!.port}` : ''}`);
  }
  const { endpoints, unmatched } = mergeEndpointBranches(decided);
  const { outcome, outcomeRule } = decideOutcome(endpoints, decided, undecidedDnat, notes);
  const { serviceChain, servicePort } = serviceOfTrace(traced, outcome, outcomeRule);
  const masqueradeScope = serviceChain !== null && nat !== undefined ? masqueradeScopeOf(nat.chains.get(serviceChain)) : null;
  const share = endpoints.length > 0 ? roundShare(unmatched) : 0;
  if (natWalker?.affinity) {
    notes.add(`sessionAffinity ClientIP: a client seen in the last ${natWalker.affinity.timeoutSeconds ?? '?'}s goes back to its endpoint; the shares are a new client's`);
  }
  if (share > 0) notes.add(`${formatShare(share)} of new connections reach no DNAT rule`);

  return {
    mode: 'iptables',
    packet,
    servicePort,
    serviceChain,
    steps: commonPrefix(decided.map((t) => t.nat.steps)),
    endpoints,
    outcome,
    outcomeRule,
    unmatchedShare: share,
    masqueradeScope,
    intendedDrop: intendedDropOfTrace(outcome, outcomeRule, decided),
    sessionAffinity: natWalker?.affinity ?? null,
    undecided: [...new Set(traced.flatMap((t) => t.nat.undecided))],
    notes: [...notes],
  };
}

// After the nat table's DNAT (or none): the filter table's verdict for the rewritten packet, then
// nat POSTROUTING (masquerade) when the packet leaves the node.
function traceAfterNat(nb: Branch, packet: ServicePacket, natWalker: Walker | null, filterWalker: Walker | null): Traced {
  const dnat =
    nb.verdict === 'dnat' && nb.verdictRule?.target?.toDestination
      ? splitHostPort(nb.verdictRule.target.toDestination)
      : null;
  const dst = dnat?.ip ?? packet.destinationIp;
  const dport = dnat?.port ?? packet.destinationPort;
  const view = viewOf(packet, dst, dport, dnat !== null);
  let filterVerdict: FilterVerdict = 'not-evaluated';
  let filterRule: IptablesRule | null = null;
  let filterSteps: ChainStep[] = [];
  if (filterWalker !== null) {
    const startFilter = packet.hook === 'output' ? 'OUTPUT' : view.dstLocal ? 'INPUT' : 'FORWARD';
    // the filter table has no statistic rules in kube-proxy's layout; take the heaviest branch
    const fbs = filterWalker.run(startFilter, view, nb.mark, 1);
    const fb = fbs.reduce((a, c) => (c.weight > a.weight ? c : a));
    filterVerdict = fb.verdict === 'drop' ? 'drop' : fb.verdict === 'reject' ? 'reject' : 'accept';
    filterRule = fb.verdictRule;
    filterSteps = fb.steps;
  }
  let post: Branch | null = null;
  const leavesNode = packet.hook === 'output' || !view.dstLocal;
  if (natWalker !== null && leavesNode && filterVerdict !== 'drop' && filterVerdict !== 'reject') {
    const pbs = natWalker.run('POSTROUTING', view, nb.mark, 1);
    post = pbs.reduce((a, c) => (c.weight > a.weight ? c : a));
  }
  return { nat: nb, dnat, filterVerdict, filterRule, filterSteps, post };
}

function addWalkerNotes(notes: Set<string>, natWalker: Walker | null, filterWalker: Walker | null): void {
  for (const w of [natWalker, filterWalker]) {
    if (w === null || w.missingChains.size === 0) continue;
    const names = [...w.missingChains];
    notes.add(
      `${names.length} chain(s) jumped to are not in the dump (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}); those branches are unknown`,
    );
  }
  for (const n of natWalker?.notes ?? []) notes.add(n);
  for (const n of filterWalker?.notes ?? []) notes.add(n);
}

// Endpoint branches, merged by endpoint chain (a session-affinity path and the random path can
// reach the same KUBE-SEP chain); `unmatched` is the share that reached no DNAT.
function mergeEndpointBranches(decided: readonly Traced[]): { endpoints: EndpointBranch[]; unmatched: number } {
  const byChain = new Map<string, EndpointBranch>();
  let unmatched = 0;
  for (const t of decided) {
    if (t.dnat === null) {
      unmatched += t.nat.weight;
      continue;
    }
    const rule = t.nat.verdictRule as IptablesRule;
    const sep = [...t.nat.chainsSeen].reverse().find((c) => c.startsWith('KUBE-SEP-')) ?? rule.chain;
    const existing = byChain.get(sep);
    if (existing !== undefined) {
      existing.probability += t.nat.weight;
      continue;
    }
    byChain.set(sep, endpointBranchOf(t, sep, rule));
  }
  const endpoints = [...byChain.values()];
  for (const e of endpoints) e.probability = roundShare(e.probability);
  return { endpoints, unmatched };
}

function endpointBranchOf(t: Traced, sep: string, dnatRule: IptablesRule): EndpointBranch {
  const masqRule = t.post?.verdict === 'masquerade' || t.post?.verdict === 'snat' ? t.post.verdictRule : null;
  // not masqueraded: cite the RETURN that skipped it (KUBE-POSTROUTING's mark check), else the end
  const postSteps = t.post?.steps ?? [];
  const returnStep =
    t.post !== null && masqRule === null
      ? (postSteps.find((st) => st.rule.includes('--mark') && st.rule.endsWith('-j RETURN')) ??
        [...postSteps].reverse().find((st) => st.rule.endsWith('-j RETURN')) ??
        postSteps[postSteps.length - 1])
      : undefined;
  return {
    endpointChain: sep,
    probability: t.nat.weight,
    dnatTarget: t.dnat!,
    masquerade: {
      masquerade: masqRule !== null,
      markedBy: t.nat.markMasqRule?.raw ?? null,
      decidedBy: masqRule?.raw ?? returnStep?.rule ?? null,
    },
    counters: dnatRule.counters,
    filterVerdict: t.filterVerdict,
    filterRule: t.filterRule?.raw ?? null,
    steps: [...t.nat.steps, ...t.filterSteps, ...(t.post?.steps ?? [])],
  };
}

// DNAT wins; otherwise the filter table's REJECT/DROP; otherwise no kube-proxy rule.
function decideOutcome(endpoints: readonly EndpointBranch[], decided: readonly Traced[], undecidedDnat: readonly Traced[], notes: Set<string>): TraceOutcome {
  if (endpoints.length > 0) {
    return { outcome: 'dnat', outcomeRule: decided.find((t) => t.dnat !== null)?.nat.verdictRule?.raw ?? null };
  }
  if (undecidedDnat.length > 0) {
    // no decided branch reaches an endpoint, one behind an unevaluated match does: not "no rule"
    return { outcome: 'undecided', outcomeRule: undecidedDnat[0]?.nat.verdictRule?.raw ?? null };
  }
  const natStop = decided.find((t) => t.nat.verdict === 'drop' || t.nat.verdict === 'reject');
  const filterStop = decided.find((t) => t.filterVerdict === 'reject' || t.filterVerdict === 'drop');
  if (natStop !== undefined) {
    return { outcome: natStop.nat.verdict === 'drop' ? 'drop' : 'reject', outcomeRule: natStop.nat.verdictRule?.raw ?? null };
  }
  if (filterStop !== undefined && filterStop.filterRule !== null && isKubeProxyRule(filterStop.filterRule)) {
    return { outcome: filterStop.filterVerdict === 'drop' ? 'drop' : 'reject', outcomeRule: filterStop.filterRule.raw };
  }
  if (filterStop !== undefined) {
    // dropped, but not by kube-proxy (e.g. FORWARD policy DROP): no Service rule matched
    notes.add(`no kube-proxy rule matched, and the filter table drops the packet: ${filterStop.filterRule?.raw ?? 'policy DROP'}`);
  }
  return { outcome: 'no-match', outcomeRule: null };
}

// The Service: the first KUBE-SVC/SVL chain entered, and the comment of the rule that led there.
function serviceOfTrace(traced: readonly Traced[], outcome: ServiceChain['outcome'], outcomeRule: string | null): { serviceChain: string | null; servicePort: string | null } {
  const allSteps = traced.flatMap((t) => t.nat.steps);
  const svcStep = allSteps.find((s) => /-[jg] KUBE-(SVC|SVL|EXT|FW)-/.test(s.rule));
  const serviceChain =
    traced.flatMap((t) => t.nat.chainsSeen).find((c) => c.startsWith('KUBE-SVC-') || c.startsWith('KUBE-SVL-')) ?? null;
  let servicePort: string | null = null;
  const commentSource =
    svcStep?.rule ?? (outcome === 'reject' || outcome === 'drop' ? outcomeRule : null) ?? null;
  if (commentSource !== null) servicePort = servicePortFromComment(commentOf(commentSource));
  return { serviceChain, servicePort };
}

// Old layouts mark the packet (KUBE-MARK-DROP) where the policy is decided and drop it later in
// filter KUBE-FIREWALL: the marking rule carries the reason.
function intendedDropOfTrace(outcome: ServiceChain['outcome'], outcomeRule: string | null, decided: readonly Traced[]): ServiceChain['intendedDrop'] {
  const markDrop = decided.find((t) => t.nat.markDropRule !== null)?.nat.markDropRule ?? null;
  const dropReason = outcome === 'drop' || outcome === 'reject' ? (intendedDropOf(outcomeRule ?? '') ?? (markDrop !== null ? intendedDropOf(markDrop.raw) : null)) : null;
  const dropRule = dropReason !== null && intendedDropOf(outcomeRule ?? '') === null ? (markDrop?.raw ?? outcomeRule) : outcomeRule;
  return dropReason !== null && dropRule !== null ? { reason: dropReason, rule: dropRule } : null;
}

function isKubeProxyRule(rule: IptablesRule): boolean {
  return rule.chain.startsWith('KUBE-') || (rule.comment ?? '').includes('has no endpoints');
}

function commentOf(raw: string): string | null {
  const i = raw.indexOf('--comment ');
  if (i === -1) return null;
  const rest = raw.slice(i + '--comment '.length);
  if (rest.startsWith('"')) {
    const end = rest.indexOf('"', 1);
    return rest.slice(1, end === -1 ? undefined : end);
  }
  const sp = rest.indexOf(' ');
  return sp === -1 ? rest : rest.slice(0, sp);
}

function commonPrefix(lists: ChainStep[][]): ChainStep[] {
  const first = lists[0];
  if (first === undefined) return [];
  let n = first.length;
  for (const l of lists) {
    let i = 0;
    while (i < n && i < l.length && l[i]?.rule === first[i]?.rule) i++;
    n = i;
  }
  return first.slice(0, n);
}

function masqueradeScopeOf(chain: IptablesChain | undefined): MasqueradeScope | null {
  if (chain === undefined) return null;
  for (const r of chain.rules) {
    if (r.target?.name === 'KUBE-MARK-MASQ' && r.source !== null && r.source.negated) {
      return { cidr: r.source.cidr, rule: r.raw };
    }
  }
  return null;
}

// ---- Whole-dump helpers --------------------------------------------------------------------

export type ProgrammedPortKind = 'cluster-ip' | 'external-ip' | 'load-balancer' | 'node-port' | 'other';

export interface ProgrammedServicePort {
  servicePort: string; // "kube-system/kube-dns:dns"
  namespace: string;
  name: string;
  portName: string; // "" for an unnamed port
  kind: ProgrammedPortKind;
  protocol: string | null;
  ip: string | null; // null for NodePorts
  port: number | null;
  chain: string | null; // KUBE-SVC-/KUBE-EXT-/... it jumps to; null for a REJECT
  hasEndpoints: boolean;
  endpointCount: number; // KUBE-SEP jumps in the service chain
  rule: string;
}

// Every Service port kube-proxy programmed, from nat KUBE-SERVICES / KUBE-NODEPORTS and the
// filter table's "has no endpoints" REJECTs, for cross-checking against EndpointSlices.
export function listProgrammedServicePorts(dump: IptablesDump): ProgrammedServicePort[] {
  const out: ProgrammedServicePort[] = [];
  const nat = dump.tables.get('nat');
  const push = (rule: IptablesRule, kind: ProgrammedPortKind, chainName: string | null, hasEndpoints: boolean): void => {
    const sp = servicePortFromComment(rule.comment);
    if (sp === null) return;
    const slash = sp.indexOf('/');
    const colon = sp.indexOf(':', slash) === -1 ? sp.length : sp.indexOf(':', slash);
    let endpointCount = 0;
    if (nat !== undefined && chainName !== null) endpointCount = countEndpoints(nat, chainName, 0);
    out.push({
      servicePort: sp,
      namespace: sp.slice(0, slash),
      name: sp.slice(slash + 1, colon),
      portName: sp.slice(colon + 1),
      kind,
      protocol: rule.protocol?.name ?? null,
      ip: rule.destination !== null ? (rule.destination.cidr.split('/')[0] ?? null) : null,
      port: rule.destinationPorts?.ports[0]?.from ?? null,
      chain: chainName,
      hasEndpoints: hasEndpoints && (chainName === null || endpointCount > 0),
      endpointCount,
      rule: rule.raw,
    });
  };
  for (const chainName of ['KUBE-SERVICES', 'KUBE-NODEPORTS']) {
    for (const rule of nat?.chains.get(chainName)?.rules ?? []) {
      const t = rule.target?.name ?? '';
      if (!/^KUBE-(SVC|SVL|EXT|FW|XLB)-/.test(t)) continue;
      const c = rule.comment ?? '';
      const kind: ProgrammedPortKind =
        chainName === 'KUBE-NODEPORTS'
          ? 'node-port'
          : c.endsWith('cluster IP')
            ? 'cluster-ip'
            : c.endsWith('external IP')
              ? 'external-ip'
              : c.endsWith('loadbalancer IP')
                ? 'load-balancer'
                : 'other';
      push(rule, kind, t, true);
    }
  }
  for (const chainName of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES']) {
    for (const rule of dump.tables.get('filter')?.chains.get(chainName)?.rules ?? []) {
      if (rule.target?.name !== 'REJECT' && rule.target?.name !== 'DROP') continue;
      // "has no endpoints" (REJECT) and, for a Local traffic policy, "has no local endpoints" (DROP):
      // both are kube-proxy's rules for the port, written on purpose
      const comment = rule.comment ?? '';
      if (!comment.includes('has no endpoints') && !comment.includes('has no local endpoints')) continue;
      const kind: ProgrammedPortKind =
        rule.addrType?.dstType === 'LOCAL' && rule.destination === null ? 'node-port' : chainName === 'KUBE-EXTERNAL-SERVICES' ? 'external-ip' : 'cluster-ip';
      push(rule, kind, null, false);
    }
  }
  return out;
}

function countEndpoints(nat: IptablesTable, chainName: string, depth: number): number {
  const chain = nat.chains.get(chainName);
  if (chain === undefined || depth > 4) return 0;
  const seps = new Set<string>();
  let viaChains = 0;
  for (const r of chain.rules) {
    // the target is the last "-j X" of the line; read it without parsing the whole rule
    const j = r.raw.lastIndexOf(' -j ');
    const g = r.raw.lastIndexOf(' -g ');
    const at = Math.max(j, g);
    if (at === -1) continue;
    const end = r.raw.indexOf(' ', at + 4);
    const t = r.raw.slice(at + 4, end === -1 ? undefined : end);
    if (t.startsWith('KUBE-SEP-')) seps.add(t);
    else if (/^KUBE-(SVC|SVL|EXT|FW)-/.test(t)) viaChains = Math.max(viaChains, countEndpoints(nat, t, depth + 1));
  }
  return seps.size > 0 ? seps.size : viaChains;
}

export interface MasqueradeCidrRule {
  cidr: string;
  chain: string;
  servicePort: string | null;
  rule: string;
}

// The `! -s CIDR ... -j KUBE-MARK-MASQ` rules (kube-proxy's --cluster-cidr) and the CIDR most of
// them use, so the analysis can say when it does not cover the pod network (seed 002).
export function findMasqueradeScopes(dump: IptablesDump): { clusterCidr: string | null; rules: MasqueradeCidrRule[] } {
  const rules: MasqueradeCidrRule[] = [];
  const counts = new Map<string, number>();
  const nat = dump.tables.get('nat');
  for (const chain of nat?.chains.values() ?? []) {
    if (!chain.name.startsWith('KUBE-SVC-') && !chain.name.startsWith('KUBE-SERVICES') && !chain.name.startsWith('KUBE-SVL-')) continue;
    for (const r of chain.rules) {
      // cheap text test first, so the statistic rules of 50k chains are never parsed
      if (!r.raw.endsWith('-j KUBE-MARK-MASQ') || !r.raw.includes(' ! -s ')) continue;
      if (r.target?.name !== 'KUBE-MARK-MASQ' || r.source === null || !r.source.negated) continue;
      rules.push({ cidr: r.source.cidr, chain: chain.name, servicePort: servicePortFromComment(r.comment), rule: r.raw });
      counts.set(r.source.cidr, (counts.get(r.source.cidr) ?? 0) + 1);
    }
  }
  let clusterCidr: string | null = null;
  let best = 0;
  for (const [cidr, n] of counts) {
    if (n > best && parseIpv4Cidr(cidr) !== null) {
      best = n;
      clusterCidr = cidr;
    }
  }
  return { clusterCidr, rules };
}
