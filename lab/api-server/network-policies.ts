// networking.k8s.io/v1 NetworkPolicy as the real API server stores it: validation (the checks of
// pkg/apis/networking/validation that a hand-written policy trips over), defaulting (protocol TCP,
// policyTypes from the rules), merge patches for `kubectl apply`, and the Table cells of
// `kubectl get netpol`. Objects only; the router is server.ts.

import { randomUUID } from 'node:crypto';
import type { KubeObject } from './objects.js';
import { invalid } from './status.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PORT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/; // IANA_SVC_NAME, also needs a letter and no "--"
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const KIND = 'NetworkPolicy.networking.k8s.io';

type Cause = { field: string; message: string };
type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function cidrBits(text: string): { base: number; bits: number } | null {
  const m = CIDR.exec(text);
  if (!m) return null;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return null;
  return { base: octets.reduce((n, o) => n * 256 + o, 0), bits };
}

function cidrContains(outer: { base: number; bits: number }, inner: { base: number; bits: number }): boolean {
  if (inner.bits < outer.bits) return false;
  const size = 2 ** (32 - outer.bits);
  return Math.floor(outer.base / size) === Math.floor(inner.base / size);
}

function validatePorts(ports: unknown, path: string, causes: Cause[]): void {
  asList(ports).forEach((raw, i) => {
    const at = `${path}.ports[${i}]`;
    const port = isRecord(raw) ? raw : {};
    if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(String(port.protocol))) {
      causes.push({ field: `${at}.protocol`, message: `Unsupported value: "${String(port.protocol)}": supported values: "SCTP", "TCP", "UDP"` });
    }
    if (typeof port.port === 'number') {
      if (!Number.isInteger(port.port) || port.port < 1 || port.port > 65535) causes.push({ field: `${at}.port`, message: `Invalid value: ${port.port}: must be between 1 and 65535, inclusive` });
    } else if (typeof port.port === 'string') {
      if (port.port.length > 15 || !PORT_NAME.test(port.port) || !/[a-z]/.test(port.port) || port.port.includes('--')) {
        causes.push({ field: `${at}.port`, message: `Invalid value: "${port.port}": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at least one letter, at most 15 characters` });
      }
    }
    if (port.endPort !== undefined) {
      if (typeof port.port !== 'number') causes.push({ field: `${at}.endPort`, message: 'Required value: may not be specified when `port` is non-numeric' });
      else if (typeof port.endPort !== 'number' || port.endPort < port.port) causes.push({ field: `${at}.endPort`, message: `Invalid value: ${JSON.stringify(port.endPort)}: must be greater than or equal to \`port\`` });
    }
  });
}

function validatePeers(peers: unknown, path: string, causes: Cause[]): void {
  asList(peers).forEach((raw, i) => {
    const at = `${path}[${i}]`;
    const peer = isRecord(raw) ? raw : {};
    const kinds = (peer.podSelector !== undefined || peer.namespaceSelector !== undefined ? 1 : 0) + (peer.ipBlock !== undefined ? 1 : 0);
    if (kinds === 0) causes.push({ field: at, message: 'Required value: must specify a peer' });
    if (kinds > 1) causes.push({ field: at, message: 'Forbidden: may not specify more than 1 peer type' });
    if (!isRecord(peer.ipBlock)) return;
    const cidr = cidrBits(String(peer.ipBlock.cidr ?? ''));
    if (!cidr) {
      causes.push({ field: `${at}.ipBlock.cidr`, message: `Invalid value: "${String(peer.ipBlock.cidr ?? '')}": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)` });
      return;
    }
    asList(peer.ipBlock.except).forEach((ex, j) => {
      const inner = cidrBits(String(ex));
      if (!inner || !cidrContains(cidr, inner) || inner.bits === cidr.bits) {
        causes.push({ field: `${at}.ipBlock.except[${j}]`, message: `Invalid value: "${String(ex)}": must be a strict subset of \`cidr\`` });
      }
    });
  });
}

