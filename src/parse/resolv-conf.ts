// /etc/resolv.conf -> nameservers, search list, ndots and options, plus the query plan the glibc
// / musl stub resolver follows for a name (why "kubernetes.default" costs 2 queries per record
// type under ndots:5 and "example.com" costs 4 NXDOMAINs first).
import { type ParseResult, type SkippedRecord, splitLines, success, toInt } from './json-input.js';

export interface ResolvOption {
  name: string; // ndots, timeout, attempts, rotate, single-request-reopen, edns0, ...
  value: string | null; // "5" for ndots:5; null for bare flags
  raw: string;
}

export interface ResolvConf {
  nameservers: string[]; // in file order; the resolver uses at most MAX_NAMESERVERS
  nameserversIgnored: string[]; // beyond MAX_NAMESERVERS: never queried
  search: string[];
  ndots: number; // 1 when not set (resolv.conf(5)); capped at 15
  timeoutSeconds: number | null;
  attempts: number | null;
  options: ResolvOption[];
  rawLines: string[]; // directive lines, comments dropped
}

// resolv.conf(5): "Up to MAXNS (currently 3) name servers may be listed"; ndots "capped to 15".
export const MAX_NAMESERVERS = 3;
const NDOTS_DEFAULT = 1;
const NDOTS_CAP = 15;
const SOURCE = '/etc/resolv.conf';

/** An empty file is valid: no nameserver means the resolver falls back to the local host. */
export function parseResolvConf(text: string): ParseResult<ResolvConf> {
  const allNameservers: string[] = [];
  let search: string[] = [];
  const options: ResolvOption[] = [];
  const rawLines: string[] = [];
  const skipped: SkippedRecord[] = [];
  for (const { lineNo, line } of splitLines(text)) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const [keyword, ...args] = trimmed.split(/\s+/);
    rawLines.push(line);
    switch (keyword) {
      case 'nameserver':
        if (args[0]) allNameservers.push(args[0]);
        break;
      // "domain" and "search" override each other: the last one in the file wins.
      case 'search':
        search = args;
        break;
      case 'domain':
        search = args.slice(0, 1);
        break;
      case 'options':
        for (const arg of args) {
          const colon = arg.indexOf(':');
          options.push({ name: colon < 0 ? arg : arg.slice(0, colon), value: colon < 0 ? null : arg.slice(colon + 1), raw: arg });
        }
        break;
      case 'sortlist':
        break;
      default:
        rawLines.pop();
        skipped.push({ source: SOURCE, position: `line ${lineNo}`, message: `unknown directive "${keyword}"`, raw: line });
    }
  }
  const optionValue = (name: string): number | null => {
    const last = options.filter((o) => o.name === name).pop();
    return last ? toInt(last.value ?? undefined) : null;
  };
  const ndots = optionValue('ndots');
  return success(
    {
      nameservers: allNameservers.slice(0, MAX_NAMESERVERS),
      nameserversIgnored: allNameservers.slice(MAX_NAMESERVERS),
      search,
      ndots: ndots === null ? NDOTS_DEFAULT : Math.min(Math.max(ndots, 0), NDOTS_CAP),
      timeoutSeconds: optionValue('timeout'),
      attempts: optionValue('attempts'),
      options,
      rawLines,
    },
    skipped,
  );
}

export interface QueryPlan {
  name: string;
  absolute: boolean; // trailing dot: search list not used
  candidates: string[]; // fully qualified names in the order the resolver tries them
  worstCaseQueries: number; // per record type, when every candidate is NXDOMAIN
}

/**
 * The names a stub resolver tries for `name`: with fewer than ndots dots the search domains come
 * first and the bare name last; with ndots or more the bare name comes first (resolv.conf(5),
 * "ndots:n"). A trailing dot makes the name absolute: one query. Each candidate is one query per
 * record type (A and AAAA are usually both sent, doubling the count).
 */
export function planQueries(name: string, conf: Pick<ResolvConf, 'search' | 'ndots'>): QueryPlan {
  const absolute = name.endsWith('.');
  const bare = absolute ? name.slice(0, -1) : name;
  let candidates: string[];
  if (absolute || conf.search.length === 0) {
    candidates = [`${bare}.`];
  } else {
    const searched = conf.search.map((domain) => `${bare}.${domain.replace(/\.$/, '')}.`);
    const dots = (bare.match(/\./g) ?? []).length;
    candidates = dots >= conf.ndots ? [`${bare}.`, ...searched] : [...searched, `${bare}.`];
  }
  return {
    name,
    absolute,
    candidates,
    worstCaseQueries: candidates.length,
  };
}

/**
 * Queries (per record type) spent before `answeredName` answers: the candidates before it are
 * NXDOMAIN round trips. null when the name is not among the candidates.
 */
export function queriesUntilAnswered(plan: QueryPlan, answeredName: string): number | null {
  const fqdn = answeredName.endsWith('.') ? answeredName : `${answeredName}.`;
  const i = plan.candidates.indexOf(fqdn);
  return i < 0 ? null : i + 1;
}
