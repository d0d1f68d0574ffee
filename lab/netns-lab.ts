// Builds and tears down the lab's kernel networking: network namespaces, veths, bridges, VXLAN,
// routes, sysctls, kube-proxy rules, DNS servers and the pod/node processes, exactly as declared
// in lab-topology.ts. Everything happens inside `ndlab-*` namespaces; the root namespace's
// interfaces, routes and firewall are never touched. Files it writes outside the repo:
// /etc/netns/ndlab-*/ (bound over /etc by `ip netns exec`) and cgroups under kubepods.slice.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bridgeIn, execIn, ipIn, listNetns, netnsPids, runCommand, setSysctlsIn } from './lab-exec.js';
import { conmonCgroupPath, containerCgroupPath, isListening, killPids, pidsInLabCgroups, placeInCgroup, removeLabCgroups, spawnDetachedIn, waitFor } from './lab-process.js';
import type { LabNode, LabPod, LabState } from './lab-state.js';
import {
  buildCalicoConflist,
  buildFlannelConflist,
  buildLabConfigMaps,
  CALICO_GATEWAY,
  CALICO_HOST_VETH_MAC,
  CALICO_VXLAN,
  calicoVethName,
  CLUSTER_CIDR,
  CLUSTER_DOMAIN,
  DNS_SERVICE_IP,
  FLANNEL_BRIDGE,
  FLANNEL_VXLAN,
  LAB_NAMESPACES,
  LAB_NETNS_PREFIX,
  LAB_NODES,
  LAB_PODS,
  LAB_SERVICES,
  NODE_NIC,
  NODE_NIC_MTU,
  type NodeSpec,
  POD_MTU,
  type PodSpec,
  podNetnsName,
  SERVICE_CIDR,
  UNDERLAY_BRIDGE,
  UNDERLAY_GATEWAY,
  UNDERLAY_NETNS,
  UNDERLAY_PREFIX_LEN,
  UPSTREAM_DNS_IP,
  UPSTREAM_NETNS,
  UPSTREAM_RECORDS,
  UPSTREAM_ZONE,
} from './lab-topology.js';
import { buildKubeProxyNftRuleset, buildNodeIptablesRestore } from './kube-proxy-rules.js';
import { CALICO_POLICY_FILE, programCalicoNode, readSavedPolicyState, worldOf } from './calico-policy.js';
import { startMinimalHostInit } from './minimal-host.js';
import { hasProfile, type LabProfile } from './lab-profiles.js';
import { addCiliumDevices, applyNodeMountProfiles, buildServiceLbRuleset, CILIUM_AGENT_PODS, k3sNodeMetadata, profileConfigMaps, profilePods } from './lab-dataplane.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const POD_PROCESS_SCRIPT = join(REPO_ROOT, 'lab', 'pod-process.mjs');

export interface LabPaths {
  labDir: string; // .lab
  logDir: string; // .lab/logs (kept by `down`)
  topologyFile: string; // .lab/topology.json
  etcCreatedFile: string; // .lab/etc-created.json: /etc directories lab:up had to create
}

export function labPaths(root: string = REPO_ROOT): LabPaths {
  const labDir = join(root, '.lab');
  return { labDir, logDir: join(labDir, 'logs'), topologyFile: join(labDir, 'topology.json'), etcCreatedFile: join(labDir, 'etc-created.json') };
}

export interface LabDeps {
  log: (line: string) => void; // progress, to stderr
  randomHex: (chars: number) => string;
  uuid: () => string;
  now: () => Date;
}

export const defaultLabDeps: LabDeps = {
  log: (line) => process.stderr.write(`lab: ${line}\n`),
  randomHex: (chars) => randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars),
  uuid: () => randomUUID(),
  now: () => new Date(),
};

export interface BuildOptions {
  nftNodes: readonly string[]; // nodes whose kube-proxy runs in nftables mode
  profiles?: readonly LabProfile[]; // lab-profiles.ts: the kind of cluster to build
}

export function readLabState(paths: LabPaths = labPaths()): LabState {
  return JSON.parse(readFileSync(paths.topologyFile, 'utf8')) as LabState;
}

export function writeLabState(state: LabState, paths: LabPaths = labPaths()): void {
  mkdirSync(paths.labDir, { recursive: true });
  writeFileSync(paths.topologyFile, JSON.stringify(state, null, 2) + '\n');
}

// ---------------------------------------------------------------- resolv.conf and DNS servers

