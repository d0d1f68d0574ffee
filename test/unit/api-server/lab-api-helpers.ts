// Shared setup for the simulated API server's tests: a temp dir with a copy of the sample
// LabState, the server started in-process, and raw HTTPS requests that trust its CA.

import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { startApiServer, type LabApiServer } from '../../../lab/api-server/server.js';

export const SAMPLE_STATE = fileURLToPath(new URL('../../fixtures/lab-state-sample.json', import.meta.url));

export interface LabApiFixture {
  server: LabApiServer;
  dir: string;
  statePath: string;
  kubeConfig: KubeConfig;
  stop(): Promise<void>;
}

export async function startLabApi(): Promise<LabApiFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'netdiag-apiserver-'));
  const statePath = join(dir, 'topology.json');
  await copyFile(SAMPLE_STATE, statePath);
  const server = await startApiServer({ statePath, dir, hostInfo: { kernelVersion: '6.1.0-test', osImage: 'Debian GNU/Linux 12 (bookworm)' } });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(server.kubeconfigPath);
  return {
    server, dir, statePath, kubeConfig,
    stop: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
  json: () => Record<string, unknown>;
}

export function labRequest(server: LabApiServer, method: string, path: string, options: { body?: unknown; token?: string | null; accept?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' };
    const token = options.token === undefined ? server.token : options.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    const req = request(`${server.url}${path}`, { method, headers, ca: server.caCertPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export function probePodManifest(name: string, nodeName: string, extra: { command?: string[]; activeDeadlineSeconds?: number; generateName?: boolean } = {}): Record<string, unknown> {
  const metadata: Record<string, unknown> = { labels: { 'app.kubernetes.io/managed-by': 'kubectl-netdiag' } };
  if (extra.generateName) metadata.generateName = name;
  else metadata.name = name;
  const spec: Record<string, unknown> = {
    nodeName,
    hostNetwork: true,
    hostPID: true,
    restartPolicy: 'Never',
    containers: [{ name: 'probe', image: 'ghcr.io/netdiag/probe:0.1.0', command: extra.command ?? ['sleep', '3600'], securityContext: { privileged: true } }],
  };
  if (extra.activeDeadlineSeconds !== undefined) spec.activeDeadlineSeconds = extra.activeDeadlineSeconds;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

export async function waitFor<T>(what: string, check: () => Promise<T | null> | T | null, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
