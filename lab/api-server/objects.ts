// Pure builders: LabState (+ faults) -> the Kubernetes objects the real API server would hold.
// Field order and defaults follow what `kubectl get -o json` shows on a kubeadm cluster.

import { createHash } from 'node:crypto';
import type { LabConfigMap, LabNode, LabPod, LabService, LabState } from '../lab-state.js';
import type { LabFaults } from './faults.js';
import type { StateResourceName } from './resources.js';
import { buildCorefile, LAB_NAMESPACE_LABELS, ZONE_LABEL } from '../lab-topology.js';

export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Record<string, unknown>[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface NodeHostInfo {
  kernelVersion: string; // `uname -r` of the machine running the lab
  osImage: string;
}

export const KUBELET_VERSION = 'v1.30.6';
export const CONTAINER_RUNTIME_VERSION = 'containerd://1.7.24';
export const SYSTEM_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'] as const;

// Stable uid for objects the state does not give one: same input, same uid across reloads.
export function stableUid(...parts: string[]): string {
  const hex = createHash('sha1').update(parts.join('/')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function shortHash(...parts: string[]): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const digest = createHash('sha1').update(parts.join('/')).digest();
  return Array.from(digest.subarray(0, 5), (b) => alphabet[b % alphabet.length]).join('');
}

export function buildNode(node: LabNode, state: LabState, faults: LabFaults, host: NodeHostInfo): KubeObject {
  const windows = faults.windowsNodes.includes(node.name);
  const notReady = faults.nodeNotReady.includes(node.name);
  const cordoned = faults.unschedulable.includes(node.name);
  const os = windows ? 'windows' : 'linux';
  const at = state.createdAt;
  const taints: Record<string, unknown>[] = [];
  if (notReady) {
    taints.push({ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: at });
    taints.push({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: at });
  }
  if (cordoned) taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: at });
  const fargate = faults.fargateNodes.includes(node.name);
  const virtualKubelet = faults.virtualKubeletNodes.includes(node.name);
  // As EKS labels and taints a Fargate node, and as virtual-kubelet registers its node.
  if (fargate) taints.push({ key: 'eks.amazonaws.com/compute-type', value: 'fargate', effect: 'NoSchedule' });
  if (virtualKubelet) taints.push({ key: 'virtual-kubelet.io/provider', value: 'azure', effect: 'NoSchedule' });
  // A simulated node (scale.ts) has no node-allocated pod CIDR: spec without podCIDR, as served then.
  const spec: Record<string, unknown> = node.podCIDR ? { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] } : {};
  if (cordoned) spec.unschedulable = true;
  if (taints.length > 0) spec.taints = taints;
  const pressure = (type: string, reason: string, message: string): Record<string, unknown> => ({
    type, status: notReady ? 'Unknown' : 'False', lastHeartbeatTime: at, lastTransitionTime: at,
    reason: notReady ? 'NodeStatusUnknown' : reason, message: notReady ? 'Kubelet stopped posting node status.' : message,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      uid: stableUid('node', node.name),
      creationTimestamp: at,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': os,
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': os,
        ...node.labels,
        // The windowsNodes fault wins over the state's own labels (which say linux).
        ...(windows ? { 'beta.kubernetes.io/os': 'windows', 'kubernetes.io/os': 'windows' } : {}),
        ...(fargate ? { 'eks.amazonaws.com/compute-type': 'fargate' } : {}),
        ...(virtualKubelet ? { type: 'virtual-kubelet', 'kubernetes.io/role': 'agent' } : {}),
      },
      annotations: {
        'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///var/run/containerd/containerd.sock',
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        ...node.annotations,
      },
    },
    spec,
    status: {
      capacity: { cpu: '2', 'ephemeral-storage': '20470152Ki', memory: '4025836Ki', pods: '110' },
      allocatable: { cpu: '2', 'ephemeral-storage': '18865308528', memory: '3923436Ki', pods: '110' },
      conditions: [
        pressure('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        pressure('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        pressure('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        {
          type: 'Ready', status: notReady ? 'Unknown' : 'True', lastHeartbeatTime: at, lastTransitionTime: at,
          reason: notReady ? 'NodeStatusUnknown' : 'KubeletReady',
          message: notReady ? 'Kubelet stopped posting node status.' : 'kubelet is posting ready status',
        },
      ],
      addresses: [
        { type: 'InternalIP', address: node.internalIP },
        { type: 'Hostname', address: node.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: stableUid('machine', node.name).replace(/-/g, ''),
        systemUUID: stableUid('system', node.name),
        bootID: stableUid('boot', node.name, state.createdAt),
        kernelVersion: windows ? '10.0.20348.2582' : host.kernelVersion,
        osImage: windows ? 'Windows Server 2022 Datacenter' : host.osImage,
        containerRuntimeVersion: CONTAINER_RUNTIME_VERSION,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: os,
        architecture: 'amd64',
      },
      images: [],
    },
  };
}