export function buildPodResolvConf(namespace: string): string {
  return `search ${namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}\nnameserver ${DNS_SERVICE_IP}\noptions ndots:5\n`;
}

/**
 * The node's /etc/resolv.conf. With systemd-resolved it is the stub (what Ubuntu 22.04's resolved
 * 249 writes to /run/systemd/resolve/stub-resolv.conf, /etc/resolv.conf's symlink target), and the
 * real upstream list is /run/systemd/resolve/resolv.conf (buildResolvedUplinkResolvConf).
 */
export function buildNodeResolvConf(profiles: readonly LabProfile[] = []): string {
  if (!profiles.includes('systemd-resolved')) return `nameserver ${UPSTREAM_DNS_IP}\n`;
  return [
    '# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).',
    '# Do not edit.',
    '#',
    '# This file might be symlinked as /etc/resolv.conf. If you\'re looking at',
    '# /etc/resolv.conf and seeing this text, you have followed the symlink.',
    '#',
    '# This is a dynamic resolv.conf file for connecting local clients to the',
    '# internal DNS stub resolver of systemd-resolved. This file lists all',
    '# configured search domains.',
    '#',
    '# Run "resolvectl status" to see details about the uplink DNS servers',
    '# currently in use.',
    '#',
    '# Third party programs should typically not access this file directly, but only',
    '# through the symlink at /etc/resolv.conf. To manage man:resolv.conf(5) in a',
    '# different way, replace this symlink by a static file or a different symlink.',
    '#',
    '# See man:systemd-resolved.service(8) for details about the supported modes of',
    '# operation for /etc/resolv.conf.',
    '',
    'nameserver 127.0.0.53',
    'options edns0 trust-ad',
    'search .',
    '',
  ].join('\n');
}

/** systemd-resolved's uplink list, /run/systemd/resolve/resolv.conf: kubelet's resolvConf on such nodes. */
export function buildResolvedUplinkResolvConf(): string {
  return [
    '# This is /run/systemd/resolve/resolv.conf managed by man:systemd-resolved(8).',
    '# Do not edit.',
    '#',
    '# This file might be symlinked as /etc/resolv.conf. If you\'re looking at',
    '# /etc/resolv.conf and seeing this text, you have followed the symlink.',
    '#',
    '# This is a dynamic resolv.conf file for connecting local clients directly to',
    '# all known uplink DNS servers. This file lists all configured search domains.',
    '#',
    '# Third party programs should typically not access this file directly, but only',
    '# through the symlink at /etc/resolv.conf. To manage man:resolv.conf(5) in a',
    '# different way, replace this symlink by a static file or a different symlink.',
    '#',
    '# See man:systemd-resolved.service(8) for details about the supported modes of',
    '# operation for /etc/resolv.conf.',
    '',
    `nameserver ${UPSTREAM_DNS_IP}`,
    'search .',
    '',
  ].join('\n');
}

/**
 * A dnsPolicy Default container's /etc/resolv.conf: kubelet writes the nameservers of its resolvConf
 * file (the node's /etc/resolv.conf, or /run/systemd/resolve/resolv.conf where kubeadm, RKE, k3s or
 * microk8s found systemd-resolved), so CoreDNS gets the real upstream in both kinds of lab.
 */
export function buildKubeletDefaultResolvConf(): string {
  return `nameserver ${UPSTREAM_DNS_IP}\n`;
}

/** Where systemd-resolved keeps its files; lab:up creates the empty directory if the machine has none. */
export const RESOLVED_DIR = '/run/systemd/resolve';

/**
 * systemd-resolved: a tmpfs over /run/systemd/resolve in the node init's own mount view (`ip netns
 * exec` gave it a private one) holding the uplink list, so /proc/INIT/root/run/systemd/resolve/resolv.conf
 * is the node's file and the machine's /run is untouched. Waits until the init has exec'd sleep:
 * before that, its mount namespace may still be the caller's.
 */
async function mountResolvedUplink(initPid: number): Promise<void> {
  const execd = await waitFor(() => {
    try {
      return readlinkSync(`/proc/${initPid}/exe`).endsWith('/sleep');
    } catch {
      return false;
    }
  }, 10_000);
  if (!execd) throw new Error(`systemd-resolved: node init ${initPid} did not start`);
  const script = `mount -t tmpfs -o mode=0755,size=64k ndlab-resolved ${RESOLVED_DIR} && printf '%s' "$1" > ${RESOLVED_DIR}/resolv.conf`;
  const r = await runCommand('nsenter', ['-t', String(initPid), '-m', '--', 'sh', '-c', script, 'ndlab-resolved', buildResolvedUplinkResolvConf()], { allowFailure: true });
  if (r.exitCode !== 0) throw new Error(`systemd-resolved: could not mount ${RESOLVED_DIR} in node init ${initPid}'s mount view: ${r.stderr.trim()}`);
}

