// The contract between the lab's network builder (lab:up) and the simulated API server.
// lab:up writes this as .lab/topology.json; the API server serves Kubernetes objects built from
// it; tests read it to know which namespaces and addresses exist. Every node-level fact the tool
// reports still comes from the kernel, never from this file.

export type LabCni = 'calico' | 'flannel';

export interface LabNode {
  name: string; // Kubernetes node name, e.g. "lab-node-1"
  netns: string; // `ip netns` name holding this node's network namespace
  initPid: number; // long-lived process in the node's netns and mount view: the node's "PID 1"
  internalIP: string; // address on the node NIC (underlay)
  nicName: string; // the node NIC as seen inside the node, e.g. "eth0"
  podCIDR: string;
  cni: LabCni;
  kubeProxyMode: 'iptables' | 'nftables' | 'none';
  labels: Record<string, string>;
  annotations?: Record<string, string>; // extra node annotations (the k3s profile's k3s.io/*)
}

export interface LabContainerPort {
  name?: string;
  containerPort: number;
  protocol: 'TCP' | 'UDP';
}

export interface LabPod {
  name: string;
  namespace: string;
  uid: string;
  nodeName: string;
  hostNetwork: boolean;
  netns: string | null; // null for hostNetwork pods
  ip: string; // pod IP (node IP for hostNetwork pods)
  containerName: string;
  containerId: string; // 64 hex chars; the process below lives in a cgroup named after it
  pid: number; // the "container" process
  conmonPid?: number; // crio profile: CRI-O's conmon stand-in, in the node's netns (started first)
  pinnedNetns?: string; // crio profile: the pod netns pinned in the node's mount view, /run/netns/<uuid>
  image: string;
  labels: Record<string, string>;
  ready: boolean;
  ports: LabContainerPort[];
  dnsPolicy: 'ClusterFirst' | 'Default' | 'None' | 'ClusterFirstWithHostNet';
}

export interface LabServicePort {
  name?: string;
  port: number;
  targetPort: number | string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  nodePort?: number;
}

/** An endpoint of a hand-made EndpointSlice (a Service without selector). */
export interface LabManualEndpoint {
  ip: string;
  nodeName: string | null;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface LabService {
  name: string;
  namespace: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  clusterIP: string; // "None" for a headless Service, "" for ExternalName
  ports: LabServicePort[];
  selector: Record<string, string> | null;
  sessionAffinityTimeout?: number; // sessionAffinity: ClientIP with this timeoutSeconds
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy?: 'Cluster' | 'Local';
  healthCheckNodePort?: number; // eTP=Local NodePort/LoadBalancer
  externalIPs?: string[];
  loadBalancerIngress?: string[]; // status.loadBalancer.ingress[].ip
  loadBalancerSourceRanges?: string[];
  externalName?: string;
  manualEndpoints?: LabManualEndpoint[]; // the hand-made EndpointSlice of a Service without selector
  trafficDistribution?: 'PreferClose'; // the EndpointSlice controller hints each endpoint for its zone
  publishNotReadyAddresses?: boolean; // the controller marks not-ready pods ready in the slices
}

export interface LabConfigMap {
  name: string;
  namespace: string;
  data: Record<string, string>;
}

export interface LabState {
  createdAt: string; // ISO time
  profiles?: string[]; // lab-profiles.ts names this lab was built with; absent or [] for the default lab
  serviceCIDR: string;
  clusterCIDR: string;
  kubeProxyMasquerade?: 'cluster-cidr' | 'all' | 'none'; // kube-proxy's --masquerade-all / --cluster-cidr (cluster-cidr unless said)
  clusterDomain: string; // "cluster.local"
  dnsServiceIP: string;
  upstreamDnsIP: string; // the lab's "internet" resolver CoreDNS forwards to
  nodes: LabNode[];
  pods: LabPod[];
  services: LabService[];
  configMaps: LabConfigMap[];
  namespaces: string[];
}
