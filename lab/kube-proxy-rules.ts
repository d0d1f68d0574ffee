// kube-proxy's rules for the lab's Services, written the way kube-proxy writes them, so the
// kernel really DNATs and the diagnosis reads a realistic layout:
// - iptables mode (kube-proxy 1.29+ layout, cf. realdata/iptables/flannel-kubeadm-v1.29-master-full.txt):
//   KUBE-SERVICES -> KUBE-SVC-<hash> (statistic splits) -> KUBE-SEP-<hash> (hairpin masq + DNAT),
//   KUBE-NODEPORTS -> KUBE-EXT-<hash>, KUBE-POSTROUTING masquerade on mark 0x4000;
// - nftables mode (kube-proxy 1.31 `ip kube-proxy` table): service-ips map -> service-<hash>-ns/svc/proto/port
//   -> endpoint-<hash>-...__ip/port chains.
// The CNI's own NAT/forward rules (Calico natOutgoing, flannel FLANNEL-POSTRTG) live in the same
// iptables tables, so one builder renders a node's whole tables for a full `iptables-restore`.
// Pure functions: no I/O.
import { createHash } from 'node:crypto';
import type { LabNode, LabPod, LabService, LabServicePort, LabState } from './lab-state.js';

export interface ServiceEndpoint {
  ip: string;
  port: number;
  podName: string | null; // null for the apiserver endpoint of default/kubernetes
  nodeName: string | null;
  ready: boolean;
}

export interface ServicePortEndpoints {
  service: LabService;
  port: LabServicePort;
  endpoints: ServiceEndpoint[]; // ready endpoints, sorted by IP as kube-proxy's endpoint cache orders them
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Go's base32.StdEncoding (with padding, which the callers truncate away anyway). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

function sha256Base32(text: string): string {
  return base32Encode(createHash('sha256').update(text).digest());
}

/** proxy.ServicePortName.String(): "ns/name:port", or "ns/name" when the port is unnamed. */
export function servicePortNameString(service: Pick<LabService, 'namespace' | 'name'>, port: Pick<LabServicePort, 'name'>): string {
  const base = `${service.namespace}/${service.name}`;
  return port.name ? `${base}:${port.name}` : base;
}

function protocolLower(port: Pick<LabServicePort, 'protocol'>): string {
  return port.protocol.toLowerCase();
}

/** kube-proxy iptables portProtoHash: first 16 chars of base32(sha256(servicePortName + protocol)). */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return sha256Base32(servicePortName + protocol).slice(0, 16);
}

export function servicePortChainName(servicePortName: string, protocol: string): string {
  return `KUBE-SVC-${portProtoHash(servicePortName, protocol)}`;
}

export function serviceExternalChainName(servicePortName: string, protocol: string): string {
  return `KUBE-EXT-${portProtoHash(servicePortName, protocol)}`;
}

