// meta.k8s.io/v1 Table conversion, with the columns and cell formats of the real server's
// printers (pkg/printers/internalversion), for `kubectl get`.

import type { KubeObject } from './objects.js';
import { formatLabelSelector } from './network-policies.js';
import type { ResourceName } from './resources.js';

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'date';
  format: string;
  description: string;
  priority: number;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

// k8s.io/apimachinery/pkg/util/duration.HumanDuration
export function formatAge(seconds: number): string {
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  const s = Math.floor(seconds);
  if (s < 120) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 10) return s % 60 === 0 ? `${minutes}m` : `${minutes}m${s % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(s / 3600);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const years = Math.floor(hours / 24 / 365);
    const days = Math.floor(hours / 24) - years * 365;
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

const col = (name: string, type: TableColumn['type'], priority: number, description: string, format = ''): TableColumn => ({ name, type, format, description, priority });
const NAME = col('Name', 'string', 0, 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names', 'name');
const AGE = col('Age', 'string', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata');

export const TABLE_COLUMNS: Record<ResourceName, TableColumn[]> = {
  pods: [
    NAME,
    col('Ready', 'string', 0, 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 0, 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 0, 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE,
    col('IP', 'string', 1, 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.'),
    col('Node', 'string', 1, "NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements."),
    col('Nominated Node', 'string', 1, 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.'),
    col('Readiness Gates', 'string', 1, 'If specified, all readiness gates will be evaluated for pod readiness.'),
  ],
  services: [
    NAME,
    col('Type', 'string', 0, 'type determines how the Service is exposed.'),
    col('Cluster-IP', 'string', 0, 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    col('External-IP', 'string', 0, 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    col('Port(s)', 'string', 0, 'The list of ports that are exposed by this service.'),
    AGE,
    col('Selector', 'string', 1, 'Route service traffic to pods with label keys and values matching this selector.'),
  ],
  nodes: [
    NAME,
    col('Status', 'string', 0, 'The status of the node'),
    col('Roles', 'string', 0, 'The roles of the node'),
    AGE,
    col('Version', 'string', 0, 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'string', 1, 'List of addresses reachable to the node. Queried from cloud provider, if available.'),
    col('External-IP', 'string', 1, 'List of addresses reachable to the node. Queried from cloud provider, if available.'),
    col('OS-Image', 'string', 1, 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).'),
    col('Kernel-Version', 'string', 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    col('Container-Runtime', 'string', 1, 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).'),
  ],
  endpointslices: [
    NAME,
    col('AddressType', 'string', 0, 'addressType specifies the type of address carried by this EndpointSlice.'),
    col('Ports', 'string', 0, 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
    col('Endpoints', 'string', 0, 'endpoints is a list of unique endpoints in this slice.'),
    AGE,
  ],
  configmaps: [NAME, col('Data', 'integer', 0, 'Data contains the configuration data.'), AGE],
  namespaces: [NAME, col('Status', 'string', 0, 'The status of the namespace'), AGE],
  networkpolicies: [NAME, col('Pod-Selector', 'string', 0, 'podSelector selects the pods to which this NetworkPolicy object applies. The array of rules is applied to any pods selected by this field. An empty selector matches all pods in the policy\'s namespace. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is optional. If it is not specified, it defaults to an empty podSelector.'), AGE],
};

interface ContainerStatusView {
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string; exitCode?: number; signal?: number } };
}

function podStatusCell(obj: KubeObject): string {
  const status = (obj.status ?? {}) as { phase?: string; reason?: string; containerStatuses?: ContainerStatusView[] };
  if (obj.metadata.deletionTimestamp) return 'Terminating';
  let reason = status.reason ?? status.phase ?? 'Unknown';
  for (const cs of status.containerStatuses ?? []) {
    if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
    else if (cs.state?.terminated?.reason) reason = cs.state.terminated.reason;
    else if (cs.state?.terminated) reason = cs.state.terminated.signal ? `Signal:${cs.state.terminated.signal}` : `ExitCode:${cs.state.terminated.exitCode ?? 0}`;
  }
  return reason;
}

function joinOrNone(values: string[]): string {
  return values.length === 0 ? '<none>' : values.join(',');
}

function cellsFor(resource: ResourceName, obj: KubeObject, ageSeconds: number): (string | number)[] {
  const age = formatAge(ageSeconds);
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  const status = (obj.status ?? {}) as Record<string, unknown>;
  switch (resource) {
    case 'pods': {
      const containers = (spec.containers as unknown[] | undefined) ?? [];
      const statuses = (status.containerStatuses as ContainerStatusView[] | undefined) ?? [];
      const ready = statuses.filter((c) => c.ready).length;
      const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
      return [obj.metadata.name, `${ready}/${containers.length}`, podStatusCell(obj), String(restarts), age,
        (status.podIP as string | undefined) ?? '<none>', (spec.nodeName as string | undefined) ?? '<none>', '<none>', '<none>'];
    }
    case 'services': {
      const ports = ((spec.ports as { port: number; protocol: string; nodePort?: number }[] | undefined) ?? [])
        .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`));
      const selector = spec.selector as Record<string, string> | undefined;
      // kubectl's EXTERNAL-IP: load-balancer ingress and externalIPs, or the ExternalName target
      const ingress = (((obj.status ?? {}) as { loadBalancer?: { ingress?: { ip?: string }[] } }).loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
      const external = spec.type === 'ExternalName' ? [String(spec.externalName ?? '')] : [...ingress, ...((spec.externalIPs as string[] | undefined) ?? [])];
      const externalCell = external.length > 0 ? external.join(',') : spec.type === 'LoadBalancer' ? '<pending>' : '<none>';
      return [obj.metadata.name, String(spec.type), String(spec.clusterIP ?? '<none>'), externalCell, joinOrNone(ports), age,
        selector ? Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',') : '<none>'];
    }
    case 'nodes': {
      const conditions = (status.conditions as { type: string; status: string }[] | undefined) ?? [];
      const readyCond = conditions.find((c) => c.type === 'Ready');
      const states = [readyCond?.status === 'True' ? 'Ready' : 'NotReady'];
      if (spec.unschedulable) states.push('SchedulingDisabled');
      const roles = Object.keys(obj.metadata.labels ?? {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length));
      const addresses = (status.addresses as { type: string; address: string }[] | undefined) ?? [];
      const info = (status.nodeInfo ?? {}) as Record<string, string>;
      return [obj.metadata.name, states.join(','), roles.length > 0 ? roles.sort().join(',') : '<none>', age, info.kubeletVersion ?? '',
        addresses.find((a) => a.type === 'InternalIP')?.address ?? '<none>', addresses.find((a) => a.type === 'ExternalIP')?.address ?? '<none>',
        info.osImage ?? '', info.kernelVersion ?? '', info.containerRuntimeVersion ?? ''];
    }
    case 'endpointslices': {
      const ports = (obj.ports as { port?: number }[] | null) ?? [];
      const endpoints = (obj.endpoints as { addresses: string[] }[] | null) ?? [];
      const addresses = endpoints.flatMap((e) => e.addresses);
      const shown = addresses.length > 3 ? `${addresses.slice(0, 3).join(',')} + ${addresses.length - 3} more...` : joinOrNone(addresses);
      return [obj.metadata.name, String(obj.addressType), ports.length === 0 ? '<unset>' : ports.map((p) => String(p.port ?? '<unset>')).join(','), shown, age];
    }
    case 'configmaps':
      return [obj.metadata.name, Object.keys((obj.data as Record<string, string> | undefined) ?? {}).length, age];
    case 'namespaces':
      return [obj.metadata.name, String(status.phase ?? 'Active'), age];
    case 'networkpolicies':
      return [obj.metadata.name, formatLabelSelector(spec.podSelector), age];
  }
}

export function buildTable(resource: ResourceName, objects: readonly KubeObject[], resourceVersion: string | undefined, now: Date, includeObject: IncludeObject): Record<string, unknown> {
  const rows = objects.map((obj) => {
    const ageSeconds = (now.getTime() - Date.parse(obj.metadata.creationTimestamp)) / 1000;
    const row: Record<string, unknown> = { cells: cellsFor(resource, obj, ageSeconds) };
    if (includeObject === 'Object') row.object = obj;
    else if (includeObject === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
    return row;
  });
  const metadata: Record<string, string> = {};
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata, columnDefinitions: TABLE_COLUMNS[resource], rows };
}
