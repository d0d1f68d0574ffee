// The lab, declared: nodes, pods, Services and addresses. lab:up builds exactly this in network
// namespaces; nothing here touches the system. Random per-run values (container ids, pod uids,
// bridge-plugin veth names) are chosen by the builder, not here.
import { createHash } from 'node:crypto';
import type { LabCni, LabConfigMap, LabContainerPort, LabService } from './lab-state.js';

export const LAB_NETNS_PREFIX = 'ndlab-';
export const UNDERLAY_NETNS = 'ndlab-underlay';
export const UPSTREAM_NETNS = 'ndlab-upstream';
export const UNDERLAY_BRIDGE = 'br0';
export const UNDERLAY_GATEWAY = '192.168.77.1';
export const UNDERLAY_PREFIX_LEN = 24;
export const UPSTREAM_DNS_IP = '192.168.77.53';
export const NODE_NIC = 'eth0';
export const NODE_NIC_MTU = 1500;
export const POD_MTU = 1450; // 1500 minus the 50 bytes of VXLAN overhead
export const CLUSTER_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/16';
export const DNS_SERVICE_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';
export const CALICO_GATEWAY = '169.254.1.1'; // Calico's fixed, fake pod gateway (answered by proxy ARP)
export const CALICO_HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
export const CALICO_VXLAN = { device: 'vxlan.calico', vni: 4096, port: 4789, mtu: 1450 } as const;
export const FLANNEL_VXLAN = { device: 'flannel.1', vni: 1, port: 8472, mtu: 1450 } as const;
export const FLANNEL_BRIDGE = 'cni0';
export const KUBE_API_PORT = 6443;

/** Upstream ("internet") DNS zone the upstream dnsmasq is authoritative for. */
export const UPSTREAM_RECORDS: ReadonlyArray<{ name: string; ip: string }> = [
  { name: 'www.example.test', ip: '192.168.77.80' },
  { name: 'api.example.test', ip: '192.168.77.81' },
];
export const UPSTREAM_ZONE = 'example.test';

export interface NodeSpec {
  name: string;
  netns: string;
  ip: string;
  podCIDR: string;
  podGateway: string | null; // cni0 address on flannel nodes
  cni: LabCni;
  tunnelAddress: string; // address on vxlan.calico / flannel.1 (first address of the pod CIDR)
  tunnelMac: string; // fixed so peers' fdb/neighbour entries are predictable
  labels: Record<string, string>;
}

export type PodProgram = 'http' | 'sleep' | 'coredns';
export type QosClass = 'besteffort' | 'burstable';

export interface PodSpec {
  name: string;
  namespace: string;
  nodeName: string;
  hostNetwork: boolean;
  ip: string | null; // null for hostNetwork pods (they use the node IP)
  labels: Record<string, string>;
  containerName: string;
  image: string;
  ports: LabContainerPort[];
  program: PodProgram;
  qosClass: QosClass;
  dnsPolicy: 'ClusterFirst' | 'Default' | 'None' | 'ClusterFirstWithHostNet';
  ready?: false; // a pod failing its readiness probe (ready unless said)
}

/** Two zones: nodes 1 and 2 in lab-zone-a, node 3 in lab-zone-b (kube-proxy filters hinted endpoints per zone). */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

function nodeLabels(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    ...extra,
  };
}

export const LAB_NODES: readonly NodeSpec[] = [
  {
    name: 'lab-node-1',
    netns: 'ndlab-node-1',
    ip: '192.168.77.11',
    podCIDR: '10.244.1.0/24',
    podGateway: null,
    cni: 'calico',
    tunnelAddress: '10.244.1.0',
    tunnelMac: '66:1a:77:00:00:11',
    labels: nodeLabels('lab-node-1', { [ZONE_LABEL]: 'lab-zone-a', 'node-role.kubernetes.io/control-plane': '' }),
  },
  {
    name: 'lab-node-2',
    netns: 'ndlab-node-2',
    ip: '192.168.77.12',
    podCIDR: '10.244.2.0/24',
    podGateway: null,
    cni: 'calico',
    tunnelAddress: '10.244.2.0',
    tunnelMac: '66:1a:77:00:00:12',
    labels: nodeLabels('lab-node-2', { [ZONE_LABEL]: 'lab-zone-a' }),
  },
  {
    name: 'lab-node-3',
    netns: 'ndlab-node-3',
    ip: '192.168.77.13',
    podCIDR: '10.244.3.0/24',
    podGateway: '10.244.3.1',
    cni: 'flannel',
    tunnelAddress: '10.244.3.0',
    tunnelMac: '66:1a:77:00:00:13',
    labels: nodeLabels('lab-node-3', { [ZONE_LABEL]: 'lab-zone-b' }),
  },
];

