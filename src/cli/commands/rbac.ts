// `kubectl netdiag rbac`: the least-privilege RBAC the plugin needs, ready for kubectl apply.
import { dump } from 'js-yaml';
import type { ExitCode } from '../../errors.js';
import { EXIT, UserError } from '../../errors.js';

export type RbacSubject = { kind: 'User' | 'Group'; name: string } | { kind: 'ServiceAccount'; name: string; namespace: string };

interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

// Each rule with the commands that need it: printed as a comment above the rule in the YAML.
const READ_RULES: ReadonlyArray<{ rule: RbacRule; neededBy: string }> = [
  { rule: { apiGroups: [''], resources: ['pods', 'nodes', 'services', 'configmaps'], verbs: ['get', 'list'] }, neededBy: 'every command: the pods, nodes and Services named, the CNI/kube-proxy/CoreDNS ConfigMaps' },
  { rule: { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }, neededBy: 'dns-check: the recent log lines of the CoreDNS pods' },
  { rule: { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list'] }, neededBy: 'trace-svc, dns-check: a Service\'s endpoints' },
  { rule: { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] }, neededBy: 'probe runs: the probe namespace exists; conn-check: namespace labels for NetworkPolicy namespaceSelectors' },
  { rule: { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list'] }, neededBy: 'conn-check: the NetworkPolicies that select either end of the flow' },
];

const PROBE_RULES: ReadonlyArray<{ rule: RbacRule; neededBy: string }> = [
  // watch: one stream follows the run's probe pods; without it each is read every 250 ms.
  { rule: { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'watch', 'delete'] }, neededBy: 'probe runs: create, follow (watch) and delete the probe pods' },
  { rule: { apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] }, neededBy: 'probe runs: the node script runs through exec in the probe pod' },
];

/** Read access cluster-wide (the objects commands resolve) and pod create/exec/delete only where probes run. */
export function buildRbacManifests(probeNamespace: string, subject: RbacSubject): object[] {
  const readRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kubectl-netdiag-reader' },
    rules: READ_RULES.map((r) => structuredClone(r.rule)),
  };
  const probeRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'kubectl-netdiag-probe', namespace: probeNamespace },
    rules: PROBE_RULES.map((r) => structuredClone(r.rule)),
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
  return manifests.map(renderManifestYaml).join('---\n');
}

// YAML with "# needed by" above each known rule; the same objects as the JSON form once parsed.
function renderManifestYaml(manifest: object): string {
  const { rules, ...rest } = manifest as { rules?: RbacRule[] };
  if (rules === undefined) return dump(manifest, { noRefs: true });
  const ruleText = rules.map((rule) => {
    const known = [...READ_RULES, ...PROBE_RULES].find((r) => JSON.stringify(r.rule) === JSON.stringify(rule));
    const item = dump([rule], { noRefs: true }).replace(/^/gm, '  ').trimEnd();
    return known ? `  # ${known.neededBy}\n${item}\n` : `${item}\n`;
  });
  return `${dump(rest, { noRefs: true })}rules:\n${ruleText.join('')}`;
}

export function runRbac(write: (text: string) => void, probeNamespace: string, subject: string, output: string): ExitCode {
  write(renderRbac(buildRbacManifests(probeNamespace, parseRbacSubject(subject)), output === 'json' ? 'json' : 'yaml'));
  return EXIT.ok;
}
