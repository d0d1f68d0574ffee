import { readFileSync } from 'node:fs';

// The script ships as a file beside this module (copied next to the bundle when packaged).
let cached: string | undefined;
export function loadNodeScript(): string {
  cached ??= readFileSync(new URL('./netdiag-node.sh', import.meta.url), 'utf8');
  return cached;
}

/** One thing the node script gathers; serialised to the script's closed request vocabulary. */
export type NodeRequest =
  | { kind: 'host' }
  | { kind: 'host-kube-proxy' }
  | { kind: 'host-files' }
  | { kind: 'route-get'; address: string }
  | { kind: 'pod'; key: string; containerId: string | null; podIP: string };

export function encodeNodeRequest(request: NodeRequest): string {
  switch (request.kind) {
    case 'host':
    case 'host-kube-proxy':
    case 'host-files':
      return request.kind;
    case 'route-get':
      return `route-get:${request.address}`;
    case 'pod':
      return `pod:${request.key}:${request.containerId ?? 'none'}:${request.podIP}`;
  }
}

/** argv for the exec call: the script is fixed text; every input is a positional argument. */
export function buildNodeScriptArgv(token: string, requests: readonly NodeRequest[]): string[] {
  return ['sh', '-c', loadNodeScript(), 'netdiag-node', token, ...requests.map(encodeNodeRequest)];
}
