import { EXIT, UserError } from '../errors.js';

/** What an API call was doing, so a 403 or 404 can name the verb and the object. */
export interface ApiCallSite {
  verb: 'get' | 'list' | 'watch' | 'create' | 'delete' | 'exec';
  resource: string; // "pods", "services", "pods/exec"
  namespace?: string | undefined;
  name?: string | undefined;
}

interface ApiStatusBody {
  message?: string;
  reason?: string;
  code?: number;
}

/** Extracts the HTTP status and the API's own Status message from client-node's ApiException. */
export function readApiFailure(err: unknown): { status: number | null; message: string; reason: string | null } {
  const e = err as { code?: unknown; body?: unknown; message?: unknown; cause?: unknown; name?: unknown };
  if (typeof e?.code === 'number') {
    let body: ApiStatusBody = {};
    if (typeof e.body === 'string') {
      try {
        body = JSON.parse(e.body) as ApiStatusBody;
      } catch {
        body = { message: e.body.slice(0, 200) };
      }
    } else if (e.body && typeof e.body === 'object') {
      body = e.body as ApiStatusBody;
    }
    return { status: e.code, message: body.message ?? `HTTP ${e.code}`, reason: body.reason ?? null };
  }
  const text = errorText(err);
  return { status: null, message: text, reason: null };
}

/** The HTTP status behind an error (itself or a cause up the chain), or null when none answered. */
export function httpStatusOf(err: unknown): number | null {
  let cur: unknown = err;
  for (let i = 0; i < 4 && cur; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'number' && code >= 100 && code < 600) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}

function errorText(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 4 && cur; i++) {
    const c = cur as { message?: unknown; code?: unknown; cause?: unknown; name?: unknown };
    if (typeof c.message === 'string' && c.message && !parts.includes(c.message)) parts.push(c.message);
    if (typeof c.code === 'string' && !parts.some((p) => p.includes(c.code as string))) parts.push(c.code);
    cur = c.cause;
  }
  return parts.join(': ') || String(err);
}

/** Turns any failure of an API call into a UserError with one clear sentence. */
export function toApiUserError(err: unknown, site: ApiCallSite, server: string): UserError {
  if (err instanceof UserError) return err;
  const { status, message } = readApiFailure(err);
  const where = site.namespace ? ` in namespace "${site.namespace}"` : '';
  if (status === 404 && site.name) {
    const kind = site.resource.replace(/s$/, '');
    return new UserError(`${kind} "${site.name}" not found${where}`, { exitCode: EXIT.usage, cause: err });
  }
  if (status === 401) {
    return new UserError(`the API server at ${server} rejected our credentials (401 Unauthorized)`, {
      hint: 'refresh your credentials or pick another --context',
      exitCode: EXIT.cannotDiagnose,
      cause: err,
    });
  }
  // A 403 is RBAC only when the authorizer says so; admission (PodSecurity, SCC, quota, webhooks)
  // answers 403 too, and its message names the real cause.
  if (status === 403 && site.verb === 'create' && site.resource === 'pods' && !/ cannot create resource "/.test(message)) {
    return new UserError(`the API server refused to ${site.verb} ${site.resource}${where}: ${message}`, {
      exitCode: EXIT.cannotDiagnose,
      cause: err,
    });
  }
  if (status === 403) {
    return new UserError(`not allowed to ${site.verb} ${site.resource}${where}: ${message}`, {
      hint: 'kubectl netdiag rbac prints the least-privilege Role this plugin needs',
      exitCode: EXIT.cannotDiagnose,
      cause: err,
    });
  }
  if (status !== null) {
    return new UserError(`the API server refused to ${site.verb} ${site.resource}${where}: ${message}`, {
      exitCode: EXIT.cannotDiagnose,
      cause: err,
    });
  }
  if (/abort|timeout|timed out/i.test(message)) {
    return new UserError(`the API server at ${server} did not answer in time (${site.verb} ${site.resource})`, {
      hint: 'raise --request-timeout, or check that the cluster is reachable',
      exitCode: EXIT.cannotDiagnose,
      cause: err,
    });
  }
  return new UserError(`cannot reach the API server at ${server}: ${message}`, {
    hint: 'check --kubeconfig/--context and that the cluster is reachable (kubectl cluster-info)',
    exitCode: EXIT.cannotDiagnose,
    cause: err,
  });
}
