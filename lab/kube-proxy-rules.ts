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
import { ZONE_LABEL } from './lab-topology.js';
import { buildCalicoFilterChains, CALICO_FORWARD_RULES, renderChainRules, worldOf } from './calico-policy.js';

export interface ServiceEndpoint {
  ip: string;
  port: number;
  podName: string | null; // null for the apiserver endpoint of default/kubernetes
  nodeName: string | null;
  ready: boolean;
  zoneHints: string[]; // the slice's hints.forZones (trafficDistribution PreferClose)
}

export interface ServicePortEndpoints {
  service: LabService;
  port: LabServicePort;
  endpoints: ServiceEndpoint[]; // ready endpoints (else serving terminating ones), sorted by IP as kube-proxy's endpoint cache orders them
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

export function serviceLocalChainName(servicePortName: string, protocol: string): string {
  return `KUBE-SVL-${portProtoHash(servicePortName, protocol)}`;
}

export function serviceFirewallChainName(servicePortName: string, protocol: string): string {
  return `KUBE-FW-${portProtoHash(servicePortName, protocol)}`;
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
  return `endpoint-${nftEndpointBase(service, port, endpoint)}`;
}

/** kube-proxy nftables names the endpoint chain and its affinity set from the same hash. */
function nftEndpointBase(service: Pick<LabService, 'namespace' | 'name'>, port: LabServicePort, endpoint: ServiceEndpoint): string {
  return nftHashAndTruncate(`${service.namespace}/${service.name}/${protocolLower(port)}/${port.name ?? ''}__${endpoint.ip}/${endpoint.port}`);
}

/** Services kube-proxy writes no rules for: headless (clusterIP None) and ExternalName. */
export function hasProxyRules(service: Pick<LabService, 'type' | 'clusterIP'>): boolean {
  return service.type !== 'ExternalName' && service.clusterIP !== 'None' && service.clusterIP !== '';
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
    if (!hasProxyRules(service)) continue;
    for (const port of service.ports) {
      const endpoints: ServiceEndpoint[] = [];
      if (service.selector === null && service.manualEndpoints !== undefined) {
        // A hand-made EndpointSlice: kube-proxy takes the ready endpoints, and only when there
        // are none the serving terminating ones (graceful termination fallback).
        const ready = service.manualEndpoints.filter((e) => e.ready);
        const chosen = ready.length > 0 ? ready : service.manualEndpoints.filter((e) => e.serving && e.terminating);
        const targetPort = typeof port.targetPort === 'number' ? port.targetPort : null;
        if (targetPort !== null) for (const e of chosen) endpoints.push({ ip: e.ip, port: targetPort, podName: null, nodeName: e.nodeName, ready: e.ready, zoneHints: [] });
      } else if (service.selector === null) {
        if (service.namespace === 'default' && service.name === 'kubernetes') {
          const controlPlane = state.nodes.find((n) => 'node-role.kubernetes.io/control-plane' in n.labels) ?? state.nodes[0];
          if (controlPlane) {
            endpoints.push({ ip: controlPlane.internalIP, port: typeof port.targetPort === 'number' ? port.targetPort : 6443, podName: null, nodeName: controlPlane.name, ready: true, zoneHints: [] });
          }
        }
      } else {
        const selector = service.selector;
        for (const pod of state.pods) {
          // publishNotReadyAddresses: the EndpointSlice controller marks a not-ready pod ready
          const ready = pod.ready || service.publishNotReadyAddresses === true;
          if (pod.namespace !== service.namespace || !ready || !labelsMatch(selector, pod.labels)) continue;
          const targetPort = resolveTargetPort(pod, port);
          if (targetPort === null) continue;
          const zone = state.nodes.find((n) => n.name === pod.nodeName)?.labels[ZONE_LABEL];
          const zoneHints = zone && service.trafficDistribution === 'PreferClose' ? [zone] : [];
          endpoints.push({ ip: pod.ip, port: targetPort, podName: pod.name, nodeName: pod.nodeName, ready: true, zoneHints });
        }
      }
      endpoints.sort((a, b) => (ipSortKey(a.ip) < ipSortKey(b.ip) ? -1 : ipSortKey(a.ip) > ipSortKey(b.ip) ? 1 : a.port - b.port));
      result.push({ service, port, endpoints });
    }
  }
  return result;
}

