// The resource types the simulated API server serves, and the discovery documents built from
// them (legacy discovery: kubectl 1.32 falls back to it when the server ignores the aggregated
// apidiscovery.k8s.io/v2 Accept type, which it does here).

export type ResourceName = 'pods' | 'services' | 'endpointslices' | 'nodes' | 'configmaps' | 'namespaces' | 'networkpolicies';

/** Resources built from the lab state; the others (networkpolicies) are only what clients create. */
export type StateResourceName = Exclude<ResourceName, 'networkpolicies'>;

export interface ResourceType {
  name: ResourceName;
  group: string; // "" for the core group
  version: string;
  kind: string;
  listKind: string;
  singularName: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

const READ_VERBS = ['get', 'list', 'watch'];

export const RESOURCE_TYPES: Record<ResourceName, ResourceType> = {
  pods: {
    name: 'pods', group: '', version: 'v1', kind: 'Pod', listKind: 'PodList', singularName: 'pod', namespaced: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['po'], categories: ['all'],
  },
  services: {
    name: 'services', group: '', version: 'v1', kind: 'Service', listKind: 'ServiceList', singularName: 'service', namespaced: true,
    verbs: READ_VERBS, shortNames: ['svc'], categories: ['all'],
  },
  endpointslices: {
    name: 'endpointslices', group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', listKind: 'EndpointSliceList',
    singularName: 'endpointslice', namespaced: true, verbs: READ_VERBS,
  },
  nodes: {
    name: 'nodes', group: '', version: 'v1', kind: 'Node', listKind: 'NodeList', singularName: 'node', namespaced: false,
    verbs: READ_VERBS, shortNames: ['no'],
  },
  configmaps: {
    name: 'configmaps', group: '', version: 'v1', kind: 'ConfigMap', listKind: 'ConfigMapList', singularName: 'configmap', namespaced: true,
    verbs: READ_VERBS, shortNames: ['cm'],
  },
  namespaces: {
    name: 'namespaces', group: '', version: 'v1', kind: 'Namespace', listKind: 'NamespaceList', singularName: 'namespace', namespaced: false,
    verbs: READ_VERBS, shortNames: ['ns'],
  },
  networkpolicies: {
    name: 'networkpolicies', group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', listKind: 'NetworkPolicyList',
    singularName: 'networkpolicy', namespaced: true, verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['netpol'],
  },
};

export const RESOURCE_NAMES = Object.keys(RESOURCE_TYPES) as ResourceName[];
export const STATE_RESOURCE_NAMES = RESOURCE_NAMES.filter((r): r is StateResourceName => r !== 'networkpolicies');

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

export function findResourceType(group: string, version: string, name: string): ResourceType | null {
  const type = (RESOURCE_TYPES as Record<string, ResourceType | undefined>)[name];
  if (!type || type.group !== group || type.version !== version) return null;
  return type;
}

// Kubernetes version reported by /version. kubectl's gcloud dispatcher picks its kubectl.1.NN
// binary from this, so it is kept at 1.32 (the kubectl the project targets).
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac5c1f2b6f',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:27Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

interface ApiResourceEntry {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
  group?: string;
  version?: string;
}

function entryFor(type: ResourceType): ApiResourceEntry {
  const entry: ApiResourceEntry = {
    name: type.name, singularName: type.singularName, namespaced: type.namespaced, kind: type.kind, verbs: type.verbs,
  };
  if (type.shortNames) entry.shortNames = type.shortNames;
  if (type.categories) entry.categories = type.categories;
  return entry;
}

function subresource(name: string, kind: string, verbs: string[], group?: string, version?: string): ApiResourceEntry {
  const entry: ApiResourceEntry = { name, singularName: '', namespaced: true, kind, verbs };
  if (group !== undefined) entry.group = group;
  if (version !== undefined) entry.version = version;
  return entry;
}

export function buildApiResourceList(groupVersion: string): Record<string, unknown> | null {
  const resources: ApiResourceEntry[] = [];
  for (const type of Object.values(RESOURCE_TYPES)) {
    if (apiVersionOf(type) !== groupVersion) continue;
    resources.push(entryFor(type));
    if (type.name === 'pods') {
      resources.push(subresource('pods/exec', 'PodExecOptions', ['create', 'get']));
      resources.push(subresource('pods/log', 'Pod', ['get']));
      resources.push(subresource('pods/status', 'Pod', ['get']));
    }
  }
  if (groupVersion === 'authorization.k8s.io/v1') {
    resources.push({ name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] });
  }
  if (resources.length === 0) return null;
  resources.sort((a, b) => a.name.localeCompare(b.name));
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

export const API_GROUPS = ['discovery.k8s.io', 'networking.k8s.io', 'authorization.k8s.io'] as const;

function groupDoc(name: string): Record<string, unknown> {
  const gv = { groupVersion: `${name}/v1`, version: 'v1' };
  return { name, versions: [gv], preferredVersion: gv };
}

export function buildApiGroup(name: string): Record<string, unknown> | null {
  if (!(API_GROUPS as readonly string[]).includes(name)) return null;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(name) };
}

export function buildApiGroupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: API_GROUPS.map(groupDoc) };
}

export function buildApiVersions(): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }] };
}
