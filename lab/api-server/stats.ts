// What a client costs the API server, for benchmarks: requests by verb and resource (as RBAC
// names them), TLS connections, probe pods and exec sessions alive at once (current and peak).
// Served as JSON at /lab/stats (`kubectl get --raw /lab/stats`); `kubectl delete --raw /lab/stats`
// (or GET /lab/stats?reset=true, which answers first) starts a new count.

export interface RequestKind {
  verb: string; // get, list, watch, create, delete, deletecollection, update, patch
  resource: string; // "pods", "pods/exec", "nodes", "selfsubjectaccessreviews", "discovery", "version"
}

/** One request in arrival order, for a benchmark's timeline (GET /lab/stats?log=true). */
export interface LoggedRequest {
  verb: string;
  resource: string;
  at: number; // epoch ms when it arrived (before any apiDelayMs)
  doneAt: number | null; // epoch ms when its answer was sent (an exec: when the stream opened); null: still open
}

export const MAX_LOGGED_REQUESTS = 5000;

export interface Gauge {
  current: number;
  peak: number;
}

export interface LabStatsSnapshot {
  since: string; // start of this count (server start or last reset)
  requests: {
    total: number;
    byVerb: Record<string, number>;
    byResource: Record<string, number>;
    byVerbAndResource: Record<string, number>; // "list pods"
  };
  connections: Gauge & { opened: number }; // TLS connections (keep-alive shows as few opened)
  probePods: Gauge & { created: number }; // pods created through the API, alive at once
  execSessions: Gauge & { opened: number; replayed: number }; // replayed: answered from a recording (exec-replay.ts)
  apiDelayMs: number; // the latency every request waits (faults.apiDelayMs) at the time of reading
  log?: LoggedRequest[]; // with ?log=true: the first MAX_LOGGED_REQUESTS requests since the reset
}

/**
 * Round trips the client waited for before request `index`: the longest chain of earlier requests
 * in which each one was sent only after the one before it was answered. Requests sent together
 * (in parallel) count once; a watch still open never ends a link.
 */
export function sequentialRoundTrips(log: readonly LoggedRequest[], index: number): number {
  const depth: number[] = [];
  for (let j = 0; j <= index && j < log.length; j += 1) {
    const arrived = log[j]!.at;
    let longest = 0;
    for (let i = 0; i < j; i += 1) {
      const done = log[i]!.doneAt;
      if (done !== null && done <= arrived) longest = Math.max(longest, depth[i]!);
    }
    depth.push(longest + 1);
  }
  return index < log.length ? depth[index]! - 1 : 0;
}

const DISCOVERY_ROOTS = new Set(['/api', '/apis']);

/** The request's verb as RBAC names it (an exec upgrade is create on pods/exec). */
export function requestVerb(method: string, named: boolean, subresource: string | null, query: URLSearchParams): string {
  const watching = query.get('watch') === 'true' || query.get('watch') === '1';
  switch (method.toUpperCase()) {
    case 'GET':
      // An exec/attach/portforward upgrade arrives as a GET; RBAC calls it create on pods/exec.
      if (subresource === 'exec' || subresource === 'attach' || subresource === 'portforward') return 'create';
      return watching ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    default:
      return method.toLowerCase();
  }
}

