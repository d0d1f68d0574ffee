// `ip -j neigh show` and the text `ip neigh` -> NeighborEntry[]. arp-check reads the pod's gateway
// entry and the host side's entries for pod IPs; the NUD state says whether ARP ever worked.
import {
  type JsonObject,
  type ParseResult,
  type SkippedRecord,
  failure,
  parseJsonArrayInput,
  splitLines,
  stringArrayField,
  stringField,
  success,
} from './json-input.js';

// The kernel's NUD states (include/uapi/linux/neighbour.h), as ip prints them.
export const NEIGHBOR_STATES = ['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'INCOMPLETE', 'FAILED', 'PERMANENT', 'NOARP', 'NONE'] as const;
export type NeighborState = (typeof NEIGHBOR_STATES)[number];

export interface NeighborEntry {
  dst: string;
  family: 'inet' | 'inet6';
  dev: string | null;
  lladdr: string | null; // null while INCOMPLETE/FAILED: no MAC learned
  state: NeighborState;
  router: boolean; // IPv6 neighbour is a router
  proxy: boolean; // a proxy entry ("ip neigh add proxy ..."), not a resolved host
  raw: string;
}

const JSON_SOURCE = 'ip -j neigh show';
const TEXT_SOURCE = 'ip neigh show';

export function isNeighborState(value: string): value is NeighborState {
  return (NEIGHBOR_STATES as readonly string[]).includes(value);
}

export function parseIpNeighJson(text: string): ParseResult<NeighborEntry[]> {
  const parsed = parseJsonArrayInput(text, JSON_SOURCE);
  if (!parsed.ok) return parsed;
  const entries: NeighborEntry[] = [];
  const skipped: SkippedRecord[] = [];
  parsed.value.forEach((obj, i) => {
    const entry = entryFromJson(obj);
    if (typeof entry === 'string') {
      skipped.push({ source: JSON_SOURCE, position: `record ${i + 1}`, message: entry, raw: JSON.stringify(obj) });
    } else {
      entries.push(entry);
    }
  });
  return success(entries, skipped);
}

function entryFromJson(obj: JsonObject): NeighborEntry | string {
  const dst = stringField(obj, 'dst');
  if (dst === null) return 'entry has no dst';
  // "state" is a list of flag names (["REACHABLE"]); the kernel sets exactly one NUD bit.
  // No "state" key at all: the kernel holds the entry with NUD_NONE (0) and ip prints nothing.
  const stateWords = stringArrayField(obj, 'state');
  const state = 'state' in obj ? stateWords.find(isNeighborState) : 'NONE';
  if (state === undefined) return `unrecognised neighbour state ${JSON.stringify(obj['state'] ?? null)}`;
  return {
    dst,
    family: dst.includes(':') ? 'inet6' : 'inet',
    dev: stringField(obj, 'dev'),
    lladdr: stringField(obj, 'lladdr'),
    state,
    // ip -j prints bare flags as `"router": null`: presence is the flag.
    router: 'router' in obj,
    proxy: 'proxy' in obj,
    raw: JSON.stringify(obj),
  };
}

/**
 * Text form: "10.77.2.2 dev br0 lladdr 46:28:94:c3:df:45 REACHABLE",
 * "10.77.2.99 dev br0 FAILED", "fe80::1 dev eth0 lladdr ... router STALE".
 * Stage 1 splits tokens; stage 2 takes "dev"/"lladdr" values and the state word.
 */
export function parseIpNeighText(text: string): ParseResult<NeighborEntry[]> {
  if (text.trim() === '') return success([]);
  const entries: NeighborEntry[] = [];
  const skipped: SkippedRecord[] = [];
  for (const { lineNo, line } of splitLines(text)) {
    const entry = entryFromText(line);
    if (typeof entry === 'string') skipped.push({ source: TEXT_SOURCE, position: `line ${lineNo}`, message: entry, raw: line });
    else entries.push(entry);
  }
  if (entries.length === 0) {
    return failure('unrecognised-text', TEXT_SOURCE, `${TEXT_SOURCE}: no neighbour lines found`, text);
  }
  return success(entries, skipped);
}

function entryFromText(line: string): NeighborEntry | string {
  const tokens = line.trim().split(/\s+/);
  const dst = tokens[0];
  if (dst === undefined || !/^[0-9a-fA-F:.]+$/.test(dst)) return 'line does not start with an address';
  let dev: string | null = null;
  let lladdr: string | null = null;
  let state: NeighborState | null = null;
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === 'dev') dev = tokens[++i] ?? null;
    else if (t === 'lladdr') lladdr = tokens[++i] ?? null;
    else if (isNeighborState(t)) state = t;
  }
  // An entry with no state word is one the kernel holds with NUD_NONE; ip prints nothing then.
  if (state === null) {
    if (tokens.some((t) => /^[A-Z]{4,}$/.test(t))) return 'unrecognised neighbour state';
    state = 'NONE';
  }
  return {
    dst,
    family: dst.includes(':') ? 'inet6' : 'inet',
    dev,
    lladdr,
    state,
    router: tokens.includes('router'),
    proxy: tokens.includes('proxy'),
    raw: line,
  };
}
