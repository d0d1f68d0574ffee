// Label and field selectors as the real API server understands them (the subset kubectl and
// client-node send). Parsing errors become 400 BadRequest Status objects in the router.

export type LabelRequirement =
  | { key: string; op: 'in'; values: string[] }
  | { key: string; op: 'notin'; values: string[] }
  | { key: string; op: 'exists' }
  | { key: string; op: '!exists' };

export type FieldRequirement = { field: string; op: '=' | '!='; value: string };

export class SelectorError extends Error {}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

// Splits on commas that are not inside parentheses: "a in (x,y),b" -> ["a in (x,y)", "b"].
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function checkKey(key: string, whole: string): string {
  if (!LABEL_KEY.test(key)) throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${whole}"`);
  return key;
}

export function parseLabelSelector(text: string | null | undefined): LabelRequirement[] {
  if (!text) return [];
  return splitTopLevel(text).map((part): LabelRequirement => {
    const setMatch = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (setMatch) {
      const values = (setMatch[3] ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '');
      return { key: checkKey(setMatch[1] ?? '', part), op: setMatch[2] === 'in' ? 'in' : 'notin', values };
    }
    const notEq = /^([^!=\s]+)\s*!=\s*(\S*)$/.exec(part);
    if (notEq) return { key: checkKey(notEq[1] ?? '', part), op: 'notin', values: [notEq[2] ?? ''] };
    const eq = /^([^!=\s]+)\s*==?\s*(\S*)$/.exec(part);
    if (eq) return { key: checkKey(eq[1] ?? '', part), op: 'in', values: [eq[2] ?? ''] };
    const notExists = /^!\s*(\S+)$/.exec(part);
    if (notExists) return { key: checkKey(notExists[1] ?? '', part), op: '!exists' };
    return { key: checkKey(part, part), op: 'exists' };
  });
}

export function matchesLabels(requirements: readonly LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  return requirements.every((r) => {
    const present = Object.prototype.hasOwnProperty.call(have, r.key);
    switch (r.op) {
      case 'exists':
        return present;
      case '!exists':
        return !present;
      case 'in':
        return present && r.values.includes(have[r.key] ?? '');
      case 'notin':
        // Like the real server: a missing key satisfies "notin" and "!=".
        return !present || !r.values.includes(have[r.key] ?? '');
    }
  });
}

// Fields each resource can be filtered on (the real server rejects others with 400).
export const SUPPORTED_FIELDS: Record<string, readonly string[]> = {
  pods: ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.podIP'],
  default: ['metadata.name', 'metadata.namespace'],
};

export function parseFieldSelector(text: string | null | undefined, resource: string): FieldRequirement[] {
  if (!text) return [];
  const allowed = SUPPORTED_FIELDS[resource] ?? SUPPORTED_FIELDS.default ?? [];
  return splitTopLevel(text).map((part) => {
    const m = /^([^!=\s]+)\s*(!=|==|=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorError(`invalid selector: '${text}'; can't understand '${part}'`);
    const field = m[1] ?? '';
    if (!allowed.includes(field)) {
      throw new SelectorError(`field label not supported: ${field}`);
    }
    return { field, op: m[2] === '!=' ? '!=' : '=', value: (m[3] ?? '').trim() };
  });
}

function readPath(obj: unknown, path: string): string {
  let current: unknown = obj;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return '';
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'string' ? current : current === undefined || current === null ? '' : String(current);
}

export function matchesFields(requirements: readonly FieldRequirement[], obj: unknown): boolean {
  return requirements.every((r) => (readPath(obj, r.field) === r.value) === (r.op === '='));
}
