// `nft list table ip kube-proxy` (or `nft list ruleset`) text -> tables, sets/maps, chains, rules.
//
// kube-proxy's nftables mode (1.29+) keeps everything in `table ip kube-proxy`: a verdict map
// `service-ips` keyed by `ip daddr . meta l4proto . th dport`, one chain per Service port
// (`service-HASH-ns/name/tcp/port`) that splits with `numgen random mod N vmap {...}`, one chain per
// endpoint (`endpoint-HASH-ns/name/tcp/port__IP/PORT`) ending in `dnat to IP:PORT`, and the
// mark-for-masquerade / masquerading chains. Layout: kubernetes pkg/proxy/nftables/proxier.go; the
// listing format comes from the real kernel (test/fixtures/nftables/kube-proxy-overall-listing.txt).
//
// Stage one only: structure and tokens, each rule keeping `raw`. What a rule does to a packet is
// decided by the walker (src/kube-proxy/nft-walk.ts).

export interface NftCounters {
  packets: number;
  bytes: number;
}

export type NftVerdictKind = 'goto' | 'jump' | 'accept' | 'drop' | 'return' | 'reject' | 'continue';

export interface NftVerdict {
  kind: NftVerdictKind;
  chain: string | null; // for goto / jump
}

export interface NftSetElement {
  key: string[]; // concatenation parts: ["172.30.0.41", "tcp", "80"]
  verdict: NftVerdict | null; // maps of type `: verdict`
  value: string | null; // data maps (non-verdict) keep their value text
  comment: string | null;
  raw: string;
}

export interface NftSet {
  kind: 'set' | 'map';
  name: string;
  type: string | null; // "ipv4_addr . inet_proto . inet_service : verdict"
  flags: string[];
  comment: string | null;
  elements: NftSetElement[];
}

export interface NftChainHook {
  type: string; // nat / filter / route
  hook: string; // prerouting / input / forward / output / postrouting
  priority: number; // numeric: "dstnat" = -100, "dstnat - 10" = -110
  priorityText: string;
  policy: string; // accept / drop
}

export interface NftRule {
  raw: string; // the rule as listed (without a trailing "# handle N")
  chain: string;
  line: number;
  handle: number | null; // from `nft -a`
  tokens: string[]; // whitespace tokens; quoted strings unquoted; "{" "}" "," separate tokens
  comment: string | null;
  counters: NftCounters | null;
}

export interface NftChain {
  name: string;
  hook: NftChainHook | null; // null for regular chains
  comment: string | null;
  rules: NftRule[];
}

export interface NftTable {
  family: string; // ip / ip6 / inet
  name: string;
  comment: string | null;
  sets: Map<string, NftSet>;
  chains: Map<string, NftChain>;
}

export interface NftRuleset {
  tables: NftTable[];
  complete: boolean; // false when a block was not closed (cut short) or lines were not understood
  warnings: string[];
}

const PRIORITY_NAMES: Record<string, number> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
  out: 100,
};

export function parseNftPriority(text: string): number {
  const t = text.trim().split(/\s+/);
  const base = t[0] ?? '0';
  let value = PRIORITY_NAMES[base] ?? Number(base);
  if (t.length === 3) {
    const n = Number(t[2]);
    value = t[1] === '-' ? value - n : value + n;
  }
  return Number.isFinite(value) ? value : 0;
}

// Splits an nft statement into tokens: quoted strings become one token (unquoted), `{ } , :`
// stand alone only when separated by spaces in the listing (nft prints them that way), and a
// trailing comma on a word is split off ("10.0.0.1," -> "10.0.0.1", ",").
export function tokenizeNft(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    if (c === 34 /* " */) {
      let j = i + 1;
      let s = '';
      while (j < n && line.charCodeAt(j) !== 34) {
        if (line.charCodeAt(j) === 92 && j + 1 < n) {
          s += line[j + 1];
          j += 2;
        } else {
          s += line[j];
          j++;
        }
      }
      out.push(s);
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n) {
      const d = line.charCodeAt(j);
      if (d === 32 || d === 9) break;
      j++;
    }
    let word = line.slice(i, j);
    i = j;
    const trailingComma = word.length > 1 && word.endsWith(',');
    if (trailingComma) word = word.slice(0, -1);
    out.push(word);
    if (trailingComma) out.push(',');
  }
  return out;
}

