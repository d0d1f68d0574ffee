// conn-check --capture / --pcap DIR: a bounded tcpdump of the probe's flow in the source pod's and
// the destination pod's (or every Service endpoint's) namespace, started before the probes and
// read back after them in the same calls as the counters. The pods' eth0 is known before any
// node answers; host-side hops would need the first call's facts, so they are left to the hop
// table's counters.
import { writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ConnCapturePlan, ConnCaptureFlow, ConnCheckApi, ConnCheckReport, ConnPodEnd } from './analysis.js';
import { pathPods, targetOf } from './analysis.js';
import { describeHopCapture } from './capture-summary.js';
import { captureRequests, DEFAULT_CAPTURE_CAPS, summariseCaptures, writePcapFiles, type HopCapture, type PcapFiles } from './capture.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import { parseNodeScriptOutput, type NodeScriptOutput } from '../../probe/sections.js';

/** The real file system, for --pcap DIR. */
export const nodePcapFiles: PcapFiles = {
  isDirectory: (path) => stat(path).then((s) => s.isDirectory(), () => false),
  write: (path, bytes) => writeFileSync(path, bytes),
};

// Probe pods are made for one run, so their capture handles never meet another run's.
export const CAPTURE_TAG = 'cc';

export function capturePlanOf(api: ConnCheckApi, pcapDir: string | null): ConnCapturePlan {
  const target = targetOf(api);
  const flow: ConnCaptureFlow = { protocol: api.protocol, source: api.source.ip, destination: target.address, port: target.port };
  const destination = api.destination;
  const hopOf = (p: ConnPodEnd, hopFlow?: ConnCaptureFlow) => ({
    node: p.nodeName,
    iface: 'eth0',
    namespace: { kind: 'pod' as const, name: `${p.namespace}/${p.name}`, containerId: p.containerId, podIP: p.ip },
    ...(hopFlow ? { flow: hopFlow } : {}),
  });
  const hops = pathPods(api).map((p) =>
    p.key === 'src' || destination.kind !== 'service'
      ? hopOf(p)
      : // Past kube-proxy's DNAT the flow goes to the endpoint's own address and target port.
        hopOf(p, { ...flow, destination: p.ip, port: destination.targetPort ?? flow.port }),
  );
  return { hops, flow, caps: { ...DEFAULT_CAPTURE_CAPS, pcapBytes: pcapDir ? DEFAULT_CAPTURE_CAPS.pcapBytes : 0 }, pcapDir };
}

/** Adds each hop's capture summary to the report, and writes the pcaps when --pcap asked for them. */
export function withCaptures(report: ConnCheckReport, api: ConnCheckApi, nodes: readonly NodeCollection[], files: PcapFiles = nodePcapFiles): ConnCheckReport {
  const capture = api.capture;
  if (!capture) return report;
  const plan = captureRequests(capture.hops, capture.flow, capture.caps, CAPTURE_TAG);
  const outputs = new Map<string, NodeScriptOutput>();
  for (const n of nodes) if (n.ok) outputs.set(n.nodeName, parseNodeScriptOutput(n.raw, n.token));
  const hops = summariseCaptures(plan, outputs);
  const written = capture.pcapDir ? writePcapFiles(capture.pcapDir, hops, files) : new Map<HopCapture, string>();
  report.capture = {
    hops: hops.map((h) => {
      const pcapFile = written.get(h);
      const ns = h.capture.hop.namespace;
      return {
        nodeName: h.capture.hop.node,
        iface: ns.kind === 'pod' ? `${ns.name} ${h.capture.hop.iface}` : h.capture.hop.iface,
        summary: h.summary ? describeHopCapture(h.summary, h.capture.flow) : [h.problem ?? 'nothing captured'],
        ...(pcapFile ? { pcapFile } : {}),
      };
    }),
  };
  return report;
}
