// iputils `ping -M do -s SIZE -c N -W T` output (stdout and stderr merged, as the node script
// collects it) -> counts, loss, rtt and the MTU the kernel or a router reported. mtu-probe walks
// sizes with this: a size that fails with an MTU signal names the hop's MTU; a size that fails
// silently is a PMTU black hole.
import { type ParseResult, type SkippedRecord, failure, splitLines, success, toInt } from './json-input.js';

export type MtuSignalKind =
  // "From 10.77.2.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)": a router on the path sent
  // ICMP fragmentation-needed; the MTU is that router's next hop.
  | 'frag-needed'
  // "ping: local error: message too long, mtu=1450" (iputils 2016 and later; older builds print
  // "Message too long" with a capital M): the local kernel refused, from the route/interface MTU
  // or a PMTU it learned from an earlier frag-needed.
  | 'local-message-too-long'
  // "ping: sendmsg: Message too long" (older iputils, and busybox "sendto"): refused locally, the
  // MTU is not printed.
  | 'sendmsg-message-too-long';

export interface MtuSignal {
  kind: MtuSignalKind;
  mtuBytes: number | null;
  from: string | null; // the router, for frag-needed
  icmpSeq: number | null;
  raw: string;
}

export interface PingReply {
  icmpSeq: number;
  ttl: number | null;
  rttMs: number | null;
  bytes: number;
  from: string;
  raw: string;
}

export interface PingIcmpError {
  from: string;
  icmpSeq: number | null;
  message: string; // "Destination Host Unreachable", "Packet filtered", ...
  raw: string;
}

export interface PingRtt {
  minMs: number;
  avgMs: number;
  maxMs: number;
  mdevMs: number | null; // busybox prints no mdev
}

export type PingOutcome =
  | 'replied' // every probe answered
  | 'partial-loss'
  | 'mtu-exceeded' // nothing answered and an MTU signal says why
  | 'unreachable' // nothing answered, ICMP errors (host/net unreachable, filtered)
  | 'no-reply' // nothing answered and nothing said why: silent drop / PMTU black hole
  | 'incomplete'; // no statistics block: ping was killed before it finished

export interface PingResult {
  target: string | null; // as given: name or address
  targetAddress: string | null;
  payloadBytes: number | null; // -s SIZE
  packetBytes: number | null; // SIZE + 28 (IPv4 + ICMP headers), as ping prints it
  transmitted: number | null;
  received: number | null;
  errors: number | null; // "+N errors"
  duplicates: number | null;
  lossPercent: number | null;
  elapsedMs: number | null;
  rtt: PingRtt | null;
  replies: PingReply[];
  icmpErrors: PingIcmpError[];
  mtuSignals: MtuSignal[];
  reportedMtuBytes: number | null; // smallest MTU any signal named
  statsLine: string | null; // "N packets transmitted, ..." as printed, for quoting
  // Every "From ..." line and every "ping: ..." message, trimmed, in the order printed: what a
  // report quotes when it says why a ping failed.
  errorLines: string[];
  outcome: PingOutcome;
  raw: string;
}

const SOURCE = 'ping -M do';

// iputils: "PING 10.77.9.0 (10.77.9.0) 1423(1451) bytes of data."
// iputils IPv6 / busybox: "PING fe80::1(fe80::1) 56 data bytes", "PING x (x): 56 data bytes"
const HEADER = /^PING\s+(\S+?)\s*\(([^)]+)\):?\s+(\d+)(?:\((\d+)\))?\s+(?:data\s+)?bytes/;
// "1430 bytes from 10.77.9.0: icmp_seq=1 ttl=64 time=0.093 ms"; busybox "seq=0"; some
// versions "time<1 ms"; with a name "from host (1.2.3.4): ..."
const REPLY = /^(\d+) bytes from ([^:]+?)(?: \(([^)]+)\))?: (?:icmp_)?seq=(\d+)(?:.*?ttl=(\d+))?(?:.*?time[=<]([\d.]+) ?ms)?/;
// "From 10.77.2.1 icmp_seq=1 Destination Host Unreachable"; "From _gateway (192.168.1.1) icmp_seq=1 ..."
const FROM = /^From (\S+)(?: \(([^)]+)\))?:? (?:icmp_seq=(\d+) )?(.+)$/;
const FRAG_NEEDED = /Frag needed and DF set \(mtu = (\d+)\)/;
const LOCAL_TOO_LONG = /local error: message too long, mtu=(\d+)/i;
const SENDMSG_TOO_LONG = /(?:sendmsg|sendto): Message too long/i;
// "2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 207ms"
// busybox: "1 packets transmitted, 1 packets received, 0% packet loss"
const STATS = /^(\d+) packets transmitted, (\d+) (?:packets )?received(.*?), ([\d.]+)% packet loss(?:, time (\d+)ms)?/;
// "rtt min/avg/max/mdev = 0.058/0.075/0.093/0.017 ms"; busybox "round-trip min/avg/max = a/b/c ms"
const RTT = /^(?:rtt|round-trip) min\/avg\/max(?:\/(?:mdev|stddev))? = ([\d.]+)\/([\d.]+)\/([\d.]+)(?:\/([\d.]+))? ms/;