const HTTP_PORT: LabContainerPort[] = [{ name: 'http', containerPort: 8080, protocol: 'TCP' }];

function appPod(name: string, namespace: string, nodeName: string, ip: string, labels: Record<string, string>, ports: LabContainerPort[], program: PodProgram): PodSpec {
  return {
    name,
    namespace,
    nodeName,
    hostNetwork: false,
    ip,
    labels,
    containerName: Object.values(labels)[0] ?? name,
    image: program === 'sleep' ? 'docker.io/library/busybox:1.36' : 'registry.k8s.io/e2e-test-images/agnhost:2.47',
    ports,
    program,
    qosClass: 'besteffort',
    dnsPolicy: 'ClusterFirst',
  };
}

function hostNetworkPod(name: string, nodeName: string, labels: Record<string, string>, containerName: string, image: string, qosClass: QosClass): PodSpec {
  return {
    name,
    namespace: 'kube-system',
    nodeName,
    hostNetwork: true,
    ip: null,
    labels,
    containerName,
    image,
    ports: [],
    program: 'sleep',
    qosClass,
    dnsPolicy: 'ClusterFirst',
  };
}

export const LAB_PODS: readonly PodSpec[] = [
  appPod('web-1', 'default', 'lab-node-1', '10.244.1.1', { app: 'web' }, HTTP_PORT, 'http'),
  appPod('web-2', 'default', 'lab-node-2', '10.244.2.1', { app: 'web' }, HTTP_PORT, 'http'),
  appPod('web-3', 'default', 'lab-node-3', '10.244.3.2', { app: 'web' }, HTTP_PORT, 'http'),
  appPod('api-1', 'team-a', 'lab-node-2', '10.244.2.2', { app: 'api' }, [{ name: 'api', containerPort: 9090, protocol: 'TCP' }], 'http'),
  appPod('client-1', 'team-b', 'lab-node-3', '10.244.3.3', { app: 'client' }, [], 'sleep'),
  // Serves on its port but fails readiness (a peer still joining): only publishNotReadyAddresses publishes it.
  { ...appPod('peer-0', 'default', 'lab-node-3', '10.244.3.4', { app: 'peer' }, HTTP_PORT, 'http'), ready: false },
  {
    name: 'coredns-6d4b75cb6d-lab01',
    namespace: 'kube-system',
    nodeName: 'lab-node-1',
    hostNetwork: false,
    ip: '10.244.1.2',
    labels: { 'k8s-app': 'kube-dns', 'pod-template-hash': '6d4b75cb6d' },
    containerName: 'coredns',
    image: 'registry.k8s.io/coredns/coredns:v1.11.1',
    ports: [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
    ],
    program: 'coredns',
    qosClass: 'burstable',
    dnsPolicy: 'Default',
  },
  hostNetworkPod('kube-proxy-4xk2p', 'lab-node-1', { 'k8s-app': 'kube-proxy' }, 'kube-proxy', 'registry.k8s.io/kube-proxy:v1.31.0', 'besteffort'),
  hostNetworkPod('kube-proxy-9tq7m', 'lab-node-2', { 'k8s-app': 'kube-proxy' }, 'kube-proxy', 'registry.k8s.io/kube-proxy:v1.31.0', 'besteffort'),
  hostNetworkPod('kube-proxy-zr8wd', 'lab-node-3', { 'k8s-app': 'kube-proxy' }, 'kube-proxy', 'registry.k8s.io/kube-proxy:v1.31.0', 'besteffort'),
  hostNetworkPod('calico-node-h2x9k', 'lab-node-1', { 'k8s-app': 'calico-node' }, 'calico-node', 'docker.io/calico/node:v3.28.0', 'burstable'),
  hostNetworkPod('calico-node-p7m4c', 'lab-node-2', { 'k8s-app': 'calico-node' }, 'calico-node', 'docker.io/calico/node:v3.28.0', 'burstable'),
  hostNetworkPod('kube-flannel-ds-q5n8v', 'lab-node-3', { app: 'flannel', 'k8s-app': 'flannel', tier: 'node' }, 'kube-flannel', 'docker.io/flannel/flannel:v0.25.5', 'burstable'),
];

