// Walks kube-proxy's nftables table for the first packet of a connection, the way the kernel
// runs it: base chains of each hook in priority order (prerouting: filter-prerouting-pre-dnat
// -110, nat-prerouting -100; then input or forward; then postrouting), jump/goto/return,
// verdict-map lookups (`ip daddr . meta l4proto . th dport vmap @service-ips`), mark changes,
// and `numgen random mod N vmap {...}` splits into N branches of 1/N each.

import type { NftChain, NftRule, NftSet, NftTable, NftVerdict } from './nftables.js';
import { parseVerdict, servicePortFromNftChain } from './nftables.js';
import { splitHostPort } from './iptables-save.js';
import type { ChainStep, EndpointBranch, FilterVerdict, IntendedDropReason, ServiceChain, ServicePacket, SessionAffinityRules } from './service-chain.js';
import { formatShare, roundShare } from './service-chain.js';
import { cidrContainsIp } from '../net/ip.js';

const MAX_JUMPS = 10_000;

interface NftBranch {
  weight: number;
  mark: number;
  dst: string;
  dport: number;
  dnat: { ip: string; port: number | null } | null;
  dnatRule: NftRule | null;
  steps: ChainStep[];
  chainsSeen: string[];
  markRule: NftRule | null;
  masqRule: NftRule | null;
  returnRule: NftRule | null; // the masquerading chain's "mark ... == 0 return"
  final: 'drop' | 'reject' | null;
  finalRule: NftRule | null;
  filterRule: NftRule | null;
  undecided: string[]; // rules this branch assumed to match without evaluating them
}

type RuleResult =
  | { kind: 'nomatch' }
  | { kind: 'unknown'; text: string }
  | { kind: 'continue'; why: string } // matched, no verdict (mark set, counter, ...)
  | { kind: 'verdict'; verdict: NftVerdict; why: string }
  | { kind: 'dnat'; to: string; why: string }
  | { kind: 'masquerade'; why: string }
  | { kind: 'fork'; entries: { share: number; verdict: NftVerdict }[]; why: string };

interface Ctx {
  packet: ServicePacket;
  src: string;
  dst: string;
  dport: number;
  mark: number;
  dstLocal: boolean;
  srcLocal: boolean;
}

export class NftWalker {
  readonly notes = new Set<string>();
  affinity: SessionAffinityRules | null = null;
  private readonly tableLabel: string;
  constructor(private readonly table: NftTable) {
    this.tableLabel = `${table.family} ${table.name}`;
  }

  baseChains(hook: string): NftChain[] {
    return [...this.table.chains.values()]
      .filter((c) => c.hook?.hook === hook)
      .sort((a, b) => (a.hook?.priority ?? 0) - (b.hook?.priority ?? 0));
  }

  // Runs one base chain for a branch; returns the branches that come out (split by numgen).
  runBase(chain: NftChain, b: NftBranch, packet: ServicePacket): NftBranch[] {
    const out: NftBranch[] = [];
    this.walk([{ chain, index: 0 }], b, packet, out);
    return out;
  }