function braceDelta(line: string): number {
  let d = 0;
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 34) inQuote = !inQuote;
    else if (!inQuote && c === 123) d++;
    else if (!inQuote && c === 125) d--;
  }
  return d;
}

export function parseNftRuleset(text: string): NftRuleset {
  const result: NftRuleset = { tables: [], complete: true, warnings: [] };
  const lines = text.split('\n');
  let table: NftTable | null = null;
  let set: NftSet | null = null;
  let chain: NftChain | null = null;
  let pending = ''; // a statement spanning lines (elements = { ... })
  let pendingLine = 0;
  let pendingDepth = 0;
  let skipDepth = 0; // inside a named object block kube-proxy does not use

  for (let idx = 0; idx < lines.length; idx++) {
    let line = (lines[idx] as string).trim(); // trim() drops a CRLF's \r too
    if (skipDepth > 0) {
      skipDepth += braceDelta(line);
      continue;
    }
    if (pending !== '') {
      pending += ' ' + line;
      pendingDepth += braceDelta(line);
      if (pendingDepth > 0) continue;
      line = pending;
      pending = '';
    } else {
      if (line === '' || line.startsWith('#')) continue;
      // `nft -a`: a block opener carries "{ # handle N" (rules keep theirs for parseNftRule)
      if (line.includes('{ # handle ')) line = stripOpenerHandle(line);
      const depth = braceDelta(line);
      // a statement that opens an inline block it does not close on this line (the regex only
      // for lines that open one: a 50k-Service listing has a million rule lines)
      const opensBlock = depth > 0 && /^(table|set|map|chain|flowtable|counter|quota|ct|limit|secmark|synproxy)\b.*\{$/.test(line);
      if (!opensBlock && depth > 0) {
        pending = line;
        pendingLine = idx + 1;
        pendingDepth = depth;
        continue;
      }
      pendingLine = idx + 1;
    }
    let m: RegExpMatchArray | null;
    if (set === null && chain === null && NFT_COMMAND.test(line)) {
      // `nft -f` transaction input (add table/chain/set/map/rule/element, delete, flush)
      applyNftCommand(result, line, pendingLine);
      continue;
    }
    if (line.startsWith('table') && (m = line.match(/^table\s+(\S+)\s+(\S+)\s*\{$/)) !== null) {
      table = { family: m[1] as string, name: m[2] as string, comment: null, sets: new Map(), chains: new Map() };
      result.tables.push(table);
      continue;
    }
    if (table === null) {
      result.complete = false;
      result.warnings.push(`line ${idx + 1}: outside any table: ${line.slice(0, 200)}`);
      continue;
    }
    if (line === '}') {
      if (set !== null) set = null;
      else if (chain !== null) chain = null;
      else table = null;
      continue;
    }
    if (set === null && chain === null) {
      if ((m = line.match(/^(set|map)\s+(\S+)\s*\{$/)) !== null) {
        set = { kind: m[1] as 'set' | 'map', name: m[2] as string, type: null, flags: [], comment: null, elements: [] };
        table.sets.set(set.name, set);
      } else if ((m = line.match(/^chain\s+(\S+)\s*\{$/)) !== null) {
        chain = { name: m[1] as string, hook: null, comment: null, rules: [] };
        table.chains.set(chain.name, chain);
      } else if (line.startsWith('comment ')) {
        table.comment = tokenizeNft(line)[1] ?? null;
      } else if (/^(flowtable|counter|quota|ct|limit|secmark|synproxy)\b/.test(line)) {
        // named objects kube-proxy does not use: skip their block
        if (line.endsWith('{')) skipDepth = 1;
      } else {
        result.warnings.push(`line ${idx + 1}: not understood: ${line.slice(0, 200)}`);
      }
      continue;
    }
    if (set !== null) {
      if (line.startsWith('type ')) set.type = line.slice(5).trim();
      else if (line.startsWith('flags ')) set.flags = line.slice(6).split(',').map((f) => f.trim());
      else if (line.startsWith('comment ')) set.comment = tokenizeNft(line)[1] ?? null;
      else if (line.startsWith('elements = ')) set.elements = parseElements(line.slice('elements = '.length));
      continue;
    }
    if (chain !== null) {
      if (line.startsWith('type') && (m = line.match(/^type\s+(\S+)\s+hook\s+(\S+)(?:\s+device\s+\S+)?\s+priority\s+([^;]+);(?:\s*policy\s+(\w+);)?/)) !== null) {
        const priorityText = (m[3] as string).trim();
        chain.hook = {
          type: m[1] as string,
          hook: m[2] as string,
          priority: parseNftPriority(priorityText),
          priorityText,
          policy: m[4] ?? 'accept',
        };
        continue;
      }
      if (line.startsWith('comment ') && chain.rules.length === 0 && tokenizeNft(line).length === 2) {
        chain.comment = tokenizeNft(line)[1] ?? null;
        continue;
      }
      chain.rules.push(parseNftRule(line, chain.name, pendingLine));
    }
  }
  if (pending !== '' || table !== null || set !== null || chain !== null) {
    result.complete = false;
    result.warnings.unshift('the listing ends inside an open block: it was cut short');
  }
  return result;
}

// Tokens, comment and counters are read from `raw` the first time any of them is asked for: a
// 50k-Service listing has a million rules and tracing one Service reads a handful of them.
class LazyNftRule implements NftRule {
  private parsed: { tokens: string[]; comment: string | null; counters: NftCounters | null } | null = null;
  constructor(
    readonly raw: string,
    readonly chain: string,
    readonly line: number,
    readonly handle: number | null,
  ) {}
  private get spec() {
    if (this.parsed === null) {
      const tokens = tokenizeNft(this.raw);
      let comment: string | null = null;
      let counters: NftCounters | null = null;
      for (let i = 0; i < tokens.length; i++) {
        if (tokens[i] === 'comment' && i + 1 < tokens.length) comment = tokens[i + 1] ?? null;
        if (tokens[i] === 'counter' && tokens[i + 1] === 'packets') {
          counters = { packets: Number(tokens[i + 2]), bytes: Number(tokens[i + 4]) };
        }
      }
      this.parsed = { tokens, comment, counters };
    }
    return this.parsed;
  }
  get tokens() { return this.spec.tokens; }
  get comment() { return this.spec.comment; }
  get counters() { return this.spec.counters; }
  toJSON(): NftRule {
    return { raw: this.raw, chain: this.chain, line: this.line, handle: this.handle, ...this.spec };
  }
}

const NFT_COMMAND = /^(add|create|insert|replace|delete|destroy|flush)\s+(table|chain|rule|set|map|element)\s/;
const NFT_FAMILY = /^(ip6|ip|inet|arp|bridge|netdev)\s+/;

function stripOpenerHandle(line: string): string {
  const at = line.lastIndexOf('{ # handle ');
  if (at === -1 || !/^\d+$/.test(line.slice(at + '{ # handle '.length))) return line;
  return line.slice(0, at + 1);
}

// One statement of an `nft -f` file (what kube-proxy sends, what a support bundle may hold).
// The family is optional (nft's default is ip); rule positions (`position N`, `index N`) are
// dropped: kube-proxy appends.
function applyNftCommand(result: NftRuleset, line: string, lineNo: number): void {
  const m = /^(\w+)\s+(\w+)\s+(.*)$/.exec(line);
  if (m === null) return;
  const verb = m[1] as string;
  const what = m[2] as string;
  let rest = (m[3] as string).trim();
  let family = 'ip';
  const fm = NFT_FAMILY.exec(rest);
  if (fm !== null) {
    family = fm[1] as string;
    rest = rest.slice(fm[0].length);
  }
  const word = (): string => {
    const sp = rest.search(/\s/);
    const w = sp === -1 ? rest : rest.slice(0, sp);
    rest = sp === -1 ? '' : rest.slice(sp).trim();
    return w;
  };
  const removing = verb === 'delete' || verb === 'destroy';
  const tableName = word();
  let table = result.tables.find((t) => t.family === family && t.name === tableName);
  if (what === 'table') {
    if (removing) {
      result.tables = result.tables.filter((t) => t !== table);
    } else if (verb === 'flush') {
      for (const c of table?.chains.values() ?? []) c.rules = [];
      for (const st of table?.sets.values() ?? []) st.elements = [];
    } else {
      if (table === undefined) {
        table = { family, name: tableName, comment: null, sets: new Map(), chains: new Map() };
        result.tables.push(table);
      }
      table.comment = /comment\s+"([^"]*)"/.exec(rest)?.[1] ?? table.comment;
    }
    return;
  }
  if (table === undefined) {
    if (!removing) result.warnings.push(`line ${lineNo}: ${verb} ${what} in table ${family} ${tableName}, which was not added`);
    return;
  }
  const name = word();
  if (what === 'chain') {
    if (removing) table.chains.delete(name);
    else if (verb === 'flush') table.chains.get(name)?.rules.splice(0);
    else {
      const chain = table.chains.get(name) ?? { name, hook: null, comment: null, rules: [] };
      table.chains.set(name, chain);
      const hook = /type\s+(\S+)\s+hook\s+(\S+)(?:\s+device\s+\S+)?\s+priority\s+([^;]+);(?:\s*policy\s+(\w+)\s*;)?/.exec(rest);
      if (hook !== null) {
        const priorityText = (hook[3] as string).trim();
        chain.hook = { type: hook[1] as string, hook: hook[2] as string, priority: parseNftPriority(priorityText), priorityText, policy: hook[4] ?? 'accept' };
      }
      chain.comment = /comment\s+"([^"]*)"/.exec(rest)?.[1] ?? chain.comment;
    }
    return;
  }
  if (what === 'set' || what === 'map') {
    if (removing) table.sets.delete(name);
    else if (verb === 'flush') table.sets.get(name)?.elements.splice(0);
    else {
      const set = table.sets.get(name) ?? { kind: what, name, type: null, flags: [], comment: null, elements: [] };
      table.sets.set(name, set);
      set.type = /type\s+([^;]+?)\s*;/.exec(rest)?.[1] ?? set.type;
      const flags = /flags\s+([^;]+?)\s*;/.exec(rest)?.[1];
      if (flags !== undefined) set.flags = flags.split(',').map((f) => f.trim());
      set.comment = /comment\s+"([^"]*)"/.exec(rest)?.[1] ?? set.comment;
    }
    return;
  }
  if (what === 'element') {
    const set = table.sets.get(name);
    if (set === undefined) {
      result.warnings.push(`line ${lineNo}: element for ${name}, which was not added`);
      return;
    }
    const elements = parseElements(rest);
    if (removing) set.elements = set.elements.filter((e) => !elements.some((x) => x.key.join(' . ') === e.key.join(' . ')));
    else set.elements.push(...elements);
    return;
  }
  // rule
  const chain = table.chains.get(name);
  if (chain === undefined) {
    result.warnings.push(`line ${lineNo}: rule for chain ${name}, which was not added`);
    return;
  }
  const pos = /^(position|index|handle)\s+(\d+)\s+/.exec(rest);
  if (removing) {
    if (pos !== null) chain.rules = chain.rules.filter((r) => r.handle !== Number(pos[2]));
    return;
  }
  if (pos !== null) rest = rest.slice(pos[0].length);
  const rule = parseNftRule(rest, name, lineNo);
  if (verb === 'insert') chain.rules.unshift(rule);
  else chain.rules.push(rule);
}