/** The verb and resource of one request, from its method, path and query alone. */
export function classifyRequest(method: string, path: string, query: URLSearchParams): RequestKind {
  const clean = path.replace(/\/+$/, '') || '/';
  if (clean === '/version') return { verb: 'get', resource: 'version' };
  if (clean === '/healthz' || clean === '/livez' || clean === '/readyz') return { verb: 'get', resource: 'healthz' };
  if (DISCOVERY_ROOTS.has(clean)) return { verb: 'get', resource: 'discovery' };
  const segments = clean.split('/').filter((s) => s !== '');
  let rest: string[];
  if (segments[0] === 'api' && segments[1] === 'v1') rest = segments.slice(2);
  else if (segments[0] === 'apis' && segments.length >= 3) rest = segments.slice(3);
  else if (segments[0] === 'apis' && segments.length === 2) return { verb: 'get', resource: 'discovery' };
  else return { verb: method.toLowerCase(), resource: 'other' };
  if (rest.length === 0) return { verb: 'get', resource: 'discovery' };
  // /namespaces/NS/<resource>/... is namespaced; /namespaces/NAME is the namespace itself.
  const tail = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
  const resource = tail[0] ?? 'other';
  const name = tail[1] ?? null;
  const subresource = tail[2] ?? null;
  return { verb: requestVerb(method, name !== null, subresource, query), resource: subresource ? `${resource}/${subresource}` : resource };
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function sortedRecord(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

class PeakGauge {
  current = 0;
  peak = 0;
  total = 0;

  set(value: number): void {
    this.current = value;
    if (value > this.peak) this.peak = value;
  }

  up(): void {
    this.total += 1;
    this.set(this.current + 1);
  }

  down(): void {
    this.set(Math.max(0, this.current - 1));
  }

  // A new count starts from what is alive now.
  reset(): void {
    this.peak = this.current;
    this.total = 0;
  }
}

export class LabStats {
  private since: Date;
  private total = 0;
  private readonly byVerb = new Map<string, number>();
  private readonly byResource = new Map<string, number>();
  private readonly byVerbAndResource = new Map<string, number>();
  private log: LoggedRequest[] = [];
  private readonly connections = new PeakGauge();
  private readonly probePods = new PeakGauge();
  private readonly execSessions = new PeakGauge();
  private execReplays = 0;

  constructor(private readonly now: () => Date = () => new Date()) {
    this.since = now();
  }

  /** Counts a request; the returned entry takes its answer time (`answered`). */
  countRequest(kind: RequestKind): LoggedRequest {
    const entry: LoggedRequest = { verb: kind.verb, resource: kind.resource, at: this.now().getTime(), doneAt: null };
    if (this.log.length < MAX_LOGGED_REQUESTS) this.log.push(entry);
    this.total += 1;
    bump(this.byVerb, kind.verb);
    bump(this.byResource, kind.resource);
    bump(this.byVerbAndResource, `${kind.verb} ${kind.resource}`);
    return entry;
  }

  answered(entry: LoggedRequest): void {
    entry.doneAt ??= this.now().getTime();
  }

  connectionOpened(): void {
    this.connections.up();
  }

  connectionClosed(): void {
    this.connections.down();
  }

  probePodCreated(aliveNow: number): void {
    this.probePods.total += 1;
    this.probePods.set(aliveNow);
  }

  probePodsAlive(aliveNow: number): void {
    this.probePods.set(aliveNow);
  }

  execOpened(): void {
    this.execSessions.up();
  }

  execReplayed(): void {
    this.execReplays += 1;
  }

  execClosed(): void {
    this.execSessions.down();
  }

  reset(): void {
    this.since = this.now();
    this.total = 0;
    this.byVerb.clear();
    this.byResource.clear();
    this.byVerbAndResource.clear();
    this.log = [];
    this.connections.reset();
    this.probePods.reset();
    this.execSessions.reset();
    this.execReplays = 0;
  }

  snapshot(apiDelayMs: number, withLog = false): LabStatsSnapshot {
    return {
      ...(withLog ? { log: this.log.map((e) => ({ ...e })) } : {}),
      since: this.since.toISOString(),
      requests: { total: this.total, byVerb: sortedRecord(this.byVerb), byResource: sortedRecord(this.byResource), byVerbAndResource: sortedRecord(this.byVerbAndResource) },
      connections: { current: this.connections.current, peak: this.connections.peak, opened: this.connections.total },
      probePods: { current: this.probePods.current, peak: this.probePods.peak, created: this.probePods.total },
      execSessions: { current: this.execSessions.current, peak: this.execSessions.peak, opened: this.execSessions.total, replayed: this.execReplays },
      apiDelayMs,
    };
  }
}
