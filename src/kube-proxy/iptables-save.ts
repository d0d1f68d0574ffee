// iptables-save (and `iptables -S`) text -> tables, chains and rules.
//
// Two stages: each line is split into tokens (a plain split on spaces unless the line holds a
// quoted string), then the tokens become a typed IptablesRule that keeps `raw`, the exact line.
// Built for 50 MB dumps of 50k-Service clusters: one pass, no regex per token, every rule
// object created with the same fields in the same order so V8 keeps one hidden class.

export interface IptablesCounters {
  packets: number;
  bytes: number;
}

export interface IptablesAddressMatch {
  cidr: string; // as written: "10.96.0.10/32", "10.244.0.0/16", "1.2.3.4"
  negated: boolean;
}

export interface IptablesNameMatch {
  name: string;
  negated: boolean;
}

export interface IptablesPortRange {
  from: number;
  to: number; // equal to `from` for a single port
}

export interface IptablesPortMatch {
  ports: IptablesPortRange[];
  negated: boolean;
}

export interface IptablesMarkMatch {
  value: number;
  mask: number; // 0xffffffff when the rule gives no mask
  negated: boolean;
}

export interface IptablesAddrTypeMatch {
  srcType: string | null; // LOCAL, UNICAST, ...
  dstType: string | null;
  negated: boolean; // iptables puts one `!` per type option; kube-proxy never negates these
}

export interface IptablesConntrackMatch {
  states: string[]; // NEW, ESTABLISHED, RELATED, INVALID, DNAT, SNAT
  negated: boolean;
}

export interface IptablesStatisticMatch {
  mode: 'random' | 'nth';
  probability: number | null; // random mode
  every: number | null; // nth mode
  packet: number | null;
  negated: boolean;
}

// A match this parser does not model (e.g. -m recent for session affinity, -m physdev).
// Kept as text so a walker can say why it could not decide.
export interface IptablesUnknownMatch {
  module: string | null; // the -m module it belongs to, null for a bare option
  text: string; // the option(s) as written: "--rcheck --seconds 10800 --reap"
}

export interface IptablesTarget {
  kind: 'jump' | 'goto';
  name: string; // KUBE-SVC-..., DNAT, MASQUERADE, MARK, RETURN, ACCEPT, ...
  toDestination: string | null; // DNAT --to-destination 10.244.0.4:53
  toSource: string | null; // SNAT --to-source
  setXmark: { value: number; mask: number } | null; // MARK --set-xmark / --set-mark / --or-mark
  rejectWith: string | null; // REJECT --reject-with icmp-port-unreachable
  options: string[]; // every target option token as written (e.g. --random-fully)
}

// The parsed view of one rule. Only raw/table/chain/line/counters are computed while reading
// the dump; the match fields are parsed from `raw` the first time any of them is read (a 50k
// Service dump has ~550k rules and a trace reads a few thousand of them).
export interface IptablesRule {
  readonly raw: string; // the exact line, counters included
  readonly table: string;
  readonly chain: string;
  readonly line: number; // 1-based line in the input
  readonly counters: IptablesCounters | null; // from `[pkts:bytes]` when saved with -c
  readonly source: IptablesAddressMatch | null;
  readonly destination: IptablesAddressMatch | null;
  readonly protocol: IptablesNameMatch | null;
  readonly inInterface: IptablesNameMatch | null;
  readonly outInterface: IptablesNameMatch | null;
  readonly sourcePorts: IptablesPortMatch | null;
  readonly destinationPorts: IptablesPortMatch | null; // --dport or multiport --dports
  readonly comment: string | null;
  readonly statistic: IptablesStatisticMatch | null;
  readonly addrType: IptablesAddrTypeMatch | null;
  readonly mark: IptablesMarkMatch | null;
  readonly conntrack: IptablesConntrackMatch | null;
  readonly modules: string[]; // every -m module in order
  readonly unknownMatches: IptablesUnknownMatch[];
  readonly target: IptablesTarget | null; // null: a rule with no -j (only counts packets)
}

