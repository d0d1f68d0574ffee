/**
 * Packet capture for conn-check --capture / --pcap DIR: a bounded tcpdump of the probe's flow on
 * each hop interface, summarised per hop, with one pcap per hop kept on request.
 *
 *   const plan = captureRequests(hops, flow, caps, runTag); // checks every field; UserError if bad
 *   await checkPcapDir(dir, nodePcapFiles);                  // --pcap DIR: before any pod is made
 *   // In each node's probe conversation (ProbeTarget.followUp: same pod, same token):
 *   //   await ctx.run(plan.start.get(node) ?? []);  returns once every tcpdump there listens
 *   //   ... wait until every node's start returned, then send the probes (from any node) ...
 *   //   await ctx.run(plan.stop.get(node) ?? []);   ends them, brings back text (and pcap)
 *   const hops = summariseCaptures(plan, outputsByNode);     // one HopCapture per hop, in order
 *   writePcapFiles(dir, hops, nodePcapFiles);                // NODE-IFACE.pcap per hop
 *
 * Why a start/stop pair (see netdiag-node.sh): calls to one probe pod run one after another and the
 * probes may leave from the same pod, so a capture cannot hold its exec while they are sent. A stop
 * that never comes (an interrupted run) costs nothing: tcpdump ends at its packet or seconds cap,
 * and with its probe pod. On an overlay, capture on the tunnel device (vxlan.calico, flannel.1):
 * the NIC carries the flow encapsulated, which the flow's filter does not match.
 */
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { NodeRequest } from '../../node-script/node-script.js';
import type { NodeScriptOutput, RawSection } from '../../probe/sections.js';
import { parseKeyValues } from '../../parse/key-values.js';
import { EXIT, UserError } from '../../errors.js';
import { parseTcpdump, type TcpdumpPacket } from '../../parse/tcpdump.js';
import { readPcapInfo, trimPcapToWholeRecords } from '../../parse/pcap.js';
import { isIpv4 } from '../../net/ip.js';
import { summariseHopCapture, type CaptureFlow, type HopCaptureSummary } from './capture-summary.js';

export type { CaptureFlow } from './capture-summary.js';

export interface CaptureHop {
  node: string;
  iface: string; // in the namespace below: a host veth, cni0, vxlan.calico, eth0 ...
  /** The node's network namespace, or a pod's (found as every pod request finds it). */
  namespace: { kind: 'node' } | { kind: 'pod'; name: string; containerId: string | null; podIP: string };
  /** The flow as it travels at this hop, when it differs from the command's (after a Service's DNAT). */
  flow?: CaptureFlow;
}

export interface CaptureCaps {
  packets: number; // tcpdump -c
  seconds: number; // tcpdump runs under timeout SECONDS even if never stopped
  snapBytes: number; // tcpdump -s
  pcapBytes: number; // how much of each pcap comes back; 0 = none (no --pcap)
}

export const DEFAULT_CAPTURE_CAPS: CaptureCaps = { packets: 200, seconds: 30, snapBytes: 256, pcapBytes: 8 * 1024 * 1024 };
const LIMITS: Record<keyof CaptureCaps, [number, number]> = {
  packets: [1, 100_000],
  seconds: [1, 3600],
  snapBytes: [64, 262_144],
  pcapBytes: [0, 64 * 1024 * 1024],
};

export interface PlannedCapture {
  id: string; // the capture's handle on its node
  hop: CaptureHop;
  flow: CaptureFlow;
  fileName: string; // NODE-IFACE.pcap (NODE-POD-IFACE.pcap in a pod's namespace)
}

export interface CapturePlan {
  captures: PlannedCapture[];
  caps: CaptureCaps;
  /** Per node: the requests that start its captures (pod lookups first), and those that stop them. */
  start: Map<string, NodeRequest[]>;
  stop: Map<string, NodeRequest[]>;
}

const IFACE = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,14}$/;

