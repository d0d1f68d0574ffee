// The simulated Kubernetes API server: HTTPS on 127.0.0.1, bearer-token auth, the REST and
// watch protocols for the objects built from LabState, pod create/delete with a simulated
// kubelet, websocket exec, pod logs, SelfSubjectAccessReview, and the /_lab/ faults API.
// This file starts it; cluster.ts holds its state, routes.ts routes a request to list-watch.ts,
// pod-writes.ts, pod-log.ts, policy-writes.ts or access-review.ts; exec-upgrade.ts runs exec.

import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { LabState } from '../lab-state.js';
import { buildKubeconfig, generateCertificates } from './certs.js';
import { LabCluster } from './cluster.js';
import { prepareProbeImage } from './exec.js';
import type { ScaleExecMode } from './exec-replay.js';
import { ExecUpgrades } from './exec-upgrade.js';
import type { LabFaults } from './faults.js';
import { sendStatus } from './http-io.js';
import type { KubeObject, NodeHostInfo } from './objects.js';
import { handleRequest } from './routes.js';
import { ApiError, internalError } from './status.js';

export { parseLabState } from './cluster.js';

export interface ApiServerOptions {
  statePath: string;
  dir: string; // receives kubeconfig and pki/
  port?: number; // 0 (default) = any free port
  token?: string; // default: random
  now?: () => Date;
  hostInfo?: NodeHostInfo; // default: this machine's `uname -r` and /etc/os-release
  // Test hook: told of every request (exec upgrades too) as it arrives, before any apiDelayMs, so a
  // test can act at an exact moment of a client's run (signal it while its pod create is in flight).
  onRequest?: (method: string, path: string) => void;
  scaleNodes?: number; // simulated nodes added to the state's (scale.ts); default 0
  execSlots?: number; // exec commands running at once, the rest wait (scale.ts); default 0 = no bound
  scaleExec?: ScaleExecMode; // 'replay': repeated execs in one kernel replay a recording (exec-replay.ts)
  // Called after every NetworkPolicy change (and namespace label change), before the request is
  // answered, with all stored policies: lab:up's server programs the Calico nodes here.
  onNetworkPoliciesChanged?: (change: NetworkPolicyChange) => Promise<void>;
}

export interface NetworkPolicyChange {
  state: LabState;
  policies: KubeObject[];
  namespaceLabels: Record<string, Record<string, string>>;
}

export interface FaultsControl {
  get(): LabFaults;
  // Replaces the whole fault set, like PUT /_lab/faults.
  set(input: Partial<LabFaults>): LabFaults;
}

export interface ProbePodSummary {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string | null;
  phase: string;
}

export interface LabApiServer {
  url: string;
  port: number;
  kubeconfigPath: string;
  token: string;
  caCertPem: string;
  faults: FaultsControl;
  reload(): Promise<void>;
  probePods(): ProbePodSummary[];
  reprogramNetworkPolicies(): Promise<void>; // runs onNetworkPoliciesChanged with the stored policies
  close(): Promise<void>;
}

async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function startApiServer(options: ApiServerOptions): Promise<LabApiServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const probePath = prepareProbeImage(dir); // busybox sh and applets first, as in the Alpine probe image
  const cluster = await LabCluster.open(resolve(options.statePath), options);
  const execs = new ExecUpgrades(cluster, token, probePath, options.onRequest);

  const certs = await generateCertificates(join(dir, 'pki'));
  const server: Server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req: IncomingMessage, res: ServerResponse) => {
    handleRequest(cluster, token, req, res, options.onRequest).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendStatus(res, err instanceof ApiError ? err : internalError((err as Error).message));
    });
  });
  server.on('upgrade', (req, socket, head) => execs.onUpgrade(req, socket, head));
  server.on('secureConnection', (socket) => {
    cluster.stats.connectionOpened();
    socket.once('close', () => cluster.stats.connectionClosed());
  });
  const port = await listen(server, options.port ?? 0);
  const url = `https://127.0.0.1:${port}`;
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, buildKubeconfig(url, certs.caCertPem, token), { mode: 0o600 });

  return {
    url,
    port,
    kubeconfigPath,
    token,
    caCertPem: certs.caCertPem,
    faults: { get: () => cluster.faults, set: (input) => cluster.setFaults(input) },
    reload: () => cluster.reload(),
    probePods: () => cluster.probePods(),
    reprogramNetworkPolicies: () => cluster.policiesChanged(),
    close: async () => {
      cluster.kubelet.close();
      for (const res of cluster.openWatches) res.end();
      execs.terminateAll();
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
}
