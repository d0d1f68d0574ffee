// NetworkPolicy create / update / patch / delete. Each write is stored (unless a dry run) and the
// nodes reprogrammed before the answer, so traffic sent after `kubectl apply` returns already
// meets the policy.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { load as loadYaml } from 'js-yaml';
import type { LabCluster } from './cluster.js';
import { dryRunOf, isRecord, readBody, readRawBody, sendJson, timestampOf } from './http-io.js';
import { listObject, selectionOf, selects } from './list-watch.js';
import { admitNetworkPolicy, deletedStatus, mergePatch } from './network-policies.js';
import type { KubeObject } from './objects.js';
import type { ResourceRequest } from './request-path.js';
import { alreadyExists, ApiError, badRequest, methodNotAllowed, notFound } from './status.js';

const GROUP = 'networking.k8s.io';

function policyBody(body: unknown, namespace: string, name: string | null): Record<string, unknown> {
  if (!isRecord(body)) throw badRequest('NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: the body is not an object');
  if (body.kind !== undefined && body.kind !== 'NetworkPolicy') throw badRequest(`NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: kind "${String(body.kind)}" is not NetworkPolicy`);
  const meta = isRecord(body.metadata) ? body.metadata : {};
  if (typeof meta.namespace === 'string' && meta.namespace !== '' && meta.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (name !== null && typeof meta.name === 'string' && meta.name !== name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
  return { ...body, metadata: { ...meta, ...(name !== null && meta.name === undefined ? { name } : {}) } };
}

async function storePolicy(cluster: LabCluster, obj: KubeObject, dryRun: boolean): Promise<KubeObject> {
  if (dryRun) return obj;
  const stored = cluster.store.put('networkpolicies', obj);
  await cluster.policiesChanged();
  return stored;
}

async function createPolicy(cluster: LabCluster, req: IncomingMessage, namespace: string, query: URLSearchParams): Promise<KubeObject> {
  const dryRun = dryRunOf(query);
  const body = policyBody(await readBody(req), namespace, null);
  if (!cluster.store.get('namespaces', null, namespace)) throw notFound('namespaces', '', namespace);
  const obj = admitNetworkPolicy(body, namespace, timestampOf(cluster.now()), null);
  if (cluster.store.get('networkpolicies', namespace, obj.metadata.name)) throw alreadyExists('networkpolicies', GROUP, obj.metadata.name);
  return storePolicy(cluster, obj, dryRun);
}

async function updatePolicy(cluster: LabCluster, req: IncomingMessage, namespace: string, name: string, query: URLSearchParams): Promise<KubeObject> {
  const dryRun = dryRunOf(query);
  const previous = cluster.store.get('networkpolicies', namespace, name);
  if (!previous) throw notFound('networkpolicies', GROUP, name);
  const obj = admitNetworkPolicy(policyBody(await readBody(req), namespace, name), namespace, timestampOf(cluster.now()), previous);
  return storePolicy(cluster, obj, dryRun);
}

function parseApplyIntent(text: string): unknown {
  try {
    return loadYaml(text);
  } catch (err) {
    throw badRequest(`error decoding YAML: ${(err as Error).message}`);
  }
}

// PATCH: merge and strategic merge patches (the same for NetworkPolicy), and server-side apply
// (application/apply-patch+yaml: the whole intended object; creates it when missing).
async function patchPolicy(cluster: LabCluster, req: IncomingMessage, namespace: string, name: string, query: URLSearchParams): Promise<{ code: number; obj: KubeObject }> {
  const dryRun = dryRunOf(query);
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  const text = (await readRawBody(req)).toString('utf8');
  const previous = cluster.store.get('networkpolicies', namespace, name);
  const created = timestampOf(cluster.now());
  if (type === 'application/apply-patch+yaml') {
    const body = policyBody(parseApplyIntent(text), namespace, name);
    const merged = previous ? { ...previous, metadata: { ...previous.metadata, ...(body.metadata as object) }, spec: body.spec } : body;
    const obj = admitNetworkPolicy(merged, namespace, created, previous);
    return { code: previous ? 200 : 201, obj: await storePolicy(cluster, obj, dryRun) };
  }
  if (type !== 'application/merge-patch+json' && type !== 'application/strategic-merge-patch+json') {
    throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the server does not support patches of type "${type}" here; use a merge or strategic merge patch`, reason: 'UnsupportedMediaType', code: 415 });
  }
  if (!previous) throw notFound('networkpolicies', GROUP, name);
  let patch: unknown;
  try {
    patch = JSON.parse(text);
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  const merged = policyBody(mergePatch(previous, patch), namespace, name);
  return { code: 200, obj: await storePolicy(cluster, admitNetworkPolicy(merged, namespace, created, previous), dryRun) };
}

async function deletePolicies(cluster: LabCluster, victims: KubeObject[], dryRun: boolean): Promise<void> {
  if (dryRun || victims.length === 0) return;
  for (const v of victims) cluster.store.remove('networkpolicies', v.metadata.namespace ?? null, v.metadata.name);
  await cluster.policiesChanged();
}

export async function handlePolicyWrite(cluster: LabCluster, req: IncomingMessage, res: ServerResponse, r: ResourceRequest, verb: string, query: URLSearchParams): Promise<void> {
  const namespace = r.namespace;
  if (namespace === null || r.subresource) throw methodNotAllowed();
  if (verb === 'create') return sendJson(res, 201, await createPolicy(cluster, req, namespace, query));
  if (verb === 'deletecollection') {
    await readBody(req);
    const victims = cluster.store.list('networkpolicies', namespace).filter(selects(selectionOf('networkpolicies', query)));
    await deletePolicies(cluster, victims, dryRunOf(query));
    return sendJson(res, 200, listObject(cluster, r, victims));
  }
  const name = r.name ?? '';
  if (verb === 'update') return sendJson(res, 200, await updatePolicy(cluster, req, namespace, name, query));
  if (verb === 'patch') {
    const { code, obj } = await patchPolicy(cluster, req, namespace, name, query);
    return sendJson(res, code, obj);
  }
  const obj = cluster.store.get('networkpolicies', namespace, name);
  if (!obj) throw notFound('networkpolicies', GROUP, name);
  await readBody(req);
  await deletePolicies(cluster, [obj], dryRunOf(query));
  return sendJson(res, 200, deletedStatus(obj));
}
