// mtu-probe: the configured MTU of every hop between a pod and its target (both nodes), what each
// encapsulation costs, the real path MTU found with don't-fragment pings (a binary search run as
// successive calls on the probe pods), TCP MSS clamping rules, and a verdict naming the hop that
// limits the path. Everything here is pure: the search is replayed from the ping sections the
// probe pods returned, so a snapshot gives the same answer.
import type { Finding } from '../finding.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import type { RawSection } from '../../probe/sections.js';
import { nodeFailedFinding, readAllNodeFacts, type NodeFacts, type PodNetnsFacts } from '../common/node-facts.js';
import type { NetLink } from '../../parse/ip-addr.js';
import { parsePing, type MtuSignalKind } from '../../parse/ping.js';
import { parseMssClamps, type MssClamp, type MssClampAction } from '../../kube-proxy/mss-clamps.js';

/** IPv4 header (20) + ICMP echo header (8): `ping -s N` sends an N+28-byte IP packet. */
export const ICMP_IPV4_OVERHEAD_BYTES = 28;
/** The first probe: ping's default payload, to tell "path down" from "path too narrow". */
export const MIN_PROBE_PAYLOAD_BYTES = 56;
/** -c: each size is tried twice, so one lost packet does not pass for an MTU limit. */
export const PING_COUNT = 2;
/** A search never asks more than this many sizes per direction, whatever the answers. */
export const MAX_PROBES_PER_DIRECTION = 24;

// ---------------------------------------------------------------------------------------------
// What the command resolved through the API (kept in snapshots)

export interface PodEnd {
  kind: 'pod';
  key: string; // the node script's pod key: "src" or "dst"
  namespace: string;
  name: string;
  nodeName: string;
  podIP: string; // the IPv4 address the pings use
  containerId: string | null;
  nodeIP: string | null;
}

export type TargetEnd =
  | PodEnd
  | { kind: 'node'; nodeName: string; address: string }
  | { kind: 'ip'; address: string; nodeName: string | null }; // nodeName when the IP is a node's

export interface MtuProbeApi {
  source: PodEnd;
  target: TargetEnd;
  /** false with --no-probe: configuration only. */
  probe: boolean;
  /** How the default target was chosen, or null when --to named it. */
  targetChoice: string | null;
}

// ---------------------------------------------------------------------------------------------
// Encapsulation overhead

export type UnderlayFamily = 'inet' | 'inet6';

/**
 * Bytes an encapsulation adds to each inner packet (outer IP + its headers), so an overlay device
 * can carry at most NIC MTU minus this. GENEVE is the base header only: options add more.
 */
export function encapsulationOverheadBytes(kind: string, family: UnderlayFamily): number | null {
  const v6 = family === 'inet6';
  switch (kind) {
    case 'vxlan':
      return v6 ? 70 : 50; // outer IP 20/40 + UDP 8 + VXLAN 8 + inner Ethernet 14
    case 'geneve':
      return v6 ? 70 : 50; // + options (Cilium, OVN add some)
    case 'ipip':
    case 'sit':
      return 20;
    case 'ip6tnl':
      return 40;
    case 'gre':
      return v6 ? 44 : 24;
    case 'gretap':
      return v6 ? 58 : 38;
    case 'wireguard':
      return v6 ? 80 : 60; // outer IP + UDP 8 + WireGuard 32
    default:
      return null;
  }
}

const OVERLAY_KINDS = new Set(['vxlan', 'ipip', 'geneve', 'wireguard', 'gre', 'gretap', 'sit', 'ip6tnl']);
const OVERLAY_NAMES = /^(flannel\.\d+|vxlan\.calico|vxlan-v6\.calico|tunl0|cilium_vxlan|cilium_geneve|wg0|wireguard\.cali|weave|flannel-wg)$/;

function isOverlay(link: NetLink): boolean {
  return OVERLAY_KINDS.has(link.kindRaw ?? '') || OVERLAY_NAMES.test(link.ifname);
}

function overlayKindOf(link: NetLink): string {
  if (link.kindRaw && OVERLAY_KINDS.has(link.kindRaw)) return link.kindRaw;
  if (/vxlan|flannel\.\d/.test(link.ifname)) return 'vxlan';
  if (/geneve/.test(link.ifname)) return 'geneve';
  if (link.ifname === 'tunl0') return 'ipip';
  if (/^wg|wireguard/.test(link.ifname)) return 'wireguard';
  return link.kindRaw ?? 'unknown';
}

// ---------------------------------------------------------------------------------------------
// The path MTU search: a binary search over the ping payload, as a pure step function

export type PmtuProbeOutcome = 'passed' | 'failed' | 'error';

export interface PmtuProbe {
  payloadBytes: number;
  outcome: PmtuProbeOutcome;
  /** The MTU an ICMP frag-needed or the local kernel named for this size, if any. */
  reportedMtuBytes: number | null;
  signal: MtuSignalKind | null;
  detail: string; // the line that decided it: a reply, the signal, the statistics, the error
}