export const LAB_SERVICES: readonly LabService[] = [
  { name: 'kubernetes', namespace: 'default', type: 'ClusterIP', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: KUBE_API_PORT, protocol: 'TCP' }], selector: null },
  { name: 'web', namespace: 'default', type: 'ClusterIP', clusterIP: '10.96.100.10', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'web' } },
  { name: 'web-nodeport', namespace: 'default', type: 'NodePort', clusterIP: '10.96.100.11', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }], selector: { app: 'web' } },
  { name: 'empty', namespace: 'default', type: 'ClusterIP', clusterIP: '10.96.100.12', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'nothing' } },
  { name: 'api', namespace: 'team-a', type: 'ClusterIP', clusterIP: '10.96.100.20', ports: [{ name: 'api', port: 9090, targetPort: 9090, protocol: 'TCP' }], selector: { app: 'api' } },
  {
    name: 'kube-dns',
    namespace: 'kube-system',
    type: 'ClusterIP',
    clusterIP: DNS_SERVICE_IP,
    ports: [
      { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, targetPort: 53, protocol: 'TCP' },
      { name: 'metrics', port: 9153, targetPort: 9153, protocol: 'TCP' },
    ],
    selector: { 'k8s-app': 'kube-dns' },
  },
  // Service shapes kube-proxy programs differently (issue 15); each is traced on every node.
  // ClientIP affinity, several ports: a named targetPort and a UDP port.
  {
    name: 'sticky',
    namespace: 'default',
    type: 'ClusterIP',
    clusterIP: '10.96.100.30',
    ports: [
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'echo-udp', port: 5353, targetPort: 8080, protocol: 'UDP' },
      { name: 'echo-sctp', port: 9999, targetPort: 8080, protocol: 'SCTP' },
    ],
    selector: { app: 'web' },
    sessionAffinityTimeout: 600,
  },
  // A LoadBalancer with externalTrafficPolicy Local: its one endpoint runs on lab-node-2 only.
  {
    name: 'api-public',
    namespace: 'team-a',
    type: 'LoadBalancer',
    clusterIP: '10.96.100.21',
    ports: [{ name: 'api', port: 9090, targetPort: 'api', protocol: 'TCP', nodePort: 30090 }],
    selector: { app: 'api' },
    externalTrafficPolicy: 'Local',
    healthCheckNodePort: 32090,
    externalIPs: ['192.168.77.241'],
    loadBalancerIngress: ['192.168.77.240'],
    loadBalancerSourceRanges: ['192.168.77.0/24'],
  },
  // internalTrafficPolicy Local: each node sends ClusterIP traffic to its own web pod only.
  { name: 'web-local', namespace: 'default', type: 'ClusterIP', clusterIP: '10.96.100.32', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'web' }, internalTrafficPolicy: 'Local' },
  // No selector: a hand-made EndpointSlice with one ready and one terminating endpoint.
  {
    name: 'legacy-db',
    namespace: 'default',
    type: 'ClusterIP',
    clusterIP: '10.96.100.31',
    ports: [{ name: 'db', port: 5432, targetPort: 9090, protocol: 'TCP' }],
    selector: null,
    manualEndpoints: [
      { ip: '10.244.2.2', nodeName: 'lab-node-2', ready: true, serving: true, terminating: false },
      { ip: '10.244.1.1', nodeName: 'lab-node-1', ready: false, serving: true, terminating: true },
    ],
  },
  // trafficDistribution PreferClose: the slice hints each endpoint for its zone, so kube-proxy on
  // lab-zone-a nodes programs web-1 and web-2 only, on lab-zone-b web-3 only.
  { name: 'web-zonal', namespace: 'default', type: 'ClusterIP', clusterIP: '10.96.100.33', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'web' }, trafficDistribution: 'PreferClose' },
  // publishNotReadyAddresses: peer-0 fails readiness, yet the slice says ready and kube-proxy DNATs to it.
  { name: 'peer-discovery', namespace: 'default', type: 'ClusterIP', clusterIP: '10.96.100.34', ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'peer' }, publishNotReadyAddresses: true },
  // No kube-proxy rules by design: headless and ExternalName (DNS answers them).
  { name: 'web-headless', namespace: 'default', type: 'ClusterIP', clusterIP: 'None', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'web' } },
  { name: 'external-db', namespace: 'default', type: 'ExternalName', clusterIP: '', ports: [], selector: null, externalName: 'db.example.test' },
];

export const LAB_NAMESPACES: readonly string[] = ['default', 'kube-node-lease', 'kube-public', 'kube-system', 'team-a', 'team-b'];

/**
 * Labels of the lab's namespaces besides kubernetes.io/metadata.name (which the API server always
 * sets), so NetworkPolicy namespaceSelectors have something to select: team-a and team-b carry a
 * team, default and team-a are "prod", team-b is "dev"; kube-system has none of them.
 */
