// `ethtool -S IFACE` -> counters and the veth's peer_ifindex (the seed-000 way to find a pod's
// host-side veth: run it inside the pod, look the number up among the host's ifindexes);
// `ethtool -i IFACE` -> driver info ("veth", "bridge", "vxlan", a NIC driver).
import { type ParseResult, type SkippedRecord, failure, splitLines, success, toInt } from './json-input.js';

export interface EthtoolStats {
  counters: Record<string, number>;
  peerIfindex: number | null; // only veth (and a few virtual drivers) report it
  peerIfindexRaw: string | null; // the "peer_ifindex: N" line, for evidence
  raw: string;
}

export interface EthtoolDriverInfo {
  driver: string | null;
  version: string | null;
  firmwareVersion: string | null;
  busInfo: string | null;
  supportsStatistics: boolean | null;
  fields: Record<string, string>;
  raw: string;
}

const STATS_SOURCE = 'ethtool -S';
const DRIVER_SOURCE = 'ethtool -i';

/**
 * Devices without NIC statistics (bridge, vxlan, lo) make ethtool print "no stats available" on
 * stderr and nothing on stdout: pass stderr to get that as a command-error rather than empty-input.
 */
export function parseEthtoolStats(stdout: string, stderr = ''): ParseResult<EthtoolStats> {
  if (stdout.trim() === '') {
    if (stderr.trim() !== '') {
      return failure('command-error', STATS_SOURCE, `${STATS_SOURCE}: ${stderr.trim().split('\n')[0]}`, stderr);
    }
    return failure('empty-input', STATS_SOURCE, `${STATS_SOURCE}: no output to parse`, stdout);
  }
  const counters: Record<string, number> = {};
  const skipped: SkippedRecord[] = [];
  let peerIfindexRaw: string | null = null;
  let sawHeader = false;
  for (const { lineNo, line } of splitLines(stdout)) {
    if (/^NIC statistics:\s*$/.test(line)) {
      sawHeader = true;
      continue;
    }
    // "     peer_ifindex: 2"; counter names may hold spaces or brackets on some NIC drivers.
    const m = /^\s*(.+?):\s+(\d+)\s*$/.exec(line);
    const value = m ? toInt(m[2]) : null;
    if (!m || value === null) {
      skipped.push({ source: STATS_SOURCE, position: `line ${lineNo}`, message: 'not a "name: value" counter line', raw: line });
      continue;
    }
    counters[m[1]!] = value;
    if (m[1] === 'peer_ifindex') peerIfindexRaw = line.trim();
  }
  if (!sawHeader && Object.keys(counters).length === 0) {
    return failure('unrecognised-text', STATS_SOURCE, `${STATS_SOURCE}: no "NIC statistics:" block found`, stdout);
  }
  return success({ counters, peerIfindex: counters['peer_ifindex'] ?? null, peerIfindexRaw, raw: stdout }, skipped);
}

export function parseEthtoolDriverInfo(stdout: string, stderr = ''): ParseResult<EthtoolDriverInfo> {
  if (stdout.trim() === '') {
    if (stderr.trim() !== '') {
      return failure('command-error', DRIVER_SOURCE, `${DRIVER_SOURCE}: ${stderr.trim().split('\n')[0]}`, stderr);
    }
    return failure('empty-input', DRIVER_SOURCE, `${DRIVER_SOURCE}: no output to parse`, stdout);
  }
  const fields: Record<string, string> = {};
  const skipped: SkippedRecord[] = [];
  for (const { lineNo, line } of splitLines(stdout)) {
    const m = /^([a-z-]+):\s?(.*)$/.exec(line);
    if (m) fields[m[1]!] = m[2]!.trim();
    else skipped.push({ source: DRIVER_SOURCE, position: `line ${lineNo}`, message: 'not a "key: value" line', raw: line });
  }
  if (fields['driver'] === undefined) {
    return failure('unrecognised-text', DRIVER_SOURCE, `${DRIVER_SOURCE}: no "driver:" line found`, stdout);
  }
  // "N/A" and an empty value both mean the driver has nothing to report.
  const value = (key: string): string | null => {
    const v = fields[key];
    return v === undefined || v === '' || v === 'N/A' ? null : v;
  };
  const stats = fields['supports-statistics'];
  return success(
    {
      driver: value('driver'),
      version: value('version'),
      firmwareVersion: value('firmware-version'),
      busInfo: value('bus-info'),
      supportsStatistics: stats === 'yes' ? true : stats === 'no' ? false : null,
      fields,
      raw: stdout,
    },
    skipped,
  );
}

/** The ethtool section frames each interface as "### NAME" followed by `ethtool -S` and `-i`. */
export function parseEthtoolPeers(text: string): Map<string, number> {
  const peers = new Map<string, number>();
  for (const block of text.split(/^### /m).slice(1)) {
    const newline = block.indexOf('\n');
    const iface = block.slice(0, newline === -1 ? block.length : newline).trim();
    const stats = parseEthtoolStats(newline === -1 ? '' : block.slice(newline + 1));
    if (stats.ok && stats.value.peerIfindex !== null) peers.set(iface, stats.value.peerIfindex);
  }
  return peers;
}