/** The node requests of every hop's capture. runTag ([a-z0-9], 1-16) keeps handles of runs apart. */
export function captureRequests(hops: readonly CaptureHop[], flow: CaptureFlow, caps: CaptureCaps = DEFAULT_CAPTURE_CAPS, runTag = 'nd'): CapturePlan {
  checkCaps(caps);
  if (!/^[a-z0-9]{1,16}$/.test(runTag)) throw new Error(`capture run tag "${runTag}" is not 1-16 of [a-z0-9]`);
  const plan: CapturePlan = { captures: [], caps, start: new Map(), stop: new Map() };
  const names = new Set<string>();
  hops.forEach((hop, index) => {
    const hopFlow = hop.flow ?? flow;
    checkFlow(hopFlow);
    if (!IFACE.test(hop.iface)) throw new UserError(`cannot capture on interface "${hop.iface}" of node ${hop.node}: not an interface name`);
    const id = `${runTag}c${index}`;
    const fileName = uniqueName(pcapFileName(hop), names);
    plan.captures.push({ id, hop, flow: hopFlow, fileName });
    const start = plan.start.get(hop.node) ?? [];
    let where = 'host';
    if (hop.namespace.kind === 'pod') {
      if (!isIpv4(hop.namespace.podIP)) throw new UserError(`cannot capture in pod ${hop.namespace.name}: its IP "${hop.namespace.podIP}" is not IPv4`);
      where = `cap${index}`;
      start.push({ kind: 'podpid', key: where, containerId: hop.namespace.containerId, podIP: hop.namespace.podIP });
    }
    start.push({
      kind: 'capture-start',
      id,
      where,
      iface: hop.iface,
      protocol: hopFlow.protocol,
      source: hopFlow.source,
      destination: hopFlow.destination,
      port: hopFlow.port ?? 0,
      packets: caps.packets,
      seconds: caps.seconds,
      snapBytes: caps.snapBytes,
    });
    plan.start.set(hop.node, start);
    plan.stop.set(hop.node, [...(plan.stop.get(hop.node) ?? []), { kind: 'capture-stop', id, pcapBytes: caps.pcapBytes }]);
  });
  return plan;
}

// The most one pcap may grow to on the node (packets x (snap length + record header)): it sits in
// the probe container's writable layer, on the node's disk. The node script checks it too.
export const MAX_CAPTURE_FILE_BYTES = 64 * 1024 * 1024;

function checkCaps(caps: CaptureCaps): void {
  for (const key of Object.keys(LIMITS) as Array<keyof CaptureCaps>) {
    const [min, max] = LIMITS[key];
    const value = caps[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UserError(`capture ${key} must be a whole number from ${min} to ${max}, not ${value}`);
    }
  }
  const worst = caps.packets * (caps.snapBytes + 16);
  if (worst > MAX_CAPTURE_FILE_BYTES) {
    throw new UserError(`a capture of ${caps.packets} packets of up to ${caps.snapBytes} bytes could reach ${Math.ceil(worst / 1048576)} MiB per hop; at most 64 MiB: lower the packet cap or the snap length`);
  }
}

function checkFlow(flow: CaptureFlow): void {
  for (const address of [flow.source, flow.destination]) {
    if (!isIpv4(address)) throw new UserError(`cannot capture the flow to or from ${address}: capture takes IPv4 addresses only`);
  }
  if (flow.protocol === 'icmp') {
    if (flow.port !== null) throw new UserError('an icmp flow has no port');
  } else if (flow.port === null || !Number.isInteger(flow.port) || flow.port < 1 || flow.port > 65535) {
    throw new UserError(`a ${flow.protocol} flow needs a port from 1 to 65535`);
  }
}

function pcapFileName(hop: CaptureHop): string {
  const parts = hop.namespace.kind === 'pod' ? [hop.node, hop.namespace.name, hop.iface] : [hop.node, hop.iface];
  return `${parts.map((p) => p.replace(/[^A-Za-z0-9._-]/g, '_')).join('-')}.pcap`;
}

function uniqueName(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate); n++) candidate = name.replace(/\.pcap$/, `-${n}.pcap`);
  taken.add(candidate);
  return candidate;
}

export interface HopCapture {
  capture: PlannedCapture;
  /** "captured", or why there is nothing: a sentence such as "could not capture: tcpdump not in the image". */
  status: 'captured' | 'not-captured';
  problem: string | null;
  /** What ended tcpdump: the stop request, its packet cap, its seconds cap; unknown when not said. */
  endedBy: 'stop' | 'packets' | 'seconds' | 'unknown';
  capturedCount: number | null; // tcpdump's own "N packets captured"
  droppedByKernel: number | null;
  packets: TcpdumpPacket[];
  unparsed: string[];
  summary: HopCaptureSummary | null;
  pcap: Uint8Array | null;
  /** The pcap was bigger than caps.pcapBytes; `pcap` is cut at its last whole record. */
  pcapTruncated: boolean;
  pcapProblem: string | null;
}

/** Reads every hop's capture from its node's output (NodeScriptOutput of the node's whole conversation). */
export function summariseCaptures(plan: CapturePlan, outputs: ReadonlyMap<string, NodeScriptOutput>): HopCapture[] {
  return plan.captures.map((capture) => readHopCapture(capture, plan.caps, outputs.get(capture.hop.node)?.sections ?? null));
}

