// Parses tcpdump's text output (`tcpdump -nn [-e] [-tt] -r FILE`) into packets: TCP with its flags,
// UDP, ICMP echo and errors (unreachable with its reason, frag-needed with the MTU, time
// exceeded), ARP requests and replies. With -e the link header (MACs, ethertype, VLAN tags) comes
// first and the "IP " word is left out; both forms are read. Only numeric output (-nn) is
// understood: names and service words would make addresses ambiguous. A line cut by the snap
// length ("[|tcp]") still gives what was printed before the cut and is marked truncated. -v is not
// needed: the unreachable kind and frag-needed's MTU print without it.

export type TcpdumpIcmpReason =
  | 'frag-needed'
  | 'host-unreachable'
  | 'net-unreachable'
  | 'port-unreachable'
  | 'protocol-unreachable'
  | 'admin-prohibited'
  | 'other-unreachable';

export interface TcpdumpIcmp {
  type: 'echo-request' | 'echo-reply' | 'unreachable' | 'time-exceeded' | 'other';
  reason?: TcpdumpIcmpReason;
  /** The unreachable address the message names (for "udp port N unreachable": the address of the port). */
  about?: string;
  port?: number;
  mtu?: number;
  text: string;
}

export interface TcpdumpTcpFlags {
  text: string; // as printed: "S", "S.", "R.", "P.", "."
  syn: boolean;
  ack: boolean;
  rst: boolean;
  fin: boolean;
  push: boolean;
}

export interface TcpdumpPacket {
  lineNumber: number; // 1-based line in the text
  time: string; // as printed (-tt: epoch seconds; default: HH:MM:SS.micro)
  srcMac?: string;
  dstMac?: string;
  vlans: number[];
  kind: 'tcp' | 'udp' | 'icmp' | 'arp' | 'other';
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: TcpdumpTcpFlags;
  icmp?: TcpdumpIcmp;
  arp?: { op: 'request' | 'reply'; target: string; sender?: string; mac?: string };
  truncated: boolean; // cut by the snap length ("[|tcp]") or marked truncated by tcpdump
  text: string;
}

export interface TcpdumpParse {
  packets: TcpdumpPacket[];
  /** Lines that are not a packet this parser knows (kept so a caller can say what it skipped). */
  unparsed: string[];
}

const IPV4 = String.raw`\d{1,3}(?:\.\d{1,3}){3}`;
const MAC = String.raw`[0-9a-f]{2}(?::[0-9a-f]{2}){5}`;
// Optional packet number (-#), then the time stamp.
const LEAD = new RegExp(String.raw`^\s*(?:\d+\s+)?(\d+\.\d+|\d{2}:\d{2}:\d{2}\.\d+)\s+(.*)$`);
const LINK = new RegExp(String.raw`^(${MAC}) > (${MAC}), ethertype (\S+)(?: \(0x[0-9a-f]{4}\))?, length \d+: (.*)$`);
const VLAN = /^vlan (\d+), p \d+(?:, DEI)?, ethertype (\S+?)(?: \(0x[0-9a-f]{4}\))?, (.*)$/;
const PORTS = new RegExp(String.raw`^(${IPV4})\.(\d+) > (${IPV4})\.(\d+): (.*)$`);
const NO_PORTS = new RegExp(String.raw`^(${IPV4}) > (${IPV4}): (.*)$`);
const ARP_REQUEST = new RegExp(String.raw`^Request who-has (${IPV4})(?: \((${MAC})\))? tell (${IPV4})`);
const ARP_REPLY = new RegExp(String.raw`^Reply (${IPV4}) is-at (${MAC})`);

export function parseTcpdump(text: string): TcpdumpParse {
  const packets: TcpdumpPacket[] = [];
  const unparsed: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const packet = parseTcpdumpLine(line, index + 1);
    if (packet) packets.push(packet);
    else unparsed.push(line);
  });
  return { packets, unparsed };
}

export function parseTcpdumpLine(line: string, lineNumber = 1): TcpdumpPacket | null {
  const lead = LEAD.exec(line);
  if (!lead) return null;
  const packet: TcpdumpPacket = { lineNumber, time: lead[1]!, vlans: [], kind: 'other', truncated: /\[\|\w+\]|truncated/.test(line), text: line };
  let rest = lead[2]!;
  let ethertype: string | null = null;
  const link = LINK.exec(rest);
  if (link) {
    packet.srcMac = link[1]!;
    packet.dstMac = link[2]!;
    ethertype = link[3]!;
    rest = link[4]!;
    for (let vlan = VLAN.exec(rest); vlan; vlan = VLAN.exec(rest)) {
      packet.vlans.push(Number(vlan[1]));
      ethertype = vlan[2]!;
      rest = vlan[3]!;
    }
  } else if (rest.startsWith('IP ')) {
    ethertype = 'IPv4';
    rest = rest.slice(3);
  } else if (rest.startsWith('ARP, ')) {
    ethertype = 'ARP';
    rest = rest.slice(5);
  } else {
    // Another family (IP6, LLDP, ...): a packet, but not one this parser reads.
    return packet;
  }
  if (ethertype.startsWith('ARP')) return parseArp(rest, packet);
  if (ethertype.startsWith('IPv4')) return parseIpv4(rest, packet);
  return packet;
}