export function parseNftRule(text: string, chain: string, line: number): NftRule {
  let raw = text;
  let handle: number | null = null;
  // a trailing "# handle N" (nft -a), found without a backtracking regex
  const at = text.lastIndexOf('# handle ');
  if (at > 0) {
    const digits = text.slice(at + '# handle '.length);
    const before = text.charCodeAt(at - 1);
    if ((before === 32 || before === 9) && /^\d+$/.test(digits)) {
      handle = Number(digits);
      raw = text.slice(0, at).trimEnd();
    }
  }
  return new LazyNftRule(raw, chain, line, handle);
}

// "{ 1.2.3.4 . tcp . 80 : goto x, 5.6.7.8 . tcp . 80 comment "ns/s:p" : drop }"
export function parseElements(text: string): NftSetElement[] {
  let body = text.trim();
  if (body.startsWith('{')) body = body.slice(1);
  if (body.endsWith('}')) body = body.slice(0, -1);
  const out: NftSetElement[] = [];
  for (const part of splitTopLevel(body, ',')) {
    const raw = part.trim();
    if (raw === '') continue;
    const tokens = tokenizeNft(raw);
    const key: string[] = [];
    let comment: string | null = null;
    let verdict: NftVerdict | null = null;
    let value: string | null = null;
    let i = 0;
    for (; i < tokens.length; i++) {
      const t = tokens[i] as string;
      if (t === ':') break;
      if (t === '.') continue;
      if (t === 'comment') {
        comment = tokens[i + 1] ?? null;
        i++;
        continue;
      }
      if (t === 'counter' || t === 'timeout' || t === 'expires') {
        // element statements: skip their arguments up to the next keyword we know
        while (i + 1 < tokens.length && tokens[i + 1] !== ':' && tokens[i + 1] !== 'comment') i++;
        continue;
      }
      key.push(t);
    }
    const rest = tokens.slice(i + 1);
    if (rest.length > 0) {
      const v = parseVerdict(rest);
      if (v !== null) verdict = v;
      else value = rest.join(' ');
    }
    out.push({ key, verdict, value, comment, raw });
  }
  return out;
}

