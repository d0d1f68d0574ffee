// In-memory object store with one global resourceVersion counter (like etcd's revision), watch
// fan-out, and a short event history so a watch from a recent resourceVersion replays what it
// missed.

import type { KubeObject } from './objects.js';
import { RESOURCE_NAMES, type ResourceName } from './resources.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  resourceVersion: number;
  resource: ResourceName;
  type: WatchEventType;
  object: KubeObject;
  previous: KubeObject | null;
}

export interface WatchSubscriber {
  resource: ResourceName;
  namespace: string | null;
  matches: (obj: KubeObject) => boolean;
  send: (type: WatchEventType, obj: KubeObject) => void;
}

const HISTORY_LIMIT = 2000;

function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

// Compares two objects ignoring resourceVersion, to skip no-op updates on reload.
function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): string => JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return strip(a) === strip(b);
}

export class ObjectStore {
  private revision = 1000;
  private readonly objects = new Map<ResourceName, Map<string, KubeObject>>(RESOURCE_NAMES.map((r) => [r, new Map()]));
  private readonly history: StoreEvent[] = [];
  private readonly subscribers = new Set<WatchSubscriber>();

  get resourceVersion(): string {
    return String(this.revision);
  }

  get oldestReplayableVersion(): number {
    return this.history[0]?.resourceVersion ?? this.revision;
  }

  private bucket(resource: ResourceName): Map<string, KubeObject> {
    const bucket = this.objects.get(resource);
    if (!bucket) throw new Error(`unknown resource ${resource}`);
    return bucket;
  }

  get(resource: ResourceName, namespace: string | null, name: string): KubeObject | null {
    return this.bucket(resource).get(`${namespace ?? ''}/${name}`) ?? null;
  }

  list(resource: ResourceName, namespace: string | null): KubeObject[] {
    const all = [...this.bucket(resource).values()];
    const inScope = namespace === null ? all : all.filter((o) => o.metadata.namespace === namespace);
    return inScope.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }

  // Adds or replaces an object; returns the stored copy with its new resourceVersion.
  put(resource: ResourceName, obj: KubeObject): KubeObject {
    const bucket = this.bucket(resource);
    const previous = bucket.get(keyOf(obj)) ?? null;
    if (previous && sameContent(previous, obj)) return previous;
    this.revision++;
    const stored: KubeObject = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.revision) } };
    bucket.set(keyOf(stored), stored);
    this.emit({ resourceVersion: this.revision, resource, type: previous ? 'MODIFIED' : 'ADDED', object: stored, previous });
    return stored;
  }

  remove(resource: ResourceName, namespace: string | null, name: string): KubeObject | null {
    const bucket = this.bucket(resource);
    const key = `${namespace ?? ''}/${name}`;
    const previous = bucket.get(key);
    if (!previous) return null;
    bucket.delete(key);
    this.revision++;
    const removed: KubeObject = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(this.revision) } };
    this.emit({ resourceVersion: this.revision, resource, type: 'DELETED', object: removed, previous });
    return removed;
  }

  // Makes `resource` hold exactly `desired` among the objects `owned` says belong to the caller.
  sync(resource: ResourceName, desired: readonly KubeObject[], owned: (obj: KubeObject) => boolean): void {
    const wanted = new Set(desired.map(keyOf));
    for (const existing of [...this.bucket(resource).values()]) {
      if (owned(existing) && !wanted.has(keyOf(existing))) this.remove(resource, existing.metadata.namespace ?? null, existing.metadata.name);
    }
    for (const obj of desired) this.put(resource, obj);
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    for (const sub of this.subscribers) deliver(sub, event);
  }

  // Events after `sinceVersion` still in history, or null when it is too old to replay.
  eventsSince(sinceVersion: number): StoreEvent[] | null {
    if (sinceVersion < this.oldestReplayableVersion - 1 && this.history.length >= HISTORY_LIMIT) return null;
    return this.history.filter((e) => e.resourceVersion > sinceVersion);
  }

  subscribe(sub: WatchSubscriber): () => void {
    this.subscribers.add(sub);
    return () => this.subscribers.delete(sub);
  }
}

// A selector-filtered watch sees an object entering its selection as ADDED and leaving it as
// DELETED, like the real watch cache.
export function deliver(sub: WatchSubscriber, event: StoreEvent): void {
  if (event.resource !== sub.resource) return;
  const inScope = (o: KubeObject | null): boolean => o !== null && (sub.namespace === null || o.metadata.namespace === sub.namespace) && sub.matches(o);
  if (event.type === 'DELETED') {
    if (inScope(event.previous)) sub.send('DELETED', event.object);
    return;
  }
  const before = inScope(event.previous);
  const after = inScope(event.object);
  if (before && after) sub.send('MODIFIED', event.object);
  else if (!before && after) sub.send('ADDED', event.object);
  else if (before && !after) sub.send('DELETED', event.object);
}