function readHopCapture(capture: PlannedCapture, caps: CaptureCaps, sections: ReadonlyMap<string, RawSection> | null): HopCapture {
  const result: HopCapture = {
    capture,
    status: 'not-captured',
    problem: null,
    endedBy: 'unknown',
    capturedCount: null,
    droppedByKernel: null,
    packets: [],
    unparsed: [],
    summary: null,
    pcap: null,
    pcapTruncated: false,
    pcapProblem: null,
  };
  const section = (part: string) => sections?.get(`capture/${capture.id}/${part}`);
  const start = section('start');
  if (!start) {
    result.problem = sections === null ? `could not capture: no output from node ${capture.hop.node}` : 'could not capture: the capture was never started';
    return result;
  }
  if (start.exitCode !== 0) {
    result.problem = firstLine(start.stdout) ?? firstLine(start.stderr) ?? `could not capture: tcpdump did not start (exit ${start.exitCode})`;
    return result;
  }
  const meta = section('meta');
  const text = section('text');
  if (!meta || meta.exitCode !== 0 || !text) {
    result.problem = `could not capture: ${meta ? (firstLine(meta.stdout) ?? 'the capture was lost') : 'the capture was never stopped'}`;
    return result;
  }
  const fields = parseKeyValues(meta.stdout);
  result.capturedCount = numberOrNull(fields.get('captured'));
  result.droppedByKernel = numberOrNull(fields.get('dropped-by-kernel'));
  result.endedBy = fields.get('endedBy') === 'stop' ? 'stop' : result.capturedCount === null ? 'unknown' : result.capturedCount >= caps.packets ? 'packets' : 'seconds';
  if (text.exitCode !== 0) {
    result.problem = `could not read the capture back: ${firstLine(text.stderr) ?? `tcpdump -r exit ${text.exitCode}`}`;
    return result;
  }
  const parsed = parseTcpdump(text.stdout);
  result.status = 'captured';
  result.packets = parsed.packets;
  result.unparsed = parsed.unparsed;
  result.summary = summariseHopCapture(parsed.packets, capture.flow);
  readPcap(result, section('pcap-gzip-base64'), numberOrNull(fields.get('pcapBytes')), numberOrNull(fields.get('pcapLimit')));
  return result;
}

function readPcap(result: HopCapture, section: RawSection | undefined, size: number | null, limit: number | null): void {
  if (!section) return; // not asked for (pcapBytes 0)
  if (section.exitCode !== 0) {
    result.pcapProblem = `the pcap could not be brought back: ${firstLine(section.stderr) ?? `exit ${section.exitCode}`}`;
    return;
  }
  let bytes: Uint8Array;
  try {
    bytes = gunzipSync(Buffer.from(section.stdout, 'base64'));
  } catch (err) {
    result.pcapProblem = `the pcap could not be decoded (gzip+base64): ${(err as Error).message}`;
    return;
  }
  if (readPcapInfo(bytes) === null) {
    result.pcapProblem = 'what came back is not a pcap file';
    return;
  }
  result.pcapTruncated = size !== null && limit !== null && size > limit;
  result.pcap = trimPcapToWholeRecords(bytes);
}

function numberOrNull(value: string | undefined): number | null {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}
function firstLine(text: string): string | null {
  const line = text.split('\n').find((l) => l.trim() !== '');
  return line === undefined ? null : line.trim();
}

/** Where pcaps are written; the command passes the real file system (capture-command.ts). */
export interface PcapFiles {
  isDirectory(path: string): Promise<boolean>;
  write(path: string, bytes: Uint8Array): void;
}

/** --pcap DIR must exist: netdiag writes into it but never creates it (a typo must not scatter files). */
export async function checkPcapDir(dir: string, files: PcapFiles): Promise<void> {
  if (!(await files.isDirectory(dir))) {
    throw new UserError(`--pcap ${dir}: no such directory`, { hint: `create it first (mkdir -p ${dir}), or name an existing one`, exitCode: EXIT.usage });
  }
}

/** Writes one pcap per hop that brought one back (DIR was checked before any pod was made). */
export function writePcapFiles(dir: string, hops: readonly HopCapture[], files: PcapFiles): Map<HopCapture, string> {
  const written = new Map<HopCapture, string>();
  for (const hop of hops) {
    if (!hop.pcap) continue;
    const path = join(dir, hop.capture.fileName);
    files.write(path, hop.pcap);
    written.set(hop, path);
  }
  return written;
}
