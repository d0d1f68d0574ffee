// Generates kube-proxy-shaped rule dumps for N Services, deterministically (seeded):
//   - iptables mode: a full `iptables-save` (mangle, filter, nat) in the layout kube-proxy 1.29
//     writes: KUBE-SERVICES -> KUBE-SVC-* (masquerade rule scoped by the cluster CIDR, statistic
//     splits) -> KUBE-SEP-* (hairpin KUBE-MARK-MASQ + DNAT), KUBE-NODEPORTS -> KUBE-EXT-*,
//     KUBE-POSTROUTING, and filter KUBE-SERVICES REJECTs for Services without endpoints;
//   - nftables mode: `nft list table ip kube-proxy` in the layout of kube-proxy 1.31+ (as captured
//     from the kernel in test/fixtures/nftables/kube-proxy-overall-listing.txt).
// Chain names use kube-proxy's own hashing (sha256 -> base32), so they look like the real ones.
//
// usage: node --import ./test/ts-node-register.mjs scripts/gen-kube-proxy-dump.ts \
//          --services 1000 [--mode iptables|nft] [--seed 1] [--out FILE]

import { createHash } from 'node:crypto';
import { base32Encode } from '../lab/kube-proxy-rules.js';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface KubeProxyDumpOptions {
  services: number;
  endpointsPerService?: number; // default 3
  seed?: number; // default 1
  clusterCidr?: string; // pod network, default 10.244.0.0/16
  nodeIp?: string; // default 192.168.0.2
  noEndpointsEvery?: number; // every Nth Service has no endpoints (REJECT), default 50
  nodePortEvery?: number; // every Nth Service is a NodePort, default 10
}

export interface GeneratedService {
  namespace: string;
  name: string;
  portName: string;
  protocol: 'tcp' | 'udp';
  clusterIp: string;
  port: number;
  nodePort: number | null;
  endpoints: { ip: string; port: number }[];
}

// mulberry32: small, fast, deterministic
function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// kube-proxy's own chain-name hashing, shared with the lab's rule builder.
function hash16(s: string): string {
  return base32Encode(createHash('sha256').update(s).digest()).slice(0, 16);
}
function hash8(s: string): string {
  return hash16(s).slice(0, 8);
}

// iptables stores the probability as a u32 fraction of 2^31 and prints it with 11 decimals.
export function formatProbability(p: number): string {
  const q = Math.round(p * 0x80000000);
  return (q / 0x80000000).toFixed(11);
}

function ip4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function buildGeneratedServices(opts: KubeProxyDumpOptions): GeneratedService[] {
  const rand = makeRandom(opts.seed ?? 1);
  const per = opts.endpointsPerService ?? 3;
  const noEpEvery = opts.noEndpointsEvery ?? 50;
  const npEvery = opts.nodePortEvery ?? 10;
  const out: GeneratedService[] = [];
  const namespaces = ['default', 'kube-system', 'shop', 'payments', 'search', 'monitoring', 'auth', 'media'];
  const portNames = ['http', 'https', 'grpc', 'metrics', 'dns', 'web'];
  for (let i = 0; i < opts.services; i++) {
    const ns = namespaces[Math.floor(rand() * namespaces.length)] as string;
    const portName = portNames[Math.floor(rand() * portNames.length)] as string;
    const protocol = portName === 'dns' && rand() < 0.5 ? 'udp' : 'tcp';
    const port = portName === 'https' ? 443 : portName === 'dns' ? 53 : 80 + Math.floor(rand() * 9000);
    const targetPort = 1024 + Math.floor(rand() * 8000);
    // ClusterIPs from 10.96.0.0/12, unique by index
    const clusterIp = ip4((10 << 24) | (96 << 16) | (i + 100));
    const endpoints: { ip: string; port: number }[] = [];
    const hasEndpoints = noEpEvery <= 0 || (i + 1) % noEpEvery !== 0;
    if (hasEndpoints) {
      for (let e = 0; e < per; e++) {
        const node = Math.floor(rand() * 200);
        const host = 2 + Math.floor(rand() * 250);
        endpoints.push({ ip: ip4((10 << 24) | (244 << 16) | (node << 8) | host), port: targetPort });
      }
    }
    const nodePort = npEvery > 0 && i % npEvery === 0 ? 30000 + (i % 2768) : null;
    out.push({ namespace: ns, name: `svc-${i}`, portName, protocol, clusterIp, port, nodePort, endpoints });
  }
  return out;
}

