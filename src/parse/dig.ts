// dig output -> a typed DNS query result. Handles the default output, `+short`, and
// `+noall +answer +comments +stats`; transport failures are explicit outcomes, not parse errors.
//
// Quirks (each has a fixture in test/fixtures/dns):
// - BIND 9.18 prints ";; communications error to S#53: timed out" and then ";; no servers could
//   be reached"; older dig printed ";; connection timed out; no servers could be reached".
// - ICMP port unreachable shows as "communications error ...: connection refused" (UDP) or
//   "Connection to S#53(S) for NAME failed: connection refused." (TCP).
// - "UDP setup with S#53(S) for NAME failed: network unreachable." when there is no route.
// - `+short` prints only the data of each answer record, one per line (CNAME targets included).

export type DnsRcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'FORMERR' | 'NOTIMP' | 'YXDOMAIN' | 'NOTAUTH' | 'NOTZONE' | 'BADVERS';

export type DigOutcome =
  | 'answer' // a response arrived (see rcode)
  | 'timeout' // no response within +time
  | 'refused-connection' // ICMP port unreachable / TCP RST: nothing listens on the server port
  | 'unreachable' // no route to the server
  | 'error' // another transport or usage error
  | 'empty'; // no output at all

export interface DnsRecord {
  name: string;
  ttlSeconds: number;
  class: string;
  type: string; // A, AAAA, CNAME, SRV, PTR, ...
  data: string;
}

export interface DigResult {
  outcome: DigOutcome;
  rcode: DnsRcode | string | null; // null when no response header was seen (+short, failures)
  flags: string[]; // qr aa rd ra ...
  question: { name: string; class: string; type: string } | null;
  answers: DnsRecord[];
  authority: DnsRecord[];
  queryTimeMs: number | null;
  server: { ip: string; port: number; transport: string | null } | null;
  messageSizeBytes: number | null;
  errors: string[]; // the ';;' lines that describe a failure, verbatim
  warnings: string[]; // e.g. ".local is reserved for Multicast DNS"
  short: string[]; // +short data lines (empty for the full format)
}

const RCODES = new Set(['NOERROR', 'NXDOMAIN', 'SERVFAIL', 'REFUSED', 'FORMERR', 'NOTIMP', 'YXDOMAIN', 'NOTAUTH', 'NOTZONE', 'BADVERS']);

function parseRecord(line: string): DnsRecord | null {
  // "web.default.svc.cluster.local. 0 IN	A	10.244.1.5"
  const t = line.split(/\s+/);
  if (t.length < 5) return null;
  const ttl = Number(t[1]);
  if (!Number.isFinite(ttl)) return null;
  return { name: t[0] as string, ttlSeconds: ttl, class: t[2] as string, type: t[3] as string, data: t.slice(4).join(' ') };
}

export function parseDig(text: string): DigResult {
  const r: DigResult = {
    outcome: 'empty',
    rcode: null,
    flags: [],
    question: null,
    answers: [],
    authority: [],
    queryTimeMs: null,
    server: null,
    messageSizeBytes: null,
    errors: [],
    warnings: [],
    short: [],
  };
  let section: 'none' | 'question' | 'answer' | 'authority' | 'additional' | 'opt' = 'none';
  let sawHeader = false;
  let sawFullFormat = false;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    const t = line.trim();
    if (t === '') {
      section = 'none';
      continue;
    }
    if (t.startsWith('# ')) continue; // fixture provenance header
    if (/^\S+ \S+ \[(INFO|ERROR|WARNING)\] /.test(t) || /^\[(INFO|ERROR|WARNING)\] /.test(t)) {
      // log lines of another program interleaved in the same terminal (stern/kubectl logs)
      r.warnings.push(`foreign line ignored: ${t.slice(0, 120)}`);
      continue;
    }
    if (t.startsWith(';;')) {
      sawFullFormat = true;
      const body = t.slice(2).trim();
      let m: RegExpMatchArray | null;
      if ((m = body.match(/->>HEADER<<- opcode: \S+, status: ([A-Z0-9]+),/)) !== null) {
        r.rcode = m[1] as string;
        sawHeader = true;
      } else if ((m = body.match(/^flags:([^;]*);/)) !== null) {
        r.flags = (m[1] as string).trim().split(/\s+/).filter((f) => f !== '');
      } else if (body === 'QUESTION SECTION:') section = 'question';
      else if (body === 'ANSWER SECTION:') section = 'answer';
      else if (body === 'AUTHORITY SECTION:') section = 'authority';
      else if (body === 'ADDITIONAL SECTION:') section = 'additional';
      else if (body === 'OPT PSEUDOSECTION:') section = 'opt';
      else if ((m = body.match(/^Query time: (\d+) msec/)) !== null) r.queryTimeMs = Number(m[1]);
      else if ((m = body.match(/^SERVER: ([^#\s]+)#(\d+)\([^)]*\)(?: \((\w+)\))?/)) !== null) {
        r.server = { ip: m[1] as string, port: Number(m[2]), transport: m[3] ?? null };
      } else if ((m = body.match(/^MSG SIZE\s+rcvd: (\d+)/)) !== null) r.messageSizeBytes = Number(m[1]);
      else if (body.startsWith('WARNING:') || body.startsWith('You are currently testing')) r.warnings.push(body);
      else if (/timed out|no servers could be reached|communications error|connection refused|failed:|unreachable|couldn't get address|not found/i.test(body)) {
        r.errors.push(t);
      }
      continue;
    }
    if (t.startsWith(';')) {
      sawFullFormat = true;
      if (section === 'question' && r.question === null) {
        const q = t.slice(1).split(/\s+/);
        r.question = { name: q[0] ?? '', class: q[1] ?? '', type: q[2] ?? '' };
      }
      continue;
    }
    if (section === 'answer' || section === 'authority') {
      const rec = parseRecord(t);
      if (rec !== null) (section === 'answer' ? r.answers : r.authority).push(rec);
      continue;
    }
    if (section === 'none' && !sawFullFormat) {
      r.short.push(t); // +short output: data only
      continue;
    }
    // +noall +answer: records without a section header
    const rec = parseRecord(t);
    if (rec !== null) r.answers.push(rec);
    else r.errors.push(t);
  }

  const errorText = r.errors.join('\n');
  if (sawHeader) r.outcome = 'answer';
  else if (/timed out/i.test(errorText)) r.outcome = 'timeout';
  else if (/connection refused/i.test(errorText)) r.outcome = 'refused-connection';
  else if (/unreachable/i.test(errorText)) r.outcome = 'unreachable';
  else if (r.errors.length > 0) r.outcome = 'error';
  else if (r.short.length > 0 || r.answers.length > 0) r.outcome = 'answer';
  if (r.rcode !== null && !RCODES.has(r.rcode)) r.warnings.push(`unknown rcode ${r.rcode}`);
  return r;
}