/** The validation errors of a NetworkPolicy body, as the real server's field paths and words. */
export function validateNetworkPolicy(body: Json): Cause[] {
  const causes: Cause[] = [];
  const meta = isRecord(body.metadata) ? body.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (name === '') causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required' });
  else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` });
  const spec = isRecord(body.spec) ? body.spec : {};
  asList(spec.ingress).forEach((rule, i) => {
    const r = isRecord(rule) ? rule : {};
    validatePorts(r.ports, `spec.ingress[${i}]`, causes);
    validatePeers(r.from, `spec.ingress[${i}].from`, causes);
  });
  asList(spec.egress).forEach((rule, i) => {
    const r = isRecord(rule) ? rule : {};
    validatePorts(r.ports, `spec.egress[${i}]`, causes);
    validatePeers(r.to, `spec.egress[${i}].to`, causes);
  });
  asList(spec.policyTypes).forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') causes.push({ field: `spec.policyTypes[${i}]`, message: `Unsupported value: "${String(t)}": supported values: "Ingress", "Egress"` });
  });
  return causes;
}

function defaultPorts(rule: unknown): unknown {
  if (!isRecord(rule) || !Array.isArray(rule.ports)) return rule;
  return { ...rule, ports: rule.ports.map((p) => (isRecord(p) ? { protocol: 'TCP', ...p } : p)) };
}

/** The defaulters: protocol TCP on every port, policyTypes Ingress (+ Egress when egress rules exist). */
export function defaultNetworkPolicySpec(spec: Json): Json {
  const out: Json = { podSelector: {}, ...spec };
  if (Array.isArray(out.ingress)) out.ingress = out.ingress.map(defaultPorts);
  if (Array.isArray(out.egress)) out.egress = out.egress.map(defaultPorts);
  if (!Array.isArray(out.policyTypes) || out.policyTypes.length === 0) {
    out.policyTypes = Array.isArray(out.egress) && out.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
  return out;
}

/**
 * A NetworkPolicy ready to store: validated (422 otherwise), defaulted, with server metadata.
 * `previous` is the stored object an update replaces (uid, creation time and generation carry over).
 */
export function admitNetworkPolicy(body: Json, namespace: string, timestamp: string, previous: KubeObject | null): KubeObject {
  const meta = isRecord(body.metadata) ? body.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const causes = validateNetworkPolicy(body);
  if (causes.length > 0) throw invalid(KIND, 'networkpolicies', name, causes);
  const spec = defaultNetworkPolicySpec(isRecord(body.spec) ? body.spec : {});
  const changed = previous === null || JSON.stringify(previous.spec) !== JSON.stringify(spec);
  const metadata: KubeObject['metadata'] = {
    ...(meta as Partial<KubeObject['metadata']>),
    name,
    namespace,
    uid: previous?.metadata.uid ?? randomUUID(),
    creationTimestamp: previous?.metadata.creationTimestamp ?? timestamp,
  };
  metadata.generation = (previous?.metadata.generation ?? 0) + (changed ? 1 : 0);
  delete metadata.resourceVersion;
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata, spec };
}

/**
 * JSON merge patch (RFC 7386). For NetworkPolicy a strategic merge patch is the same: none of its
 * lists has a patch merge key, so lists are replaced whole; `$`-directives are dropped.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const out: Json = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** metav1.FormatLabelSelector: "<none>" for an empty selector, else "k=v,k in (a,b),!k". */
export function formatLabelSelector(selector: unknown): string {
  const sel = isRecord(selector) ? selector : {};
  const parts: string[] = Object.entries(isRecord(sel.matchLabels) ? sel.matchLabels : {}).map(([k, v]) => `${k}=${String(v)}`);
  for (const raw of asList(sel.matchExpressions)) {
    const e = isRecord(raw) ? raw : {};
    const values = asList(e.values).map(String);
    switch (e.operator) {
      case 'In':
        parts.push(`${String(e.key)} in (${values.sort().join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${String(e.key)} notin (${values.sort().join(',')})`);
        break;
      case 'Exists':
        parts.push(String(e.key));
        break;
      case 'DoesNotExist':
        parts.push(`!${String(e.key)}`);
        break;
    }
  }
  return parts.length === 0 ? '<none>' : parts.join(',');
}

/** What a DELETE of a NetworkPolicy answers (the registry returns a Status, not the object). */
export function deletedStatus(obj: KubeObject): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: obj.metadata.name, group: 'networking.k8s.io', kind: 'networkpolicies', uid: obj.metadata.uid },
  };
}

const NETWORKING_GV = 'apis/networking.k8s.io/v1';
const OPENAPI_HASH = 'A1B2C3D4E5F60718'; // clients cache by it; the document never changes

/** GET /openapi/v3: the group-versions that have a document (only networking.k8s.io/v1 here). */
export function buildOpenApiV3Root(): Json {
  return { paths: { [NETWORKING_GV]: { serverRelativeURL: `/openapi/v3/${NETWORKING_GV}?hash=${OPENAPI_HASH}` } } };
}

/**
 * GET /openapi/v3/apis/networking.k8s.io/v1, cut down to what kubectl reads before `apply`/`create`:
 * the PATCH operation of NetworkPolicy lists the fieldValidation parameter, so kubectl leaves
 * validation to this server (fieldValidation=Strict) instead of validating against schemas.
 */
export function buildNetworkingOpenApiV3(): Json {
  const gvk = { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' };
  const param = (name: string): Json => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.4' },
    paths: {
      [`/${NETWORKING_GV}/namespaces/{namespace}/networkpolicies/{name}`]: {
        patch: {
          tags: ['networking_v1'],
          operationId: 'patchNetworkingV1NamespacedNetworkPolicy',
          parameters: [param('dryRun'), param('fieldManager'), param('fieldValidation'), { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } }],
          'x-kubernetes-action': 'patch',
          'x-kubernetes-group-version-kind': gvk,
        },
      },
    },
  };
}

export function openApiV3Document(path: string): Json | null {
  if (path === '/openapi/v3') return buildOpenApiV3Root();
  if (path === `/openapi/v3/${NETWORKING_GV}`) return buildNetworkingOpenApiV3();
  return null;
}