  private walk(stack: { chain: NftChain; index: number }[], b: NftBranch, packet: ServicePacket, out: NftBranch[]): void {
    let jumps = 0;
    for (;;) {
      const frame = stack[stack.length - 1];
      if (frame === undefined) {
        out.push(b);
        return;
      }
      if (frame.index >= frame.chain.rules.length) {
        stack.pop();
        if (stack.length === 0) {
          if (frame.chain.hook?.policy === 'drop') {
            b.final = 'drop';
            b.steps.push(this.step(frame.chain.name, 'policy drop', 'end of base chain'));
          }
          out.push(b);
          return;
        }
        continue;
      }
      const rule = frame.chain.rules[frame.index] as NftRule;
      frame.index++;
      const ctx: Ctx = {
        packet,
        src: packet.sourceIp,
        dst: b.dst,
        dport: b.dport,
        mark: b.mark,
        dstLocal: isLocal(packet, b.dst),
        srcLocal: packet.hook === 'output' || (packet.localAddresses ?? []).includes(packet.sourceIp),
      };
      const r = this.evalRule(rule, ctx);
      if (r.kind === 'nomatch') continue;
      if (r.kind === 'unknown') {
        // Follow both: this branch as if the rule did not match, and (when the rule ends in a
        // verdict) an undecided branch that takes it.
        const verdictAt = rule.tokens.findIndex((_t, k) => k > 0 && parseVerdict(rule.tokens.slice(k)) !== null && rule.tokens.length - k <= 2);
        const v = verdictAt === -1 ? null : parseVerdict(rule.tokens.slice(verdictAt));
        this.notes.add(`not evaluated: "${r.text}" in ${rule.chain}; ${v !== null ? 'both outcomes were followed' : 'assumed not to match'}`);
        if (v !== null) {
          const taken: NftBranch = { ...b, steps: [...b.steps, this.step(rule.chain, rule.raw, 'if this rule matches (not evaluated)')], chainsSeen: [...b.chainsSeen], undecided: [...b.undecided, r.text] };
          const ns = stack.map((f) => ({ chain: f.chain, index: f.index }));
          if (this.applyVerdict(v, rule, ns, taken, out)) this.walk(ns, taken, packet, out);
        }
        continue;
      }
      b.mark = ctx.mark;
      b.steps.push(this.step(rule.chain, rule.raw, r.why));
      if (rule.raw.includes('mark-for-masquerade') && b.markRule === null) b.markRule = rule;
      if (r.kind === 'continue') continue;
      if (r.kind === 'dnat') {
        b.dnat = splitHostPort(r.to);
        b.dnatRule = rule;
        b.dst = b.dnat.ip;
        b.dport = b.dnat.port ?? b.dport;
        stack.length = 0; // a NAT statement ends the chain traversal for this hook
        out.push(b);
        return;
      }
      if (r.kind === 'masquerade') {
        b.masqRule = rule;
        out.push(b);
        return;
      }
      if (r.kind === 'fork') {
        for (const e of r.entries) {
          const nb: NftBranch = { ...b, weight: b.weight * e.share, steps: [...b.steps], chainsSeen: [...b.chainsSeen], undecided: [...b.undecided] };
          const ns = stack.map((f) => ({ chain: f.chain, index: f.index }));
          if (this.applyVerdict(e.verdict, rule, ns, nb, out)) this.walk(ns, nb, packet, out);
        }
        return;
      }
      if (!this.applyVerdict(r.verdict, rule, stack, b, out)) return;
      if (++jumps > MAX_JUMPS) {
        this.notes.add(`walk stopped after ${MAX_JUMPS} jumps`);
        out.push(b);
        return;
      }
    }
  }

  private applyVerdict(
    v: NftVerdict,
    rule: NftRule,
    stack: { chain: NftChain; index: number }[],
    b: NftBranch,
    out: NftBranch[],
  ): boolean {
    switch (v.kind) {
      case 'jump':
      case 'goto': {
        const target = v.chain !== null ? this.table.chains.get(v.chain) : undefined;
        if (target === undefined) {
          this.notes.add(`rule jumps to ${v.chain ?? '?'}, which is not in the listing`);
          return true;
        }
        b.chainsSeen.push(target.name);
        if (v.kind === 'goto') stack.pop();
        stack.push({ chain: target, index: 0 });
        return true;
      }
      case 'return':
        if (rule.chain === 'masquerading') b.returnRule = rule;
        stack.pop();
        if (stack.length === 0) {
          out.push(b);
          return false;
        }
        return true;
      case 'accept':
        out.push(b);
        return false;
      case 'drop':
      case 'reject':
        b.final = v.kind;
        b.finalRule = rule;
        out.push(b);
        return false;
      case 'continue':
        return true;
    }
  }

  private step(chain: string, rule: string, why: string): ChainStep {
    return { table: this.tableLabel, chain, rule, why };
  }

  private set(name: string): NftSet | undefined {
    return this.table.sets.get(name.startsWith('@') ? name.slice(1) : name);
  }

  // Evaluates a rule's statements left to right.
  private evalRule(rule: NftRule, ctx: Ctx): RuleResult {
    const t = listingTokens(rule);
    const why: string[] = [];
    let i = 0;
    while (i < t.length) {
      const next = this.evalStatement(t, i, rule, ctx, why);
      if (typeof next !== 'number') return next;
      i = next;
    }
    return { kind: 'continue', why: whyText(why) };
  }

