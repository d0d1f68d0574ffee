// The kernel's packet counters that conn-check reads before and after its probes:
// /proc/net/snmp and /proc/net/netstat (header line / value line pairs), `ip -s -j link`,
// `conntrack -S` and the counters of `nft list ruleset`.
import { failure, isJsonObject, numberField, objectField, parseJsonArrayInput, stringArrayField, stringField, success, type ParseResult } from './json-input.js';

/** "Ip" -> { Forwarding: 1, InReceives: 123, ... }, "IpExt" -> {...}, "TcpExt" -> {...}. */
export type SnmpCounters = Record<string, Record<string, number>>;

/**
 * /proc/net/snmp and /proc/net/netstat share one layout: a line "Ip: Forwarding DefaultTTL ..."
 * followed by "Ip: 1 64 ...". Both files parse here; a group whose value line is missing or has
 * a different number of fields is skipped (a truncated read), not guessed.
 */
export function parseSnmp(text: string): ParseResult<SnmpCounters> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const out: SnmpCounters = {};
  for (let i = 0; i + 1 < lines.length; i++) {
    const head = /^(\w+):\s+(.*)$/.exec(lines[i]!);
    const values = /^(\w+):\s+(.*)$/.exec(lines[i + 1]!);
    if (!head || !values || head[1] !== values[1]) continue;
    const names = head[2]!.trim().split(/\s+/);
    const nums = values[2]!.trim().split(/\s+/);
    if (names.length !== nums.length || nums.some((n) => !/^-?\d+$/.test(n))) continue;
    const group: Record<string, number> = {};
    names.forEach((n, j) => (group[n] = Number(nums[j])));
    out[head[1]!] = group;
    i++;
  }
  if (Object.keys(out).length === 0) return failure(text.trim() === '' ? 'empty-input' : 'unrecognised-text', '/proc/net/snmp', '/proc/net/snmp: no counter group found', text);
  return success(out);
}

export interface LinkCounters {
  ifname: string;
  ifindex: number;
  linkIndex: number | null; // the peer's ifindex (veth), as this namespace reports it
  adminUp: boolean;
  operState: string;
  rxPackets: number;
  txPackets: number;
  rxDropped: number;
  txDropped: number;
  rxErrors: number;
  txErrors: number;
}

/** `ip -s -j link show`: per interface, the packet, drop and error counters (stats64). */
export function parseIpLinkStats(text: string): ParseResult<LinkCounters[]> {
  const parsed = parseJsonArrayInput(text, 'ip -s -j link show');
  if (!parsed.ok) return parsed;
  const out: LinkCounters[] = [];
  for (const obj of parsed.value) {
    const ifname = stringField(obj, 'ifname');
    const ifindex = numberField(obj, 'ifindex');
    if (ifname === null || ifindex === null) continue;
    const stats = objectField(obj, 'stats64') ?? objectField(obj, 'stats');
    const rx = stats ? objectField(stats, 'rx') : null;
    const tx = stats ? objectField(stats, 'tx') : null;
    const n = (o: ReturnType<typeof objectField>, k: string) => (o && isJsonObject(o) ? (numberField(o, k) ?? 0) : 0);
    out.push({
      ifname,
      ifindex,
      linkIndex: numberField(obj, 'link_index'),
      adminUp: stringArrayField(obj, 'flags').includes('UP'),
      operState: stringField(obj, 'operstate') ?? 'UNKNOWN',
      rxPackets: n(rx, 'packets'),
      txPackets: n(tx, 'packets'),
      rxDropped: n(rx, 'dropped'),
      txDropped: n(tx, 'dropped'),
      rxErrors: n(rx, 'errors'),
      txErrors: n(tx, 'errors'),
    });
  }
  return success(out);
}

/** `conntrack -S`: one line per CPU ("cpu=0 found=0 invalid=2 ... drop=0 ..."), summed per key. */
export function parseConntrackStats(text: string): ParseResult<Record<string, number>> {
  const out: Record<string, number> = {};
  let lines = 0;
  for (const line of text.split('\n')) {
    if (!/^cpu=\d+\s/.test(line.trim())) continue;
    lines++;
    for (const m of line.matchAll(/(\w+)=(\d+)/g)) {
      if (m[1] === 'cpu') continue;
      out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
    }
  }
  if (lines === 0) return failure(text.trim() === '' ? 'empty-input' : 'unrecognised-text', 'conntrack -S', 'conntrack -S: no per-CPU line found', text);
  return success(out);
}

/**
 * insert_failed of `conntrack -S` summed over the per-CPU lines, with the lines where it is not 0
 * (evidence); null when no line carries the counter (no conntrack tool, or another output).
 */
export function conntrackInsertFailed(text: string): { total: number; lines: string[] } | null {
  const lines = text.split('\n').filter((l) => /insert_failed=\d+/.test(l));
  if (lines.length === 0) return null;
  const total = lines.reduce((sum, l) => sum + Number(/insert_failed=(\d+)/.exec(l)![1]), 0);
  return { total, lines: lines.filter((l) => !/insert_failed=0\b/.test(l)).map((l) => l.trim()) };
}

export interface NftCounterRule {
  family: string;
  table: string;
  chain: string;
  index: number; // 1-based position in its chain
  text: string; // the rule as nft printed it, trimmed
  packets: number;
  bytes: number;
  verdict: 'drop' | 'reject' | 'other';
}

export interface NftChainPolicy {
  family: string;
  table: string;
  chain: string;
  hook: string | null;
  policy: string | null;
}

/**
 * `nft list ruleset`: every rule that carries a `counter` statement, with its verdict, and each
 * base chain's policy. Rules without a counter cannot say whether they matched and are left out.
 */
export function parseNftCounters(text: string): { rules: NftCounterRule[]; chains: NftChainPolicy[] } {
  const rules: NftCounterRule[] = [];
  const chains: NftChainPolicy[] = [];
  let family = '';
  let table = '';
  let chain: string | null = null;
  let index = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const t = /^table\s+(\S+)\s+(\S+)\s*\{/.exec(line);
    if (t) {
      family = t[1]!;
      table = t[2]!;
      chain = null;
      continue;
    }
    const c = /^chain\s+(\S+)\s*\{/.exec(line);
    if (c) {
      chain = c[1]!;
      index = 0;
      chains.push({ family, table, chain, hook: null, policy: null });
      continue;
    }
    if (line === '}') {
      chain = null; // a chain's end (the table's own end finds chain already null)
      continue;
    }
    if (chain === null || line === '') continue;
    const base = /^type\s+\S+\s+hook\s+(\S+).*?(?:policy\s+(\w+))?;?\s*$/.exec(line);
    if (base) {
      const entry = chains[chains.length - 1]!;
      entry.hook = base[1]!;
      entry.policy = base[2] ?? null;
      continue;
    }
    if (/^(set|map|elements|type|flags|counter$)/.test(line)) continue;
    index++;
    const counter = /\bcounter packets (\d+) bytes (\d+)/.exec(line);
    if (!counter) continue;
    const verdict = /\bdrop\b\s*(#.*)?$/.test(line) ? 'drop' : /\breject\b/.test(line) ? 'reject' : 'other';
    rules.push({ family, table, chain, index, text: line, packets: Number(counter[1]), bytes: Number(counter[2]), verdict });
  }
  return { rules, chains };
}
