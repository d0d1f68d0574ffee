// SelfSubjectAccessReview (JSON or protobuf, as kubectl auth can-i sends it): allowed unless the
// forbid fault covers the verb and resource.

import type { IncomingMessage } from 'node:http';
import { LAB_USER_NAME } from './certs.js';
import { isForbidden, type LabFaults } from './faults.js';
import { isRecord, PROTOBUF, readBody, readRawBody } from './http-io.js';
import { decodeSelfSubjectAccessReview } from './protobuf.js';
import { badRequest } from './status.js';

export async function reviewAccess(req: IncomingMessage, faults: () => LabFaults): Promise<Record<string, unknown>> {
  let body: unknown;
  if ((req.headers['content-type'] ?? '').startsWith(PROTOBUF)) {
    try {
      body = decodeSelfSubjectAccessReview(await readRawBody(req));
    } catch (err) {
      throw badRequest(`unable to decode SelfSubjectAccessReview: ${(err as Error).message}`);
    }
  } else {
    body = await readBody(req);
  }
  const spec = isRecord(body) && isRecord(body.spec) ? body.spec : {};
  const attrs = isRecord(spec.resourceAttributes) ? spec.resourceAttributes : null;
  let allowed = true;
  if (attrs) {
    const resource = `${String(attrs.resource ?? '')}${attrs.subresource ? `/${String(attrs.subresource)}` : ''}`;
    allowed = !isForbidden(faults(), String(attrs.verb ?? ''), resource, typeof attrs.namespace === 'string' && attrs.namespace !== '' ? attrs.namespace : null);
  }
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec,
    status: allowed ? { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "netdiag-lab-admin" of ClusterRole "cluster-admin" to User "${LAB_USER_NAME}"` } : { allowed: false },
  };
}
