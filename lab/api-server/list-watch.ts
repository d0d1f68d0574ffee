// list and watch: label and field selectors, Table answers, and watch streams that replay from a
// resourceVersion and then follow the store.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LabCluster } from './cluster.js';
import { sendJson, wantsTable } from './http-io.js';
import type { KubeObject } from './objects.js';
import type { ResourceRequest } from './request-path.js';
import { apiVersionOf, type ResourceName } from './resources.js';
import {
  matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError,
  type FieldRequirement, type LabelRequirement,
} from './selectors.js';
import { badRequest, gone } from './status.js';
import { deliver, type StoreEvent, type WatchSubscriber } from './store.js';
import { buildTable, type IncludeObject } from './tables.js';

interface Selection {
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

export function selectionOf(resource: ResourceName, query: URLSearchParams): Selection {
  try {
    return { labels: parseLabelSelector(query.get('labelSelector')), fields: parseFieldSelector(query.get('fieldSelector'), resource) };
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(err.message);
    throw err;
  }
}

export const selects = (selection: Selection) => (obj: KubeObject): boolean =>
  matchesLabels(selection.labels, obj.metadata.labels) && matchesFields(selection.fields, obj);

export function includeObjectOf(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

export function listObject(cluster: LabCluster, r: ResourceRequest, items: KubeObject[]): Record<string, unknown> {
  return {
    kind: r.type.listKind,
    apiVersion: apiVersionOf(r.type),
    metadata: { resourceVersion: cluster.store.resourceVersion },
    // Like the real server, list items carry no kind/apiVersion of their own.
    items: items.map(({ apiVersion: _v, kind: _k, ...rest }) => rest),
  };
}

export function serveList(cluster: LabCluster, req: IncomingMessage, res: ServerResponse, r: ResourceRequest, query: URLSearchParams): void {
  const items = cluster.store.list(r.type.name, r.namespace).filter(selects(selectionOf(r.type.name, query)));
  sendJson(res, 200, wantsTable(req) ? buildTable(r.type.name, items, cluster.store.resourceVersion, cluster.now(), includeObjectOf(query)) : listObject(cluster, r, items));
}

export function serveWatch(cluster: LabCluster, req: IncomingMessage, res: ServerResponse, r: ResourceRequest, query: URLSearchParams): void {
  const { store, openWatches } = cluster;
  const selection = selectionOf(r.type.name, query);
  if (r.name) selection.fields.push({ field: 'metadata.name', op: '=', value: r.name });
  const asTable = wantsTable(req);
  const includeObject = includeObjectOf(query);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders(); // a watch with nothing to replay must still answer at once
  openWatches.add(res);
  const write = (type: string, obj: unknown): void => {
    if (res.writableEnded) return;
    const object = asTable && type !== 'ERROR' ? buildTable(r.type.name, [obj as KubeObject], (obj as KubeObject).metadata.resourceVersion, cluster.now(), includeObject) : obj;
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const sub: WatchSubscriber = { resource: r.type.name, namespace: r.namespace, matches: selects(selection), send: write };
  const rv = query.get('resourceVersion');
  if (!rv || rv === '0') {
    for (const obj of store.list(r.type.name, r.namespace)) if (sub.matches(obj)) write('ADDED', obj);
  } else {
    const since = Number(rv);
    const events: StoreEvent[] | null = Number.isFinite(since) ? store.eventsSince(since) : null;
    if (events === null) {
      write('ERROR', gone(`too old resource version: ${rv} (${store.oldestReplayableVersion})`).body);
      openWatches.delete(res);
      res.end();
      return;
    }
    for (const event of events) deliver(sub, event);
  }
  const unsubscribe = store.subscribe(sub);
  const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '');
  const timer = Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : null;
  res.on('close', () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
    openWatches.delete(res);
  });
}
