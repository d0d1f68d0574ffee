// Reads the counter snapshots conn-check takes around its probes (sections ctr/PHASE/WHERE/*) and
// subtracts them: which rules, chains, interfaces and kernel counters moved, and by how much.
import type { RawSection } from '../../probe/sections.js';
import { parseIptablesSave, type IptablesRule } from '../../kube-proxy/iptables-save.js';
import { parseConntrackStats, parseIpLinkStats, parseNftCounters, parseSnmp, type LinkCounters, type NftChainPolicy, type NftCounterRule, type SnmpCounters } from '../../parse/net-counters.js';
import { parseIpNeighJson, type NeighborEntry } from '../../parse/ip-neigh.js';
import { parseSysctlGrep, type NodeSysctls } from '../../parse/sysctl.js';
import { describeToolFailure, readRuleDumps } from '../../kube-proxy/rule-dumps.js';

export type CounterPhase = 'before' | 'after';

/** One namespace's counters at one moment; null fields could not be read (see `unreadable`). */
export interface CounterSnapshot {
  iptables: Array<{ backend: 'iptables-nft' | 'iptables-legacy'; rules: IptablesRule[]; chains: ChainCounter[] }> | null;
  nft: { rules: NftCounterRule[]; chains: NftChainPolicy[] } | null;
  links: LinkCounters[] | null;
  snmp: SnmpCounters | null;
  conntrack: Record<string, number> | null;
  neigh: NeighborEntry[] | null;
  sysctl: NodeSysctls | null;
  unreadable: string[];
}

export interface ChainCounter {
  table: string;
  chain: string;
  policy: string | null;
  packets: number;
}

/** Cuts the ctr/PHASE/WHERE/ prefix off, so the rule sections read as readRuleDumps knows them. */
function sectionsOf(sections: ReadonlyMap<string, RawSection>, phase: CounterPhase, where: string): Map<string, RawSection> {
  const prefix = `ctr/${phase}/${where}/`;
  const out = new Map<string, RawSection>();
  for (const [name, s] of sections) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), s);
  return out;
}

export function readCounterSnapshot(sections: ReadonlyMap<string, RawSection>, phase: CounterPhase, where: string): CounterSnapshot | null {
  const own = sectionsOf(sections, phase, where);
  if (own.size === 0 || own.has('missing')) return null;
  const unreadable: string[] = [];
  const read = <T>(name: string, tool: string, parse: (text: string) => T | null): T | null => {
    const s = own.get(name);
    if (!s) return null;
    if (s.exitCode !== 0) {
      unreadable.push(`${tool}: ${describeToolFailure(tool, s)}`);
      return null;
    }
    const v = parse(s.stdout);
    if (v === null) unreadable.push(`${tool}: output not understood`);
    return v;
  };
  const snapshot: CounterSnapshot = {
    iptables: readIptables(own, unreadable),
    nft: read('nft', 'nft list ruleset', (t) => parseNftCounters(t)),
    links: read('link', 'ip -s -j link', (t) => okOrNull(parseIpLinkStats(t))),
    snmp: mergeSnmp(read('snmp', '/proc/net/snmp', (t) => okOrNull(parseSnmp(t))), read('netstat', '/proc/net/netstat', (t) => okOrNull(parseSnmp(t)))),
    conntrack: read('conntrack', 'conntrack -S', (t) => okOrNull(parseConntrackStats(t))),
    neigh: read('neigh', 'ip -j neigh', (t) => okOrNull(parseIpNeighJson(t))),
    sysctl: read('sysctl', 'sysctl', (t) => okOrNull(parseSysctlGrep(t))),
    unreadable,
  };
  return snapshot;
}

function okOrNull<T>(r: { ok: true; value: T } | { ok: false }): T | null {
  return r.ok ? r.value : null;
}

function mergeSnmp(a: SnmpCounters | null, b: SnmpCounters | null): SnmpCounters | null {
  if (a === null && b === null) return null;
  return { ...(a ?? {}), ...(b ?? {}) };
}

function readIptables(own: Map<string, RawSection>, unreadable: string[]): CounterSnapshot['iptables'] {
  if (!own.has('iptables-nft') && !own.has('iptables-legacy') && !own.has('iptables')) return null;
  const dumps = readRuleDumps(new Map([...own].filter(([n]) => n.startsWith('iptables')).map(([n, s]) => [`host/${n}`, { ...s, name: `host/${n}` }])));
  const out: NonNullable<CounterSnapshot['iptables']> = [];
  for (const [backend, text] of [['iptables-nft', dumps.iptablesNft], ['iptables-legacy', dumps.iptablesLegacy]] as const) {
    if (text === null) continue;
    const dump = parseIptablesSave(text);
    const rules: IptablesRule[] = [];
    const chains: ChainCounter[] = [];
    for (const table of dump.tables.values()) {
      for (const chain of table.chains.values()) {
        rules.push(...chain.rules);
        if (chain.counters) chains.push({ table: table.name, chain: chain.name, policy: chain.policy, packets: chain.counters.packets });
      }
    }
    out.push({ backend, rules, chains });
  }
  unreadable.push(...dumps.unreadable.map((u) => `${u.source}: ${u.why}`));
  // Both backends unreadable: no rule counters at all (minimal images without iptables).
  return out.length > 0 ? out : null;
}

/** A DROP/REJECT (or any) rule whose packet counter moved between the snapshots. */
export interface RuleDelta {
  backend: 'iptables-nft' | 'iptables-legacy' | 'nftables';
  table: string;
  chain: string;
  index: number; // 1-based rule number in its chain, as `iptables -L --line-numbers` counts
  rule: string; // the rule without its counters
  target: string; // DROP, REJECT, ACCEPT, KUBE-SVC-..., drop, reject
  packets: number; // the delta
  parsed: IptablesRule | null; // iptables rules only: for matching against the probe's flow
}