/** KUBE-SEP-: base32(sha256(servicePortName + protocol + "ip:port")) first 16 chars. */
export function servicePortEndpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${sha256Base32(servicePortName + protocol + endpoint).slice(0, 16)}`;
}

/** kube-proxy nftables hashAndTruncate: "<8 base32 chars>-<name>", cut to 200 chars. */
export function nftHashAndTruncate(name: string): string {
  const full = `${sha256Base32(name).slice(0, 8)}-${name}`;
  return full.length > 200 ? `${full.slice(0, 197)}...` : full;
}

export function nftServiceChainBase(service: Pick<LabService, 'namespace' | 'name'>, port: LabServicePort): string {
  return nftHashAndTruncate(`${service.namespace}/${service.name}/${protocolLower(port)}/${port.name ?? ''}`);
}

export function nftEndpointChainName(service: Pick<LabService, 'namespace' | 'name'>, port: LabServicePort, endpoint: ServiceEndpoint): string {
  const base = `${service.namespace}/${service.name}/${protocolLower(port)}/${port.name ?? ''}__${endpoint.ip}/${endpoint.port}`;
  return `endpoint-${nftHashAndTruncate(base)}`;
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function resolveTargetPort(pod: LabPod, port: LabServicePort): number | null {
  if (typeof port.targetPort === 'number') return port.targetPort;
  const named = pod.ports.find((p) => p.name === port.targetPort && p.protocol === port.protocol);
  return named ? named.containerPort : null;
}

function ipSortKey(ip: string): string {
  return ip
    .split('.')
    .map((octet) => octet.padStart(3, '0'))
    .join('.');
}

/**
 * The endpoints kube-proxy would program for each Service port: pods selected by the Service
 * that are ready; default/kubernetes (no selector) points at the control-plane node's :6443.
 */
export function buildServiceEndpoints(state: Pick<LabState, 'services' | 'pods' | 'nodes'>): ServicePortEndpoints[] {
  const result: ServicePortEndpoints[] = [];
  for (const service of state.services) {
    for (const port of service.ports) {
      const endpoints: ServiceEndpoint[] = [];
      if (service.selector === null) {
        if (service.namespace === 'default' && service.name === 'kubernetes') {
          const controlPlane = state.nodes.find((n) => 'node-role.kubernetes.io/control-plane' in n.labels) ?? state.nodes[0];
          if (controlPlane) {
            endpoints.push({ ip: controlPlane.internalIP, port: typeof port.targetPort === 'number' ? port.targetPort : 6443, podName: null, nodeName: controlPlane.name, ready: true });
          }
        }
      } else {
        const selector = service.selector;
        for (const pod of state.pods) {
          if (pod.namespace !== service.namespace || !pod.ready || !labelsMatch(selector, pod.labels)) continue;
          const targetPort = resolveTargetPort(pod, port);
          if (targetPort === null) continue;
          endpoints.push({ ip: pod.ip, port: targetPort, podName: pod.name, nodeName: pod.nodeName, ready: true });
        }
      }
      endpoints.sort((a, b) => (ipSortKey(a.ip) < ipSortKey(b.ip) ? -1 : ipSortKey(a.ip) > ipSortKey(b.ip) ? 1 : a.port - b.port));
      result.push({ service, port, endpoints });
    }
  }
  return result;
}

export interface RuleBuildOptions {
  clusterCIDR: string;
  omitServices?: readonly string[]; // "ns/name": rules left out, as when kube-proxy missed them
}

/** kube-proxy's computeProbability: "%0.10f" of 1/n. */
function probability(n: number): string {
  return (1 / n).toFixed(10);
}

function isOmitted(service: LabService, options: RuleBuildOptions): boolean {
  return (options.omitServices ?? []).includes(`${service.namespace}/${service.name}`);
}

interface IptablesTables {
  mangle: { chains: string[]; rules: string[] };
  filter: { chains: string[]; rules: string[] };
  nat: { chains: string[]; rules: string[] };
}

function emptyTables(): IptablesTables {
  return { mangle: { chains: [], rules: [] }, filter: { chains: [], rules: [] }, nat: { chains: [], rules: [] } };
}

/** Chains kubelet creates whatever the proxy mode (KUBE-FIREWALL, canaries, the backend hint). */
function addKubeletRules(t: IptablesTables): void {
  t.mangle.chains.push('KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY');
  t.filter.chains.push('KUBE-FIREWALL', 'KUBE-KUBELET-CANARY');
  t.nat.chains.push('KUBE-KUBELET-CANARY');
  t.filter.rules.push(
    '-A INPUT -j KUBE-FIREWALL',
    '-A OUTPUT -j KUBE-FIREWALL',
    '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
  );
}

function matchProto(port: LabServicePort): string {
  const p = protocolLower(port);
  return `-p ${p}`;
}

function matchDport(port: LabServicePort, portNumber: number): string {
  const p = protocolLower(port);
  return `-m ${p} --dport ${portNumber}`;
}

/** kube-proxy iptables mode rules (mangle canary, filter, nat) for one node. */
function addKubeProxyIptablesRules(t: IptablesTables, state: Pick<LabState, 'services' | 'pods' | 'nodes'>, options: RuleBuildOptions): void {
  const cidr = options.clusterCIDR;
  t.mangle.chains.push('KUBE-PROXY-CANARY');
  t.filter.chains.push('KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-CANARY', 'KUBE-PROXY-FIREWALL', 'KUBE-SERVICES');
  t.nat.chains.push('KUBE-MARK-MASQ', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-PROXY-CANARY', 'KUBE-SERVICES');

  // Jumps from the built-in chains, inserted by kube-proxy ahead of other rules.
  t.filter.rules.unshift(
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  );
  t.filter.rules.push(
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );
  t.nat.rules.push(
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  );

  const serviceRules: string[] = [];
  const nodePortRules: string[] = [];
  const chainRules: string[] = [];
  for (const { service, port, endpoints } of buildServiceEndpoints(state)) {
    if (isOmitted(service, options)) continue;
    const spn = servicePortNameString(service, port);
    const proto = protocolLower(port);
    const dst = `-d ${service.clusterIP}/32`;
    if (endpoints.length === 0) {
      t.filter.rules.push(`-A KUBE-SERVICES ${dst} ${matchProto(port)} -m comment --comment "${spn} has no endpoints" ${matchDport(port, port.port)} -j REJECT --reject-with icmp-port-unreachable`);
      if (port.nodePort !== undefined) {
        t.filter.rules.push(`-A KUBE-EXTERNAL-SERVICES -m addrtype --dst-type LOCAL ${matchProto(port)} -m comment --comment "${spn} has no endpoints" ${matchDport(port, port.nodePort)} -j REJECT --reject-with icmp-port-unreachable`);
      }
      continue;
    }
    const svcChain = servicePortChainName(spn, proto);
    t.nat.chains.push(svcChain);
    serviceRules.push(`-A KUBE-SERVICES ${dst} ${matchProto(port)} -m comment --comment "${spn} cluster IP" ${matchDport(port, port.port)} -j ${svcChain}`);
    chainRules.push(`-A ${svcChain} ! -s ${cidr} ${dst} ${matchProto(port)} -m comment --comment "${spn} cluster IP" ${matchDport(port, port.port)} -j KUBE-MARK-MASQ`);
    if (port.nodePort !== undefined) {
      const extChain = serviceExternalChainName(spn, proto);
      t.nat.chains.push(extChain);
      nodePortRules.push(`-A KUBE-NODEPORTS ${matchProto(port)} -m comment --comment "${spn}" ${matchDport(port, port.nodePort)} -j ${extChain}`);
      chainRules.push(`-A ${extChain} -m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`);
      chainRules.push(`-A ${extChain} -j ${svcChain}`);
    }
    endpoints.forEach((ep, i) => {
      const epString = `${ep.ip}:${ep.port}`;
      const sepChain = servicePortEndpointChainName(spn, proto, epString);
      t.nat.chains.push(sepChain);
      const remaining = endpoints.length - i;
      const split = remaining > 1 ? ` -m statistic --mode random --probability ${probability(remaining)}` : '';
      chainRules.push(`-A ${svcChain} -m comment --comment "${spn} -> ${epString}"${split} -j ${sepChain}`);
      chainRules.push(`-A ${sepChain} -s ${ep.ip}/32 -m comment --comment "${spn}" -j KUBE-MARK-MASQ`);
      chainRules.push(`-A ${sepChain} ${matchProto(port)} -m comment --comment "${spn}" -m ${proto} -j DNAT --to-destination ${epString}`);
    });
  }
  t.nat.rules.push(...serviceRules);
  // kube-proxy with no --nodeport-addresses: NodePorts on every local address, always the last rule.
  t.nat.rules.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  t.nat.rules.push(...nodePortRules, ...chainRules);
}

/** The CNI's own rules: Calico natOutgoing, or flannel's FLANNEL-POSTRTG / FLANNEL-FWD. */
function addCniRules(t: IptablesTables, node: LabNode, clusterCIDR: string): void {
  if (node.cni === 'calico') {
    // Felix matches ipsets (cali40masq-ipam-pools); the lab has no ipset, so the pool is a CIDR.
    t.nat.chains.push('cali-POSTROUTING', 'cali-nat-outgoing');
    t.nat.rules.push(
      '-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
      '-A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing',
      `-A cali-nat-outgoing -s ${clusterCIDR} ! -d ${clusterCIDR} -m comment --comment "cali:flqWnvo8yq4ULQLa" -j MASQUERADE --random-fully`,
    );
    t.filter.chains.push('cali-FORWARD');
    t.filter.rules.push(
      '-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD',
      `-A cali-FORWARD -s ${clusterCIDR} -m comment --comment "cali:lab-pool-egress" -j ACCEPT`,
      `-A cali-FORWARD -d ${clusterCIDR} -m comment --comment "cali:lab-pool-ingress" -j ACCEPT`,
    );
  } else {
    const subnet = node.podCIDR;
    t.nat.chains.push('FLANNEL-POSTRTG');
    t.nat.rules.push(
      '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
      '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
      `-A FLANNEL-POSTRTG -s ${subnet} -d ${clusterCIDR} -m comment --comment "flanneld masq" -j RETURN`,
      `-A FLANNEL-POSTRTG -s ${clusterCIDR} -d ${subnet} -m comment --comment "flanneld masq" -j RETURN`,
      `-A FLANNEL-POSTRTG ! -s ${clusterCIDR} -d ${subnet} -m comment --comment "flanneld masq" -j RETURN`,
      `-A FLANNEL-POSTRTG -s ${clusterCIDR} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully`,
      `-A FLANNEL-POSTRTG ! -s ${clusterCIDR} -d ${clusterCIDR} -m comment --comment "flanneld masq" -j MASQUERADE --random-fully`,
    );
    t.filter.chains.push('FLANNEL-FWD');
    t.filter.rules.push(
      '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
      `-A FLANNEL-FWD -s ${clusterCIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
      `-A FLANNEL-FWD -d ${clusterCIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
    );
  }
}

const BUILTIN_CHAINS: Record<keyof IptablesTables, string[]> = {
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};

function renderTables(t: IptablesTables): string {
  const lines: string[] = [];
  for (const table of ['mangle', 'filter', 'nat'] as const) {
    lines.push(`*${table}`);
    for (const chain of BUILTIN_CHAINS[table]) lines.push(`:${chain} ACCEPT [0:0]`);
    for (const chain of [...new Set(t[table].chains)].sort()) lines.push(`:${chain} - [0:0]`);
    lines.push(...t[table].rules, 'COMMIT');
  }
  return lines.join('\n') + '\n';
}

/**
 * A node's complete mangle/filter/nat tables for `iptables-restore` (no --noflush: the tables are
 * replaced whole, so restoring after a fault is exact). kube-proxy's chains are included when the
 * node runs kube-proxy in iptables mode.
 */
export function buildNodeIptablesRestore(state: Pick<LabState, 'services' | 'pods' | 'nodes' | 'clusterCIDR'>, node: LabNode, omitServices: readonly string[] = []): string {
  const t = emptyTables();
  if (node.kubeProxyMode === 'iptables') addKubeProxyIptablesRules(t, state, { clusterCIDR: state.clusterCIDR, omitServices });
  addKubeletRules(t);
  addCniRules(t, node, state.clusterCIDR);
  return renderTables(t);
}

/** kube-proxy 1.31 nftables mode: the `ip kube-proxy` table as one `nft -f` transaction. */
export function buildKubeProxyNftRuleset(state: Pick<LabState, 'services' | 'pods' | 'nodes' | 'clusterCIDR' | 'serviceCIDR'>, node: LabNode, omitServices: readonly string[] = []): string {
  const options: RuleBuildOptions = { clusterCIDR: state.clusterCIDR, omitServices };
  const T = 'ip kube-proxy';
  const lines: string[] = [
    // Replace the table atomically: create-if-missing, delete, then rebuild in the same transaction.
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T} { comment "rules for kube-proxy" ; }`,
    `add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
    `add set ${T} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`,
    `add map ${T} firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
    `add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add map ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    `add chain ${T} cluster-ips-check`,
    `add chain ${T} filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }`,
    `add chain ${T} filter-output-pre-dnat { type filter hook output priority -110 ; }`,
    `add chain ${T} filter-forward { type filter hook forward priority 0 ; }`,
    `add chain ${T} filter-input { type filter hook input priority 0 ; }`,
    `add chain ${T} filter-output { type filter hook output priority 0 ; }`,
    `add chain ${T} firewall-check`,
    `add chain ${T} mark-for-masquerade`,
    `add chain ${T} masquerading`,
    `add chain ${T} nat-output { type nat hook output priority -100 ; }`,
    `add chain ${T} nat-postrouting { type nat hook postrouting priority 100 ; }`,
    `add chain ${T} nat-prerouting { type nat hook prerouting priority -100 ; }`,
    `add chain ${T} nodeport-endpoints-check`,
    `add chain ${T} reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`,
    `add chain ${T} services`,
    `add chain ${T} service-endpoints-check`,
    `add rule ${T} cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`,
    `add rule ${T} cluster-ips-check ip daddr { ${state.serviceCIDR} } drop comment "Drop traffic to unallocated ClusterIPs"`,
    `add rule ${T} filter-prerouting-pre-dnat ct state new jump firewall-check`,
    `add rule ${T} filter-forward ct state new jump service-endpoints-check`,
    `add rule ${T} filter-forward ct state new jump cluster-ips-check`,
    `add rule ${T} filter-input ct state new jump nodeport-endpoints-check`,
    `add rule ${T} filter-input ct state new jump service-endpoints-check`,
    `add rule ${T} filter-output ct state new jump service-endpoints-check`,
    `add rule ${T} filter-output-pre-dnat ct state new jump firewall-check`,
    `add rule ${T} filter-output ct state new jump cluster-ips-check`,
    `add rule ${T} firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips`,
    `add rule ${T} mark-for-masquerade mark set mark or 0x4000`,
    `add rule ${T} masquerading mark and 0x4000 == 0 return`,
    `add rule ${T} masquerading mark set mark xor 0x4000`,
    `add rule ${T} masquerading masquerade fully-random`,
    `add rule ${T} nat-output jump services`,
    `add rule ${T} nat-postrouting jump masquerading`,
    `add rule ${T} nat-prerouting jump services`,
    `add rule ${T} nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`,
    `add rule ${T} reject-chain reject`,
    `add rule ${T} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add rule ${T} services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`,
    `add element ${T} nodeport-ips { ${node.internalIP} }`,
    `add rule ${T} service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services`,
  ];
  for (const { service, port, endpoints } of buildServiceEndpoints(state)) {
    if (isOmitted(service, options)) continue;
    const proto = protocolLower(port);
    const spn = servicePortNameString(service, port);
    lines.push('', `# ${spn}`);
    lines.push(`add element ${T} cluster-ips { ${service.clusterIP} }`);
    if (endpoints.length === 0) {
      lines.push(`add element ${T} no-endpoint-services { ${service.clusterIP} . ${proto} . ${port.port} comment "${spn}" : goto reject-chain }`);
      if (port.nodePort !== undefined) lines.push(`add element ${T} no-endpoint-nodeports { ${proto} . ${port.nodePort} comment "${spn}" : goto reject-chain }`);
      continue;
    }
    const base = nftServiceChainBase(service, port);
    const svcChain = `service-${base}`;
    // Chains first: a vmap/goto may only name a chain that already exists in the transaction.
    lines.push(`add chain ${T} ${svcChain}`);
    for (const ep of endpoints) lines.push(`add chain ${T} ${nftEndpointChainName(service, port, ep)}`);
    lines.push(`add rule ${T} ${svcChain} ip daddr ${service.clusterIP} ip saddr != ${options.clusterCIDR} jump mark-for-masquerade`);
    const vmap = endpoints.map((ep, i) => `${i} : goto ${nftEndpointChainName(service, port, ep)}`).join(' , ');
    lines.push(`add rule ${T} ${svcChain} numgen random mod ${endpoints.length} vmap { ${vmap} }`);
    if (port.nodePort !== undefined) {
      const extChain = `external-${base}`;
      lines.push(`add chain ${T} ${extChain}`);
      lines.push(`add rule ${T} ${extChain} jump mark-for-masquerade`);
      lines.push(`add rule ${T} ${extChain} goto ${svcChain}`);
      lines.push(`add element ${T} service-nodeports { ${proto} . ${port.nodePort} : goto ${extChain} }`);
    }
    for (const ep of endpoints) {
      const epChain = nftEndpointChainName(service, port, ep);
      lines.push(`add rule ${T} ${epChain} ip saddr ${ep.ip} jump mark-for-masquerade`);
      lines.push(`add rule ${T} ${epChain} meta l4proto ${proto} dnat to ${ep.ip}:${ep.port}`);
    }
    lines.push(`add element ${T} service-ips { ${service.clusterIP} . ${proto} . ${port.port} : goto ${svcChain} }`);
  }
  return lines.join('\n') + '\n';
}