/**
 * dnsmasq standing in for CoreDNS: cluster.local answered locally, the rest forwarded to the
 * nameservers of its own container's /etc/resolv.conf (re-read when it changes), as kubeadm's
 * `forward . /etc/resolv.conf` does; a loopback nameserver there is a real loop back to itself.
 */
export function buildCorednsDnsmasqArgs(services: LabState['services']): string[] {
  const byName = new Map<string, string>();
  byName.set(`kubernetes.default.svc.${CLUSTER_DOMAIN}`, '10.96.0.1');
  // Headless and ExternalName Services have no cluster IP to answer with (not modelled here).
  for (const s of services) if (/^\d+\.\d+\.\d+\.\d+$/.test(s.clusterIP)) byName.set(`${s.name}.${s.namespace}.svc.${CLUSTER_DOMAIN}`, s.clusterIP);
  return [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--resolv-file=/etc/resolv.conf',
    '--no-hosts',
    '--pid-file=',
    '--user=root',
    '--port=53',
    '--cache-size=0', // no cache, so a broken upstream shows at once (CoreDNS would cache 30 s)
    `--local=/${CLUSTER_DOMAIN}/`,
    ...[...byName].map(([name, ip]) => `--host-record=${name},${ip}`),
    '--log-queries',
    '--log-facility=-',
  ];
}

export function buildUpstreamDnsmasqArgs(): string[] {
  return [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--pid-file=',
    '--user=root',
    '--port=53',
    `--local=/${UPSTREAM_ZONE}/`,
    ...UPSTREAM_RECORDS.map((r) => `--host-record=${r.name},${r.ip}`),
    '--log-queries',
    '--log-facility=-',
  ];
}

// ---------------------------------------------------------------- teardown

/** /etc/netns/<netns>: what `ip netns exec` binds over /etc. */
export function etcNetnsDir(netns: string): string {
  return join('/etc/netns', netns);
}

/** Removes everything a lab run made (or a crashed run left). Safe to run twice. */
export async function teardownLab(deps: LabDeps = defaultLabDeps, paths: LabPaths = labPaths()): Promise<void> {
  const namespaces = (await listNetns()).filter((n) => n.startsWith(LAB_NETNS_PREFIX));
  const pids = new Set<number>(pidsInLabCgroups());
  for (const ns of namespaces) for (const pid of await netnsPids(ns)) pids.add(pid);
  if (pids.size > 0) deps.log(`stopping ${pids.size} lab processes`);
  await killPids([...pids]);
  for (const ns of namespaces) await runCommand('ip', ['netns', 'del', ns], { allowFailure: true });
  if (namespaces.length > 0) deps.log(`deleted ${namespaces.length} network namespaces`);
  for (const failure of removeLabCgroups()) deps.log(`warning: cgroup not removed: ${failure}`);
  if (existsSync('/etc/netns')) {
    for (const entry of readdirSync('/etc/netns')) {
      if (entry.startsWith(LAB_NETNS_PREFIX)) rmSync(join('/etc/netns', entry), { recursive: true, force: true });
    }
  }
  if (existsSync(paths.etcCreatedFile)) {
    const created = JSON.parse(readFileSync(paths.etcCreatedFile, 'utf8')) as string[];
    for (const dir of created.reverse()) {
      try {
        rmdirSync(dir); // only if still empty: never removes anything someone else put there
      } catch {
        /* not empty or gone */
      }
    }
    rmSync(paths.etcCreatedFile, { force: true });
  }
  for (const file of [paths.topologyFile, join(paths.labDir, 'kube-proxy'), join(paths.labDir, 'nodes'), join(paths.labDir, CALICO_POLICY_FILE)]) rmSync(file, { recursive: true, force: true });
}

// ---------------------------------------------------------------- build

async function addNetns(name: string): Promise<void> {
  await runCommand('ip', ['netns', 'add', name]);
  await ipIn(name, ['link', 'set', 'lo', 'up']);
}

