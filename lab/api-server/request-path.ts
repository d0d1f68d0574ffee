// Which resource a URL addresses: /api/v1/..., /apis/GROUP/VERSION/..., with an optional
// namespaces/NS prefix, then the resource type, an object name and a subresource.

import { findResourceType, type ResourceType } from './resources.js';

export interface ResourceRequest {
  type: ResourceType;
  namespace: string | null;
  name: string | null;
  subresource: string | null;
}

// null when the path is not under /api/v1 or /apis/GROUP/VERSION.
export function parseResourcePath(segments: string[]): { group: string; version: string; rest: string[] } | null {
  if (segments[0] === 'api' && segments[1] === 'v1') return { group: '', version: 'v1', rest: segments.slice(2) };
  if (segments[0] === 'apis' && segments.length >= 3) return { group: segments[1] ?? '', version: segments[2] ?? '', rest: segments.slice(3) };
  return null;
}

export function pathSegments(pathname: string): string[] {
  return pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
}

// 'discovery' for a group version's own path (its resource list); null when nothing is addressed.
export function resourceRequestOf(segments: string[]): ResourceRequest | 'discovery' | null {
  const parsed = parseResourcePath(segments);
  if (!parsed) return null;
  const { group, version, rest } = parsed;
  if (rest.length === 0) return 'discovery';
  let namespace: string | null = null;
  let tail = rest;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1] ?? null;
    tail = rest.slice(2);
  }
  const type = findResourceType(group, version, tail[0] ?? '');
  if (!type) return null;
  if (namespace !== null && !type.namespaced) return null;
  return { type, namespace, name: tail[1] ?? null, subresource: tail[2] ?? null };
}