export function parsePing(text: string): ParseResult<PingResult> {
  if (text.trim() === '') return failure('empty-input', SOURCE, `${SOURCE}: no output to parse`, text);
  const result: PingResult = {
    target: null,
    targetAddress: null,
    payloadBytes: null,
    packetBytes: null,
    transmitted: null,
    received: null,
    errors: null,
    duplicates: null,
    lossPercent: null,
    elapsedMs: null,
    rtt: null,
    replies: [],
    icmpErrors: [],
    mtuSignals: [],
    reportedMtuBytes: null,
    statsLine: null,
    errorLines: [],
    outcome: 'incomplete',
    raw: text,
  };
  const skipped: SkippedRecord[] = [];
  const otherErrors: string[] = [];
  let m: RegExpExecArray | null;
  for (const { lineNo, line } of splitLines(text)) {
    const t = line.trim();
    if ((m = HEADER.exec(t))) {
      result.target = m[1]!;
      result.targetAddress = m[2]!;
      result.payloadBytes = toInt(m[3]);
      result.packetBytes = toInt(m[4]);
    } else if ((m = REPLY.exec(t))) {
      result.replies.push({
        bytes: Number(m[1]),
        from: m[3] ?? m[2]!,
        icmpSeq: Number(m[4]),
        ttl: toInt(m[5]),
        rttMs: m[6] === undefined ? null : Number(m[6]),
        raw: t,
      });
    } else if ((m = FROM.exec(t))) {
      result.errorLines.push(t);
      const from = m[2] ?? m[1]!;
      const icmpSeq = toInt(m[3]);
      const frag = FRAG_NEEDED.exec(m[4]!);
      if (frag) result.mtuSignals.push({ kind: 'frag-needed', mtuBytes: Number(frag[1]), from, icmpSeq, raw: t });
      else result.icmpErrors.push({ from, icmpSeq, message: m[4]!.trim(), raw: t });
    } else if ((m = LOCAL_TOO_LONG.exec(t))) {
      result.errorLines.push(t);
      result.mtuSignals.push({ kind: 'local-message-too-long', mtuBytes: Number(m[1]), from: null, icmpSeq: null, raw: t });
    } else if (SENDMSG_TOO_LONG.test(t)) {
      result.errorLines.push(t);
      result.mtuSignals.push({ kind: 'sendmsg-message-too-long', mtuBytes: null, from: null, icmpSeq: null, raw: t });
    } else if ((m = STATS.exec(t))) {
      result.statsLine ??= t;
      result.transmitted = Number(m[1]);
      result.received = Number(m[2]);
      const extra = m[3] ?? '';
      result.errors = toInt(/\+(\d+) errors?/.exec(extra)?.[1]) ?? 0;
      result.duplicates = toInt(/\+(\d+) duplicates?/.exec(extra)?.[1]) ?? 0;
      result.lossPercent = Number(m[4]);
      result.elapsedMs = toInt(m[5]);
    } else if ((m = RTT.exec(t))) {
      result.rtt = { minMs: Number(m[1]), avgMs: Number(m[2]), maxMs: Number(m[3]), mdevMs: m[4] === undefined ? null : Number(m[4]) };
    } else if (/^---.*statistics ---$/.test(t) || /^pipe \d+$/.test(t)) {
      // summary separator; "pipe N": probes in flight at once
    } else if (/^[^\s:]*ping[^\s:]*: /.test(t)) {
      // "ping: connect: Network is unreachable", "/usr/bin/ping: ..." (argv[0] prefixes the message)
      otherErrors.push(t);
      result.errorLines.push(t);
    } else {
      skipped.push({ source: SOURCE, position: `line ${lineNo}`, message: 'unrecognised ping line', raw: line });
    }
  }
  if (result.target === null && result.transmitted === null) {
    const first = otherErrors[0];
    if (first !== undefined) return failure('command-error', SOURCE, `${SOURCE}: ${first}`, text);
    if (result.mtuSignals.length === 0) {
      return failure('unrecognised-text', SOURCE, `${SOURCE}: no PING header or statistics line found`, text);
    }
  }
  const mtus = result.mtuSignals.map((s) => s.mtuBytes).filter((n): n is number => n !== null);
  result.reportedMtuBytes = mtus.length > 0 ? Math.min(...mtus) : null;
  result.outcome = outcomeOf(result);
  return success(result, skipped);
}

function outcomeOf(r: PingResult): PingOutcome {
  if (r.transmitted === null || r.received === null) return 'incomplete';
  if (r.received > 0) return r.received >= r.transmitted ? 'replied' : 'partial-loss';
  if (r.mtuSignals.length > 0) return 'mtu-exceeded';
  if (r.icmpErrors.length > 0) return 'unreachable';
  return 'no-reply';
}