/** A host on the underlay bridge: veth `hostSideName` on br0, `eth0` with address inside `netns`. */
async function plugIntoUnderlay(netns: string, underlayName: string, ip: string): Promise<void> {
  await ipIn(UNDERLAY_NETNS, ['link', 'add', underlayName, 'type', 'veth', 'peer', 'name', NODE_NIC, 'netns', netns]);
  await ipIn(UNDERLAY_NETNS, ['link', 'set', underlayName, 'master', UNDERLAY_BRIDGE, 'up']);
  await ipIn(netns, ['link', 'set', NODE_NIC, 'mtu', String(NODE_NIC_MTU), 'up']);
  await ipIn(netns, ['addr', 'add', `${ip}/${UNDERLAY_PREFIX_LEN}`, 'dev', NODE_NIC]);
  await ipIn(netns, ['route', 'add', 'default', 'via', UNDERLAY_GATEWAY, 'dev', NODE_NIC]);
}

async function buildUnderlay(): Promise<void> {
  await addNetns(UNDERLAY_NETNS);
  await ipIn(UNDERLAY_NETNS, ['link', 'add', UNDERLAY_BRIDGE, 'type', 'bridge']);
  await ipIn(UNDERLAY_NETNS, ['addr', 'add', `${UNDERLAY_GATEWAY}/${UNDERLAY_PREFIX_LEN}`, 'dev', UNDERLAY_BRIDGE]);
  await ipIn(UNDERLAY_NETNS, ['link', 'set', UNDERLAY_BRIDGE, 'up']);
  await addNetns(UPSTREAM_NETNS);
  await plugIntoUnderlay(UPSTREAM_NETNS, 'upstream', UPSTREAM_DNS_IP);
}

async function buildNodeBase(node: NodeSpec): Promise<void> {
  await addNetns(node.netns);
  await plugIntoUnderlay(node.netns, node.name, node.ip);
  await setSysctlsIn(node.netns, { 'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.forwarding': 1 });
}

async function addVxlan(node: NodeSpec, dev: string, vni: number, port: number, mtu: number): Promise<void> {
  await ipIn(node.netns, ['link', 'add', dev, 'address', node.tunnelMac, 'type', 'vxlan', 'id', String(vni), 'local', node.ip, 'dev', NODE_NIC, 'dstport', String(port), 'nolearning']);
  await ipIn(node.netns, ['link', 'set', dev, 'mtu', String(mtu), 'up']);
  await ipIn(node.netns, ['addr', 'add', `${node.tunnelAddress}/32`, 'dev', dev]);
}

/** Static VXLAN peer: neighbour entry for the peer's tunnel address and an fdb entry to its node IP. */
async function addVxlanPeer(node: NodeSpec, dev: string, peer: NodeSpec): Promise<void> {
  await ipIn(node.netns, ['neigh', 'replace', peer.tunnelAddress, 'lladdr', peer.tunnelMac, 'dev', dev, 'nud', 'permanent']);
  await bridgeIn(node.netns, ['fdb', 'replace', peer.tunnelMac, 'dev', dev, 'dst', peer.ip, 'self', 'permanent']);
}

async function buildCalicoNode(node: NodeSpec, nodes: readonly NodeSpec[]): Promise<void> {
  await addVxlan(node, CALICO_VXLAN.device, CALICO_VXLAN.vni, CALICO_VXLAN.port, CALICO_VXLAN.mtu);
  // Calico IPAM owns the node's whole block: unknown addresses in it are blackholed.
  await ipIn(node.netns, ['route', 'add', 'blackhole', node.podCIDR, 'proto', '80']);
  for (const peer of nodes) {
    if (peer.name === node.name) continue;
    if (peer.cni === 'calico') {
      await addVxlanPeer(node, CALICO_VXLAN.device, peer);
      await ipIn(node.netns, ['route', 'add', peer.podCIDR, 'via', peer.tunnelAddress, 'dev', CALICO_VXLAN.device, 'onlink', 'proto', '80']);
    } else {
      // A flannel node does not speak Calico's VXLAN: reach it over the shared L2 underlay.
      await ipIn(node.netns, ['route', 'add', peer.podCIDR, 'via', peer.ip, 'dev', NODE_NIC]);
    }
  }
}

