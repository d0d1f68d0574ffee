// metav1.Status bodies exactly as the real API server words them; clients (kubectl, client-node,
// this project's own error printer) parse `.message`, `.reason` and `.code`.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(readonly body: StatusBody) {
    super(body.message);
  }
}

function status(code: number, reason: string, message: string, details?: StatusDetails): ApiError {
  const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) body.details = details;
  return new ApiError(body);
}

function qualified(resource: string, group: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

export function notFound(resource: string, group: string, name: string): ApiError {
  return status(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, { name, group: group || undefined, kind: resource });
}

export function pathNotFound(): ApiError {
  return status(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(resource: string, group: string, name: string): ApiError {
  return status(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, { name, group: group || undefined, kind: resource });
}

export function unauthorized(): ApiError {
  return status(401, 'Unauthorized', 'Unauthorized');
}

export interface ForbiddenRequest {
  user: string;
  verb: string;
  resource: string; // may carry a subresource: "pods/exec"
  group: string;
  namespace: string | null;
  name: string | null;
}

export function forbidden(request: ForbiddenRequest): ApiError {
  const base = request.resource.split('/')[0] ?? request.resource;
  const subject = request.name ? `${qualified(base, request.group)} "${request.name}"` : qualified(base, request.group);
  const scope = request.namespace ? `in the namespace "${request.namespace}"` : 'at the cluster scope';
  const message = `${subject} is forbidden: User "${request.user}" cannot ${request.verb} resource "${request.resource}" in API group "${request.group}" ${scope}`;
  const details: StatusDetails = { kind: base };
  if (request.name) details.name = request.name;
  if (request.group) details.group = request.group;
  return status(403, 'Forbidden', message, details);
}

export function admissionForbidden(resource: string, name: string, reason: string): ApiError {
  return status(403, 'Forbidden', `${resource} "${name}" is forbidden: ${reason}`, { name, kind: resource });
}

/**
 * A validating webhook's denial as the API server words it (k8s.io/apiserver
 * pkg/admission/plugin/webhook/errors ToStatusErr): the webhook's own code, at least 400.
 */
export function webhookDenied(webhook: string, message: string, code: number): ApiError {
  const text = message === '' ? `admission webhook "${webhook}" denied the request without explanation` : `admission webhook "${webhook}" denied the request: ${message}`;
  return status(Math.max(400, code), code === 403 ? 'Forbidden' : 'BadRequest', text);
}

export function invalid(kind: string, resource: string, name: string, causes: Required<Pick<StatusCause, 'field' | 'message'>>[]): ApiError {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  const list = causes.length > 1 ? `[${text}]` : text;
  return status(422, 'Invalid', `${kind} "${name}" is invalid: ${list}`, {
    name,
    kind: resource === 'pods' ? 'Pod' : kind,
    causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

export function badRequest(message: string): ApiError {
  return status(400, 'BadRequest', message);
}

export function methodNotAllowed(): ApiError {
  return status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function internalError(message: string): ApiError {
  return status(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function gone(message: string): ApiError {
  return status(410, 'Expired', message);
}