// What parseRuleSpec extracts from a rule's tokens.
export interface IptablesRuleSpec {
  source: IptablesAddressMatch | null;
  destination: IptablesAddressMatch | null;
  protocol: IptablesNameMatch | null;
  inInterface: IptablesNameMatch | null;
  outInterface: IptablesNameMatch | null;
  sourcePorts: IptablesPortMatch | null;
  destinationPorts: IptablesPortMatch | null;
  comment: string | null;
  statistic: IptablesStatisticMatch | null;
  addrType: IptablesAddrTypeMatch | null;
  mark: IptablesMarkMatch | null;
  conntrack: IptablesConntrackMatch | null;
  modules: string[];
  unknownMatches: IptablesUnknownMatch[];
  target: IptablesTarget | null;
}

class LazyIptablesRule implements IptablesRule {
  private parsed: IptablesRuleSpec | null = null;
  constructor(
    readonly raw: string,
    readonly table: string,
    readonly chain: string,
    readonly line: number,
    readonly counters: IptablesCounters | null,
    private readonly bodyStart: number, // where "-A CHAIN" starts in raw (after counters)
  ) {}
  private get spec(): IptablesRuleSpec {
    if (this.parsed === null) this.parsed = parseRuleSpec(this.raw.slice(this.bodyStart));
    return this.parsed;
  }
  get source() { return this.spec.source; }
  get destination() { return this.spec.destination; }
  get protocol() { return this.spec.protocol; }
  get inInterface() { return this.spec.inInterface; }
  get outInterface() { return this.spec.outInterface; }
  get sourcePorts() { return this.spec.sourcePorts; }
  get destinationPorts() { return this.spec.destinationPorts; }
  get comment() { return this.spec.comment; }
  get statistic() { return this.spec.statistic; }
  get addrType() { return this.spec.addrType; }
  get mark() { return this.spec.mark; }
  get conntrack() { return this.spec.conntrack; }
  get modules() { return this.spec.modules; }
  get unknownMatches() { return this.spec.unknownMatches; }
  get target() { return this.spec.target; }
  toJSON(): Record<string, unknown> {
    return { raw: this.raw, table: this.table, chain: this.chain, line: this.line, counters: this.counters, ...this.spec };
  }
}

export interface IptablesChain {
  name: string;
  builtin: boolean; // has a policy (PREROUTING, INPUT, ...)
  policy: string | null; // ACCEPT / DROP for built-in chains, null for user chains
  counters: IptablesCounters | null; // the chain line's [pkts:bytes]
  rules: IptablesRule[];
  declared: boolean; // false when only seen in -A lines (partial -S output)
}

export interface IptablesTable {
  name: string; // nat, filter, mangle, raw, security
  chains: Map<string, IptablesChain>; // in the order they appeared
  committed: boolean; // saw COMMIT (save format); a table cut before COMMIT is incomplete
}

export type IptablesDumpFormat = 'save' | 'rule-spec' | 'empty';

export interface IptablesDump {
  format: IptablesDumpFormat; // 'save': iptables-save; 'rule-spec': iptables -S
  tables: Map<string, IptablesTable>;
  complete: boolean; // false: truncated, elided ("..."), or lines that could not be read
  elidedLines: number; // "...", "(略)" and similar markers of a hand-shortened excerpt
  warnings: string[]; // why the dump is not complete, lines not understood
  generator: string | null; // "iptables-save v1.8.4" from the "# Generated by" line
  ruleCount: number;
}

export interface IptablesParseOptions {
  // `iptables -S` output has no `*table` lines; its rules go to this table (iptables' default
  // is filter, so callers of `iptables -t nat -S` pass 'nat').
  ruleSpecTable?: string;
}

const BUILTIN_CHAINS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

// Lines a human put in place of omitted output. Treated as "this is an excerpt".
function isElisionMarker(line: string): boolean {
  const t = line.trim();
  return t === '...' || t === '…' || t === '(略)' || t === '(snip)' || t === '[...]' || /^\.{3,}$/.test(t);
}