export function buildLabPod(pod: LabPod, state: LabState, nodeIP: string | null): KubeObject {
  const at = state.createdAt;
  const readyStatus = pod.ready ? 'True' : 'False';
  const container: Record<string, unknown> = {
    name: pod.containerName,
    image: pod.image,
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
  if (pod.ports.length > 0) {
    container.ports = pod.ports.map((p) => (p.name ? { name: p.name, containerPort: p.containerPort, protocol: p.protocol } : { containerPort: p.containerPort, protocol: p.protocol }));
  }
  const spec: Record<string, unknown> = {
    containers: [container],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: pod.dnsPolicy,
    serviceAccountName: 'default',
    serviceAccount: 'default',
    nodeName: pod.nodeName,
    securityContext: {},
    schedulerName: 'default-scheduler',
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    priority: 0,
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
  };
  if (pod.hostNetwork) spec.hostNetwork = true;
  const hostIP = nodeIP ?? pod.ip;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid, creationTimestamp: at, labels: { ...pod.labels } },
    spec,
    status: {
      phase: 'Running',
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: at },
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: at },
        { type: 'Ready', status: readyStatus, lastProbeTime: null, lastTransitionTime: at, ...(pod.ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${pod.containerName}]` }) },
        { type: 'ContainersReady', status: readyStatus, lastProbeTime: null, lastTransitionTime: at, ...(pod.ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${pod.containerName}]` }) },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: at },
      ],
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: pod.ip,
      podIPs: [{ ip: pod.ip }],
      startTime: at,
      containerStatuses: [
        {
          name: pod.containerName,
          state: { running: { startedAt: at } },
          lastState: {},
          ready: pod.ready,
          restartCount: 0,
          image: pod.image,
          imageID: `${pod.image.split(':')[0] ?? pod.image}@sha256:${createHash('sha256').update(pod.image).digest('hex')}`,
          containerID: `containerd://${pod.containerId}`,
          started: true,
        },
      ],
      qosClass: 'BestEffort',
    },
  };
}

export function buildService(service: LabService, state: LabState): KubeObject {
  const spec: Record<string, unknown> = {
    ports: service.ports.map((p) => {
      const port: Record<string, unknown> = {};
      if (p.name) port.name = p.name;
      port.protocol = p.protocol;
      port.port = p.port;
      port.targetPort = p.targetPort;
      if ((service.type === 'NodePort' || service.type === 'LoadBalancer') && p.nodePort !== undefined) port.nodePort = p.nodePort;
      return port;
    }),
    type: service.type,
    sessionAffinity: service.sessionAffinityTimeout !== undefined ? 'ClientIP' : 'None',
  };
  if (service.type === 'ExternalName') {
    // The API server gives an ExternalName Service no cluster IP, IP families or traffic policy.
    spec.externalName = service.externalName ?? '';
  } else {
    spec.clusterIP = service.clusterIP;
    spec.clusterIPs = [service.clusterIP];
    spec.ipFamilies = ['IPv4'];
    spec.ipFamilyPolicy = 'SingleStack';
    spec.internalTrafficPolicy = service.internalTrafficPolicy ?? 'Cluster';
  }
  if (service.sessionAffinityTimeout !== undefined) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: service.sessionAffinityTimeout } };
  if (service.selector) spec.selector = { ...service.selector };
  if (service.type === 'NodePort' || service.type === 'LoadBalancer') {
    spec.externalTrafficPolicy = service.externalTrafficPolicy ?? 'Cluster';
    if (service.externalTrafficPolicy === 'Local' && service.healthCheckNodePort !== undefined) spec.healthCheckNodePort = service.healthCheckNodePort;
  }
  if (service.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts = true;
  if (service.externalIPs) spec.externalIPs = [...service.externalIPs];
  if (service.loadBalancerSourceRanges) spec.loadBalancerSourceRanges = [...service.loadBalancerSourceRanges];
  if (service.trafficDistribution) spec.trafficDistribution = service.trafficDistribution;
  if (service.publishNotReadyAddresses) spec.publishNotReadyAddresses = true;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: service.name,
      namespace: service.namespace,
      uid: stableUid('service', service.namespace, service.name),
      creationTimestamp: state.createdAt,
      labels: service.name === 'kube-dns' ? { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } : {},
    },
    spec,
    status: { loadBalancer: service.type === 'LoadBalancer' && service.loadBalancerIngress ? { ingress: service.loadBalancerIngress.map((ip) => ({ ip, ipMode: 'VIP' })) } : {} },
  };
}