  // The statement at t[i]: where the next statement starts when the packet passes this one (a
  // match that holds, a mark set, a counter), or the rule's result (no match, a verdict, a NAT).
  // Matched statements add their text to `why`.
  private evalStatement(t: string[], i: number, rule: NftRule, ctx: Ctx, why: string[]): number | RuleResult {
    const tok = t[i] as string;
    const next = t[i + 1];
    // concatenated lookups: ip daddr . meta l4proto . th dport vmap @map
    if ((tok === 'ip' || tok === 'meta' || tok === 'th') && t.indexOf('.', i) === i + 2 && t.indexOf('vmap', i) > i) {
      return this.lookupVerdictMap(t, i, rule, ctx, why);
    }
    if (tok === 'ip' && (next === 'daddr' || next === 'saddr')) return this.matchAddress(t, i, next, rule, ctx, why);
    if (tok === 'meta' && next === 'l4proto') {
      const { set, end } = readValueSet(t, i + 2);
      return set.includes(ctx.packet.protocol) ? end : NO_MATCH;
    }
    if ((tok === 'tcp' || tok === 'udp' || tok === 'sctp' || tok === 'th') && next === 'dport') return matchDestinationPort(t, i, ctx, why);
    if (tok === 'fib' && (next === 'saddr' || next === 'daddr') && t[i + 2] === 'type') return matchFibType(t, i, next, ctx, why);
    if (tok === 'ct' && next === 'state') {
      const { set, end } = readValueSet(t, i + 2);
      if (!set.includes('new')) return NO_MATCH;
      why.push('ct state new');
      return end;
    }
    if (tok === 'meta' && next === 'mark' && t[i + 2] === 'set') return setMark(t, i, rule, ctx, why);
    if (tok === 'meta' && next === 'mark' && t[i + 2] === '&') return matchMark(t, i, ctx, why);
    if (tok === 'numgen' && next === 'random' && t[i + 2] === 'mod') return numgenFork(t, i, rule);
    const after = skipBookkeeping(t, i);
    if (after !== -1) return after;
    if (tok === 'dnat') {
      const to = t[i + 1] === 'to' ? t[i + 2] : t[i + 2] === 'to' ? t[i + 3] : undefined;
      if (to === undefined) return { kind: 'unknown', text: rule.raw };
      why.push(`dnat to ${to}`);
      return { kind: 'dnat', to, why: why.join(', ') };
    }
    if (tok === 'masquerade' || tok === 'snat') {
      why.push(tok);
      return { kind: 'masquerade', why: why.join(', ') };
    }
    const v = parseVerdict(t.slice(i));
    if (v !== null) return { kind: 'verdict', verdict: v, why: whyText(why) };
    return { kind: 'unknown', text: rule.raw };
  }

  // `ip daddr . meta l4proto . th dport vmap @service-ips`: the element for the packet's key
  // decides, or the rule does not match.
  private lookupVerdictMap(t: string[], i: number, rule: NftRule, ctx: Ctx, why: string[]): RuleResult {
    const vm = t.indexOf('vmap', i);
    const fields: string[] = [];
    for (let k = i; k < vm; k++) {
      if (t[k] === '.') continue;
      fields.push(`${t[k]} ${t[k + 1]}`);
      k++;
    }
    const key = fields.map((f) => this.fieldValue(f, ctx));
    const map = this.set(t[vm + 1] ?? '');
    if (map === undefined || key.includes(null)) return { kind: 'unknown', text: rule.raw };
    const el = map.elements.find((e) => e.key.length === key.length && e.key.every((k, idx) => keyMatches(k, key[idx] as string)));
    if (el === undefined || el.verdict === null) return NO_MATCH;
    why.push(`${key.join(' . ')} found in @${map.name}${el.comment !== null ? ` ("${el.comment}")` : ''}`);
    return { kind: 'verdict', verdict: el.verdict, why: why.join(', ') };
  }

  // `ip daddr|saddr [==|!=] VALUE|{ a, b }|@set`
  private matchAddress(t: string[], i: number, field: 'daddr' | 'saddr', rule: NftRule, ctx: Ctx, why: string[]): number | RuleResult {
    const value = field === 'daddr' ? ctx.dst : ctx.src;
    const { negated, set, end } = readComparison(t, i + 2);
    let hit: boolean;
    if (set.length === 1 && (set[0] as string).startsWith('@')) {
      const s = this.set(set[0] as string);
      // ClientIP affinity: a client in the set goes back to its endpoint; a new one does not
      if ((set[0] as string).startsWith('@affinity-') && this.affinity === null) this.affinity = { timeoutSeconds: null, rule: rule.raw };
      hit = s !== undefined && s.elements.some((e) => e.key.length === 1 && cidrContainsIp(e.key[0] as string, value));
    } else {
      hit = set.some((c) => cidrContainsIp(c, value));
    }
    if (hit === negated) return NO_MATCH;
    why.push(`ip ${field} ${negated ? '!= ' : ''}${set.join(',')}`);
    return end;
  }

