// conntrack's own view of the node: `conntrack -S` (per-CPU statistics, "cpu=0 found=0 ...
// insert_failed=0 drop=0 ...") and the table's fill from /proc/sys/net/netfilter/nf_conntrack_count
// and nf_conntrack_max (read with the other sysctls). conn-check's counter deltas sum every
// `conntrack -S` key (net-counters.ts); here the questions are narrower.
import { failure, success, type ParseResult } from './json-input.js';
import type { NodeSysctls } from './sysctl.js';

const SOURCE = 'conntrack -S';

export interface ConntrackInsertFailures {
  total: number; // insert_failed summed over the CPUs; 0: read, and none failed
  lines: string[]; // the per-CPU lines with a non-zero insert_failed, trimmed, for evidence
}

/**
 * insert_failed over the per-CPU lines of `conntrack -S`: UDP packets of one socket racing for the
 * same entry (parallel A and AAAA queries) lose, and one is dropped. Output without any
 * insert_failed=N (the tool's error, no CAP_NET_ADMIN, nothing printed) is a failure, never a 0.
 */
export function parseConntrackInsertFailed(text: string): ParseResult<ConntrackInsertFailures> {
  const lines = text.split('\n').filter((l) => /insert_failed=\d+/.test(l));
  if (lines.length === 0) {
    if (text.trim() === '') return failure('empty-input', SOURCE, `${SOURCE}: no output`, text);
    // "conntrack v1.4.4 (conntrack-tools): Operation failed: ... CAP_NET_ADMIN ..."
    if (/\(conntrack-tools\): /.test(text)) return failure('command-error', SOURCE, `${SOURCE}: the tool reported an error instead of statistics`, text, true);
    return failure('unrecognised-text', SOURCE, `${SOURCE}: no per-CPU line with insert_failed`, text);
  }
  const total = lines.reduce((sum, l) => sum + Number(/insert_failed=(\d+)/.exec(l)![1]), 0);
  return success({ total, lines: lines.filter((l) => !/insert_failed=0\b/.test(l)).map((l) => l.trim()) });
}

export interface ConntrackUsage {
  count: number; // entries in the table now
  max: number; // the size it drops new connections at
}

/** The table's fill; null when either file was not read (nf_conntrack not loaded, or not readable). */
export function conntrackUsageOf(sysctl: NodeSysctls | null): ConntrackUsage | null {
  const value = (key: string) => {
    const e = sysctl?.entries.find((x) => x.path === `/proc/sys/net/netfilter/${key}`);
    const n = e ? Number(e.value) : NaN;
    return Number.isFinite(n) ? n : null;
  };
  const count = value('nf_conntrack_count');
  const max = value('nf_conntrack_max');
  return count !== null && max !== null && max > 0 ? { count, max } : null;
}