function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

interface PodView {
  name: string;
  namespace: string;
  uid: string;
  nodeName: string;
  ip: string;
  ready: boolean;
  labels: Record<string, string>;
  ports: { name?: string; containerPort: number; protocol: string }[];
}

// The API server keeps the kubernetes Service's slice itself: its own address and secure port.
function buildApiServerSlice(service: LabService, state: LabState): KubeObject | null {
  const controlPlane = state.nodes.find((n) => 'node-role.kubernetes.io/control-plane' in n.labels) ?? state.nodes[0];
  const port = service.ports[0];
  if (!controlPlane || !port) return null;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      uid: stableUid('endpointslice', 'default', 'kubernetes'),
      creationTimestamp: state.createdAt,
      labels: { 'kubernetes.io/service-name': 'kubernetes' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [controlPlane.internalIP], conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: port.name ?? 'https', protocol: 'TCP', port: typeof port.targetPort === 'number' ? port.targetPort : 6443 }],
  };
}

// The EndpointSlice controller's view: one IPv4 slice per Service with a selector, endpoints for
// the selected pods that have an IP, ports resolved per service port (named targetPorts looked up
// in the first selected pod, as the controller does per pod group).
// A slice someone wrote by hand for a Service without selector: no managed-by label of the
// controller, no owner, named as its author chose.
function buildManualSlice(service: LabService, state: LabState): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service.name}-manual`,
      namespace: service.namespace,
      uid: stableUid('endpointslice', service.namespace, service.name),
      creationTimestamp: state.createdAt,
      labels: { 'kubernetes.io/service-name': service.name },
    },
    addressType: 'IPv4',
    endpoints: (service.manualEndpoints ?? []).map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
      ...(e.nodeName !== null ? { nodeName: e.nodeName } : {}),
    })),
    ports: service.ports.map((p) => ({ name: p.name ?? '', protocol: p.protocol, port: typeof p.targetPort === 'number' ? p.targetPort : Number(p.targetPort) })),
  };
}

export function buildEndpointSlice(service: LabService, pods: readonly PodView[], state: LabState): KubeObject | null {
  if (service.type === 'ExternalName') return null;
  if (!service.selector && service.manualEndpoints !== undefined) return buildManualSlice(service, state);
  if (!service.selector) return service.namespace === 'default' && service.name === 'kubernetes' ? buildApiServerSlice(service, state) : null;
  const selector = service.selector;
  const selected = pods.filter((p) => p.namespace === service.namespace && p.ip !== '' && selectorMatches(selector, p.labels));
  const first = selected[0];
  const ports = service.ports.flatMap((sp) => {
    let port: number | undefined;
    if (typeof sp.targetPort === 'number') port = sp.targetPort;
    else if (/^\d+$/.test(sp.targetPort)) port = Number(sp.targetPort);
    else port = first?.ports.find((cp) => cp.name === sp.targetPort)?.containerPort;
    if (port === undefined) return [];
    return [{ name: sp.name ?? '', protocol: sp.protocol, port }];
  });
  const endpoints = selected.map((p) => {
    // The controller copies the node's zone label; trafficDistribution PreferClose hints each
    // endpoint for its own zone; publishNotReadyAddresses makes every endpoint ready (serving
    // still follows the pod's readiness).
    const zone = state.nodes.find((n) => n.name === p.nodeName)?.labels[ZONE_LABEL];
    return {
      addresses: [p.ip],
      conditions: { ready: p.ready || service.publishNotReadyAddresses === true, serving: p.ready, terminating: false },
      targetRef: { kind: 'Pod', namespace: p.namespace, name: p.name, uid: p.uid },
      nodeName: p.nodeName,
      ...(zone ? { zone } : {}),
      ...(zone && service.trafficDistribution === 'PreferClose' ? { hints: { forZones: [{ name: zone }] } } : {}),
    };
  });
  const serviceUid = stableUid('service', service.namespace, service.name);
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service.name}-${shortHash('slice', service.namespace, service.name)}`,
      generateName: `${service.name}-`,
      namespace: service.namespace,
      uid: stableUid('endpointslice', service.namespace, service.name),
      creationTimestamp: state.createdAt,
      labels: {
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        'kubernetes.io/service-name': service.name,
        ...(service.clusterIP === 'None' ? { 'service.kubernetes.io/headless': '' } : {}),
        ...(service.name === 'kube-dns' ? { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } : {}),
      },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': state.createdAt },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: service.name, uid: serviceUid, controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    // The real server serialises an empty list as null here (the field has no omitempty).
    endpoints: endpoints.length > 0 ? endpoints : null,
    ports: ports.length > 0 ? ports : null,
  };
}