/**
 * How kube-proxy masquerades ClusterIP traffic: 'cluster-cidr' (--cluster-cidr given: traffic from
 * outside the pod range, `! -s CIDR -j KUBE-MARK-MASQ`), 'all' (--masquerade-all: every packet),
 * 'none' (neither: no masquerade rule in the service chain).
 */
export type KubeProxyMasquerade = 'cluster-cidr' | 'all' | 'none';

export interface RuleBuildOptions {
  clusterCIDR: string;
  masquerade?: KubeProxyMasquerade; // 'cluster-cidr' unless said
  omitServices?: readonly string[]; // "ns/name": rules left out, as when kube-proxy missed them
}

/**
 * The endpoints kube-proxy's Cluster policy uses on this node (pkg/proxy/topology.go
 * CategorizeEndpoints): when every ready endpoint carries zone hints and one is hinted for the
 * node's zone, only those hinted for the zone; otherwise all of them.
 */
export function topologyFilteredEndpoints(endpoints: readonly ServiceEndpoint[], node: Pick<LabNode, 'labels'>): ServiceEndpoint[] {
  const zone = node.labels[ZONE_LABEL] ?? '';
  const ready = endpoints.filter((e) => e.ready);
  const useZone = ready.length > 0 && ready.every((e) => e.zoneHints.length > 0) && ready.some((e) => e.zoneHints.includes(zone));
  return useZone ? endpoints.filter((e) => e.zoneHints.includes(zone)) : [...endpoints];
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
function addKubeProxyIptablesRules(t: IptablesTables, state: Pick<LabState, 'services' | 'pods' | 'nodes'>, node: LabNode, options: RuleBuildOptions): void {
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

  const out: ServiceRuleLines = { services: [], nodePorts: [], chains: [] };
  for (const spe of buildServiceEndpoints(state)) {
    if (isOmitted(spe.service, options)) continue;
    addServicePortIptablesRules(t, out, spe, node, cidr, options.masquerade ?? 'cluster-cidr');
  }
  t.nat.rules.push(...out.services);
  // kube-proxy with no --nodeport-addresses: NodePorts on every local address, always the last rule.
  t.nat.rules.push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  t.nat.rules.push(...out.nodePorts, ...out.chains);
}

interface ServiceRuleLines {
  services: string[]; // nat KUBE-SERVICES
  nodePorts: string[]; // nat KUBE-NODEPORTS
  chains: string[]; // nat service/endpoint chains
}

/** The nat destinations a Service port is reached at besides its ClusterIP. */
function externalDestinations(service: LabService, port: LabServicePort): { externalIPs: string[]; lbIPs: string[]; nodePort: number | null } {
  const lb = service.type === 'LoadBalancer';
  return {
    externalIPs: service.externalIPs ?? [],
    lbIPs: lb ? (service.loadBalancerIngress ?? []) : [],
    nodePort: (service.type === 'NodePort' || lb) && port.nodePort !== undefined ? port.nodePort : null,
  };
}

/**
 * One Service port as kube-proxy 1.29+ writes it (pkg/proxy/iptables/proxier.go syncProxyRules):
 * KUBE-SVC (all endpoints) and KUBE-SVL (this node's, for a Local traffic policy), KUBE-EXT for
 * NodePort / external IP / load-balancer traffic, KUBE-FW for loadBalancerSourceRanges, `-m recent`
 * for ClientIP affinity; filter REJECT "has no endpoints" and DROP "has no local endpoints".
 */
function addServicePortIptablesRules(t: IptablesTables, out: ServiceRuleLines, spe: ServicePortEndpoints, node: LabNode, cidr: string, masquerade: KubeProxyMasquerade): void {
  const { service, port } = spe;
  const endpoints = topologyFilteredEndpoints(spe.endpoints, node);
  const spn = servicePortNameString(service, port);
  const proto = protocolLower(port);
  const ext = externalDestinations(service, port);
  const hasExternal = ext.externalIPs.length > 0 || ext.lbIPs.length > 0 || ext.nodePort !== null;
  const dst = `-d ${service.clusterIP}/32`;
  const m = `${matchProto(port)}`;
  if (endpoints.length === 0) {
    t.filter.rules.push(`-A KUBE-SERVICES ${dst} ${m} -m comment --comment "${spn} has no endpoints" ${matchDport(port, port.port)} -j REJECT --reject-with icmp-port-unreachable`);
    for (const ip of [...ext.externalIPs, ...ext.lbIPs]) t.filter.rules.push(`-A KUBE-EXTERNAL-SERVICES -d ${ip}/32 ${m} -m comment --comment "${spn} has no endpoints" ${matchDport(port, port.port)} -j REJECT --reject-with icmp-port-unreachable`);
    if (ext.nodePort !== null) t.filter.rules.push(`-A KUBE-EXTERNAL-SERVICES -m addrtype --dst-type LOCAL ${m} -m comment --comment "${spn} has no endpoints" ${matchDport(port, ext.nodePort)} -j REJECT --reject-with icmp-port-unreachable`);
    return;
  }
  const local = spe.endpoints.filter((e) => e.nodeName === node.name);
  const internalLocal = service.internalTrafficPolicy === 'Local';
  const externalLocal = service.externalTrafficPolicy === 'Local' && hasExternal;
  const svcChain = servicePortChainName(spn, proto);
  const svlChain = serviceLocalChainName(spn, proto);
  const extChain = serviceExternalChainName(spn, proto);
  const usesLocal = (internalLocal || externalLocal) && local.length > 0;
  const usesCluster = !internalLocal || hasExternal; // KUBE-EXT always leads to KUBE-SVC (directly, or for pods and the node itself)
  const affinity = service.sessionAffinityTimeout;

  // ClusterIP
  const internalChain = internalLocal ? svlChain : svcChain;
  if (!internalLocal || local.length > 0) {
    out.services.push(`-A KUBE-SERVICES ${dst} ${m} -m comment --comment "${spn} cluster IP" ${matchDport(port, port.port)} -j ${internalChain}`);
  } else {
    t.filter.rules.push(`-A KUBE-SERVICES ${dst} ${m} -m comment --comment "${spn} has no local endpoints" ${matchDport(port, port.port)} -j DROP`);
  }
  // kube-proxy writes the ClusterIP masquerade rule into the chain ClusterIP traffic takes.
  const masqRule = masquerade === 'none' ? null : `-A ${internalChain}${masquerade === 'all' ? '' : ` ! -s ${cidr}`} ${dst} ${m} -m comment --comment "${spn} cluster IP" ${matchDport(port, port.port)} -j KUBE-MARK-MASQ`;
  if (usesCluster) {
    t.nat.chains.push(svcChain);
    if (masqRule !== null && !internalLocal) out.chains.push(masqRule);
    out.chains.push(...endpointJumps(svcChain, spn, endpoints, proto, affinity));
  }
  if (usesLocal) {
    t.nat.chains.push(svlChain);
    if (masqRule !== null && internalLocal) out.chains.push(masqRule);
    out.chains.push(...endpointJumps(svlChain, spn, local, proto, affinity));
  }
  for (const ep of new Set([...(usesCluster ? endpoints : []), ...(usesLocal ? local : [])])) {
    const epString = `${ep.ip}:${ep.port}`;
    const sepChain = servicePortEndpointChainName(spn, proto, epString);
    if (t.nat.chains.includes(sepChain)) continue;
    t.nat.chains.push(sepChain);
    const recent = affinity !== undefined ? ` -m recent --name ${sepChain} --mask 255.255.255.255 --rsource --set` : '';
    out.chains.push(`-A ${sepChain} -s ${ep.ip}/32 -m comment --comment "${spn}" -j KUBE-MARK-MASQ`);
    out.chains.push(`-A ${sepChain} ${m} -m comment --comment "${spn}"${recent} -m ${proto} -j DNAT --to-destination ${epString}`);
  }
  if (!hasExternal) return;

  // NodePort, external IPs, load-balancer IPs: all through KUBE-EXT
  t.nat.chains.push(extChain);
  if (externalLocal) {
    out.chains.push(`-A ${extChain} -s ${cidr} -m comment --comment "pod traffic for ${spn} external destinations" -j ${svcChain}`);
    out.chains.push(`-A ${extChain} -m comment --comment "masquerade LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
    out.chains.push(`-A ${extChain} -m comment --comment "route LOCAL traffic for ${spn} external destinations" -m addrtype --src-type LOCAL -j ${svcChain}`);
    if (local.length > 0) out.chains.push(`-A ${extChain} -j ${svlChain}`);
  } else {
    out.chains.push(`-A ${extChain} -m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`);
    out.chains.push(`-A ${extChain} -j ${svcChain}`);
  }
  const dropNoLocal = externalLocal && local.length === 0;
  for (const ip of ext.externalIPs) {
    out.services.push(`-A KUBE-SERVICES -d ${ip}/32 ${m} -m comment --comment "${spn} external IP" ${matchDport(port, port.port)} -j ${extChain}`);
    if (dropNoLocal) t.filter.rules.push(`-A KUBE-EXTERNAL-SERVICES -d ${ip}/32 ${m} -m comment --comment "${spn} has no local endpoints" ${matchDport(port, port.port)} -j DROP`);
  }
  const ranges = service.loadBalancerSourceRanges ?? [];
  for (const ip of ext.lbIPs) {
    if (ranges.length > 0) {
      const fwChain = serviceFirewallChainName(spn, proto);
      if (!t.nat.chains.includes(fwChain)) {
        t.nat.chains.push(fwChain);
        for (const r of ranges) out.chains.push(`-A ${fwChain} -s ${r} -m comment --comment "${spn} loadbalancer IP" -j ${extChain}`);
        out.chains.push(`-A ${fwChain} -m comment --comment "other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL"`);
      }
      out.services.push(`-A KUBE-SERVICES -d ${ip}/32 ${m} -m comment --comment "${spn} loadbalancer IP" ${matchDport(port, port.port)} -j ${fwChain}`);
      t.filter.rules.push(`-A KUBE-PROXY-FIREWALL -d ${ip}/32 ${m} -m comment --comment "${spn} traffic not accepted by ${fwChain}" ${matchDport(port, port.port)} -j DROP`);
    } else {
      out.services.push(`-A KUBE-SERVICES -d ${ip}/32 ${m} -m comment --comment "${spn} loadbalancer IP" ${matchDport(port, port.port)} -j ${extChain}`);
    }
    if (dropNoLocal) t.filter.rules.push(`-A KUBE-EXTERNAL-SERVICES -d ${ip}/32 ${m} -m comment --comment "${spn} has no local endpoints" ${matchDport(port, port.port)} -j DROP`);
  }
  if (ext.nodePort !== null) {
    out.nodePorts.push(`-A KUBE-NODEPORTS ${m} -m comment --comment "${spn}" ${matchDport(port, ext.nodePort)} -j ${extChain}`);
    if (dropNoLocal) t.filter.rules.push(`-A KUBE-EXTERNAL-SERVICES -m addrtype --dst-type LOCAL ${m} -m comment --comment "${spn} has no local endpoints" ${matchDport(port, ext.nodePort)} -j DROP`);
  }
  if (externalLocal && service.healthCheckNodePort !== undefined && !t.filter.rules.some((r) => r.includes(`"${spn} health check node port"`))) {
    t.filter.rules.push(`-A KUBE-NODEPORTS -p tcp -m comment --comment "${spn} health check node port" -m tcp --dport ${service.healthCheckNodePort} -j ACCEPT`);
  }
}

/** A service chain's jumps: affinity rechecks first, then the random split (kube-proxy's order). */
function endpointJumps(chain: string, spn: string, endpoints: readonly ServiceEndpoint[], proto: string, affinity: number | undefined): string[] {
  const lines: string[] = [];
  const sep = (ep: ServiceEndpoint): string => servicePortEndpointChainName(spn, proto, `${ep.ip}:${ep.port}`);
  if (affinity !== undefined) {
    for (const ep of endpoints) lines.push(`-A ${chain} -m comment --comment "${spn} -> ${ep.ip}:${ep.port}" -m recent --name ${sep(ep)} --mask 255.255.255.255 --rsource --rcheck --seconds ${affinity} --reap -j ${sep(ep)}`);
  }
  endpoints.forEach((ep, i) => {
    const remaining = endpoints.length - i;
    const split = remaining > 1 ? ` -m statistic --mode random --probability ${probability(remaining)}` : '';
    lines.push(`-A ${chain} -m comment --comment "${spn} -> ${ep.ip}:${ep.port}"${split} -j ${sep(ep)}`);
  });
  return lines;
}

/** The CNI's own rules: Calico natOutgoing, or flannel's FLANNEL-POSTRTG / FLANNEL-FWD. */
function addCniRules(t: IptablesTables, state: Pick<LabState, 'pods'>, node: LabNode, clusterCIDR: string): void {
  if (node.cni === 'calico') {
    // Felix matches ipsets (cali40masq-ipam-pools); the lab has no ipset, so the pool is a CIDR.
    t.nat.chains.push('cali-POSTROUTING', 'cali-nat-outgoing');
    t.nat.rules.push(
      '-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
      '-A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing',
      `-A cali-nat-outgoing -s ${clusterCIDR} ! -d ${clusterCIDR} -m comment --comment "cali:flqWnvo8yq4ULQLa" -j MASQUERADE --random-fully`,
    );
    // Felix's filter layout with no NetworkPolicy yet (calico-policy.ts reprograms it on changes).
    const chains = buildCalicoFilterChains(node, worldOf(state, {}), []);
    t.filter.chains.push(...chains.chains.keys());
    t.filter.rules.push(...CALICO_FORWARD_RULES, ...renderChainRules(chains));
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
export function buildNodeIptablesRestore(state: Pick<LabState, 'services' | 'pods' | 'nodes' | 'clusterCIDR' | 'kubeProxyMasquerade'>, node: LabNode, omitServices: readonly string[] = []): string {
  const t = emptyTables();
  if (node.kubeProxyMode === 'iptables') addKubeProxyIptablesRules(t, state, node, { clusterCIDR: state.clusterCIDR, masquerade: state.kubeProxyMasquerade, omitServices });
  addKubeletRules(t);
  addCniRules(t, state, node, state.clusterCIDR);
  return renderTables(t);
}

/** kube-proxy 1.31 nftables mode: the `ip kube-proxy` table as one `nft -f` transaction. */
export function buildKubeProxyNftRuleset(state: Pick<LabState, 'services' | 'pods' | 'nodes' | 'clusterCIDR' | 'serviceCIDR' | 'kubeProxyMasquerade'>, node: LabNode, omitServices: readonly string[] = []): string {
  const options: RuleBuildOptions = { clusterCIDR: state.clusterCIDR, masquerade: state.kubeProxyMasquerade, omitServices };
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
  for (const spe of buildServiceEndpoints(state)) {
    if (isOmitted(spe.service, options)) continue;
    lines.push(...nftServicePortLines(T, spe, node, options.clusterCIDR, options.masquerade ?? 'cluster-cidr'));
  }
  return lines.join('\n') + '\n';
}

/**
 * One Service port in kube-proxy's nftables mode (pkg/proxy/nftables/proxier.go): service-* (all
 * endpoints), local-* (this node's, Local traffic policy), external-*, firewall-* (source ranges),
 * affinity-* sets for ClientIP, and no-endpoint-* elements (reject: no endpoints; drop: none here).
 */
function nftServicePortLines(T: string, spe: ServicePortEndpoints, node: LabNode, cidr: string, masquerade: KubeProxyMasquerade): string[] {
  const { service, port } = spe;
  const endpoints = topologyFilteredEndpoints(spe.endpoints, node);
  const proto = protocolLower(port);
  const spn = servicePortNameString(service, port);
  const ext = externalDestinations(service, port);
  const hasExternal = ext.externalIPs.length > 0 || ext.lbIPs.length > 0 || ext.nodePort !== null;
  const externalVips = [...ext.externalIPs, ...ext.lbIPs];
  const lines: string[] = ['', `# ${spn}`, `add element ${T} cluster-ips { ${service.clusterIP} }`];
  if (endpoints.length === 0) {
    for (const ip of [service.clusterIP, ...externalVips]) lines.push(`add element ${T} no-endpoint-services { ${ip} . ${proto} . ${port.port} comment "${spn}" : goto reject-chain }`);
    if (ext.nodePort !== null) lines.push(`add element ${T} no-endpoint-nodeports { ${proto} . ${ext.nodePort} comment "${spn}" : goto reject-chain }`);
    return lines;
  }
  const local = spe.endpoints.filter((e) => e.nodeName === node.name);
  const internalLocal = service.internalTrafficPolicy === 'Local';
  const externalLocal = service.externalTrafficPolicy === 'Local' && hasExternal;
  const base = nftServiceChainBase(service, port);
  const svcChain = `service-${base}`;
  const localChain = `local-${base}`;
  const extChain = `external-${base}`;
  const usesCluster = !internalLocal || hasExternal;
  const usesLocal = (internalLocal || externalLocal) && local.length > 0;
  const affinity = service.sessionAffinityTimeout;
  const used = [...new Set([...(usesCluster ? endpoints : []), ...(usesLocal ? local : [])])];
  // Chains (and sets) first: a vmap/goto may only name one that already exists in the transaction.
  if (affinity !== undefined) {
    for (const ep of used) lines.push(`add set ${T} affinity-${nftEndpointBase(service, port, ep)} { type ipv4_addr ; flags dynamic,timeout ; timeout ${affinity}s ; }`);
  }
  for (const ep of used) lines.push(`add chain ${T} ${nftEndpointChainName(service, port, ep)}`);
  const dispatch = (chain: string, eps: readonly ServiceEndpoint[]): void => {
    if (affinity !== undefined) {
      for (const ep of eps) lines.push(`add rule ${T} ${chain} ip saddr @affinity-${nftEndpointBase(service, port, ep)} goto ${nftEndpointChainName(service, port, ep)}`);
    }
    const vmap = eps.map((ep, i) => `${i} : goto ${nftEndpointChainName(service, port, ep)}`).join(' , ');
    lines.push(`add rule ${T} ${chain} numgen random mod ${eps.length} vmap { ${vmap} }`);
  };
  const masqRule = (chain: string): string[] => (masquerade === 'none' ? [] : [`add rule ${T} ${chain} ip daddr ${service.clusterIP}${masquerade === 'all' ? '' : ` ip saddr != ${cidr}`} jump mark-for-masquerade`]);
  if (usesCluster) {
    lines.push(`add chain ${T} ${svcChain}`);
    if (!internalLocal) lines.push(...masqRule(svcChain));
    dispatch(svcChain, endpoints);
  }
  if (usesLocal) {
    lines.push(`add chain ${T} ${localChain}`);
    if (internalLocal) lines.push(...masqRule(localChain));
    dispatch(localChain, local);
  }
  for (const ep of used) {
    const epChain = nftEndpointChainName(service, port, ep);
    lines.push(`add rule ${T} ${epChain} ip saddr ${ep.ip} jump mark-for-masquerade`);
    if (affinity !== undefined) lines.push(`add rule ${T} ${epChain} update @affinity-${nftEndpointBase(service, port, ep)} { ip saddr }`);
    lines.push(`add rule ${T} ${epChain} meta l4proto ${proto} dnat to ${ep.ip}:${ep.port}`);
  }
  if (!internalLocal || local.length > 0) {
    lines.push(`add element ${T} service-ips { ${service.clusterIP} . ${proto} . ${port.port} : goto ${internalLocal ? localChain : svcChain} }`);
  } else {
    lines.push(`add element ${T} no-endpoint-services { ${service.clusterIP} . ${proto} . ${port.port} comment "${spn}" : drop }`);
  }
  if (!hasExternal) return lines;
  lines.push(`add chain ${T} ${extChain}`);
  if (externalLocal) {
    lines.push(`add rule ${T} ${extChain} ip saddr ${cidr} goto ${svcChain} comment "short-circuit pod traffic"`);
    lines.push(`add rule ${T} ${extChain} fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"`);
    lines.push(`add rule ${T} ${extChain} fib saddr type local goto ${svcChain} comment "short-circuit local traffic"`);
    if (local.length > 0) lines.push(`add rule ${T} ${extChain} goto ${localChain}`);
  } else {
    lines.push(`add rule ${T} ${extChain} jump mark-for-masquerade`);
    lines.push(`add rule ${T} ${extChain} goto ${svcChain}`);
  }
  const dropNoLocal = externalLocal && local.length === 0;
  const ranges = service.loadBalancerSourceRanges ?? [];
  if (ext.lbIPs.length > 0 && ranges.length > 0) {
    const fwChain = `firewall-${base}`;
    lines.push(`add chain ${T} ${fwChain}`);
    lines.push(`add rule ${T} ${fwChain} ip saddr != { ${ranges.join(', ')} } drop`);
    for (const ip of ext.lbIPs) lines.push(`add element ${T} firewall-ips { ${ip} . ${proto} . ${port.port} : goto ${fwChain} }`);
  }
  for (const ip of externalVips) {
    lines.push(`add element ${T} service-ips { ${ip} . ${proto} . ${port.port} : goto ${extChain} }`);
    if (dropNoLocal) lines.push(`add element ${T} no-endpoint-services { ${ip} . ${proto} . ${port.port} comment "${spn}" : drop }`);
  }
  if (ext.nodePort !== null) {
    lines.push(`add element ${T} service-nodeports { ${proto} . ${ext.nodePort} : goto ${extChain} }`);
    if (dropNoLocal) lines.push(`add element ${T} no-endpoint-nodeports { ${proto} . ${ext.nodePort} comment "${spn}" : drop }`);
  }
  return lines;
}