export interface PmtuSearchRange {
  minPayloadBytes: number; // probed first: when it fails the path is down, not narrow
  maxPayloadBytes: number; // the largest payload the pod's own interface can send
}

export type PmtuSearchStep = { kind: 'probe'; payloadBytes: number } | { kind: 'done' };

export interface PmtuBounds {
  largestPassingBytes: number | null;
  smallestFailingBytes: number | null; // the smallest failure above the largest pass
}

export function pmtuBounds(probes: readonly PmtuProbe[]): PmtuBounds {
  const passes = probes.filter((p) => p.outcome === 'passed').map((p) => p.payloadBytes);
  const largestPassingBytes = passes.length > 0 ? Math.max(...passes) : null;
  const fails = probes
    .filter((p) => p.outcome !== 'passed' && (largestPassingBytes === null || p.payloadBytes > largestPassingBytes))
    .map((p) => p.payloadBytes);
  return { largestPassingBytes, smallestFailingBytes: fails.length > 0 ? Math.min(...fails) : null };
}

/**
 * The next payload size to try, from the answers so far: the minimum (is the path up at all?),
 * then the maximum the pod can send (a healthy path passes at once), then bisection between the
 * largest pass and the smallest failure. An MTU named by an ICMP frag-needed or the local kernel
 * is tried first (and the size just above it), so a path that reports its MTU costs 4 probes and
 * a silent one about log2(range).
 */
export function nextPmtuProbe(range: PmtuSearchRange, probes: readonly PmtuProbe[]): PmtuSearchStep {
  const tried = new Set(probes.map((p) => p.payloadBytes));
  const done: PmtuSearchStep = { kind: 'done' };
  if (probes.length >= MAX_PROBES_PER_DIRECTION) return done;
  const min = probes.find((p) => p.payloadBytes === range.minPayloadBytes);
  if (!min) return { kind: 'probe', payloadBytes: range.minPayloadBytes };
  if (min.outcome !== 'passed') return done;
  if (range.maxPayloadBytes <= range.minPayloadBytes) return done;
  if (!tried.has(range.maxPayloadBytes)) return { kind: 'probe', payloadBytes: range.maxPayloadBytes };
  const { largestPassingBytes: lo, smallestFailingBytes: hi } = pmtuBounds(probes);
  if (lo === null || hi === null || hi - lo <= 1) return done;
  const inside = (n: number) => n > lo && n < hi && !tried.has(n);
  for (const p of probes) {
    if (p.reportedMtuBytes === null) continue;
    const hinted = p.reportedMtuBytes - ICMP_IPV4_OVERHEAD_BYTES;
    if (inside(hinted)) return { kind: 'probe', payloadBytes: hinted };
    if (hinted === lo && inside(hinted + 1)) return { kind: 'probe', payloadBytes: hinted + 1 };
  }
  return { kind: 'probe', payloadBytes: Math.floor((lo + hi) / 2) };
}

export type PmtuProber = (payloadBytes: number) => Promise<PmtuProbe>;

/** Drives nextPmtuProbe with a prober (the probe pod, or a fake in tests). */
export async function searchPathMtu(range: PmtuSearchRange, prober: PmtuProber, initial: readonly PmtuProbe[] = []): Promise<PmtuProbe[]> {
  const probes = [...initial];
  for (;;) {
    const step = nextPmtuProbe(range, probes);
    if (step.kind === 'done') return probes;
    probes.push(await prober(step.payloadBytes));
  }
}