export function parseIptablesSave(text: string, options: IptablesParseOptions = {}): IptablesDump {
  const dump: IptablesDump = {
    format: 'empty',
    tables: new Map(),
    complete: true,
    elidedLines: 0,
    warnings: [],
    generator: null,
    ruleCount: 0,
  };
  const ruleSpecTable = options.ruleSpecTable ?? 'filter';
  let table: IptablesTable | null = null;
  let lineNo = 0;
  let pos = 0;
  const len = text.length;
  let sawCommitForCurrent = true;
  let lastChain: IptablesChain | null = null;
  let lastChainTable: IptablesTable | null = null;
  let lastPrefix = '';

  while (pos < len) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = len;
    let line = text.slice(pos, end);
    pos = end + 1;
    lineNo++;
    if (line.length === 0) continue;
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1); // CRLF
    const c0 = line.charCodeAt(0);

    if (c0 === 45 /* - */ || c0 === 91 /* [ */) {
      // Rule (or -N / -P in -S format). `[pkts:bytes] -A ...` when saved with -c.
      let counters: IptablesCounters | null = null;
      let body = line;
      if (c0 === 91) {
        const close = line.indexOf(']');
        counters = close > 0 ? parseCounters(line.slice(0, close + 1)) : null;
        body = line.slice(close + 1).trimStart();
      }
      const opChar = body.charCodeAt(1);
      const isAppend = (opChar === 65 /* A */ || opChar === 73) /* I */ && body.charCodeAt(2) === 32;
      if (isAppend) {
        if (table === null) {
          table = ensureTable(dump, ruleSpecTable);
          if (dump.format === 'empty') dump.format = 'rule-spec';
        }
        // Rules come grouped by chain: test the previous chain's prefix before slicing a name.
        if (lastChain === null || lastChainTable !== table || !body.startsWith(lastPrefix)) {
          const chain = chainOfRule(table, body);
          if (chain === null) {
            dump.complete = false;
            dump.warnings.push(`line ${lineNo}: rule not understood: ${line.slice(0, 200)}`);
            continue;
          }
          lastChain = chain;
          lastChainTable = table;
          lastPrefix = body.slice(0, 3) + chain.name + ' ';
        }
        lastChain.rules.push(
          new LazyIptablesRule(line, table.name, lastChain.name, lineNo, counters, line.length - body.length),
        );
        dump.ruleCount++;
      } else if ((opChar === 78 /* N */ || opChar === 80) /* P */ && body.charCodeAt(2) === 32) {
        if (table === null) {
          table = ensureTable(dump, ruleSpecTable);
          dump.format = 'rule-spec';
        }
        readChainCommand(table, body);
      } else {
        dump.complete = false;
        dump.warnings.push(`line ${lineNo}: not an iptables rule: ${line.slice(0, 200)}`);
      }
    } else if (c0 === 58 /* : */) {
      if (table === null) {
        dump.complete = false;
        dump.warnings.push(`line ${lineNo}: chain line outside a table`);
        continue;
      }
      readChainLine(table, line);
    } else if (c0 === 42 /* * */) {
      if (table !== null && !sawCommitForCurrent) markUncommitted(dump, table);
      table = ensureTable(dump, line.slice(1).trim());
      dump.format = 'save';
      sawCommitForCurrent = false;
    } else if (line === 'COMMIT') {
      if (table !== null) table.committed = true;
      sawCommitForCurrent = true;
    } else {
      readCommentOrStrayLine(dump, line, lineNo);
    }
  }
  if (dump.format === 'save' && table !== null && !sawCommitForCurrent) markUncommitted(dump, table);
  finishDump(dump);
  return dump;
}

