// `kubectl netdiag rbac`: the least-privilege RBAC the plugin needs, ready for kubectl apply.
import { dump } from 'js-yaml';
import type { ExitCode } from '../errors.js';
import { EXIT, UserError } from '../errors.js';

export type RbacSubject = { kind: 'User' | 'Group'; name: string } | { kind: 'ServiceAccount'; name: string; namespace: string };

/** Read access cluster-wide (the objects commands resolve) and pod create/exec/delete only where probes run. */
export function buildRbacManifests(probeNamespace: string, subject: RbacSubject): object[] {
  const readRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kubectl-netdiag-reader' },
    rules: [
      { apiGroups: [''], resources: ['pods', 'nodes', 'services', 'configmaps', 'namespaces'], verbs: ['get', 'list'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list'] },
    ],
  };
  const probeRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'kubectl-netdiag-probe', namespace: probeNamespace },
    rules: [
      // watch: one stream follows the run's probe pods; without it each is read every 250 ms.
      { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
      { apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] },
    ],
  };
  const subjects = [subject.kind === 'ServiceAccount' ? { kind: 'ServiceAccount', name: subject.name, namespace: subject.namespace } : { apiGroup: 'rbac.authorization.k8s.io', kind: subject.kind, name: subject.name }];
  return [
    readRole,
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'kubectl-netdiag-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubectl-netdiag-reader' }, subjects },
    probeRole,
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'kubectl-netdiag-probe', namespace: probeNamespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubectl-netdiag-probe' }, subjects },
  ];
}

export function parseRbacSubject(text: string): RbacSubject {
  const m = /^(user|group|serviceaccount|sa):(.+)$/i.exec(text);
  if (!m) throw new UserError(`invalid --subject ${JSON.stringify(text)}`, { hint: 'use user:NAME, group:NAME or serviceaccount:NAMESPACE/NAME' });
  const kind = m[1]!.toLowerCase();
  const name = m[2]!;
  if (kind === 'user') return { kind: 'User', name };
  if (kind === 'group') return { kind: 'Group', name };
  const sa = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(name);
  if (!sa) throw new UserError(`invalid service account ${JSON.stringify(name)}`, { hint: 'use serviceaccount:NAMESPACE/NAME' });
  return { kind: 'ServiceAccount', namespace: sa[1]!, name: sa[2]! };
}

export function renderRbac(manifests: object[], format: 'yaml' | 'json'): string {
  if (format === 'json') return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }, null, 2)}\n`;
  return manifests.map((m) => dump(m, { noRefs: true })).join('---\n');
}

export function runRbac(write: (text: string) => void, probeNamespace: string, subject: string, output: string): ExitCode {
  write(renderRbac(buildRbacManifests(probeNamespace, parseRbacSubject(subject)), output === 'json' ? 'json' : 'yaml'));
  return EXIT.ok;
}
