// The node script's tcp and udp probes (request probe:WHERE:PROTO:IP:PORT:COUNT): one line per
// attempt, "attempt N rc=RC what nc said", nc's own lines joined by spaces. One reader for every
// check that probes (smoke --matrix, conn-check).

/** connected: a TCP handshake; sent: a UDP datagram left with no error (no answer is expected). */
export type AttemptResult = 'connected' | 'refused' | 'timeout' | 'unreachable' | 'sent' | 'failed';

export interface ProbeAttempt {
  rc: number; // nc's exit status
  result: AttemptResult;
  detail: string; // what nc said, trimmed; empty when it said nothing
}

const ATTEMPT_LINE = /^attempt \d+ rc=(\d+) ?(.*)$/gm;

/** Every attempt line of a probe section's stdout, in order; other lines are ignored. */
export function parseProbeAttempts(text: string, protocol: 'tcp' | 'udp'): ProbeAttempt[] {
  const out: ProbeAttempt[] = [];
  for (const m of text.matchAll(ATTEMPT_LINE)) {
    const rc = Number(m[1]);
    const said = m[2] ?? '';
    out.push({ rc, result: classifyAttempt(protocol, rc, said), detail: said.trim() });
  }
  return out;
}

/** One attempt from nc's words and exit status: "nc: connect to 10.0.0.1 port 80 (tcp) failed: Connection refused". */
export function classifyAttempt(protocol: 'tcp' | 'udp', rc: number, text: string): AttemptResult {
  if (/refused/i.test(text)) return 'refused';
  if (/no route to host|unreachable|prohibited/i.test(text)) return 'unreachable';
  if (/timed out|timeout/i.test(text)) return 'timeout';
  if (rc === 0) return protocol === 'tcp' ? 'connected' : 'sent';
  return 'failed';
}