  private fieldValue(field: string, ctx: Ctx): string | null {
    switch (field) {
      case 'ip daddr':
        return ctx.dst;
      case 'ip saddr':
        return ctx.src;
      case 'meta l4proto':
        return ctx.packet.protocol;
      case 'th dport':
      case 'tcp dport':
      case 'udp dport':
        return String(ctx.dport);
      default:
        return null;
    }
  }
}

// `nft -f` input writes some expressions the way a person types them; the listing prints them in
// nft's canonical form ("mark and 0x4000 == 0" -> "meta mark & 0x4000 == 0", "mark set mark or
// 0x4000" -> "meta mark set meta mark | 0x4000"). The walker reads the canonical form.
const canonicalTokens = new WeakMap<NftRule, string[]>();
const WORD_OPERATORS: Record<string, string> = { and: '&', or: '|', xor: '^' };

function listingTokens(rule: NftRule): string[] {
  const cached = canonicalTokens.get(rule);
  if (cached !== undefined) return cached;
  const src = rule.tokens;
  let out: string[] = src;
  if (src.includes('mark')) {
    out = [];
    for (let i = 0; i < src.length; i++) {
      const tok = src[i] as string;
      if (tok === 'mark' && src[i - 1] !== 'meta' && src[i - 1] !== 'ct') out.push('meta', 'mark');
      else if (tok in WORD_OPERATORS && out[out.length - 1] === 'mark') out.push(WORD_OPERATORS[tok] as string);
      else out.push(tok);
    }
  }
  canonicalTokens.set(rule, out);
  return out;
}

// Reads "VALUE" or "{ a, b, c }" starting at k.
/** `[==|!=] VALUE|{ a, b }` from token k: whether it is negated, the values, where it ends. */
function readComparison(t: string[], k: number): { negated: boolean; set: string[]; end: number } {
  const negated = t[k] === '!=';
  const { set, end } = readValueSet(t, negated || t[k] === '==' ? k + 1 : k);
  return { negated, set, end };
}

function readValueSet(t: string[], k: number): { set: string[]; end: number } {
  if (t[k] === '{') {
    const set: string[] = [];
    let j = k + 1;
    while (j < t.length && t[j] !== '}') {
      if (t[j] !== ',') set.push(t[j] as string);
      j++;
    }
    return { set, end: j + 1 };
  }
  return { set: t[k] !== undefined ? [t[k] as string] : [], end: k + 1 };
}

const NO_MATCH: RuleResult = { kind: 'nomatch' };

function whyText(why: readonly string[]): string {
  return why.length === 0 ? 'matches every packet' : why.join(', ');
}

// `tcp|udp|sctp|th dport [==|!=] PORT|{ ... }`
function matchDestinationPort(t: string[], i: number, ctx: Ctx, why: string[]): number | RuleResult {
  const tok = t[i] as string;
  if (tok !== 'th' && tok !== ctx.packet.protocol) return NO_MATCH;
  const { negated, set, end } = readComparison(t, i + 2);
  const hit = set.some((p) => portMatches(p, ctx.dport));
  if (hit === negated) return NO_MATCH;
  why.push(`${tok} dport ${ctx.dport}`);
  return end;
}

// `fib saddr|daddr type [!=] local`
function matchFibType(t: string[], i: number, field: 'saddr' | 'daddr', ctx: Ctx, why: string[]): number | RuleResult {
  let k = i + 3;
  let negated = false;
  if (t[k] === '!=') {
    negated = true;
    k++;
  }
  const local = field === 'saddr' ? ctx.srcLocal : ctx.dstLocal;
  if ((t[k] === 'local') !== local !== negated) return NO_MATCH;
  why.push(`fib ${field} type ${negated ? '!= ' : ''}${t[k]}`);
  return k + 1;
}