async function buildFlannelNode(node: NodeSpec, nodes: readonly NodeSpec[], deps: LabDeps): Promise<void> {
  if (!node.podGateway) throw new Error(`flannel node ${node.name} needs a podGateway`);
  const prefixLen = node.podCIDR.split('/')[1] ?? '24';
  await ipIn(node.netns, ['link', 'add', FLANNEL_BRIDGE, 'type', 'bridge']);
  await ipIn(node.netns, ['link', 'set', FLANNEL_BRIDGE, 'mtu', String(POD_MTU), 'up']);
  await ipIn(node.netns, ['addr', 'add', `${node.podGateway}/${prefixLen}`, 'dev', FLANNEL_BRIDGE]);
  await addVxlan(node, FLANNEL_VXLAN.device, FLANNEL_VXLAN.vni, FLANNEL_VXLAN.port, FLANNEL_VXLAN.mtu);
  for (const peer of nodes) {
    if (peer.name === node.name) continue;
    await addVxlanPeer(node, FLANNEL_VXLAN.device, peer);
    // flannel vxlan with DirectRouting: peers on the same L2 subnet are routed directly via eth0.
    await ipIn(node.netns, ['route', 'add', peer.podCIDR, 'via', peer.ip, 'dev', NODE_NIC]);
  }
  if (existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) {
    await setSysctlsIn(node.netns, { 'net.bridge.bridge-nf-call-iptables': 1 });
  } else {
    deps.log(`br_netfilter not available: ${node.name} keeps bridge-nf-call-iptables unset`);
  }
}