/** One ping section (`ping -M do -s SIZE -c N`, stdout+stderr merged) -> a probe answer. */
export function pmtuProbeFromSection(section: RawSection, payloadBytes: number): PmtuProbe {
  const text = `${section.stdout}${section.stderr ? `\n${section.stderr}` : ''}`;
  const parsed = parsePing(text);
  if (!parsed.ok) {
    return { payloadBytes, outcome: 'error', reportedMtuBytes: null, signal: null, detail: firstLine(text) || parsed.error.message };
  }
  const r = parsed.value;
  const signal = r.mtuSignals[0] ?? null;
  if ((r.received ?? 0) > 0) {
    return { payloadBytes, outcome: 'passed', reportedMtuBytes: null, signal: null, detail: r.replies[0]?.raw ?? r.statsLine ?? firstLine(text) };
  }
  if (r.outcome === 'incomplete' && r.mtuSignals.length === 0) {
    return { payloadBytes, outcome: 'error', reportedMtuBytes: null, signal: null, detail: firstLine(text) };
  }
  return {
    payloadBytes,
    outcome: 'failed',
    reportedMtuBytes: r.reportedMtuBytes,
    signal: signal?.kind ?? null,
    detail: signal?.raw ?? r.icmpErrors[0]?.raw ?? r.statsLine ?? firstLine(text),
  };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/** The ping sections for one direction, in the order they were asked. */
export function readPmtuProbes(sections: ReadonlyMap<string, RawSection>, where: string, destination: string): PmtuProbe[] {
  const prefix = `ping/${where}/${destination}/`;
  const probes: PmtuProbe[] = [];
  for (const [name, section] of sections) {
    if (!name.startsWith(prefix) || name.endsWith('#stderr')) continue;
    const size = Number(name.slice(prefix.length));
    if (Number.isInteger(size)) probes.push(pmtuProbeFromSection(section, size));
  }
  return probes;
}

// ---------------------------------------------------------------------------------------------
// Report

export type HopRole = 'pod' | 'host-veth' | 'bridge' | 'overlay' | 'nic';

export interface MtuHop {
  side: 'source' | 'target';
  nodeName: string;
  ifname: string;
  role: HopRole;
  kind: string; // veth, bridge, vxlan, ... or device
  mtuBytes: number | null;
  /** Bytes this hop adds to each pod packet: the encapsulation at the overlay and its NIC. */
  overheadBytes: number;
  /** The largest pod (inner) IP packet this hop carries: MTU minus overhead. */
  usableBytes: number | null;
  note: string | null;
}

export type DirectionStatus = 'measured' | 'unreachable' | 'not-run';

export interface PathMtuMeasurement {
  from: string; // "default/web-1 (10.244.1.1)"
  to: string;
  where: string; // pod key the pings ran from
  destination: string;
  nodeName: string; // the node whose probe pod pinged
  status: DirectionStatus;
  probes: PmtuProbe[];
  probeCount: number;
  maxPayloadBytes: number | null; // the pod interface MTU - 28: the top of the search
  largestPassingPayloadBytes: number | null;
  smallestFailingPayloadBytes: number | null;
  pathMtuBytes: number | null; // largest passing payload + 28
  /** The first MTU signal among the failures: an ICMP frag-needed or the local kernel's error. */
  icmpSignal: { kind: MtuSignalKind; mtuBytes: number | null; raw: string } | null;
  blackHole: boolean; // large packets vanished and nothing said why
  note: string | null;
}

export type { MssClampAction };

export interface MssClampRule extends MssClamp {
  nodeName: string;
}

export interface MtuVerdict {
  status: 'ok' | 'limited' | 'unknown';
  podMtuBytes: number | null;
  pathMtuBytes: number | null; // measured (smallest over directions), else from configuration
  measured: boolean;
  limitingHop: string | null; // "lab-node-2 eth0 (nic, MTU 1400 - 50 vxlan)" or a hidden-hop description
  summary: string;
  action: string | null;
}

export interface MtuProbeReport {
  source: string;
  target: string;
  targetChoice: string | null;
  hops: MtuHop[];
  configuredPathMtuBytes: number | null;
  directions: PathMtuMeasurement[];
  mssClamps: MssClampRule[];
  verdict: MtuVerdict;
  findings: Finding[];
  problems: string[];
}

// ---------------------------------------------------------------------------------------------
// Analysis

export function describeEnd(end: PodEnd | TargetEnd): string {
  switch (end.kind) {
    case 'pod':
      return `pod ${end.namespace}/${end.name} (${end.podIP}, node ${end.nodeName})`;
    case 'node':
      return `node ${end.nodeName} (${end.address})`;
    case 'ip':
      return end.nodeName ? `${end.address} (node ${end.nodeName})` : end.address;
  }
}

export function targetAddressOf(target: TargetEnd): string {
  return target.kind === 'pod' ? target.podIP : target.address;
}

export function targetNodeOf(target: TargetEnd): string | null {
  return target.nodeName;
}

/** Pod end -> the IPv4 the other side talks to, and its node's IP. */
interface SideInput {
  side: 'source' | 'target';
  nodeName: string;
  pod: PodEnd | null; // null for a node or IP target
  towardAddress: string; // the other end's address
  towardNodeIP: string | null; // the other end's node (the tunnel's far end)
}

export function diagnoseMtuProbe(api: MtuProbeApi, nodes: readonly NodeCollection[]): MtuProbeReport {
  const { facts, problems, failed } = readAllNodeFacts(nodes);
  const findings: Finding[] = failed.map((n) => nodeFailedFinding(n.nodeName, n.error));

  const { source, target } = api;
  const targetAddress = targetAddressOf(target);
  const targetNode = targetNodeOf(target);
  const sameNode = targetNode === source.nodeName;
  const sides: SideInput[] = [
    { side: 'source', nodeName: source.nodeName, pod: source, towardAddress: targetAddress, towardNodeIP: sameNode ? null : target.kind === 'node' ? target.address : target.kind === 'pod' ? target.nodeIP : target.nodeName ? target.address : null },
  ];
  if (targetNode !== null) {
    sides.push({
      side: 'target',
      nodeName: targetNode,
      pod: target.kind === 'pod' ? target : null,
      towardAddress: source.podIP,
      towardNodeIP: sameNode ? null : source.nodeIP,
    });
  }

  const hops: MtuHop[] = [];
  for (const s of sides) {
    const f = facts.get(s.nodeName);
    if (!f) continue;
    const sideHops = hopsOfSide(s, f, sameNode, problems);
    hops.push(...(s.side === 'target' ? sideHops.reverse() : sideHops));
  }
  const usable = hops.map((h) => h.usableBytes).filter((n): n is number => n !== null);
  const configuredPathMtuBytes = usable.length > 0 ? Math.min(...usable) : null;
  findings.push(...configFindings(hops, sameNode));

  const directions: PathMtuMeasurement[] = [];
  if (api.probe) {
    directions.push(measureDirection(source, targetAddress, describeEnd(target), facts.get(source.nodeName)));
    if (target.kind === 'pod') directions.push(measureDirection(target, source.podIP, describeEnd(source), facts.get(target.nodeName)));
  }

  const mssClamps = [...new Set(sides.map((s) => s.nodeName))].flatMap((n) => {
    const f = facts.get(n);
    return f ? readMssClamps(f) : [];
  });

  const podMtuBytes = hops.find((h) => h.side === 'source' && h.role === 'pod')?.mtuBytes ?? null;
  const verdict = buildVerdict(api, hops, directions, podMtuBytes, configuredPathMtuBytes);
  findings.push(...probeFindings(directions, podMtuBytes, verdict, mssClamps));
  findings.push(...mssFindings(mssClamps, verdict));
  return {
    source: describeEnd(source),
    target: describeEnd(target),
    targetChoice: api.targetChoice,
    hops,
    configuredPathMtuBytes,
    directions,
    mssClamps,
    verdict,
    findings,
    problems,
  };
}

function hopsOfSide(s: SideInput, f: NodeFacts, sameNode: boolean, problems: string[]): MtuHop[] {
  const hops: MtuHop[] = [];
  const hostLinks = f.host.links ?? [];
  const base = { side: s.side, nodeName: s.nodeName };
  if (s.pod) {
    const podNs = f.pods.get(s.pod.key);
    const podLink = podNs ? podInterfaceOf(podNs, s.pod.podIP) : null;
    if (!podNs || !podLink) {
      problems.push(`node ${s.nodeName}: the network namespace of pod ${s.pod.namespace}/${s.pod.name} was not found`);
    } else {
      hops.push({ ...base, ifname: podLink.ifname, role: 'pod', kind: podLink.kindRaw ?? podLink.kind, mtuBytes: podLink.mtuBytes, overheadBytes: 0, usableBytes: podLink.mtuBytes, note: `pod ${s.pod.namespace}/${s.pod.name}` });
      const peerIndex = podLink.peer?.ifindex ?? podNs.ethtoolPeerIfindex.get(podLink.ifname) ?? null;
      const veth = peerIndex === null ? undefined : hostLinks.find((h) => h.ifindex === peerIndex);
      if (veth) {
        hops.push({ ...base, ifname: veth.ifname, role: 'host-veth', kind: veth.kindRaw ?? veth.kind, mtuBytes: veth.mtuBytes, overheadBytes: 0, usableBytes: veth.mtuBytes, note: null });
        const bridge = veth.master ? hostLinks.find((h) => h.ifname === veth.master) : undefined;
        if (bridge) hops.push({ ...base, ifname: bridge.ifname, role: 'bridge', kind: bridge.kindRaw ?? bridge.kind, mtuBytes: bridge.mtuBytes, overheadBytes: 0, usableBytes: bridge.mtuBytes, note: null });
      }
    }
  }
  if (sameNode) return hops;

  // Where the node sends traffic for the other end: straight out of a NIC, or into an overlay.
  const toward = f.routeGets.get(s.towardAddress);
  const outDev = toward?.dev ?? null;
  const outLink = outDev ? hostLinks.find((l) => l.ifname === outDev) : undefined;
  if (!outLink) {
    if (!toward) problems.push(`node ${s.nodeName}: no route toward ${s.towardAddress} was read`);
    return hops;
  }
  if (isOverlay(outLink)) {
    const kind = overlayKindOf(outLink);
    // The underlay: the overlay's own lower device, else the route toward the far node.
    const underRoute = s.towardNodeIP ? f.routeGets.get(s.towardNodeIP) : undefined;
    const nicName = outLink.vxlan?.underlayDev ?? underRoute?.dev ?? null;
    const nic = nicName ? hostLinks.find((l) => l.ifname === nicName) : undefined;
    const family: UnderlayFamily = (outLink.vxlan?.localAddress ?? s.towardNodeIP ?? '').includes(':') ? 'inet6' : 'inet';
    const overhead = encapsulationOverheadBytes(kind, family);
    const note = overhead === null ? `unknown overhead for ${kind}` : kind === 'geneve' ? 'plus GENEVE options' : null;
    hops.push({ ...base, ifname: outLink.ifname, role: 'overlay', kind, mtuBytes: outLink.mtuBytes, overheadBytes: 0, usableBytes: outLink.mtuBytes, note: note ?? `${kind} adds ${overhead} bytes on the wire` });
    if (nic) {
      const o = overhead ?? 0;
      hops.push({ ...base, ifname: nic.ifname, role: 'nic', kind: nic.kindRaw ?? 'device', mtuBytes: nic.mtuBytes, overheadBytes: o, usableBytes: nic.mtuBytes === null ? null : nic.mtuBytes - o, note: `carries ${outLink.ifname}` });
    } else {
      problems.push(`node ${s.nodeName}: the underlay device of ${outLink.ifname} was not found`);
    }
  } else {
    hops.push({ ...base, ifname: outLink.ifname, role: 'nic', kind: outLink.kindRaw ?? 'device', mtuBytes: outLink.mtuBytes, overheadBytes: 0, usableBytes: outLink.mtuBytes, note: `routed directly${toward?.gateway ? ` via ${toward.gateway}` : ''}` });
  }
  return hops;
}

function podInterfaceOf(podNs: PodNetnsFacts, podIP: string): NetLink | null {
  const links = podNs.links ?? [];
  return links.find((l) => l.addresses.some((a) => a.address === podIP)) ?? links.find((l) => l.ifname === 'eth0') ?? null;
}

function hopName(h: MtuHop): string {
  return `${h.nodeName} ${h.ifname} (${h.role}${h.role === 'overlay' ? ` ${h.kind}` : ''}, MTU ${h.mtuBytes ?? '?'}${h.overheadBytes ? ` - ${h.overheadBytes} encapsulation` : ''})`;
}

function configFindings(hops: readonly MtuHop[], sameNode: boolean): Finding[] {
  const findings: Finding[] = [];
  for (const side of ['source', 'target'] as const) {
    const sideHops = hops.filter((h) => h.side === side);
    const pod = sideHops.find((h) => h.role === 'pod');
    const veth = sideHops.find((h) => h.role === 'host-veth');
    const overlay = sideHops.find((h) => h.role === 'overlay');
    const nic = sideHops.find((h) => h.role === 'nic');
    if (pod?.mtuBytes != null && veth?.mtuBytes != null && pod.mtuBytes !== veth.mtuBytes) {
      findings.push({
        code: 'mtu.veth-mismatch',
        severity: 'warn',
        subject: `node ${pod.nodeName} ${veth.ifname}`,
        message: `the pod's ${pod.ifname} has MTU ${pod.mtuBytes} but its host side ${veth.ifname} has ${veth.mtuBytes}: packets toward the pod are cut at the smaller one`,
        evidence: [`${pod.note ?? 'pod'} ${pod.ifname} mtu ${pod.mtuBytes}`, `node ${veth.nodeName} ${veth.ifname} mtu ${veth.mtuBytes}`],
        remedy: 'recreate the pod so the CNI sets both ends to its configured MTU',
      });
    }
    if (pod?.mtuBytes != null && overlay?.mtuBytes != null && pod.mtuBytes > overlay.mtuBytes) {
      findings.push({
        code: 'mtu.pod-exceeds-overlay',
        severity: 'error',
        subject: `node ${pod.nodeName} ${pod.note ?? ''}`.trim(),
        message: `the pod's ${pod.ifname} MTU ${pod.mtuBytes} is larger than the overlay ${overlay.ifname} MTU ${overlay.mtuBytes}: full-size pod packets to other nodes are dropped`,
        evidence: [`pod ${pod.ifname} mtu ${pod.mtuBytes}`, `node ${overlay.nodeName} ${overlay.ifname} (${overlay.kind}) mtu ${overlay.mtuBytes}`],
        remedy: `set the CNI MTU (pod and veth) to at most ${overlay.mtuBytes} and recreate the pods`,
      });
    }
    if (overlay?.mtuBytes != null && nic?.mtuBytes != null && nic.overheadBytes > 0 && overlay.mtuBytes + nic.overheadBytes > nic.mtuBytes) {
      findings.push({
        code: 'mtu.overlay-exceeds-nic',
        severity: 'error',
        subject: `node ${overlay.nodeName} ${overlay.ifname}`,
        message: `${overlay.ifname} (${overlay.kind}) MTU ${overlay.mtuBytes} + ${nic.overheadBytes} bytes of encapsulation = ${overlay.mtuBytes + nic.overheadBytes}, more than ${nic.ifname} MTU ${nic.mtuBytes}: full-size tunnel packets do not fit the wire`,
        evidence: [`${overlay.ifname} mtu ${overlay.mtuBytes}`, `${nic.ifname} mtu ${nic.mtuBytes}`, `${overlay.kind} overhead ${nic.overheadBytes}`],
        remedy: `lower the overlay and pod MTU to ${nic.mtuBytes - nic.overheadBytes} (the CNI's MTU setting), or raise ${nic.ifname} on node ${nic.nodeName} to ${overlay.mtuBytes + nic.overheadBytes}`,
      });
    }
    if (pod?.mtuBytes != null && nic?.mtuBytes != null && !overlay && pod.mtuBytes > nic.mtuBytes) {
      findings.push({
        code: 'mtu.pod-exceeds-nic',
        severity: 'error',
        subject: `node ${nic.nodeName} ${nic.ifname}`,
        message: `pods on node ${nic.nodeName} use MTU ${pod.mtuBytes} but the routed NIC ${nic.ifname} has MTU ${nic.mtuBytes}: full-size pod packets are dropped or need fragmentation`,
        evidence: [`pod ${pod.ifname} mtu ${pod.mtuBytes}`, `${nic.ifname} mtu ${nic.mtuBytes}`],
        remedy: `set the CNI MTU to at most ${nic.mtuBytes}, or raise ${nic.ifname} to ${pod.mtuBytes}`,
      });
    }
  }
  if (!sameNode) {
    for (const role of ['pod', 'host-veth', 'overlay', 'nic'] as const) {
      const a = hops.find((h) => h.side === 'source' && h.role === role);
      const b = hops.find((h) => h.side === 'target' && h.role === role);
      if (!a || !b || a.mtuBytes === null || b.mtuBytes === null || a.mtuBytes === b.mtuBytes) continue;
      findings.push({
        code: 'mtu.node-mismatch',
        severity: 'warn',
        subject: `${role} MTU on nodes ${a.nodeName} and ${b.nodeName}`,
        message: `the ${role} interface has MTU ${a.mtuBytes} on node ${a.nodeName} (${a.ifname}) but ${b.mtuBytes} on node ${b.nodeName} (${b.ifname}): the nodes disagree on what fits`,
        evidence: [`${a.nodeName} ${a.ifname} mtu ${a.mtuBytes}`, `${b.nodeName} ${b.ifname} mtu ${b.mtuBytes}`],
        remedy: `make the ${role} MTU the same on every node (${Math.min(a.mtuBytes, b.mtuBytes)} unless the larger one is what the network really carries)`,
      });
    }
  }
  return findings;
}

function measureDirection(from: PodEnd, destination: string, toText: string, f: NodeFacts | undefined): PathMtuMeasurement {
  const base = {
    from: `${from.namespace}/${from.name} (${from.podIP})`,
    to: toText,
    where: from.key,
    destination,
    nodeName: from.nodeName,
  };
  const empty = {
    probes: [] as PmtuProbe[],
    probeCount: 0,
    maxPayloadBytes: null,
    largestPassingPayloadBytes: null,
    smallestFailingPayloadBytes: null,
    pathMtuBytes: null,
    icmpSignal: null,
    blackHole: false,
  };
  if (!f) return { ...base, ...empty, status: 'not-run', note: `node ${from.nodeName} was not read` };
  const probes = readPmtuProbes(f.sections, from.key, destination);
  const podNs = f.pods.get(from.key);
  const link = podNs ? podInterfaceOf(podNs, from.podIP) : null;
  const maxPayloadBytes = link?.mtuBytes != null ? link.mtuBytes - ICMP_IPV4_OVERHEAD_BYTES : null;
  if (probes.length === 0) return { ...base, ...empty, maxPayloadBytes, status: 'not-run', note: 'no pings were run' };
  const { largestPassingBytes, smallestFailingBytes } = pmtuBounds(probes);
  const failures = probes.filter((p) => p.outcome === 'failed' && (largestPassingBytes === null || p.payloadBytes > largestPassingBytes));
  const signalled = failures.find((p) => p.signal !== null);
  const errored = probes.find((p) => p.outcome === 'error');
  const icmpSignal = signalled ? { kind: signalled.signal!, mtuBytes: signalled.reportedMtuBytes, raw: signalled.detail } : null;
  if (largestPassingBytes === null) {
    return {
      ...base,
      probes,
      probeCount: probes.length,
      maxPayloadBytes,
      largestPassingPayloadBytes: null,
      smallestFailingPayloadBytes: smallestFailingBytes,
      pathMtuBytes: null,
      icmpSignal,
      blackHole: false,
      status: 'unreachable',
      note: errored ? `the ping could not run: ${errored.detail}` : `even ${MIN_PROBE_PAYLOAD_BYTES}-byte pings got no reply: the path is down, not narrow`,
    };
  }
  return {
    ...base,
    probes,
    probeCount: probes.length,
    maxPayloadBytes,
    largestPassingPayloadBytes: largestPassingBytes,
    smallestFailingPayloadBytes: smallestFailingBytes,
    pathMtuBytes: largestPassingBytes + ICMP_IPV4_OVERHEAD_BYTES,
    icmpSignal,
    blackHole: failures.length > 0 && !signalled,
    status: 'measured',
    note: null,
  };
}

/** TCPMSS rules from the node's iptables dumps (either backend), each once; a dump not read adds none. */
export function readMssClamps(f: NodeFacts): MssClampRule[] {
  const rules: MssClampRule[] = [];
  const seen = new Set<string>();
  for (const name of ['host/iptables', 'host/iptables-nft', 'host/iptables-legacy']) {
    const section = f.sections.get(name);
    if (!section || section.exitCode !== 0) continue;
    const parsed = parseMssClamps(section.stdout);
    if (!parsed.ok) continue;
    for (const clamp of parsed.value) {
      // Both backends can hold the same rule (a node that switched alternatives): once is enough.
      const key = `${clamp.table} ${clamp.raw}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rules.push({ nodeName: f.nodeName, ...clamp });
    }
  }
  return rules;
}

function buildVerdict(api: MtuProbeApi, hops: readonly MtuHop[], directions: readonly PathMtuMeasurement[], podMtuBytes: number | null, configured: number | null): MtuVerdict {
  const measured = directions.filter((d) => d.status === 'measured' && d.pathMtuBytes !== null);
  if (api.probe && directions.some((d) => d.status === 'unreachable')) {
    return { status: 'unknown', podMtuBytes, pathMtuBytes: null, measured: false, limitingHop: null, summary: 'the target did not answer even small pings: fix connectivity first; the MTU could not be measured', action: null };
  }
  const pathMtuBytes = measured.length > 0 ? Math.min(...measured.map((d) => d.pathMtuBytes!)) : configured;
  const isMeasured = measured.length > 0;
  if (pathMtuBytes === null || podMtuBytes === null) {
    return { status: 'unknown', podMtuBytes, pathMtuBytes, measured: isMeasured, limitingHop: null, summary: 'the MTU of the pod or of the path could not be read', action: null };
  }
  if (pathMtuBytes >= podMtuBytes) {
    return {
      status: 'ok',
      podMtuBytes,
      pathMtuBytes,
      measured: isMeasured,
      limitingHop: null,
      summary: isMeasured
        ? `full-size pod packets (${podMtuBytes} bytes) get through${measured.length > 1 ? ' in both directions' : ''}: path MTU ${pathMtuBytes} = pod MTU`
        : `by configuration every hop carries the pod MTU ${podMtuBytes} (not measured: --no-probe)`,
      action: null,
    };
  }
  const limiting = limitingHopFor(hops, pathMtuBytes, podMtuBytes);
  const dirText = isMeasured ? `measured path MTU ${pathMtuBytes}` : `configured path MTU ${pathMtuBytes}`;
  if (limiting) {
    return {
      status: 'limited',
      podMtuBytes,
      pathMtuBytes,
      measured: isMeasured,
      limitingHop: hopName(limiting),
      summary: `pods send up to ${podMtuBytes} bytes but the ${dirText}: ${hopName(limiting)} is the narrowest hop`,
      action: actionFor(limiting, pathMtuBytes, podMtuBytes),
    };
  }
  const between = hops.filter((h) => h.role === 'nic').map((h) => `${h.nodeName} ${h.ifname}`).join(' and ') || 'the nodes';
  const overhead = Math.max(0, ...hops.map((h) => h.overheadBytes));
  return {
    status: 'limited',
    podMtuBytes,
    pathMtuBytes,
    measured: isMeasured,
    limitingHop: `the network between ${between} (not a node interface: every configured hop allows more)`,
    summary: `pods send up to ${podMtuBytes} bytes but the ${dirText}, and no node interface explains it: a link or switch between ${between} carries only ${pathMtuBytes + overhead}-byte packets`,
    action: `raise the MTU of the underlay network between ${between} to at least ${podMtuBytes + overhead}, or lower the CNI MTU to ${pathMtuBytes} on every node`,
  };
}

/** The hop whose usable size explains the limit (the kernel lets veths take 4 bytes extra). */
function limitingHopFor(hops: readonly MtuHop[], pathMtuBytes: number, podMtuBytes: number): MtuHop | null {
  const narrow = hops.filter((h) => h.usableBytes !== null && h.usableBytes < podMtuBytes);
  const close = narrow.filter((h) => Math.abs(h.usableBytes! - pathMtuBytes) <= 8);
  const pick = (list: MtuHop[]) => [...list].sort((a, b) => a.usableBytes! - b.usableBytes! || (a.role === 'nic' ? -1 : 1))[0] ?? null;
  return pick(close);
}

function actionFor(hop: MtuHop, pathMtuBytes: number, podMtuBytes: number): string {
  const lower = `lower the CNI MTU (pod eth0, veths${hop.role === 'nic' && hop.overheadBytes ? ', the overlay device' : ''}) to ${Math.min(pathMtuBytes, hop.usableBytes ?? pathMtuBytes)} on every node and recreate the pods`;
  switch (hop.role) {
    case 'nic':
      return `${lower}, or raise ${hop.ifname} on node ${hop.nodeName} to ${podMtuBytes + hop.overheadBytes} (pod MTU ${podMtuBytes}${hop.overheadBytes ? ` + ${hop.overheadBytes} encapsulation` : ''}) if the network underneath carries it`;
    case 'overlay':
      return `${lower}, or raise ${hop.ifname} on node ${hop.nodeName} to ${podMtuBytes} if its NIC has room for the encapsulation`;
    default:
      return `set ${hop.ifname} on node ${hop.nodeName} back to the CNI MTU ${podMtuBytes} (recreate the pod), or ${lower}`;
  }
}

function probeFindings(directions: readonly PathMtuMeasurement[], podMtuBytes: number | null, verdict: MtuVerdict, clamps: readonly MssClampRule[]): Finding[] {
  const findings: Finding[] = [];
  for (const d of directions) {
    const subject = `path ${d.from} -> ${d.to}`;
    const probeLine = (p: PmtuProbe) => `-s ${p.payloadBytes}: ${p.outcome}${p.detail ? ` (${p.detail})` : ''}`;
    const sequence = `probes (${d.probeCount}): ${d.probes.map((p) => `${p.payloadBytes} ${p.outcome}`).join(', ')}`;
    const decisive = d.probes.filter((p) => p.payloadBytes === d.largestPassingPayloadBytes || p.payloadBytes === d.smallestFailingPayloadBytes);
    const evidence = d.status === 'measured' ? [...decisive.map(probeLine), sequence] : d.probes.map(probeLine);
    if (d.status === 'unreachable') {
      findings.push({
        code: 'mtu.path-unreachable',
        severity: 'error',
        subject,
        message: d.note ?? 'the target did not answer',
        evidence,
        remedy: 'fix basic connectivity first (routes, policies, ARP): kubectl netdiag veth-peer / arp-check',
      });
      continue;
    }
    if (d.status !== 'measured' || d.pathMtuBytes === null) continue;
    const sourceMtu = d.maxPayloadBytes !== null ? d.maxPayloadBytes + ICMP_IPV4_OVERHEAD_BYTES : podMtuBytes;
    if (sourceMtu !== null && d.pathMtuBytes < sourceMtu) {
      findings.push({
        code: 'mtu.path-below-pod-mtu',
        severity: 'error',
        subject,
        message: `the pod sends packets up to ${sourceMtu} bytes but only ${d.pathMtuBytes} get through (largest ping payload ${d.largestPassingPayloadBytes}, ${d.probeCount} probes)${verdict.limitingHop ? `; limited by ${verdict.limitingHop}` : ''}`,
        evidence,
        remedy: verdict.action ?? 'make the pod MTU match what the path carries',
      });
    }
    if (d.blackHole) {
      const clamp = clamps.length > 0 ? '' : '; meanwhile, TCP MSS clamping (iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu) keeps TCP working';
      findings.push({
        code: 'mtu.pmtu-black-hole',
        severity: 'error',
        subject,
        message: `packets larger than ${d.pathMtuBytes} bytes vanish without an ICMP "fragmentation needed" coming back: path MTU discovery cannot work, so TCP retransmits full-size segments forever`,
        evidence: [
          ...d.probes.filter((p) => p.payloadBytes === d.smallestFailingPayloadBytes).map(probeLine),
          `no ICMP frag-needed and no local "message too long" for any failing size: ${d.probes.filter((p) => p.outcome === 'failed').map((p) => p.payloadBytes).join(', ')}`,
        ],
        remedy: `${verdict.action ?? 'make the MTU consistent along the path'}${clamp}`,
      });
    }
  }
  return findings;
}

function mssFindings(clamps: readonly MssClampRule[], verdict: MtuVerdict): Finding[] {
  const findings: Finding[] = [];
  for (const c of clamps) {
    if (c.action.kind === 'set-mss' && verdict.pathMtuBytes !== null && c.action.mssBytes + 40 > verdict.pathMtuBytes) {
      findings.push({
        code: 'mtu.mss-clamp-too-large',
        severity: 'warn',
        subject: `node ${c.nodeName} ${c.table}/${c.chain}`,
        message: `TCP MSS is set to ${c.action.mssBytes}, so segments of ${c.action.mssBytes + 40} bytes, more than the path MTU ${verdict.pathMtuBytes}`,
        evidence: [c.raw],
        remedy: `use --set-mss ${verdict.pathMtuBytes - 40} or --clamp-mss-to-pmtu`,
      });
    }
  }
  return findings;
}