// meta mark set meta mark | 0x00004000   /   ... ^ 0x00004000   /   meta mark set 0x4000
function setMark(t: string[], i: number, rule: NftRule, ctx: Ctx, why: string[]): number | RuleResult {
  if (t[i + 3] !== 'meta' || t[i + 4] !== 'mark') {
    ctx.mark = Number(t[i + 3]) >>> 0;
    return i + 4;
  }
  const op = t[i + 5];
  const v = Number(t[i + 6]) >>> 0;
  if (op === '|') ctx.mark = (ctx.mark | v) >>> 0;
  else if (op === '^') ctx.mark = (ctx.mark ^ v) >>> 0;
  else if (op === '&') ctx.mark = (ctx.mark & v) >>> 0;
  else return { kind: 'unknown', text: rule.raw };
  why.push(`mark ${op} 0x${v.toString(16)}`);
  return i + 7;
}

// meta mark & 0x00004000 == 0x00000000
function matchMark(t: string[], i: number, ctx: Ctx, why: string[]): number | RuleResult {
  const mask = Number(t[i + 3]) >>> 0;
  const op = t[i + 4];
  const v = Number(t[i + 5]) >>> 0;
  const eq = ((ctx.mark & mask) >>> 0) === v;
  if ((op === '!=' ? !eq : eq) === false) return NO_MATCH;
  why.push(`mark 0x${ctx.mark.toString(16)} & 0x${mask.toString(16)} ${op} 0x${v.toString(16)}`);
  return i + 6;
}

// `numgen random mod N vmap { 0 : goto a, 1-2 : goto b }`: one branch per entry, its share of N.
function numgenFork(t: string[], i: number, rule: NftRule): RuleResult {
  const mod = Number(t[i + 3]);
  const vm = t[i + 4] === 'vmap' ? i + 5 : -1;
  if (vm === -1 || t[vm] !== '{' || !(mod > 0)) return { kind: 'unknown', text: rule.raw };
  const close = t.indexOf('}', vm);
  const entries: { share: number; verdict: NftVerdict }[] = [];
  let from = vm + 1;
  for (let k = vm + 1; k <= close; k++) {
    if (k < close && t[k] !== ',') continue;
    const entry = numgenEntry(t.slice(from, k), mod);
    if (entry !== null) entries.push(entry);
    from = k + 1;
  }
  return { kind: 'fork', entries, why: `numgen random mod ${mod}: ${entries.length} branch(es) of ${formatShare(1 / mod)}` };
}

// One `0 : goto endpoint-...` or `1-2 : goto ...` entry of a numgen map.
function numgenEntry(entry: string[], mod: number): { share: number; verdict: NftVerdict } | null {
  const colon = entry.indexOf(':');
  if (colon <= 0) return null;
  const range = (entry[0] as string).split('-').map(Number);
  const count = range.length === 2 ? (range[1] as number) - (range[0] as number) + 1 : 1;
  const v = parseVerdict(entry.slice(colon + 1));
  return v === null ? null : { share: count / mod, verdict: v };
}

// Statements with no effect on the packet's path: counters, comments, the affinity set's
// bookkeeping, notrack, log. Returns where the next statement starts, -1 for anything else.
function skipBookkeeping(t: string[], i: number): number {
  const tok = t[i] as string;
  if (tok === 'counter') return i + (t[i + 1] === 'packets' ? 5 : 1);
  if (tok === 'comment') return i + 2;
  if ((tok === 'update' || tok === 'add') && (t[i + 1] ?? '').startsWith('@')) {
    const close = t.indexOf('}', i);
    return close === -1 ? t.length : close + 1;
  }
  if (tok === 'notrack' || tok === 'log') return i + 1;
  return -1;
}

function keyMatches(elementKey: string, value: string): boolean {
  if (elementKey === value) return true;
  if (elementKey.includes('/')) return cidrContainsIp(elementKey, value);
  if (/^\d+-\d+$/.test(elementKey)) return portMatches(elementKey, Number(value));
  return false;
}

function portMatches(spec: string, port: number): boolean {
  const dash = spec.indexOf('-');
  if (dash === -1) return Number(spec) === port;
  return port >= Number(spec.slice(0, dash)) && port <= Number(spec.slice(dash + 1));
}

function isLocal(packet: ServicePacket, ip: string): boolean {
  if (ip === packet.destinationIp && packet.destinationIsLocal === true) return true;
  return (packet.localAddresses ?? []).includes(ip);
}