// The chain a `-A CHAIN ...` / `-I CHAIN ...` line appends to, created on first sight; null
// when the line names no chain.
function chainOfRule(table: IptablesTable, body: string): IptablesChain | null {
  const nameEnd = body.indexOf(' ', 3);
  const name = nameEnd === -1 ? body.slice(3) : body.slice(3, nameEnd);
  if (name.length === 0) return null;
  let chain = table.chains.get(name);
  if (chain === undefined) {
    chain = newChain(name, false);
    table.chains.set(name, chain);
  }
  return chain;
}

// `-N CHAIN` or `-P CHAIN POLICY [-c PKTS BYTES]` (iptables -S).
function readChainCommand(table: IptablesTable, body: string): void {
  const parts = body.split(' ');
  const name = parts[1] ?? '';
  let chain = table.chains.get(name);
  if (chain === undefined) {
    chain = newChain(name, true);
    table.chains.set(name, chain);
  }
  chain.declared = true;
  if (body.startsWith('-P ')) {
    chain.builtin = true;
    chain.policy = parts[2] ?? null;
    if (parts[3] !== undefined && parts[3] === '-c') {
      chain.counters = { packets: Number(parts[4]), bytes: Number(parts[5]) };
    }
  }
}

// `:CHAIN POLICY [pkts:bytes]` (iptables-save); POLICY is `-` for a user chain.
function readChainLine(table: IptablesTable, line: string): void {
  const sp1 = line.indexOf(' ');
  const name = sp1 === -1 ? line.slice(1) : line.slice(1, sp1);
  const sp2 = sp1 === -1 ? -1 : line.indexOf(' ', sp1 + 1);
  const policy = sp1 === -1 ? '-' : line.slice(sp1 + 1, sp2 === -1 ? undefined : sp2);
  const builtin = policy !== '-';
  let chain = table.chains.get(name);
  if (chain === undefined) {
    chain = newChain(name, true);
    table.chains.set(name, chain);
  }
  chain.builtin = builtin;
  chain.policy = builtin ? policy : null;
  chain.counters = sp2 === -1 ? null : parseCounters(line.slice(sp2 + 1));
}

// "# Generated by iptables-save v1.8.9 (nf_tables) on Thu ..." -> "iptables-save v1.8.9 (nf_tables)"
function generatorOf(line: string): string | null {
  if (!line.startsWith('# Generated by ')) return null;
  const on = line.indexOf(' on ');
  return line.slice('# Generated by '.length, on === -1 ? undefined : on);
}

