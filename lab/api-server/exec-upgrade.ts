// pods/exec over a websocket upgrade: the same auth, forbid and delay faults as any request,
// the real server's refusals (no command, wrong container, pod not running), then the command
// runs in the probe pod's node (exec.ts, exec-replay.ts).

import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LabCluster } from './cluster.js';
import { EXEC_PROTOCOLS, type ExecProtocol } from './exec.js';
import { runScaledExec } from './exec-replay.js';
import type { KubeObject } from './objects.js';
import { pathSegments, resourceRequestOf } from './request-path.js';
import { isAuthorized } from './routes.js';
import { classifyRequest } from './stats.js';
import { ApiError, badRequest, internalError, notFound, pathNotFound, unauthorized } from './status.js';

interface PreparedExec {
  pod: KubeObject;
  argv: string[];
  stdin: boolean;
  initPid: number;
  env: Record<string, string>;
}

function rejectUpgrade(socket: Duplex, err: ApiError): void {
  const text = JSON.stringify(err.body);
  socket.end(`HTTP/1.1 ${err.body.code} ${STATUS_CODES[err.body.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

// The container an exec addresses, refused as the real server and kubelet refuse it.
function execContainer(cluster: LabCluster, pod: KubeObject, name: string, requested: string | null): string {
  const containers = ((pod.spec as { containers?: { name: string }[] }).containers ?? []).map((c) => c.name);
  const container = requested ?? containers[0] ?? '';
  if (!containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  if (!cluster.probeUids.has(pod.metadata.uid)) throw badRequest(`exec is only simulated for pods created through this API; pod ${name} belongs to the lab topology`);
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  if (phase !== 'Running' || pod.metadata.deletionTimestamp) throw badRequest(`unable to upgrade connection: container not found ("${container}")`);
  return container;
}

function prepareExec(cluster: LabCluster, token: string, req: IncomingMessage): PreparedExec {
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  if (!isAuthorized(req, token)) throw unauthorized();
  const r = resourceRequestOf(pathSegments(url.pathname));
  if (r === null || r === 'discovery' || r.type.name !== 'pods' || r.subresource !== 'exec' || !r.name || !r.namespace) throw pathNotFound();
  cluster.checkForbidden('create', 'pods/exec', '', r.namespace, r.name);
  const pod = cluster.store.get('pods', r.namespace, r.name);
  if (!pod) throw notFound('pods', '', r.name);
  const query = url.searchParams;
  const argv = query.getAll('command');
  if (argv.length === 0) throw badRequest('you must specify at least one command for the container');
  const container = execContainer(cluster, pod, r.name, query.get('container'));
  if (cluster.faults.execFailOnce) {
    cluster.faults = { ...cluster.faults, execFailOnce: false };
    throw internalError('error dialing backend: EOF');
  }
  const nodeName = (pod.spec as { nodeName?: string }).nodeName ?? '';
  // Like a real kubelet, an exec'd process sees the container's environment (literal values only).
  const spec = ((pod.spec as { containers?: { name: string; env?: { name: string; value?: string }[] }[] }).containers ?? []).find((c) => c.name === container);
  const env = Object.fromEntries((spec?.env ?? []).filter((e) => typeof e.value === 'string').map((e) => [e.name, e.value as string]));
  return { pod, argv, stdin: query.get('stdin') === 'true' || query.get('stdin') === '1', initPid: cluster.labNode(nodeName)?.initPid ?? 0, env };
}

export class ExecUpgrades {
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => EXEC_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });

  constructor(
    private readonly cluster: LabCluster,
    private readonly token: string,
    private readonly probePath: string,
    private readonly onRequest?: (method: string, path: string) => void,
  ) {}

  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { stats, faults } = this.cluster;
    socket.on('error', () => undefined);
    const upgradeUrl = new URL(req.url ?? '/', 'https://127.0.0.1');
    const logged = stats.countRequest(classifyRequest(req.method ?? 'GET', upgradeUrl.pathname, upgradeUrl.searchParams));
    this.onRequest?.(req.method ?? 'GET', upgradeUrl.pathname);
    // apiDelayMs holds exec upgrades too: a remote API server is as far away for them.
    const upgrade = (): void => this.upgradeExec(req, socket, head, () => stats.answered(logged));
    if (faults.apiDelayMs > 0) setTimeout(upgrade, faults.apiDelayMs);
    else upgrade();
  }

  terminateAll(): void {
    for (const client of this.wss.clients) client.terminate();
  }

  private upgradeExec(req: IncomingMessage, socket: Duplex, head: Buffer, answered: () => void): void {
    answered();
    if (socket.destroyed) return;
    let prepared: PreparedExec;
    try {
      prepared = prepareExec(this.cluster, this.token, req);
    } catch (err) {
      rejectUpgrade(socket, err instanceof ApiError ? err : internalError((err as Error).message));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.runExec(ws, prepared));
  }

  private runExec(ws: WebSocket, prepared: PreparedExec): void {
    const { execSessions, stats, faults } = this.cluster;
    const uid = prepared.pod.metadata.uid;
    const sessions = execSessions.get(uid) ?? new Set<WebSocket>();
    sessions.add(ws);
    execSessions.set(uid, sessions);
    stats.execOpened();
    void runScaledExec(ws, {
      argv: prepared.argv,
      stdin: prepared.stdin,
      initPid: prepared.initPid,
      probePath: this.probePath,
      containerEnv: prepared.env,
      protocol: ws.protocol as ExecProtocol,
      dropAfterBytes: faults.dropExecAfterBytes,
      startDelayMs: faults.execDelayMs,
    }, { slots: this.cluster.execSlots, replay: this.cluster.execReplay, onReplay: () => stats.execReplayed() }).finally(() => {
      stats.execClosed();
      sessions.delete(ws);
      if (sessions.size === 0) execSessions.delete(uid);
    });
  }
}
