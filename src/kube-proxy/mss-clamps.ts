// TCP MSS clamping rules (-j TCPMSS) in an iptables-save dump, either backend, with or without
// counters (-c), or `iptables -S` output. They sit beside kube-proxy's readers because they are
// read from the same dumps; CNIs and admins write them (mangle FORWARD/POSTROUTING), not
// kube-proxy. Only appended rules of the dump's own text are read: no chain is walked.
import { failure, success, type ParseResult } from '../parse/json-input.js';

export type MssClampAction = { kind: 'clamp-to-pmtu' } | { kind: 'set-mss'; mssBytes: number };

export interface MssClamp {
  table: string; // mangle, usually; filter for `iptables -S` output, which names no table
  chain: string;
  action: MssClampAction;
  raw: string; // the rule line without its [packets:bytes] counters
}

const SOURCE = 'iptables-save';
// Lines an iptables-save dump is made of: comments, *table, :chain, rules (counters first with -c), COMMIT.
const DUMP_LINE = /^(#|\*\w|:\S|-[AINP] |\[\d+:\d+\]\s+-|COMMIT$)/;

/**
 * The MSS clamps of one dump, each once per table. Empty text is a dump with no table at all
 * (iptables-nft-save prints nothing then): no clamps. Text that holds no dump line (the tool's
 * own error) is a failure, so a caller can tell "not read" from "none there".
 */
export function parseMssClamps(text: string): ParseResult<MssClamp[]> {
  const clamps: MssClamp[] = [];
  const seen = new Set<string>();
  let table = 'filter';
  let dumpLines = 0;
  for (const rawLine of text.split('\n')) {
    const trimmed = rawLine.trim();
    if (DUMP_LINE.test(trimmed)) dumpLines++;
    const line = trimmed.replace(/^\[\d+:\d+\]\s+/, '');
    if (line.startsWith('*')) table = line.slice(1);
    if (!line.startsWith('-A ') || !/-j TCPMSS\b/.test(line)) continue;
    const key = `${table} ${line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const set = /--set-mss (\d+)/.exec(line);
    if (!set && !/--clamp-mss-to-pmtu/.test(line)) continue;
    const action: MssClampAction = set ? { kind: 'set-mss', mssBytes: Number(set[1]) } : { kind: 'clamp-to-pmtu' };
    clamps.push({ table, chain: line.split(/\s+/)[1] ?? '?', action, raw: line });
  }
  if (dumpLines === 0 && text.trim() !== '') return failure('unrecognised-text', SOURCE, `${SOURCE}: no table, chain or rule line`, text);
  return success(clamps);
}
