// Routing one HTTPS request: bearer-token check, the /_lab/ control API and /lab/stats (neither
// counted nor delayed), then the counted API: version, health, discovery, OpenAPI, access
// reviews, and the resources (read generically for every type; pods and NetworkPolicies written).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { reviewAccess } from './access-review.js';
import type { LabCluster } from './cluster.js';
import { FaultsError } from './faults.js';
import { readBody, sendJson, wantsTable } from './http-io.js';
import { includeObjectOf, listObject, selectionOf, selects, serveList, serveWatch } from './list-watch.js';
import { openApiV3Document } from './network-policies.js';
import { servePodLog } from './pod-log.js';
import { createPod, deleteOptionsOf, deletePod } from './pod-writes.js';
import { handlePolicyWrite } from './policy-writes.js';
import { parseResourcePath, pathSegments, resourceRequestOf, type ResourceRequest } from './request-path.js';
import { buildApiGroup, buildApiGroupList, buildApiResourceList, buildApiVersions, SERVER_VERSION } from './resources.js';
import { classifyRequest, requestVerb } from './stats.js';
import { badRequest, internalError, methodNotAllowed, notFound, pathNotFound, unauthorized } from './status.js';
import { buildTable } from './tables.js';

const POLICY_WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];

export function isAuthorized(req: IncomingMessage, token: string): boolean {
  return req.headers.authorization === `Bearer ${token}`;
}

async function handleResource(cluster: LabCluster, req: IncomingMessage, res: ServerResponse, r: ResourceRequest, query: URLSearchParams): Promise<void> {
  const verb = requestVerb(req.method ?? 'GET', r.name !== null, r.subresource, query);
  const resourceName = r.subresource ? `${r.type.name}/${r.subresource}` : r.type.name;
  cluster.checkForbidden(verb, resourceName, r.type.group, r.namespace, r.name);
  if (!r.type.verbs.includes(verb) && !(r.subresource === 'log' && verb === 'get')) throw methodNotAllowed();
  if (r.type.namespaced && r.name !== null && r.namespace === null) throw pathNotFound();

  if (verb === 'watch') return serveWatch(cluster, req, res, r, query);
  if (verb === 'list') return serveList(cluster, req, res, r, query);
  if (r.type.name === 'networkpolicies' && POLICY_WRITE_VERBS.includes(verb)) return handlePolicyWrite(cluster, req, res, r, verb, query);
  if (verb === 'create') {
    if (r.type.name !== 'pods' || r.namespace === null || r.subresource) throw methodNotAllowed();
    return sendJson(res, 201, await createPod(cluster, req, r.namespace, query));
  }
  if (verb === 'deletecollection') {
    const grace = await deleteOptionsOf(req, query);
    const victims = cluster.store.list('pods', r.namespace).filter(selects(selectionOf('pods', query)));
    return sendJson(res, 200, listObject(cluster, r, victims.map((p) => deletePod(cluster, p, grace))));
  }
  const obj = cluster.store.get(r.type.name, r.namespace, r.name ?? '');
  if (!obj) throw notFound(r.type.name, r.type.group, r.name ?? '');
  if (verb === 'get') {
    if (r.subresource === 'log' && r.type.name === 'pods') return servePodLog(cluster, res, obj, query);
    if (r.subresource && r.subresource !== 'status') throw pathNotFound();
    return sendJson(res, 200, wantsTable(req) ? buildTable(r.type.name, [obj], undefined, cluster.now(), includeObjectOf(query)) : obj);
  }
  if (verb === 'delete' && !r.subresource) return sendJson(res, 200, deletePod(cluster, obj, await deleteOptionsOf(req, query)));
  throw methodNotAllowed();
}

async function handleLab(cluster: LabCluster, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const method = req.method ?? 'GET';
  if (path === '/_lab/faults' && method === 'GET') return sendJson(res, 200, cluster.faults);
  if (path === '/_lab/faults' && method === 'PUT') {
    try {
      return sendJson(res, 200, cluster.setFaults(await readBody(req)));
    } catch (err) {
      if (err instanceof FaultsError) throw badRequest(err.message);
      throw err;
    }
  }
  if (path === '/_lab/reload' && method === 'POST') {
    try {
      await cluster.reload();
    } catch (err) {
      throw internalError((err as Error).message);
    }
    return sendJson(res, 200, { reloaded: true, resourceVersion: cluster.store.resourceVersion });
  }
  if (path === '/_lab/pods' && method === 'GET') return sendJson(res, 200, { items: cluster.probePods() });
  throw pathNotFound();
}

// Not counted, not delayed: reading the meter must not move it.
function serveStats(cluster: LabCluster, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  const { stats, faults } = cluster;
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'DELETE') throw methodNotAllowed();
  const snapshot = stats.snapshot(faults.apiDelayMs, query.get('log') === 'true');
  if (method === 'DELETE' || query.get('reset') === 'true') stats.reset();
  sendJson(res, 200, method === 'DELETE' ? stats.snapshot(faults.apiDelayMs) : snapshot);
}

// The fixed GET paths' JSON answers: version, API versions and groups, OpenAPI; null for others.
function fixedGetBody(path: string): unknown {
  if (path === '/version') return SERVER_VERSION;
  if (path === '/api') return buildApiVersions();
  const openApi = openApiV3Document(path);
  if (openApi) return openApi;
  if (path === '/apis') return buildApiGroupList();
  const groupMatch = /^\/apis\/([^/]+)$/.exec(path);
  if (!groupMatch) return null;
  const group = buildApiGroup(groupMatch[1] ?? '');
  if (!group) throw pathNotFound();
  return group;
}

// false when the path is not one of the fixed GET paths (health checks and fixedGetBody's).
function serveFixedGet(res: ServerResponse, path: string): boolean {
  if (path === '/healthz' || path === '/livez' || path === '/readyz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
    return true;
  }
  const body = fixedGetBody(path);
  if (body === null) return false;
  sendJson(res, 200, body);
  return true;
}

export async function handleRequest(cluster: LabCluster, token: string, req: IncomingMessage, res: ServerResponse, onRequest?: (method: string, path: string) => void): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (!isAuthorized(req, token)) throw unauthorized();
  if (path.startsWith('/_lab/')) return handleLab(cluster, req, res, path);
  if (path === '/lab/stats') return serveStats(cluster, req, res, url.searchParams);
  const method = req.method ?? 'GET';
  const logged = cluster.stats.countRequest(classifyRequest(method, path, url.searchParams));
  res.once('finish', () => cluster.stats.answered(logged));
  onRequest?.(method, path);
  if (cluster.faults.apiDelayMs > 0) await new Promise((r) => setTimeout(r, cluster.faults.apiDelayMs));
  if (method === 'GET' && serveFixedGet(res, path)) return;
  if (method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
    return sendJson(res, 201, await reviewAccess(req, () => cluster.faults));
  }
  const segments = pathSegments(path);
  const r = resourceRequestOf(segments);
  if (r === 'discovery') {
    const parsed = parseResourcePath(segments);
    const list = parsed && method === 'GET' ? buildApiResourceList(parsed.group === '' ? parsed.version : `${parsed.group}/${parsed.version}`) : null;
    if (list) return sendJson(res, 200, list);
    throw pathNotFound();
  }
  if (!r) throw pathNotFound();
  return handleResource(cluster, req, res, r, url.searchParams);
}
