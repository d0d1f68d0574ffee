// What conn-check's probes themselves saw: per attempt connected / refused (RST or ICMP reject) /
// timed out, per ping reply or not. The counters say where; this says whether.
import type { NodeFacts } from '../common/node-facts.js';
import type { ConnProtocol } from './analysis.js';
import { actionSectionName, type ProbeRequest } from '../../node-script/node-script.js';
import { parsePing } from '../../parse/ping.js';
import { parseProbeAttempts, type AttemptResult } from '../../parse/probe-attempts.js';

export type { AttemptResult } from '../../parse/probe-attempts.js';

export interface ProbeOutcome {
  protocol: ConnProtocol;
  sent: number;
  answered: number; // connected (tcp), echo replies (icmp); udp: refusals only, there is no answer to wait for
  refused: number;
  attempts: Array<{ result: AttemptResult; detail: string }>;
  /** reached: every probe answered; refused: every probe refused; failed: none answered; partial; unknown (udp sent, no word back); not-run. */
  summary: 'reached' | 'refused' | 'failed' | 'partial' | 'unknown' | 'not-run';
  detail: string;
}

/** The outcome of `request`'s probes, from the source node's facts (the section the request names). */
export function readProbeOutcome(request: ProbeRequest, sourceFacts: NodeFacts | undefined): ProbeOutcome {
  const section = sourceFacts?.sections.get(actionSectionName(request));
  const base = { protocol: request.protocol, sent: 0, answered: 0, refused: 0, attempts: [] as ProbeOutcome['attempts'] };
  if (!section) return { ...base, summary: 'not-run', detail: 'the probes did not run (no answer from the source node, or its namespace was not found)' };
  if (request.protocol === 'icmp') return icmpOutcome(section.stdout, request.count);
  return connectOutcome(section.stdout, request.protocol);
}

export function connectOutcome(text: string, protocol: 'tcp' | 'udp'): ProbeOutcome {
  const attempts: ProbeOutcome['attempts'] = parseProbeAttempts(text, protocol).map((a) => ({ result: a.result, detail: a.detail }));
  const count = (r: AttemptResult) => attempts.filter((a) => a.result === r).length;
  const sent = attempts.length;
  const answered = count('connected');
  const refused = count('refused');
  let summary: ProbeOutcome['summary'];
  if (sent === 0) summary = 'not-run';
  else if (answered === sent) summary = 'reached';
  else if (refused === sent) summary = 'refused';
  else if (protocol === 'udp' && count('sent') === sent) summary = 'unknown';
  else if (answered > 0 || (protocol === 'udp' && count('sent') > 0)) summary = 'partial';
  else summary = 'failed';
  const words = (['connected', 'refused', 'timeout', 'unreachable', 'sent', 'failed'] as const).filter((r) => count(r) > 0).map((r) => `${count(r)} ${r}`);
  return { protocol, sent, answered, refused, attempts, summary, detail: sent === 0 ? 'no attempt line in the probe output' : `${sent} ${protocol} probes: ${words.join(', ')}` };
}

export function icmpOutcome(text: string, count: number): ProbeOutcome {
  const parsed = parsePing(text);
  const base = { protocol: 'icmp' as const, refused: 0, attempts: [] as ProbeOutcome['attempts'] };
  if (!parsed.ok) return { ...base, sent: 0, answered: 0, summary: 'not-run', detail: `ping gave no result: ${parsed.error.message}` };
  const p = parsed.value;
  const sent = p.transmitted ?? count;
  const answered = p.received ?? p.replies.length;
  const unreachable = p.icmpErrors.length > 0;
  const summary = answered >= sent && sent > 0 ? 'reached' : answered > 0 ? 'partial' : 'failed';
  const why = unreachable ? ` (${p.icmpErrors[0]!.message} from ${p.icmpErrors[0]!.from})` : '';
  return { ...base, sent, answered, summary, detail: `${sent} echo requests, ${answered} replies${why}` };
}