/** Rules in the same place with the same text are the same rule; its counter delta is after - before. */
export function ruleDeltas(before: CounterSnapshot, after: CounterSnapshot): RuleDelta[] {
  const out: RuleDelta[] = [];
  for (const a of after.iptables ?? []) {
    const b = (before.iptables ?? []).find((x) => x.backend === a.backend);
    // Identical rules in one chain are told apart by their order among themselves.
    const earlier = new Map<string, number>();
    const seenBefore = new Map<string, number>();
    for (const r of b?.rules ?? []) earlier.set(occurrenceKey(ruleKey(r), seenBefore), r.counters?.packets ?? 0);
    const seenAfter = new Map<string, number>();
    const position = new Map<string, number>();
    for (const r of a.rules) {
      const where = `${r.table}/${r.chain}`;
      const index = (position.get(where) ?? 0) + 1;
      position.set(where, index);
      const was = earlier.get(occurrenceKey(ruleKey(r), seenAfter));
      if (was === undefined || r.counters === null) continue; // new rule: no before to compare
      const moved = r.counters.packets - was;
      if (moved <= 0) continue;
      out.push({ backend: a.backend, table: r.table, chain: r.chain, index, rule: ruleText(r), target: r.target?.name ?? '', packets: moved, parsed: r });
    }
  }
  const earlierNft = new Map<string, number>();
  for (const r of before.nft?.rules ?? []) earlierNft.set(nftKey(r), r.packets);
  for (const r of after.nft?.rules ?? []) {
    // iptables-nft rules show up in `nft list ruleset` too; they are counted once, as iptables rules.
    if (after.iptables?.some((i) => i.backend === 'iptables-nft') && /^(filter|nat|mangle|raw|security)$/.test(r.table) && r.family === 'ip') continue;
    const was = earlierNft.get(nftKey(r));
    if (was === undefined || r.packets - was <= 0) continue;
    out.push({ backend: 'nftables', table: `${r.family} ${r.table}`, chain: r.chain, index: r.index, rule: r.text.replace(/\bcounter packets \d+ bytes \d+\s*/, ''), target: r.verdict, packets: r.packets - was, parsed: null });
  }
  return out;
}

function ruleText(r: IptablesRule): string {
  return r.raw.replace(/^\[\d+:\d+\]\s*/, '');
}
function occurrenceKey(key: string, seen: Map<string, number>): string {
  const n = (seen.get(key) ?? 0) + 1;
  seen.set(key, n);
  return `${key}#${n}`;
}
function ruleKey(r: IptablesRule): string {
  return `${r.table}/${r.chain}/${ruleText(r)}`;
}
function nftKey(r: NftCounterRule): string {
  return `${r.family}/${r.table}/${r.chain}/${r.index}/${r.text.replace(/\bcounter packets \d+ bytes \d+/, '')}`;
}

/** Built-in chains whose policy counter moved (the packets that fell through to the policy). */
export function chainPolicyDeltas(before: CounterSnapshot, after: CounterSnapshot): Array<ChainCounter & { backend: string; moved: number }> {
  const out: Array<ChainCounter & { backend: string; moved: number }> = [];
  for (const a of after.iptables ?? []) {
    const b = (before.iptables ?? []).find((x) => x.backend === a.backend);
    for (const c of a.chains) {
      const was = b?.chains.find((x) => x.table === c.table && x.chain === c.chain)?.packets;
      if (was === undefined || c.policy === null || c.packets - was <= 0) continue;
      out.push({ ...c, backend: a.backend, moved: c.packets - was });
    }
  }
  return out;
}

export interface LinkDelta {
  ifname: string;
  rx: number;
  tx: number;
  rxDropped: number;
  txDropped: number;
  adminUp: boolean;
  operState: string;
}

export function linkDeltas(before: CounterSnapshot, after: CounterSnapshot): LinkDelta[] {
  const out: LinkDelta[] = [];
  for (const a of after.links ?? []) {
    const b = before.links?.find((x) => x.ifindex === a.ifindex && x.ifname === a.ifname);
    if (!b) continue;
    out.push({ ifname: a.ifname, rx: a.rxPackets - b.rxPackets, tx: a.txPackets - b.txPackets, rxDropped: a.rxDropped - b.rxDropped, txDropped: a.txDropped - b.txDropped, adminUp: a.adminUp, operState: a.operState });
  }
  return out;
}

/** "Ip.InAddrErrors" -> delta, every counter that moved (snmp and netstat, conntrack as "conntrack.drop"). */
export function kernelCounterDeltas(before: CounterSnapshot, after: CounterSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [group, values] of Object.entries(after.snmp ?? {})) {
    const was = before.snmp?.[group];
    if (!was) continue;
    for (const [name, v] of Object.entries(values)) {
      // Ip.Forwarding and similar are settings, not counters.
      if (was[name] === undefined || /^(Forwarding|DefaultTTL|RtoAlgorithm|RtoMin|RtoMax|MaxConn)$/.test(name)) continue;
      const d = v - was[name]!;
      if (d !== 0) out[`${group}.${name}`] = d;
    }
  }
  for (const [name, v] of Object.entries(after.conntrack ?? {})) {
    const was = before.conntrack?.[name];
    if (was !== undefined && v - was !== 0) out[`conntrack.${name}`] = v - was;
  }
  return out;
}
