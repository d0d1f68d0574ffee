// `ip -j -d route show table all`, `ip -j route get ADDR` and the text `ip route` -> RouteEntry.
// Destinations are normalised to CIDR ("default" -> 0.0.0.0/0, "10.77.1.2" -> 10.77.1.2/32) so
// analysis can match prefixes without knowing ip's shorthand.
import {
  type JsonObject,
  type ParseResult,
  type SkippedRecord,
  failure,
  isJsonObject,
  numberField,
  parseJsonArrayInput,
  splitLines,
  stringArrayField,
  stringField,
  success,
  toInt,
} from './json-input.js';

export const ROUTE_TYPES = ['unicast', 'local', 'broadcast', 'multicast', 'anycast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'nat'] as const;
export type RouteType = (typeof ROUTE_TYPES)[number];

export type RouteFamily = 'inet' | 'inet6';

export interface RouteEntry {
  dst: string; // CIDR, normalised
  dstRaw: string; // as ip printed it: "default", "10.77.1.2", "10.77.2.0/24"
  isDefault: boolean;
  family: RouteFamily;
  type: RouteType | 'other';
  gateway: string | null;
  dev: string | null;
  prefsrc: string | null;
  scope: string | null; // global | link | host | nowhere; null when ip printed none (route get)
  protocol: string | null; // kernel | boot | static | bird | dhcp | a number
  table: string; // main when not printed (text form without "table")
  metric: number | null;
  mtuBytes: number | null; // from the route's metrics ("mtu 1400", "mtu lock 1400")
  mtuLocked: boolean;
  flags: string[]; // onlink, linkdown, dead, pervasive, ...
  onlink: boolean;
  cache: string[]; // route get: ["local"], ["cloned"], ...
  raw: string;
}

const JSON_SOURCE = 'ip -j -d route show table all';
const GET_SOURCE = 'ip -j route get';
const TEXT_SOURCE = 'ip route show';

export function parseIpRouteJson(text: string): ParseResult<RouteEntry[]> {
  const parsed = parseJsonArrayInput(text, JSON_SOURCE);
  if (!parsed.ok) return parsed;
  const routes: RouteEntry[] = [];
  const skipped: SkippedRecord[] = [];
  parsed.value.forEach((obj, i) => {
    const route = routeFromJson(obj);
    if (route) routes.push(route);
    else skipped.push({ source: JSON_SOURCE, position: `record ${i + 1}`, message: 'route has no dst', raw: JSON.stringify(obj) });
  });
  return success(routes, skipped);
}

/**
 * `ip -j route get ADDR` prints a one-element array. When the kernel refuses (a blackhole or
 * unreachable destination gives "RTNETLINK answers: Invalid argument" / "Network is unreachable")
 * stdout is empty and stderr says why: pass stderr to get that as a command-error.
 */
export function parseIpRouteGetJson(stdout: string, stderr = ''): ParseResult<RouteEntry> {
  if (stdout.trim() === '' && stderr.trim() !== '') {
    return failure('command-error', GET_SOURCE, `${GET_SOURCE}: ${stderr.trim().split('\n')[0]}`, stderr);
  }
  const parsed = parseJsonArrayInput(stdout, GET_SOURCE);
  if (!parsed.ok) return parsed;
  const first = parsed.value[0];
  const route = first ? routeFromJson(first) : null;
  if (!route) return failure('unexpected-shape', GET_SOURCE, `${GET_SOURCE}: expected one route record with a dst`, stdout);
  return success(route);
}

function routeFromJson(obj: JsonObject): RouteEntry | null {
  const dstRaw = stringField(obj, 'dst');
  if (dstRaw === null) return null;
  const gateway = stringField(obj, 'gateway');
  const prefsrc = stringField(obj, 'prefsrc');
  const family = familyOf(dstRaw, gateway, prefsrc);
  const flags = stringArrayField(obj, 'flags');
  const { mtuBytes, mtuLocked } = mtuFromMetrics(obj['metrics']);
  return {
    dst: normaliseDst(dstRaw, family),
    dstRaw,
    isDefault: dstRaw === 'default',
    family,
    // route get prints no type for unicast.
    type: toRouteType(stringField(obj, 'type') ?? 'unicast'),
    gateway,
    dev: stringField(obj, 'dev'),
    prefsrc,
    scope: stringField(obj, 'scope'),
    protocol: stringField(obj, 'protocol'),
    table: stringField(obj, 'table') ?? 'main',
    metric: numberField(obj, 'metric'),
    mtuBytes,
    mtuLocked,
    flags,
    onlink: flags.includes('onlink'),
    cache: stringArrayField(obj, 'cache'),
    raw: JSON.stringify(obj),
  };
}

// ip -j prints metrics as [{"mtu": 1400}] or, when locked, [{"mtu": ["lock", 1400]}]... and
// older iproute2 as {"mtu": 1400}. Accept all three.
function mtuFromMetrics(metrics: unknown): { mtuBytes: number | null; mtuLocked: boolean } {
  const entries = Array.isArray(metrics) ? metrics : [metrics];
  for (const m of entries) {
    if (!isJsonObject(m)) continue;
    const v = m['mtu'];
    if (typeof v === 'number') return { mtuBytes: v, mtuLocked: false };
    if (Array.isArray(v)) {
      const n = v.find((x): x is number => typeof x === 'number');
      if (n !== undefined) return { mtuBytes: n, mtuLocked: v.includes('lock') };
    }
  }
  return { mtuBytes: null, mtuLocked: false };
}

function familyOf(dst: string, gateway: string | null, prefsrc: string | null): RouteFamily {
  return [dst, gateway, prefsrc].some((a) => a !== null && a.includes(':')) ? 'inet6' : 'inet';
}

export function normaliseDst(dstRaw: string, family: RouteFamily): string {
  if (dstRaw === 'default') return family === 'inet6' ? '::/0' : '0.0.0.0/0';
  if (dstRaw.includes('/')) return dstRaw;
  return `${dstRaw}/${family === 'inet6' ? 128 : 32}`;
}

export function toRouteType(value: string): RouteType | 'other' {
  return (ROUTE_TYPES as readonly string[]).includes(value) ? (value as RouteType) : 'other';
}

// ---------------------------------------------------------------------------------------------
// Text form. Stage 1: tokens per line. Stage 2: an optional leading type keyword, the
// destination, then "key value" pairs and bare flag words.

const VALUE_KEYS = new Set(['via', 'dev', 'proto', 'scope', 'src', 'metric', 'table', 'mtu', 'advmss', 'pref', 'expires', 'realm', 'realms', 'weight', 'tos', 'initcwnd', 'initrwnd', 'hoplimit', 'nhid', 'error', 'from', 'iif', 'uid', 'rtt', 'rttvar', 'cwnd', 'window', 'ssthresh', 'quickack', 'features', 'congctl', 'fastopen_no_cookie', 'onlink_dummy']);
const FLAG_WORDS = new Set(['onlink', 'linkdown', 'dead', 'pervasive', 'offload', 'trap', 'notify', 'rt_offload_failed']);

export function parseIpRouteText(text: string): ParseResult<RouteEntry[]> {
  if (text.trim() === '') return success([]);
  const routes: RouteEntry[] = [];
  const skipped: SkippedRecord[] = [];
  let havePrevious = false;
  for (const { lineNo, line } of splitLines(text)) {
    if (/^\s/.test(line)) {
      // "\tnexthop via ... weight 1" lines of a multipath route: kept as raw evidence of the route above.
      if (havePrevious && routes.length > 0) routes[routes.length - 1]!.raw += `\n${line}`;
      else skipped.push({ source: TEXT_SOURCE, position: `line ${lineNo}`, message: 'continuation line without a route', raw: line });
      continue;
    }
    const route = routeFromText(line);
    if (route) {
      routes.push(route);
      havePrevious = true;
    } else {
      skipped.push({ source: TEXT_SOURCE, position: `line ${lineNo}`, message: 'not a route line', raw: line });
    }
  }
  if (routes.length === 0) {
    return failure('unrecognised-text', TEXT_SOURCE, `${TEXT_SOURCE}: no route lines found`, text);
  }
  return success(routes, skipped);
}

function routeFromText(line: string): RouteEntry | null {
  const tokens = line.trim().split(/\s+/);
  let i = 0;
  let type: RouteType | 'other' = 'unicast';
  if ((ROUTE_TYPES as readonly string[]).includes(tokens[0] ?? '')) {
    type = tokens[0] as RouteType;
    i = 1;
  }
  const dstRaw = tokens[i];
  if (dstRaw === undefined || !/^(default|[0-9a-fA-F:.]+(\/\d+)?)$/.test(dstRaw)) return null;
  i++;
  const values = new Map<string, string>();
  const flags: string[] = [];
  let mtuLocked = false;
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (t === 'mtu' && tokens[i + 1] === 'lock') {
      mtuLocked = true;
      values.set('mtu', tokens[i + 2] ?? '');
      i += 3;
    } else if (VALUE_KEYS.has(t) && i + 1 < tokens.length) {
      if (!values.has(t)) values.set(t, tokens[i + 1]!);
      i += 2;
    } else {
      if (FLAG_WORDS.has(t)) flags.push(t);
      i++;
    }
  }
  const gateway = values.get('via') ?? null;
  const prefsrc = values.get('src') ?? null;
  const family = familyOf(dstRaw, gateway, prefsrc);
  return {
    dst: normaliseDst(dstRaw, family),
    dstRaw,
    isDefault: dstRaw === 'default',
    family,
    type,
    gateway,
    dev: values.get('dev') ?? null,
    prefsrc,
    // ip omits "scope global" in text; unicast routes without a printed scope are global.
    scope: values.get('scope') ?? (type === 'unicast' ? 'global' : null),
    protocol: values.get('proto') ?? null,
    table: values.get('table') ?? 'main',
    metric: toInt(values.get('metric')),
    mtuBytes: toInt(values.get('mtu')),
    mtuLocked,
    flags,
    onlink: flags.includes('onlink'),
    cache: [],
    raw: line,
  };
}