export function parseVerdict(tokens: string[]): NftVerdict | null {
  const k = tokens[0];
  if (k === 'goto' || k === 'jump') return { kind: k, chain: tokens[1] ?? null };
  if (k === 'accept' || k === 'drop' || k === 'return' || k === 'reject' || k === 'continue') {
    return { kind: k, chain: null };
  }
  return null;
}

function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') inQuote = !inQuote;
    else if (!inQuote && c === '{') depth++;
    else if (!inQuote && c === '}') depth--;
    else if (!inQuote && depth === 0 && c === sep) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

// kube-proxy's table, or null when the listing does not have it.
export function findKubeProxyTable(ruleset: NftRuleset, family = 'ip'): NftTable | null {
  return ruleset.tables.find((t) => t.name === 'kube-proxy' && t.family === family) ?? null;
}

// "service-ULMVA6XW-ns1/svc1/tcp/p80" -> "ns1/svc1:p80"
export function servicePortFromNftChain(chain: string): string | null {
  const m = chain.match(/^(?:service|local|external|endpoint|firewall)-[A-Z0-9]{8}-([^/]+)\/([^/]+)\/[a-z]+\/([^_]*)/);
  // kube-proxy's ServicePortName: "ns/name:port", or "ns/name" for an unnamed port
  return m === null ? null : `${m[1]}/${m[2]}${m[3] ? `:${m[3]}` : ''}`;
}

