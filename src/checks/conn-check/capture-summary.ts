// What one hop's capture says about one flow: handshakes tried and answered, resets and who sent
// them, ARP questions nobody answered, ICMP errors about the flow, and whether anything came back.
// Facts only; which of them is the verdict is conn-check's call, hop by hop.
import type { TcpdumpIcmpReason, TcpdumpPacket } from '../../parse/tcpdump.js';

export interface CaptureFlow {
  protocol: 'tcp' | 'udp' | 'icmp';
  source: string; // IPv4 of the side that sends the probes
  destination: string; // IPv4 as it travels at this hop (after DNAT when the hop is past it)
  port: number | null; // null for icmp
}

export interface IcmpErrorSeen {
  from: string; // who sent the error (a router, the node, the destination)
  reason: TcpdumpIcmpReason | 'time-exceeded';
  about?: string;
  mtu?: number;
  port?: number;
  count: number;
}

export interface HopCaptureSummary {
  packets: number; // packets the capture holds (the flow's, its ICMP errors, its ARP)
  forward: number; // source -> destination
  reverse: number; // destination -> source
  synSent: number; // TCP SYN without ACK, source -> destination
  synAckSeen: number; // TCP SYN+ACK, destination -> source
  resets: Array<{ from: string; count: number }>;
  arpUnanswered: string[]; // who-has targets with no is-at in the capture
  arpAnswered: string[];
  icmpErrors: IcmpErrorSeen[];
  echoRequests: number;
  echoReplies: number;
  /** Packets went toward the destination and nothing of the flow came back. */
  repliesNeverSeen: boolean;
  truncated: number; // packets cut by the snap length (still counted above as far as printed)
}

export function summariseHopCapture(packets: readonly TcpdumpPacket[], flow: CaptureFlow): HopCaptureSummary {
  const summary: HopCaptureSummary = {
    packets: packets.length,
    forward: 0,
    reverse: 0,
    synSent: 0,
    synAckSeen: 0,
    resets: [],
    arpUnanswered: [],
    arpAnswered: [],
    icmpErrors: [],
    echoRequests: 0,
    echoReplies: 0,
    repliesNeverSeen: false,
    truncated: packets.filter((p) => p.truncated).length,
  };
  const resets = new Map<string, number>();
  const asked = new Set<string>();
  const answered = new Set<string>();
  for (const p of packets) {
    if (p.kind === 'arp' && p.arp) {
      (p.arp.op === 'request' ? asked : answered).add(p.arp.target);
      continue;
    }
    if (p.kind === 'icmp' && p.icmp && (p.icmp.type === 'unreachable' || p.icmp.type === 'time-exceeded')) {
      addIcmpError(summary.icmpErrors, p);
      continue;
    }
    const direction = directionOf(p, flow);
    if (direction === null) continue;
    if (direction === 'forward') summary.forward++;
    else summary.reverse++;
    if (p.tcpFlags) {
      if (p.tcpFlags.syn && !p.tcpFlags.ack && direction === 'forward') summary.synSent++;
      if (p.tcpFlags.syn && p.tcpFlags.ack && direction === 'reverse') summary.synAckSeen++;
      if (p.tcpFlags.rst) resets.set(p.src!, (resets.get(p.src!) ?? 0) + 1);
    }
    if (p.icmp?.type === 'echo-request' && direction === 'forward') summary.echoRequests++;
    if (p.icmp?.type === 'echo-reply' && direction === 'reverse') summary.echoReplies++;
  }
  summary.resets = [...resets].map(([from, count]) => ({ from, count }));
  summary.arpUnanswered = [...asked].filter((t) => !answered.has(t)).sort();
  summary.arpAnswered = [...answered].sort();
  summary.repliesNeverSeen = summary.forward > 0 && summary.reverse === 0 && summary.icmpErrors.length === 0;
  return summary;
}

/** Which way a packet of the flow goes, or null when it is not the flow's. */
function directionOf(p: TcpdumpPacket, flow: CaptureFlow): 'forward' | 'reverse' | null {
  if (p.kind !== flow.protocol || p.src === undefined || p.dst === undefined) return null;
  const ports = flow.port === null || p.kind === 'icmp' ? null : flow.port;
  if (p.src === flow.source && p.dst === flow.destination && (ports === null || p.dstPort === ports)) return 'forward';
  if (p.src === flow.destination && p.dst === flow.source && (ports === null || p.srcPort === ports)) return 'reverse';
  return null;
}

function addIcmpError(list: IcmpErrorSeen[], p: TcpdumpPacket): void {
  const icmp = p.icmp!;
  const reason = icmp.type === 'time-exceeded' ? 'time-exceeded' : (icmp.reason ?? 'other-unreachable');
  const from = p.src ?? '?';
  const same = list.find((e) => e.from === from && e.reason === reason && e.about === icmp.about && e.mtu === icmp.mtu && e.port === icmp.port);
  if (same) {
    same.count++;
    return;
  }
  list.push({
    from,
    reason,
    count: 1,
    ...(icmp.about !== undefined ? { about: icmp.about } : {}),
    ...(icmp.mtu !== undefined ? { mtu: icmp.mtu } : {}),
    ...(icmp.port !== undefined ? { port: icmp.port } : {}),
  });
}

/** One line per fact, for a hop table cell or a finding's evidence. */
export function describeHopCapture(s: HopCaptureSummary, flow: CaptureFlow): string[] {
  const out: string[] = [];
  if (flow.protocol === 'tcp') {
    if (s.synSent > 0) out.push(`${s.synSent} SYN sent to ${flow.destination}:${flow.port}, ${s.synAckSeen} SYN-ACK back`);
    else if (s.synAckSeen > 0) out.push(`${s.synAckSeen} SYN-ACK from ${flow.destination}:${flow.port}`);
  }
  if (flow.protocol === 'icmp' && s.echoRequests > 0) out.push(`${s.echoRequests} echo request(s) to ${flow.destination}, ${s.echoReplies} reply(ies)`);
  for (const r of s.resets) out.push(`RST from ${r.from} (${r.count})`);
  for (const target of s.arpUnanswered) out.push(`ARP who-has ${target} unanswered`);
  for (const e of s.icmpErrors) out.push(`ICMP ${icmpWords(e)} from ${e.from} (${e.count})`);
  if (s.repliesNeverSeen) out.push(`${s.forward} packet(s) toward ${flow.destination}, nothing came back`);
  if (s.packets === 0) out.push('no packet of the flow passed this interface');
  if (s.truncated > 0) out.push(`${s.truncated} packet(s) cut by the snap length`);
  return out;
}

function icmpWords(e: IcmpErrorSeen): string {
  switch (e.reason) {
    case 'frag-needed':
      return `frag-needed${e.mtu !== undefined ? ` (mtu ${e.mtu})` : ''} for ${e.about ?? '?'}`;
    case 'port-unreachable':
      return `port ${e.port ?? '?'} unreachable at ${e.about ?? '?'}`;
    case 'admin-prohibited':
      return `admin-prohibited for ${e.about ?? '?'}`;
    case 'time-exceeded':
      return 'time exceeded';
    default:
      return `${e.reason.replace('-', ' ')} for ${e.about ?? '?'}`;
  }
}