export function buildDefaultCorefile(state: LabState): string {
  return buildCorefile(state.clusterDomain);
}

export function buildConfigMap(cm: LabConfigMap, state: LabState): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: cm.name, namespace: cm.namespace, uid: stableUid('configmap', cm.namespace, cm.name), creationTimestamp: state.createdAt },
    data: { ...cm.data },
  };
}

export function buildNamespace(name: string, state: LabState, faults: LabFaults): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      uid: stableUid('namespace', name),
      creationTimestamp: state.createdAt,
      labels: { ...(LAB_NAMESPACE_LABELS[name] ?? {}), ...(faults.namespaceLabels[name] ?? {}), 'kubernetes.io/metadata.name': name },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

export function podViewOf(obj: KubeObject): PodView | null {
  const spec = obj.spec as { nodeName?: string; containers?: { ports?: { name?: string; containerPort: number; protocol?: string }[] }[] } | undefined;
  const status = obj.status as { podIP?: string; phase?: string; conditions?: { type: string; status: string }[] } | undefined;
  if (!obj.metadata.namespace || !status?.podIP || status.phase !== 'Running') return null;
  return {
    name: obj.metadata.name,
    namespace: obj.metadata.namespace,
    uid: obj.metadata.uid,
    nodeName: spec?.nodeName ?? '',
    ip: status.podIP,
    ready: status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    labels: obj.metadata.labels ?? {},
    ports: (spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' }))),
  };
}

export type LabObjects = Record<StateResourceName, KubeObject[]>;

// Every object the lab state implies. Pods deleted through the API (by uid) are left out so a
// reload does not resurrect them.
export function buildLabObjects(state: LabState, faults: LabFaults, host: NodeHostInfo, deletedUids: ReadonlySet<string>): LabObjects {
  const nodeIPs = new Map(state.nodes.map((n) => [n.name, n.internalIP]));
  const pods = state.pods.filter((p) => !deletedUids.has(p.uid)).map((p) => buildLabPod(p, state, nodeIPs.get(p.nodeName) ?? null));
  const podViews = pods.map(podViewOf).filter((v): v is PodView => v !== null);
  const configMaps = state.configMaps.map((cm) => buildConfigMap(cm, state));
  if (!state.configMaps.some((cm) => cm.namespace === 'kube-system' && cm.name === 'coredns')) {
    configMaps.push(buildConfigMap({ name: 'coredns', namespace: 'kube-system', data: { Corefile: buildDefaultCorefile(state) } }, state));
  }
  const namespaceNames = new Set<string>([...SYSTEM_NAMESPACES, ...state.namespaces]);
  for (const o of [...state.pods, ...state.services, ...state.configMaps]) namespaceNames.add(o.namespace);
  return {
    nodes: state.nodes.map((n) => buildNode(n, state, faults, host)),
    pods,
    services: state.services.map((s) => buildService(s, state)),
    endpointslices: state.services.map((s) => buildEndpointSlice(s, podViews, state)).filter((s): s is KubeObject => s !== null),
    configmaps: configMaps,
    namespaces: [...namespaceNames].sort().map((ns) => buildNamespace(ns, state, faults)),
  };
}
