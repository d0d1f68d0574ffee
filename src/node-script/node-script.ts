import { readFileSync } from 'node:fs';

// Unbundled (tsc's dist/, ts-node) the script is a file beside this module. The esbuild bundle
// (scripts/bundle.sh) replaces __NETDIAG_NODE_SCRIPT__ with the script's text through `define`,
// so one .mjs (npm bin, krew archive, single executable) carries it and no path is resolved.
// A define keeps this module plain TypeScript: no loader plugin, no generated source file.
declare const __NETDIAG_NODE_SCRIPT__: string | undefined;
let cached: string | undefined;
export function loadNodeScript(): string {
  cached ??=
    typeof __NETDIAG_NODE_SCRIPT__ === 'string'
      ? __NETDIAG_NODE_SCRIPT__
      : readFileSync(new URL('./netdiag-node.sh', import.meta.url), 'utf8');
  return cached;
}

/** One thing the node script gathers; serialised to the script's closed request vocabulary. */
export type NodeRequest =
  | { kind: 'host' }
  | { kind: 'host-kube-proxy' }
  | { kind: 'host-files' }
  | { kind: 'route-get'; address: string }
  | { kind: 'pod'; key: string; containerId: string | null; podIP: string }
  | { kind: 'podpid'; key: string; containerId: string | null; podIP: string }
  // Finds the pod like podpid and reads its container's /etc/resolv.conf (section pod/KEY/resolv.conf).
  | { kind: 'podresolv'; key: string; containerId: string | null; podIP: string }
  // Actions run from `where`: "host" (the node's namespace) or a pod key named earlier in the call.
  | { kind: 'ping'; where: string; destination: string; payloadBytes: number; count: number }
  | { kind: 'dig'; where: string; server: string; protocol: 'udp' | 'tcp'; name: string }
  | { kind: 'arping'; where: string; iface: string; target: string }
  | { kind: 'tcp'; where: string; address: string; port: number }
  // A tcpdump of one flow on IFACE in `where`, left running (sections capture/ID/start), and its end
  // (capture/ID/meta, capture/ID/text, capture/ID/pcap-gzip-base64 when pcapBytes > 0). See src/checks/conn-check/capture.ts.
  | {
      kind: 'capture-start';
      id: string;
      where: string;
      iface: string;
      protocol: 'tcp' | 'udp' | 'icmp';
      source: string;
      destination: string;
      port: number; // 0 for icmp
      packets: number;
      seconds: number;
      snapBytes: number;
    }
  | { kind: 'capture-stop'; id: string; pcapBytes: number }
  // smoke --matrix and conn-check: `count` (1-10) probes of one protocol (port 0 for icmp). tcp and udp
  // give one "attempt N rc=RC what nc said" line each (src/parse/probe-attempts.ts), icmp ping's output.
  | ProbeRequest
  // conn-check: every counter of one namespace, framed as ctr/PHASE/WHERE/NAME.
  | { kind: 'counters'; phase: 'before' | 'after'; where: string };

export interface ProbeRequest {
  kind: 'probe';
  where: string;
  protocol: 'tcp' | 'udp' | 'icmp';
  address: string;
  port: number;
  count: number;
}

export function encodeNodeRequest(request: NodeRequest): string {
  switch (request.kind) {
    case 'host':
    case 'host-kube-proxy':
    case 'host-files':
      return request.kind;
    case 'route-get':
      return `route-get:${request.address}`;
    case 'pod':
    case 'podpid':
    case 'podresolv':
      return `${request.kind}:${request.key}:${request.containerId ?? 'none'}:${request.podIP}`;
    case 'ping':
      return `ping:${request.where}:${request.destination}:${request.payloadBytes}:${request.count}`;
    case 'dig':
      return `dig:${request.where}:${request.server}:${request.protocol}:${request.name}`;
    case 'arping':
      return `arping:${request.where}:${request.iface}:${request.target}`;
    case 'tcp':
      return `tcp:${request.where}:${request.address}:${request.port}`;
    case 'capture-start':
      return `capture-start:${request.id}:${request.where}:${request.iface}:${request.protocol}:${request.source}:${request.destination}:${request.port}:${request.packets}:${request.seconds}:${request.snapBytes}`;
    case 'capture-stop':
      return `capture-stop:${request.id}:${request.pcapBytes}`;
    case 'probe':
      return `probe:${request.where}:${request.protocol}:${request.address}:${request.port}:${request.count}`;
    case 'counters':
      return `counters:${request.phase}:${request.where}`;
  }
}

/** The section name the script gives an action's output (see netdiag-node.sh). */
export function actionSectionName(request: Extract<NodeRequest, { kind: 'ping' | 'dig' | 'arping' | 'tcp' | 'probe' }>): string {
  switch (request.kind) {
    case 'ping':
      return `ping/${request.where}/${request.destination}/${request.payloadBytes}`;
    case 'dig':
      return `dig/${request.where}/${request.server}/${request.protocol}/${request.name}`;
    case 'arping':
      return `arping/${request.where}/${request.iface}/${request.target}`;
    case 'tcp':
      return `tcp/${request.where}/${request.address}/${request.port}`;
    case 'probe':
      return `probe/${request.where}/${request.protocol}/${request.address}/${request.port}`;
  }
}

/**
 * The script travels in the probe pod's spec (env NETDIAG_SCRIPT), not in the exec URL: API
 * servers and proxies cap URL and header sizes, and anyone reviewing the pod sees what it runs.
 */
export const NODE_SCRIPT_ENV = 'NETDIAG_SCRIPT';

/** argv for the exec call: fixed text that runs the pod's script; every input is a positional argument. */
export function buildNodeScriptArgv(token: string, requests: readonly NodeRequest[]): string[] {
  return ['sh', '-c', `eval "$${NODE_SCRIPT_ENV}"`, 'netdiag-node', token, ...requests.map(encodeNodeRequest)];
}