export const LAB_NAMESPACE_LABELS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  default: { env: 'prod' },
  'team-a': { team: 'a', env: 'prod' },
  'team-b': { team: 'b', env: 'dev' },
};

/** kubeadm's default Corefile (CoreDNS forwards to the node's /etc/resolv.conf). */
export function buildCorefile(clusterDomain: string): string {
  return [
    '.:53 {',
    '    errors',
    '    health {',
    '       lameduck 5s',
    '    }',
    '    ready',
    `    kubernetes ${clusterDomain} in-addr.arpa ip6.arpa {`,
    '       pods insecure',
    '       fallthrough in-addr.arpa ip6.arpa',
    '       ttl 30',
    '    }',
    '    prometheus :9153',
    '    forward . /etc/resolv.conf {',
    '       max_concurrent 1000',
    '    }',
    '    cache 30',
    '    loop',
    '    reload',
    '    loadbalance',
    '}',
    '',
  ].join('\n');
}

/** The ConfigMaps a diagnosis reads: CoreDNS's Corefile, kube-proxy's config, the CNI settings. */
export function buildLabConfigMaps(nftNodes: readonly string[]): LabConfigMap[] {
  const corefile = buildCorefile(CLUSTER_DOMAIN);
  const kubeProxyConfig = [
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
    'kind: KubeProxyConfiguration',
    `clusterCIDR: ${CLUSTER_CIDR}`,
    'mode: iptables',
    'iptables:',
    '  masqueradeAll: false',
    '  masqueradeBit: 14',
    '  minSyncPeriod: 1s',
    '  syncPeriod: 30s',
    '',
  ].join('\n');
  const maps: LabConfigMap[] = [
    { name: 'coredns', namespace: 'kube-system', data: { Corefile: corefile } },
    { name: 'kube-proxy', namespace: 'kube-system', data: { 'config.conf': kubeProxyConfig } },
    { name: 'calico-config', namespace: 'kube-system', data: { veth_mtu: String(POD_MTU), calico_backend: 'vxlan', typha_service_name: 'none' } },
    {
      name: 'kube-flannel-cfg',
      namespace: 'kube-flannel',
      data: {
        'net-conf.json': JSON.stringify({ Network: CLUSTER_CIDR, Backend: { Type: 'vxlan', DirectRouting: true } }, null, 2) + '\n',
        'cni-conf.json': buildFlannelConflist() + '\n',
      },
    },
  ];
  if (nftNodes.length > 0) {
    // kube-proxy reads one config per DaemonSet; the lab notes which nodes run nftables mode.
    maps.push({ name: 'kube-proxy-nftables', namespace: 'kube-system', data: { 'config.conf': kubeProxyConfig.replace('mode: iptables', 'mode: nftables'), nodes: nftNodes.join(',') } });
  }
  return maps;
}

export function buildFlannelConflist(): string {
  return JSON.stringify(
    {
      name: 'cbr0',
      cniVersion: '0.3.1',
      plugins: [
        { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export function buildCalicoConflist(nodeName: string): string {
  return JSON.stringify(
    {
      name: 'k8s-pod-network',
      cniVersion: '0.3.1',
      plugins: [
        {
          type: 'calico',
          log_level: 'info',
          datastore_type: 'kubernetes',
          nodename: nodeName,
          mtu: POD_MTU,
          ipam: { type: 'calico-ipam' },
          policy: { type: 'k8s' },
          kubernetes: { kubeconfig: '/etc/cni/net.d/calico-kubeconfig' },
        },
        { type: 'portmap', snat: true, capabilities: { portMappings: true } },
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ],
    },
    null,
    2,
  );
}

/** Calico's workload endpoint interface name: "cali" + first 11 hex chars of sha1("<ns>.<pod>"). */
export function calicoVethName(namespace: string, podName: string): string {
  return 'cali' + createHash('sha1').update(`${namespace}.${podName}`).digest('hex').slice(0, 11);
}

export function podNetnsName(pod: Pick<PodSpec, 'name'>): string {
  return `${LAB_NETNS_PREFIX}pod-${pod.name}`;
}

export function findNodeSpec(name: string): NodeSpec {
  const node = LAB_NODES.find((n) => n.name === name);
  if (!node) throw new Error(`no lab node named ${name}`);
  return node;
}

/** "10.244.1.0/24" -> "10.244.1.0" */
export function cidrAddress(cidr: string): string {
  return cidr.split('/')[0] ?? cidr;
}