function parseArp(rest: string, packet: TcpdumpPacket): TcpdumpPacket {
  const request = ARP_REQUEST.exec(rest);
  if (request) {
    packet.kind = 'arp';
    packet.arp = { op: 'request', target: request[1]!, sender: request[3]! };
    return packet;
  }
  const reply = ARP_REPLY.exec(rest);
  if (reply) {
    packet.kind = 'arp';
    packet.arp = { op: 'reply', target: reply[1]!, mac: reply[2]! };
  }
  return packet;
}

function parseIpv4(rest: string, packet: TcpdumpPacket): TcpdumpPacket {
  const ports = PORTS.exec(rest);
  if (ports) {
    packet.src = ports[1]!;
    packet.srcPort = Number(ports[2]);
    packet.dst = ports[3]!;
    packet.dstPort = Number(ports[4]);
    const payload = ports[5]!;
    const flags = /^Flags \[([^\]]*)\]/.exec(payload);
    if (flags) {
      packet.kind = 'tcp';
      packet.tcpFlags = tcpFlags(flags[1]!);
    } else if (/^\[\|tcp\]/.test(payload) || /^tcp /.test(payload)) {
      packet.kind = 'tcp';
    } else {
      // UDP as "UDP, length N" or decoded by an application printer (DNS, VXLAN, ...): only UDP
      // carries ports without TCP's Flags in numeric output.
      packet.kind = 'udp';
    }
    return packet;
  }
  const noPorts = NO_PORTS.exec(rest);
  if (!noPorts) return packet;
  packet.src = noPorts[1]!;
  packet.dst = noPorts[2]!;
  const payload = noPorts[3]!;
  if (payload.startsWith('ICMP ')) {
    packet.kind = 'icmp';
    packet.icmp = parseIcmp(payload.slice(5).replace(/, length \d+$/, ''));
  } else if (payload.startsWith('[|icmp]')) {
    packet.kind = 'icmp';
    packet.icmp = { type: 'other', text: payload };
  }
  return packet;
}

function tcpFlags(text: string): TcpdumpTcpFlags {
  return { text, syn: text.includes('S'), ack: text.includes('.'), rst: text.includes('R'), fin: text.includes('F'), push: text.includes('P') };
}

// The texts of print-icmp.c (tcpdump 4.99): "echo request", "X unreachable - need to frag (mtu N)",
// "host X unreachable", "net X unreachable", "X udp port N unreachable", "X protocol N unreachable",
// "host X unreachable - admin prohibited[ filter]", "net X unreachable - admin prohibited",
// "time exceeded in-transit".
function parseIcmp(text: string): TcpdumpIcmp {
  if (text.startsWith('echo request')) return { type: 'echo-request', text };
  if (text.startsWith('echo reply')) return { type: 'echo-reply', text };
  if (text.startsWith('time exceeded')) return { type: 'time-exceeded', text };
  const frag = new RegExp(String.raw`^(${IPV4}) unreachable - need to frag(?: \(mtu (\d+)\))?`).exec(text);
  if (frag) return { type: 'unreachable', reason: 'frag-needed', about: frag[1]!, ...(frag[2] ? { mtu: Number(frag[2]) } : {}), text };
  const port = new RegExp(String.raw`^(${IPV4}) (?:tcp|udp) port (\d+) unreachable`).exec(text);
  if (port) return { type: 'unreachable', reason: 'port-unreachable', about: port[1]!, port: Number(port[2]), text };
  const protocol = new RegExp(String.raw`^(${IPV4}) protocol \d+ unreachable`).exec(text);
  if (protocol) return { type: 'unreachable', reason: 'protocol-unreachable', about: protocol[1]!, text };
  const hostOrNet = new RegExp(String.raw`^(host|net) (${IPV4}) unreachable(.*)$`).exec(text);
  if (hostOrNet) {
    const prohibited = /admin prohibited/.test(hostOrNet[3]!);
    const plain = hostOrNet[3] === '';
    const reason: TcpdumpIcmpReason = prohibited ? 'admin-prohibited' : !plain ? 'other-unreachable' : hostOrNet[1] === 'host' ? 'host-unreachable' : 'net-unreachable';
    return { type: 'unreachable', reason, about: hostOrNet[2]!, text };
  }
  if (/unreachable/.test(text)) {
    const about = new RegExp(String.raw`(${IPV4})`).exec(text);
    return { type: 'unreachable', reason: 'other-unreachable', ...(about ? { about: about[1]! } : {}), text };
  }
  return { type: 'other', text };
}