/** The dump's generator (as IptablesDump.generator) from its header alone, without parsing the rules. */
export function readIptablesSaveGenerator(text: string): string | null {
  for (const raw of text.split('\n')) {
    const generator = generatorOf(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (generator !== null) return generator;
  }
  return null;
}

// A line that is neither a rule, a chain, a table nor COMMIT: the generator comment, a human's
// "..." in an excerpt, or text that does not belong in a dump.
function readCommentOrStrayLine(dump: IptablesDump, line: string, lineNo: number): void {
  if (line.charCodeAt(0) === 35 /* # */) {
    if (dump.generator === null) dump.generator = generatorOf(line);
  } else if (isElisionMarker(line)) {
    dump.elidedLines++;
    dump.complete = false;
  } else if (line.trim().length > 0) {
    dump.complete = false;
    dump.warnings.push(`line ${lineNo}: not iptables-save output: ${line.slice(0, 200)}`);
  }
}

function finishDump(dump: IptablesDump): void {
  if (dump.elidedLines > 0) {
    dump.warnings.unshift(`${dump.elidedLines} elided line(s) ("...") : this is an excerpt, not a complete dump`);
  }
  if (dump.format === 'rule-spec' && dump.tables.size > 0) {
    // -S output has no COMMIT; it is complete only if nothing was elided.
    for (const t of dump.tables.values()) t.committed = dump.elidedLines === 0;
  }
}

function markUncommitted(dump: IptablesDump, table: IptablesTable): void {
  dump.complete = false;
  dump.warnings.push(`table ${table.name} has no COMMIT line: the dump was cut short`);
}

function ensureTable(dump: IptablesDump, name: string): IptablesTable {
  let t = dump.tables.get(name);
  if (t === undefined) {
    t = { name, chains: new Map(), committed: false };
    dump.tables.set(name, t);
  }
  return t;
}

function newChain(name: string, declared: boolean): IptablesChain {
  return {
    name,
    builtin: BUILTIN_CHAINS.has(name),
    policy: null,
    counters: null,
    rules: [],
    declared,
  };
}

function parseCounters(s: string): IptablesCounters | null {
  // "[218188:41890116]"
  if (s.charCodeAt(0) !== 91) return null;
  const colon = s.indexOf(':');
  const close = s.indexOf(']');
  if (colon === -1 || close === -1) return null;
  const packets = Number(s.slice(1, colon));
  const bytes = Number(s.slice(colon + 1, close));
  if (!Number.isFinite(packets) || !Number.isFinite(bytes)) return null;
  return { packets, bytes };
}

// Splits a rule line into tokens. iptables-save quotes strings that contain spaces or quotes
// ("default/hostnames: cluster IP") and escapes `"` and `\` inside them with a backslash.
export function tokenize(line: string): string[] {
  if (line.indexOf('"') === -1) {
    const parts = line.split(' ');
    // Collapse empty tokens from doubled spaces (hand-edited excerpts).
    if (line.indexOf('  ') !== -1) return parts.filter((p) => p.length > 0);
    return parts;
  }
  if (line.indexOf('\\') === -1) {
    // Quotes but no escapes: split, then glue the words of each quoted string back together.
    const parts = line.split(' ');
    const out: string[] = [];
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k] as string;
      if (p.length === 0) continue;
      if (p.charCodeAt(0) !== 34) {
        out.push(p);
        continue;
      }
      if (p.length > 1 && p.charCodeAt(p.length - 1) === 34) {
        out.push(p.slice(1, -1));
        continue;
      }
      let joined = p.slice(1);
      while (++k < parts.length) {
        const q = parts[k] as string;
        if (q.length > 0 && q.charCodeAt(q.length - 1) === 34) {
          joined += ' ' + q.slice(0, -1);
          break;
        }
        joined += ' ' + q;
      }
      out.push(joined);
    }
    return out;
  }
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    if (line.charCodeAt(i) === 34 /* " */) {
      let s = '';
      i++;
      let start = i;
      while (i < n) {
        const c = line.charCodeAt(i);
        if (c === 92 /* \ */ && i + 1 < n) {
          s += line.slice(start, i) + line[i + 1];
          i += 2;
          start = i;
        } else if (c === 34) {
          break;
        } else {
          i++;
        }
      }
      s += line.slice(start, i);
      i++; // closing quote (or end of a truncated line)
      out.push(s);
    } else {
      let j = line.indexOf(' ', i);
      if (j === -1) j = n;
      out.push(line.slice(i, j));
      i = j;
    }
  }
  return out;
}

function parsePortMatch(spec: string, negated: boolean): IptablesPortMatch {
  const ports: IptablesPortRange[] = [];
  for (const part of spec.split(',')) {
    const colon = part.indexOf(':');
    if (colon === -1) {
      const p = Number(part);
      ports.push({ from: p, to: p });
    } else {
      ports.push({ from: Number(part.slice(0, colon) || '0'), to: Number(part.slice(colon + 1) || '65535') });
    }
  }
  return { ports, negated };
}

function parseMarkValue(spec: string): { value: number; mask: number } {
  const slash = spec.indexOf('/');
  if (slash === -1) return { value: Number(spec) >>> 0, mask: 0xffffffff };
  return { value: Number(spec.slice(0, slash)) >>> 0, mask: Number(spec.slice(slash + 1)) >>> 0 };
}