/**
 * The Service ports kube-proxy's table programs, sorted, each once: every element of service-ips
 * and no-endpoint-services, named by the chain it jumps to or, for a drop/reject, by its comment.
 */
export function listProgrammedNftServicePorts(table: NftTable): string[] {
  const programmed = new Set<string>();
  for (const setName of ['service-ips', 'no-endpoint-services']) {
    for (const e of table.sets.get(setName)?.elements ?? []) {
      const sp = (e.verdict?.chain ? servicePortFromNftChain(e.verdict.chain) : null) ?? e.comment;
      if (sp) programmed.add(sp);
    }
  }
  return [...programmed].sort();
}

/** The service CIDR written as a set literal in cluster-ips-check's "unallocated ClusterIPs" drop rule, or null. */
export function findNftServiceCidr(table: NftTable): string | null {
  const unallocated = table.chains.get('cluster-ips-check')?.rules.find((r) => /Drop traffic to unallocated ClusterIPs/.test(r.raw));
  if (!unallocated) return null;
  // kube-proxy writes a set ("ip daddr { 10.96.0.0/16 }"); nft lists a one-element set bare.
  const m = /ip daddr (?:\{\s*([0-9./]+)[^}]*\}|([0-9.]+\/\d+))/.exec(unallocated.raw);
  return m?.[1] ?? m?.[2] ?? null;
}
