// iputils `arping -c N -w S -I IFACE TARGET` output -> who answered, with which MAC.
//   ARPING 10.244.1.1 from 192.168.77.11 cali0761ccbeace
//   Unicast reply from 10.244.1.1 [06:5B:8D:97:9A:7F]  0.537ms
//   Sent 2 probes (1 broadcast(s))
//   Received 2 response(s)
// Two different MACs in the replies mean two hosts claim the address (arp-check's mac-conflict).
// Quirk: the exit status is 1 both for "no reply" and for "more replies than probes", so the
// status alone says nothing; the reply lines do.
import { type ParseResult, failure, splitLines, success } from './json-input.js';

export interface ArpingReply {
  kind: 'unicast' | 'broadcast';
  from: string; // the sender IP in the reply
  macAddress: string; // lower-case, as ip prints MACs
  rttMs: number | null;
  raw: string;
}

export interface ArpingResult {
  target: string | null;
  sourceAddress: string | null; // "from ADDR": the address the requests were sent from
  iface: string | null;
  replies: ArpingReply[];
  sentProbes: number | null;
  receivedResponses: number | null;
  macAddresses: string[]; // distinct, in order of first reply
}

const SOURCE = 'arping';

export function parseArping(stdout: string, stderr = ''): ParseResult<ArpingResult> {
  if (stdout.trim() === '') {
    if (stderr.trim() !== '') return failure('command-error', SOURCE, `${SOURCE}: ${stderr.trim().split('\n')[0]}`, stderr);
    return failure('empty-input', SOURCE, `${SOURCE}: no output`, stdout);
  }
  const result: ArpingResult = { target: null, sourceAddress: null, iface: null, replies: [], sentProbes: null, receivedResponses: null, macAddresses: [] };
  for (const { line } of splitLines(stdout)) {
    const header = /^ARPING (\S+) from (\S+) (\S+)/.exec(line);
    if (header) {
      result.target = header[1]!;
      result.sourceAddress = header[2]!;
      result.iface = header[3]!;
      continue;
    }
    const reply = /^(Unicast|Broadcast) reply from (\S+) \[([0-9A-Fa-f:]{17})\]\s+(?:([\d.]+)ms)?/.exec(line);
    if (reply) {
      const mac = reply[3]!.toLowerCase();
      result.replies.push({
        kind: reply[1] === 'Unicast' ? 'unicast' : 'broadcast',
        from: reply[2]!,
        macAddress: mac,
        rttMs: reply[4] === undefined ? null : Number(reply[4]),
        raw: line,
      });
      if (!result.macAddresses.includes(mac)) result.macAddresses.push(mac);
      continue;
    }
    const sent = /^Sent (\d+) probes?/.exec(line);
    if (sent) result.sentProbes = Number(sent[1]);
    const received = /^Received (\d+) responses?/.exec(line);
    if (received) result.receivedResponses = Number(received[1]);
  }
  if (result.target === null && result.replies.length === 0 && result.sentProbes === null) {
    return failure('unrecognised-text', SOURCE, `${SOURCE}: no ARPING header, reply or summary line`, stdout);
  }
  return success(result);
}