async function buildCalicoPod(pod: PodSpec, node: NodeSpec): Promise<void> {
  const netns = podNetnsName(pod);
  const hostVeth = calicoVethName(pod.namespace, pod.name);
  await addNetns(netns);
  await ipIn(node.netns, ['link', 'add', hostVeth, 'mtu', String(POD_MTU), 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', String(POD_MTU), 'netns', netns]);
  await ipIn(node.netns, ['link', 'set', hostVeth, 'address', CALICO_HOST_VETH_MAC, 'up']);
  await setSysctlsIn(node.netns, {
    [`net.ipv4.conf.${hostVeth}.proxy_arp`]: 1,
    [`net.ipv4.neigh.${hostVeth}.proxy_delay`]: 0,
    [`net.ipv4.conf.${hostVeth}.forwarding`]: 1,
  });
  await ipIn(node.netns, ['route', 'add', `${pod.ip}/32`, 'dev', hostVeth, 'scope', 'link']);
  await ipIn(netns, ['link', 'set', 'eth0', 'up']);
  await ipIn(netns, ['addr', 'add', `${pod.ip}/32`, 'dev', 'eth0']);
  await ipIn(netns, ['route', 'add', CALICO_GATEWAY, 'dev', 'eth0', 'scope', 'link']);
  await ipIn(netns, ['route', 'add', 'default', 'via', CALICO_GATEWAY, 'dev', 'eth0']);
}

async function buildFlannelPod(pod: PodSpec, node: NodeSpec, deps: LabDeps): Promise<void> {
  const netns = podNetnsName(pod);
  const hostVeth = `veth${deps.randomHex(8)}`; // the bridge plugin's random host-side name
  const prefixLen = node.podCIDR.split('/')[1] ?? '24';
  await addNetns(netns);
  await ipIn(node.netns, ['link', 'add', hostVeth, 'mtu', String(POD_MTU), 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', String(POD_MTU), 'netns', netns]);
  await ipIn(node.netns, ['link', 'set', hostVeth, 'master', FLANNEL_BRIDGE, 'up']);
  await bridgeIn(node.netns, ['link', 'set', 'dev', hostVeth, 'hairpin', 'on']);
  await ipIn(netns, ['link', 'set', 'eth0', 'up']);
  await ipIn(netns, ['addr', 'add', `${pod.ip}/${prefixLen}`, 'dev', 'eth0']);
  await ipIn(netns, ['route', 'add', 'default', 'via', node.podGateway ?? '', 'dev', 'eth0']);
}

function writeEtcFile(netns: string, relative: string, content: string): void {
  const file = join(etcNetnsDir(netns), relative);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/**
 * `ip netns exec` binds /etc/netns/X/<entry> only over an existing /etc/<entry>: create missing ones.
 * systemd-resolved nodes mount over /run/systemd/resolve, which must exist as a mount point.
 */
function ensureEtcDirs(paths: LabPaths, profiles: readonly LabProfile[]): void {
  const created: string[] = existsSync(paths.etcCreatedFile) ? (JSON.parse(readFileSync(paths.etcCreatedFile, 'utf8')) as string[]) : [];
  const resolved = profiles.includes('systemd-resolved') ? ['/run/systemd', RESOLVED_DIR] : [];
  for (const dir of ['/etc/netns', '/etc/cni', ...resolved]) {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      created.push(dir);
    }
  }
  writeFileSync(paths.etcCreatedFile, JSON.stringify(created) + '\n');
}

function writeNodeFiles(node: NodeSpec, profiles: readonly LabProfile[]): void {
  writeEtcFile(node.netns, 'resolv.conf', buildNodeResolvConf(profiles));
  writeEtcFile(node.netns, 'hostname', `${node.name}\n`);
  if (profiles.includes('k3s')) return; // k3s: under /var/lib/rancher (applyNodeMountProfiles)
  const conflist = node.cni === 'calico' ? ['10-calico.conflist', buildCalicoConflist(node.name)] : ['10-flannel.conflist', buildFlannelConflist()];
  writeEtcFile(node.netns, join('cni', 'net.d', conflist[0]!), conflist[1]! + '\n');
}

function writePodFiles(pod: PodSpec): void {
  const netns = podNetnsName(pod);
  writeEtcFile(netns, 'resolv.conf', pod.dnsPolicy === 'Default' ? buildKubeletDefaultResolvConf() : buildPodResolvConf(pod.namespace));
  writeEtcFile(netns, 'hostname', `${pod.name}\n`);
}

export async function installNodeRules(state: LabState, node: LabNode, omitServices: readonly string[] = []): Promise<void> {
  await execIn(node.netns, 'iptables-restore', ['-w'], { input: buildNodeIptablesRestore(state, node, omitServices) });
  // The whole-table restore wrote Calico's chains without policies: put the applied ones back.
  const saved = node.cni === 'calico' ? readSavedPolicyState(join(labPaths().labDir, CALICO_POLICY_FILE)) : null;
  if (saved && saved.policies.length > 0) await programCalicoNode(node, worldOf(state, saved.namespaceLabels), saved.policies);
  if (node.kubeProxyMode === 'nftables') {
    await execIn(node.netns, 'nft', ['-f', '-'], { input: buildKubeProxyNftRuleset(state, node, omitServices) });
  }
  if (node.kubeProxyMode === 'none' && hasProfile(state, 'no-kube-proxy')) {
    await execIn(node.netns, 'nft', ['-f', '-'], { input: buildServiceLbRuleset(state) });
  }
}

/** The pod's container command line. */
export function podCommand(pod: Pick<PodSpec, 'name' | 'namespace' | 'program' | 'ports'>, services: LabState['services']): [string, string[]] {
  switch (pod.program) {
    case 'http':
      return [process.execPath, [POD_PROCESS_SCRIPT, '--pod', pod.name, ...pod.ports.flatMap((p) => ['--port', String(p.containerPort)])]];
    case 'coredns':
      return ['dnsmasq', buildCorednsDnsmasqArgs(services)];
    case 'sleep':
      return ['sleep', ['infinity']];
  }
}

/**
 * Starts a pod's container process in its namespace and cgroup; returns its PID. Under the crio
 * profile a conmon stand-in starts first (so it has the lower PID, as on a real node) in the
 * node's network namespace and in crio-conmon-<id>.scope; its PID goes to pod.conmonPid.
 */
export function startPodProcess(pod: LabPod, program: PodSpec['program'], state: Pick<LabState, 'services' | 'nodes' | 'profiles'>, paths: LabPaths, qosClass: PodSpec['qosClass']): number {
  const nodeNetns = state.nodes.find((n) => n.name === pod.nodeName)?.netns;
  const netns = pod.netns ?? nodeNetns;
  if (!netns || !nodeNetns) throw new Error(`no namespace for pod ${pod.namespace}/${pod.name}`);
  const crio = hasProfile(state, 'crio');
  if (crio) {
    pod.conmonPid = spawnDetachedIn(nodeNetns, 'sleep', ['infinity'], join(paths.logDir, `conmon-${pod.namespace}-${pod.name}.log`));
    placeInCgroup(pod.conmonPid, conmonCgroupPath(qosClass, pod.uid, pod.containerId));
  }
  const [file, args] = podCommand({ ...pod, program }, state.services);
  const pid = spawnDetachedIn(netns, file, args, join(paths.logDir, `pod-${pod.namespace}-${pod.name}.log`));
  placeInCgroup(pid, containerCgroupPath(qosClass, pod.uid, pod.containerId, crio ? 'crio' : 'containerd'));
  return pid;
}

/**
 * crio profile: each pod's network namespace pinned as /run/netns/<uuid> (= /var/run/netns) in its
 * node's own mount view, as CRI-O's pinns does (namespaces_dir /var/run, manage_ns_lifecycle), so
 * the namespace outlives the pod's processes. A tmpfs over /run/netns in that view keeps the
 * machine's other namespace names out of it, as on a real node; both go away with the node's
 * init process (its mount namespace), so teardown has nothing extra to undo.
 */
async function pinPodNetnsLikeCrio(state: LabState, deps: LabDeps): Promise<void> {
  const script = 'mount -t tmpfs -o mode=0755 ndlab-netns /run/netns || exit 1\n' +
    'while [ $# -ge 2 ]; do : > "/run/netns/$1" && mount --bind "/proc/$2/ns/net" "/run/netns/$1" || exit 1; shift 2; done';
  for (const node of state.nodes) {
    const pods = state.pods.filter((p) => p.nodeName === node.name && !p.hostNetwork);
    const args: string[] = [];
    for (const pod of pods) {
      const name = deps.uuid();
      pod.pinnedNetns = `/run/netns/${name}`;
      args.push(name, String(pod.pid));
    }
    await runCommand('nsenter', ['-t', String(node.initPid), '-m', '--', 'sh', '-c', script, 'pin-netns', ...args]);
  }
}

export function podSpecFor(pod: Pick<LabPod, 'namespace' | 'name'>): PodSpec {
  const spec = [...LAB_PODS, ...CILIUM_AGENT_PODS].find((p) => p.namespace === pod.namespace && p.name === pod.name);
  if (!spec) throw new Error(`pod ${pod.namespace}/${pod.name} is not in the lab topology`);
  return spec;
}

export function startUpstreamDns(paths: LabPaths): number {
  return spawnDetachedIn(UPSTREAM_NETNS, 'dnsmasq', buildUpstreamDnsmasqArgs(), join(paths.logDir, 'upstream-dns.log'));
}

async function waitForListeners(state: LabState, upstreamPid: number, deps: LabDeps): Promise<void> {
  const checks: Array<{ what: string; ok: () => boolean }> = [{ what: 'upstream dns', ok: () => isListening(upstreamPid, 53, 'UDP') }];
  for (const pod of state.pods) {
    if (pod.hostNetwork) continue;
    for (const port of pod.ports) {
      if (port.containerPort === 9153) continue; // CoreDNS metrics: nothing serves it in the lab
      checks.push({ what: `${pod.namespace}/${pod.name}:${port.containerPort}/${port.protocol}`, ok: () => isListening(pod.pid, port.containerPort, port.protocol) });
    }
  }
  const results = await Promise.all(checks.map(async (c) => ({ c, ok: await waitFor(c.ok, 10_000) })));
  const failed = results.filter((r) => !r.ok).map((r) => r.c.what);
  if (failed.length > 0) throw new Error(`not listening after 10 s: ${failed.join(', ')} (see .lab/logs)`);
}

export async function buildLab(requested: BuildOptions, deps: LabDeps = defaultLabDeps, paths: LabPaths = labPaths()): Promise<LabState> {
  const profiles = [...(requested.profiles ?? [])];
  // The nftables profile is kube-proxy's nftables mode on every node.
  const options: BuildOptions = { ...requested, profiles, nftNodes: profiles.includes('nftables') ? LAB_NODES.map((n) => n.name) : requested.nftNodes };
  if (profiles.length > 0) deps.log(`profiles: ${profiles.join(', ')}`);
  for (const name of options.nftNodes) {
    if (!LAB_NODES.some((n) => n.name === name)) throw new Error(`--nft-node ${name}: no such lab node (${LAB_NODES.map((n) => n.name).join(', ')})`);
  }
  mkdirSync(paths.logDir, { recursive: true });
  ensureEtcDirs(paths, profiles);

  deps.log('underlay bridge and upstream DNS host');
  await buildUnderlay();
  deps.log(`nodes: ${LAB_NODES.map((n) => `${n.name} (${n.cni})`).join(', ')}`);
  await Promise.all(LAB_NODES.map((n) => buildNodeBase(n)));
  await Promise.all(LAB_NODES.map((n) => (n.cni === 'calico' ? buildCalicoNode(n, LAB_NODES) : buildFlannelNode(n, LAB_NODES, deps))));
  if (profiles.includes('no-kube-proxy')) await Promise.all(LAB_NODES.map((n) => addCiliumDevices(n.netns)));

  deps.log('pods: veths, addresses, routes');
  await Promise.all(
    LAB_NODES.map(async (node) => {
      for (const pod of LAB_PODS.filter((p) => p.nodeName === node.name && !p.hostNetwork)) {
        await (node.cni === 'calico' ? buildCalicoPod(pod, node) : buildFlannelPod(pod, node, deps));
      }
    }),
  );

  for (const node of LAB_NODES) writeNodeFiles(node, profiles);
  for (const pod of LAB_PODS) if (!pod.hostNetwork) writePodFiles(pod);

  const nodes: LabNode[] = LAB_NODES.map((n) => ({
    name: n.name,
    netns: n.netns,
    initPid: 0,
    internalIP: n.ip,
    nicName: NODE_NIC,
    podCIDR: n.podCIDR,
    cni: n.cni,
    kubeProxyMode: profiles.includes('no-kube-proxy') ? 'none' : options.nftNodes.includes(n.name) ? 'nftables' : 'iptables',
    labels: n.labels,
  }));
  if (profiles.includes('k3s')) for (const n of nodes) Object.assign(n, k3sNodeMetadata(n));
  const pods: LabPod[] = profilePods(LAB_PODS, profiles).map((p) => {
    const node = nodes.find((n) => n.name === p.nodeName);
    if (!node) throw new Error(`pod ${p.name} is on unknown node ${p.nodeName}`);
    return {
      name: p.name,
      namespace: p.namespace,
      uid: deps.uuid(),
      nodeName: p.nodeName,
      hostNetwork: p.hostNetwork,
      netns: p.hostNetwork ? null : podNetnsName(p),
      ip: p.ip ?? node.internalIP,
      containerName: p.containerName,
      containerId: deps.randomHex(64),
      pid: 0,
      image: p.image,
      labels: p.labels,
      ready: p.ready ?? true,
      ports: p.ports,
      dnsPolicy: p.dnsPolicy,
    };
  });
  const state: LabState = {
    createdAt: deps.now().toISOString(),
    profiles,
    serviceCIDR: SERVICE_CIDR,
    clusterCIDR: CLUSTER_CIDR,
    ...(profiles.includes('masquerade-all') ? { kubeProxyMasquerade: 'all' as const } : {}),
    clusterDomain: CLUSTER_DOMAIN,
    dnsServiceIP: DNS_SERVICE_IP,
    upstreamDnsIP: UPSTREAM_DNS_IP,
    nodes,
    pods,
    services: LAB_SERVICES.map((s) => ({ ...s, ports: s.ports.map((p) => ({ ...p })), selector: s.selector ? { ...s.selector } : null })),
    configMaps: profileConfigMaps(buildLabConfigMaps(options.nftNodes), profiles),
    namespaces: [...LAB_NAMESPACES],
  };

  deps.log(`kube-proxy rules: ${nodes.map((n) => `${n.name}=${n.kubeProxyMode}`).join(', ')}`);
  await Promise.all(nodes.map((n) => installNodeRules(state, n)));

  deps.log('processes: node init, upstream dnsmasq, pod containers');
  for (const node of nodes) {
    const log = join(paths.logDir, `node-init-${node.name}.log`);
    node.initPid = profiles.includes('minimal-host') ? await startMinimalHostInit(node.netns, paths.labDir, log) : spawnDetachedIn(node.netns, 'sleep', ['infinity'], log);
    if (profiles.includes('systemd-resolved')) await mountResolvedUplink(node.initPid);
  }
  await applyNodeMountProfiles(state, paths.labDir, deps.log);
  const upstreamPid = startUpstreamDns(paths);
  for (const pod of pods) {
    const spec = podSpecFor(pod);
    pod.pid = startPodProcess(pod, spec.program, state, paths, spec.qosClass);
  }
  if (hasProfile(state, 'crio')) {
    deps.log('crio: conmon stand-ins in crio-conmon-<id>.scope, pod namespaces pinned under the nodes\' /run/netns');
    await pinPodNetnsLikeCrio(state, deps);
  }
  await waitForListeners(state, upstreamPid, deps);
  writeLabState(state, paths);
  deps.log(`wrote ${paths.topologyFile}`);
  return state;
}