interface ChainBuf {
  name: string;
  rules: string[];
}

export function generateIptablesSave(opts: KubeProxyDumpOptions): string {
  const services = buildGeneratedServices(opts);
  const cidr = opts.clusterCidr ?? '10.244.0.0/16';
  const stamp = 'Thu May  9 00:31:58 2024';
  const natChains = new Map<string, ChainBuf>();
  const chain = (name: string): ChainBuf => {
    let c = natChains.get(name);
    if (c === undefined) {
      c = { name, rules: [] };
      natChains.set(name, c);
    }
    return c;
  };
  const services_ = chain('KUBE-SERVICES');
  const nodeports = chain('KUBE-NODEPORTS');
  chain('KUBE-MARK-MASQ').rules.push('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000');
  const post = chain('KUBE-POSTROUTING');
  post.rules.push('-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN');
  post.rules.push('-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0');
  post.rules.push(
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  );
  const filterServices: string[] = [];
  const filterExternal: string[] = [];

  for (const s of services) {
    const spn = `${s.namespace}/${s.name}:${s.portName}`;
    const proto = s.protocol;
    const svcChain = `KUBE-SVC-${hash16(spn + proto)}`;
    if (s.endpoints.length === 0) {
      filterServices.push(
        `-A KUBE-SERVICES -d ${s.clusterIp}/32 -p ${proto} -m comment --comment "${spn} has no endpoints" -m ${proto} --dport ${s.port} -j REJECT --reject-with icmp-port-unreachable`,
      );
      if (s.nodePort !== null) {
        filterExternal.push(
          `-A KUBE-EXTERNAL-SERVICES -p ${proto} -m comment --comment "${spn} has no endpoints" -m addrtype --dst-type LOCAL -m ${proto} --dport ${s.nodePort} -j REJECT --reject-with icmp-port-unreachable`,
        );
      }
      continue;
    }
    services_.rules.push(
      `-A KUBE-SERVICES -d ${s.clusterIp}/32 -p ${proto} -m comment --comment "${spn} cluster IP" -m ${proto} --dport ${s.port} -j ${svcChain}`,
    );
    const svc = chain(svcChain);
    svc.rules.push(
      `-A ${svcChain} ! -s ${cidr} -d ${s.clusterIp}/32 -p ${proto} -m comment --comment "${spn} cluster IP" -m ${proto} --dport ${s.port} -j KUBE-MARK-MASQ`,
    );
    const n = s.endpoints.length;
    s.endpoints.forEach((ep, idx) => {
      const epStr = `${ep.ip}:${ep.port}`;
      const sepChain = `KUBE-SEP-${hash16(spn + proto + epStr)}`;
      const prob = idx < n - 1 ? ` -m statistic --mode random --probability ${formatProbability(1 / (n - idx))}` : '';
      svc.rules.push(`-A ${svcChain} -m comment --comment "${spn} -> ${epStr}"${prob} -j ${sepChain}`);
      const sep = chain(sepChain);
      sep.rules.push(`-A ${sepChain} -s ${ep.ip}/32 -m comment --comment "${spn}" -j KUBE-MARK-MASQ`);
      sep.rules.push(
        `-A ${sepChain} -p ${proto} -m comment --comment "${spn}" -m ${proto} -j DNAT --to-destination ${epStr}`,
      );
    });
    if (s.nodePort !== null) {
      const extChain = `KUBE-EXT-${hash16(spn + proto)}`;
      nodeports.rules.push(
        `-A KUBE-NODEPORTS -p ${proto} -m comment --comment "${spn}" -m ${proto} --dport ${s.nodePort} -j ${extChain}`,
      );
      const ext = chain(extChain);
      ext.rules.push(
        `-A ${extChain} -m comment --comment "masquerade traffic for ${spn} external destinations" -j KUBE-MARK-MASQ`,
      );
      ext.rules.push(`-A ${extChain} -j ${svcChain}`);
    }
  }
  services_.rules.push(
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  );

  const out: string[] = [];
  out.push(`# Generated by iptables-save v1.8.9 on ${stamp}`);
  out.push('*mangle', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]');
  out.push(':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-IPTABLES-HINT - [0:0]');
  out.push(':KUBE-KUBELET-CANARY - [0:0]', ':KUBE-PROXY-CANARY - [0:0]', 'COMMIT', `# Completed on ${stamp}`);
  out.push(`# Generated by iptables-save v1.8.9 on ${stamp}`);
  out.push('*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]');
  for (const c of ['KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL', 'KUBE-FORWARD', 'KUBE-KUBELET-CANARY', 'KUBE-NODEPORTS']) {
    out.push(`:${c} - [0:0]`);
  }
  out.push(':KUBE-PROXY-CANARY - [0:0]', ':KUBE-PROXY-FIREWALL - [0:0]', ':KUBE-SERVICES - [0:0]');
  out.push(
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A INPUT -j KUBE-FIREWALL',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -j KUBE-FIREWALL',
  );
  out.push(...filterExternal);
  out.push(
    '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );
  out.push(...filterServices);
  out.push('COMMIT', `# Completed on ${stamp}`);
  out.push(`# Generated by iptables-save v1.8.9 on ${stamp}`);
  out.push('*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]');
  const names = [...natChains.keys()].sort();
  for (const name of names) out.push(`:${name} - [0:0]`);
  out.push(
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  );
  for (const name of names) {
    for (const r of (natChains.get(name) as ChainBuf).rules) out.push(r);
  }
  out.push('COMMIT', `# Completed on ${stamp}`, '');
  return out.join('\n');
}

export function generateNftKubeProxy(opts: KubeProxyDumpOptions): string {
  const services = buildGeneratedServices(opts);
  const cidr = opts.clusterCidr ?? '10.244.0.0/16';
  const nodeIp = opts.nodeIp ?? '192.168.0.2';
  const clusterIps: string[] = [];
  const serviceIps: string[] = [];
  const serviceNodeports: string[] = [];
  const noEndpointServices: string[] = [];
  const noEndpointNodeports: string[] = [];
  const chains: string[] = [];
  for (const s of services) {
    const spn = `${s.namespace}/${s.name}:${s.portName}`;
    const base = `${s.namespace}/${s.name}/${s.protocol}/${s.portName}`;
    const h = hash8(spn + s.protocol);
    clusterIps.push(s.clusterIp);
    if (s.endpoints.length === 0) {
      noEndpointServices.push(`${s.clusterIp} . ${s.protocol} . ${s.port} comment "${spn}" : goto reject-chain`);
      if (s.nodePort !== null) noEndpointNodeports.push(`${s.protocol} . ${s.nodePort} comment "${spn}" : goto reject-chain`);
      continue;
    }
    const svcChain = `service-${h}-${base}`;
    serviceIps.push(`${s.clusterIp} . ${s.protocol} . ${s.port} : goto ${svcChain}`);
    const eps = s.endpoints.map((ep) => `endpoint-${hash8(spn + ep.ip + ep.port)}-${base}__${ep.ip}/${ep.port}`);
    chains.push(
      `\tchain ${svcChain} {\n` +
        `\t\tip daddr ${s.clusterIp} ip saddr != ${cidr} jump mark-for-masquerade\n` +
        `\t\tnumgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${e}`).join(', ')} }\n\t}`,
    );
    s.endpoints.forEach((ep, i) => {
      chains.push(
        `\tchain ${eps[i]} {\n\t\tip saddr ${ep.ip} jump mark-for-masquerade\n` +
          `\t\tmeta l4proto ${s.protocol} dnat to ${ep.ip}:${ep.port}\n\t}`,
      );
    });
    if (s.nodePort !== null) {
      const ext = `external-${h}-${base}`;
      serviceNodeports.push(`${s.protocol} . ${s.nodePort} : goto ${ext}`);
      chains.push(`\tchain ${ext} {\n\t\tjump mark-for-masquerade\n\t\tgoto ${svcChain}\n\t}`);
    }
  }
  const elements = (items: string[]): string =>
    items.length === 0 ? '' : `\t\telements = { ${items.join(',\n\t\t\t     ')} }\n`;
  const v = 'ipv4_addr . inet_proto . inet_service : verdict';
  return (
    'table ip kube-proxy {\n\tcomment "rules for kube-proxy"\n' +
    `\tset cluster-ips {\n\t\ttype ipv4_addr\n\t\tcomment "Active ClusterIPs"\n${elements(clusterIps)}\t}\n\n` +
    `\tset nodeport-ips {\n\t\ttype ipv4_addr\n\t\tcomment "IPs that accept NodePort traffic"\n${elements([nodeIp])}\t}\n\n` +
    `\tmap firewall-ips {\n\t\ttype ${v}\n\t\tcomment "destinations that are subject to LoadBalancerSourceRanges"\n\t}\n\n` +
    `\tmap no-endpoint-nodeports {\n\t\ttype inet_proto . inet_service : verdict\n\t\tcomment "vmap to drop or reject packets to service nodeports with no endpoints"\n${elements(noEndpointNodeports)}\t}\n\n` +
    `\tmap no-endpoint-services {\n\t\ttype ${v}\n\t\tcomment "vmap to drop or reject packets to services with no endpoints"\n${elements(noEndpointServices)}\t}\n\n` +
    `\tmap service-ips {\n\t\ttype ${v}\n\t\tcomment "ClusterIP, ExternalIP and LoadBalancer IP traffic"\n${elements(serviceIps)}\t}\n\n` +
    `\tmap service-nodeports {\n\t\ttype inet_proto . inet_service : verdict\n\t\tcomment "NodePort traffic"\n${elements(serviceNodeports)}\t}\n\n` +
    '\tchain filter-forward {\n\t\ttype filter hook forward priority filter; policy accept;\n' +
    '\t\tct state new jump service-endpoints-check\n\t}\n\n' +
    '\tchain filter-input {\n\t\ttype filter hook input priority filter; policy accept;\n' +
    '\t\tct state new jump nodeport-endpoints-check\n\t\tct state new jump service-endpoints-check\n\t}\n\n' +
    '\tchain filter-output {\n\t\ttype filter hook output priority filter; policy accept;\n' +
    '\t\tct state new jump service-endpoints-check\n\t}\n\n' +
    '\tchain mark-for-masquerade {\n\t\tmeta mark set meta mark | 0x00004000\n\t}\n\n' +
    '\tchain masquerading {\n\t\tmeta mark & 0x00004000 == 0x00000000 return\n' +
    '\t\tmeta mark set meta mark ^ 0x00004000\n\t\tmasquerade fully-random\n\t}\n\n' +
    '\tchain nat-output {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tjump services\n\t}\n\n' +
    '\tchain nat-postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tjump masquerading\n\t}\n\n' +
    '\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tjump services\n\t}\n\n' +
    '\tchain nodeport-endpoints-check {\n\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports\n\t}\n\n' +
    '\tchain reject-chain {\n\t\tcomment "helper for @no-endpoint-services / @no-endpoint-nodeports"\n\t\treject\n\t}\n\n' +
    '\tchain services {\n\t\tip daddr . meta l4proto . th dport vmap @service-ips\n' +
    '\t\tip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports\n\t}\n\n' +
    '\tchain service-endpoints-check {\n\t\tip daddr . meta l4proto . th dport vmap @no-endpoint-services\n\t}\n\n' +
    chains.join('\n\n') +
    '\n}\n'
  );
}

function main(argv: string[]): void {
  const arg = (name: string, dflt: string): string => {
    const i = argv.indexOf(name);
    return i !== -1 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : dflt;
  };
  const opts: KubeProxyDumpOptions = { services: Number(arg('--services', '1000')), seed: Number(arg('--seed', '1')) };
  const mode = arg('--mode', 'iptables');
  const text = mode === 'nft' ? generateNftKubeProxy(opts) : generateIptablesSave(opts);
  const out = arg('--out', '-');
  if (out === '-') process.stdout.write(text);
  else writeFileSync(out, text);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