export function buildServiceChainFromNft(table: NftTable, packet: ServicePacket): ServiceChain {
  const w = new NftWalker(table);
  const all = walkHooks(w, packet);
  const undecidedDnat = all.filter((b) => b.undecided.length > 0 && b.dnat !== null);
  const decided = all.filter((b) => b.undecided.length === 0);
  const { endpoints, unmatched } = mergeNftEndpoints(decided);
  const stopped = decided.find((b) => b.final !== null && b.dnat === null);
  const { outcome, outcomeRule, intendedDrop } = decideNftOutcome(endpoints, decided, undecidedDnat, stopped);
  for (const b of undecidedDnat) w.notes.add(`if ${b.undecided.join(' and ')} matched, the packet would go to ${b.dnat!.ip}${b.dnat!.port !== null ? `:${b.dnat!.port}` : ''}`);
  if (w.affinity !== null) w.notes.add('sessionAffinity ClientIP: a client in the affinity set goes back to its endpoint; the shares are a new client\'s');
  const allChains = decided.flatMap((b) => b.chainsSeen);
  const serviceChain = allChains.find((c) => /^(service|local)-[A-Z0-9]{8}-/.test(c)) ?? null;
  let servicePort = serviceChain !== null ? servicePortFromNftChain(serviceChain) : null;
  if (servicePort === null && stopped !== undefined) {
    // a no-endpoint verdict: the map element's comment names the Service port
    const m = stopped.steps.map((s) => s.why.match(/\("([^"]+)"\)/)).find((x) => x !== null);
    servicePort = m?.[1] ?? null;
  }
  const share = endpoints.length > 0 ? roundShare(unmatched) : 0;
  const notes = [...w.notes];
  if (share > 0) notes.push(`${formatShare(share)} of new connections reach no DNAT rule`);
  return {
    mode: 'nftables',
    packet,
    servicePort,
    serviceChain,
    steps: commonPrefix(decided.map((b) => b.steps)),
    endpoints,
    outcome,
    outcomeRule,
    unmatchedShare: share,
    masqueradeScope: nftMasqueradeScope(table, serviceChain),
    intendedDrop,
    sessionAffinity: w.affinity,
    undecided: [...new Set(all.flatMap((b) => b.undecided))],
    notes,
  };
}

// The packet through the base chains of each hook it meets: prerouting (or output), then input
// for a local destination or forward, then postrouting for what leaves the node. Returns every
// branch at its end.
function walkHooks(w: NftWalker, packet: ServicePacket): NftBranch[] {
  const init: NftBranch = {
    weight: 1,
    mark: 0,
    dst: packet.destinationIp,
    dport: packet.destinationPort,
    dnat: null,
    dnatRule: null,
    steps: [],
    chainsSeen: [],
    markRule: null,
    masqRule: null,
    returnRule: null,
    final: null,
    finalRule: null,
    filterRule: null,
    undecided: [],
  };
  const branches = runHook(w, packet, packet.hook === 'output' ? 'output' : 'prerouting', [init]);
  const finished: NftBranch[] = [];
  const filterOnly: NftBranch[] = [];
  for (const b of branches) {
    if (b.final !== null) {
      finished.push(b);
      continue;
    }
    const local = isLocal(packet, b.dst);
    if (packet.hook === 'prerouting' && local) {
      finished.push(...runHook(w, packet, 'input', [b]));
    } else {
      const afterFilter = packet.hook === 'prerouting' ? runHook(w, packet, 'forward', [b]) : [b];
      for (const a of afterFilter) {
        if (a.final !== null) finished.push(a);
        else filterOnly.push(a);
      }
    }
  }
  finished.push(...(filterOnly.length > 0 ? runHook(w, packet, 'postrouting', filterOnly) : []));
  return finished;
}

// Every base chain of one hook, in priority order, for each branch not stopped yet.
function runHook(w: NftWalker, packet: ServicePacket, hook: string, branches: NftBranch[]): NftBranch[] {
  let live = branches;
  for (const chain of w.baseChains(hook)) {
    live = live.flatMap((b) => {
      if (b.final !== null) return [b];
      const before = b.steps.length;
      const outs = w.runBase(chain, { ...b, steps: [...b.steps], chainsSeen: [...b.chainsSeen, chain.name], undecided: [...b.undecided] }, packet);
      if (chain.hook?.type === 'filter') {
        for (const o of outs) if (o.final !== null && o.steps.length > before) o.filterRule = o.finalRule;
      }
      return outs;
    });
  }
  return live;
}

// Endpoint branches merged by endpoint chain; `unmatched` is the share that reached no DNAT.
function mergeNftEndpoints(decided: readonly NftBranch[]): { endpoints: EndpointBranch[]; unmatched: number } {
  const byChain = new Map<string, EndpointBranch>();
  let unmatched = 0;
  for (const b of decided) {
    if (b.dnat === null || b.dnatRule === null) {
      unmatched += b.weight;
      continue;
    }
    const ep = [...b.chainsSeen].reverse().find((c) => c.startsWith('endpoint-')) ?? b.dnatRule.chain;
    const existing = byChain.get(ep);
    if (existing !== undefined) {
      existing.probability += b.weight;
      continue;
    }
    const filterVerdict: FilterVerdict = b.final === 'drop' ? 'drop' : b.final === 'reject' ? 'reject' : 'accept';
    byChain.set(ep, {
      endpointChain: ep,
      probability: b.weight,
      dnatTarget: b.dnat,
      masquerade: {
        masquerade: b.masqRule !== null,
        markedBy: b.markRule?.raw ?? null,
        decidedBy: b.masqRule?.raw ?? b.returnRule?.raw ?? null,
      },
      counters: b.dnatRule.counters,
      filterVerdict,
      filterRule: b.filterRule?.raw ?? null,
      steps: b.steps,
    });
  }
  const endpoints = [...byChain.values()];
  for (const e of endpoints) e.probability = roundShare(e.probability);
  return { endpoints, unmatched };
}

// DNAT wins; otherwise a branch behind an unevaluated rule that would DNAT; otherwise the first
// drop or reject, with kube-proxy's reason when it is one of its policy drops.
function decideNftOutcome(
  endpoints: readonly EndpointBranch[],
  decided: readonly NftBranch[],
  undecidedDnat: readonly NftBranch[],
  stopped: NftBranch | undefined,
): Pick<ServiceChain, 'outcome' | 'outcomeRule' | 'intendedDrop'> {
  if (endpoints.length > 0) {
    return { outcome: 'dnat', outcomeRule: decided.find((b) => b.dnatRule !== null)?.dnatRule?.raw ?? null, intendedDrop: null };
  }
  if (undecidedDnat.length > 0) {
    return { outcome: 'undecided', outcomeRule: undecidedDnat[0]?.dnatRule?.raw ?? null, intendedDrop: null };
  }
  if (stopped === undefined) return { outcome: 'no-match', outcomeRule: null, intendedDrop: null };
  const outcomeRule = stopped.finalRule?.raw ?? null;
  const reason = nftIntendedDrop(stopped);
  const intendedDrop = reason !== null ? { reason, rule: stopped.steps.find((s) => s.why.includes('@no-endpoint-'))?.rule ?? outcomeRule ?? '' } : null;
  return { outcome: stopped.final === 'drop' ? 'drop' : 'reject', outcomeRule, intendedDrop };
}

// The Service chain's `ip saddr != CIDR jump mark-for-masquerade` (kube-proxy's --cluster-cidr).
function nftMasqueradeScope(table: NftTable, serviceChain: string | null): ServiceChain['masqueradeScope'] {
  const svc = serviceChain !== null ? table.chains.get(serviceChain) : undefined;
  for (const r of svc?.rules ?? []) {
    const k = r.tokens.indexOf('saddr');
    if (k > 0 && r.tokens[k + 1] === '!=' && r.raw.includes('jump mark-for-masquerade')) {
      return { cidr: r.tokens[k + 2] as string, rule: r.raw };
    }
  }
  return null;
}

// kube-proxy's nftables policy drops: a firewall-* chain (loadBalancerSourceRanges); the
// no-endpoint-* maps, whose element is `drop` when the Service has endpoints but none on this
// node (traffic policy Local) and `goto reject-chain` when it has none at all.
function nftIntendedDrop(b: NftBranch): IntendedDropReason | null {
  if (b.finalRule !== null && b.finalRule.chain.startsWith('firewall-')) return 'source-range';
  if (b.steps.some((s) => s.why.includes('@no-endpoint-'))) return b.final === 'drop' ? 'no-local-endpoints' : 'no-endpoints';
  return null;
}

function commonPrefix(lists: ChainStep[][]): ChainStep[] {
  const first = lists[0];
  if (first === undefined) return [];
  let n = first.length;
  for (const l of lists) {
    let i = 0;
    while (i < n && i < l.length && l[i]?.rule === first[i]?.rule && l[i]?.chain === first[i]?.chain) i++;
    n = i;
  }
  return first.slice(0, n);
}