// Options that take no argument; everything else consumes one token.
const FLAG_OPTIONS = new Set([
  '--random-fully',
  '--random',
  '--persistent',
  '--syn',
  '--rcheck',
  '--update',
  '--set',
  '--remove',
  '--reap',
  '--rsource',
  '--rdest',
  '--physdev-is-bridged',
  '--physdev-is-in',
  '--physdev-is-out',
  '--limit-iface-in',
  '--limit-iface-out',
  '-f',
  '--fragment',
]);

function emptyRuleSpec(): IptablesRuleSpec {
  return {
    source: null,
    destination: null,
    protocol: null,
    inInterface: null,
    outInterface: null,
    sourcePorts: null,
    destinationPorts: null,
    comment: null,
    statistic: null,
    addrType: null,
    mark: null,
    conntrack: null,
    modules: [],
    unknownMatches: [],
    target: null,
  };
}

// Parses "-A CHAIN matches... -j TARGET options..." (the part of a line after any counters).
export function parseRuleSpec(body: string): IptablesRuleSpec {
  const tokens = tokenize(body);
  const rule = emptyRuleSpec();
  let i = 2;
  // `-I CHAIN N` carries a position
  if (tokens[0] === '-I' && i < tokens.length && /^\d+$/.test(tokens[i] as string)) i++;
  let negate = false;
  let module: string | null = null;
  const n = tokens.length;
  while (i < n) {
    const tok = tokens[i] as string;
    if (tok === '!') {
      negate = true;
      i++;
      continue;
    }
    if (tok === '-m' || tok === '--match') {
      module = i + 1 < n ? (tokens[i + 1] as string) : '';
      rule.modules.push(module);
      i += 2;
    } else if (tok === '-j' || tok === '--jump' || tok === '-g' || tok === '--goto') {
      rule.target = parseTarget(tok === '-g' || tok === '--goto' ? 'goto' : 'jump', tokens, i + 1);
      i = n; // every token after the target name is a target option
    } else {
      i = readMatchOption(rule, module, tokens, i, negate);
    }
    negate = false;
  }
  return rule;
}

// Reads the match option at tokens[i] (and its argument) into the rule; returns where the next
// option starts. `module` is the -m module the option belongs to.
function readMatchOption(rule: IptablesRuleSpec, module: string | null, tokens: string[], i: number, negate: boolean): number {
  const tok = tokens[i] as string;
  const arg = i + 1 < tokens.length ? (tokens[i + 1] as string) : '';
  switch (tok) {
    case '-s':
    case '--source':
      rule.source = { cidr: arg, negated: negate };
      return i + 2;
    case '-d':
    case '--destination':
      rule.destination = { cidr: arg, negated: negate };
      return i + 2;
    case '-p':
    case '--protocol':
      rule.protocol = { name: arg, negated: negate };
      return i + 2;
    case '-i':
    case '--in-interface':
      rule.inInterface = { name: arg, negated: negate };
      return i + 2;
    case '-o':
    case '--out-interface':
      rule.outInterface = { name: arg, negated: negate };
      return i + 2;
    case '--dport':
    case '--destination-port':
    case '--dports':
    case '--destination-ports':
      rule.destinationPorts = parsePortMatch(arg, negate);
      return i + 2;
    case '--sport':
    case '--source-port':
    case '--sports':
    case '--source-ports':
      rule.sourcePorts = parsePortMatch(arg, negate);
      return i + 2;
    case '--comment':
      rule.comment = arg;
      return i + 2;
    case '--mode':
    case '--probability':
    case '--every':
    case '--packet':
      readStatisticOption(rule, tok, arg, negate);
      return i + 2;
    case '--dst-type':
    case '--src-type':
      if (rule.addrType === null) rule.addrType = { srcType: null, dstType: null, negated: negate };
      if (tok === '--dst-type') rule.addrType.dstType = arg;
      else rule.addrType.srcType = arg;
      if (negate) rule.addrType.negated = true;
      return i + 2;
    case '--mark':
      if (module !== 'mark' && module !== 'connmark') return pushUnknown(rule, module, tokens, i, negate);
      {
        const m = parseMarkValue(arg);
        rule.mark = { value: m.value, mask: m.mask, negated: negate };
      }
      return i + 2;
    case '--ctstate':
    case '--state':
      rule.conntrack = { states: arg.split(','), negated: negate };
      return i + 2;
    default:
      return pushUnknown(rule, module, tokens, i, negate);
  }
}

