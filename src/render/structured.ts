import { dump } from 'js-yaml';

export const OUTPUT_API_VERSION = 'kubectl-netdiag.io/v1alpha1';

/** -o json|yaml: one document with apiVersion/kind so consumers can tell versions apart. */
export function renderStructured(kind: string, body: Record<string, unknown>, format: 'json' | 'yaml'): string {
  const doc = { apiVersion: OUTPUT_API_VERSION, kind, ...body };
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : dump(doc, { noRefs: true, lineWidth: 120 });
}