// -m statistic: `--mode random --probability P` or `--mode nth --every N --packet K`.
function readStatisticOption(rule: IptablesRuleSpec, tok: string, arg: string, negate: boolean): void {
  if (tok === '--mode') {
    rule.statistic = { mode: arg === 'nth' ? 'nth' : 'random', probability: null, every: null, packet: null, negated: negate };
    return;
  }
  if (tok === '--probability') {
    if (rule.statistic === null) rule.statistic = { mode: 'random', probability: null, every: null, packet: null, negated: negate };
    rule.statistic.probability = Number(arg);
    if (negate) rule.statistic.negated = true;
    return;
  }
  if (rule.statistic === null) rule.statistic = { mode: 'nth', probability: null, every: null, packet: null, negated: negate };
  if (tok === '--every') rule.statistic.every = Number(arg);
  else rule.statistic.packet = Number(arg);
}

// Consumes an option this parser does not model, with its arguments, as text.
function pushUnknown(rule: IptablesRuleSpec, module: string | null, tokens: string[], i: number, negate: boolean): number {
  const tok = tokens[i] as string;
  let j = i + 1;
  if (!FLAG_OPTIONS.has(tok)) {
    // arguments run until the next option (or a `!` that negates it)
    while (j < tokens.length) {
      const t = tokens[j] as string;
      if (t === '!' || (t.length > 1 && t.charCodeAt(0) === 45 && !/^-\d/.test(t))) break;
      j++;
    }
  }
  const text = (negate ? '! ' : '') + tokens.slice(i, j).join(' ');
  const last = rule.unknownMatches[rule.unknownMatches.length - 1];
  // Options of one module stay together: "--name X --rcheck --seconds 10800"
  if (last !== undefined && last.module === module && module !== null) last.text += ' ' + text;
  else rule.unknownMatches.push({ module, text });
  return j;
}

function parseTarget(kind: 'jump' | 'goto', tokens: string[], start: number): IptablesTarget {
  const target: IptablesTarget = {
    kind,
    name: tokens[start] ?? '',
    toDestination: null,
    toSource: null,
    setXmark: null,
    rejectWith: null,
    options: tokens.slice(start + 1),
  };
  const opts = target.options;
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i];
    const v = opts[i + 1] ?? '';
    if (o === '--to-destination') target.toDestination = v;
    else if (o === '--to-source') target.toSource = v;
    else if (o === '--reject-with') target.rejectWith = v;
    else if (o === '--set-xmark' || o === '--set-mark') target.setXmark = parseMarkValue(v);
    else if (o === '--or-mark') {
      // MARK --or-mark v == --set-xmark v/v
      const m = parseMarkValue(v);
      target.setXmark = { value: m.value, mask: m.value };
    }
  }
  return target;
}

// Convenience lookups --------------------------------------------------------------------------

export function getIptablesChain(dump: IptablesDump, table: string, chain: string): IptablesChain | undefined {
  return dump.tables.get(table)?.chains.get(chain);
}

// "10.244.0.5:53" -> { ip, port }; port null when the target has no port.
export function splitHostPort(spec: string): { ip: string; port: number | null } {
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    const ip = spec.slice(1, close);
    const rest = spec.slice(close + 1);
    return { ip, port: rest.startsWith(':') ? Number(rest.slice(1)) : null };
  }
  const colon = spec.lastIndexOf(':');
  if (colon === -1 || spec.indexOf(':') !== colon) return { ip: spec, port: null };
  const port = spec.slice(colon + 1);
  // a port range "80-81" keeps the first port
  const dash = port.indexOf('-');
  return { ip: spec.slice(0, colon), port: Number(dash === -1 ? port : port.slice(0, dash)) };
}
