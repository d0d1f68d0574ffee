// Breaks the running lab for real, the way the seed incidents broke real clusters, and puts it
// back. Every breaking function returns a `RestoreFault` that undoes exactly what it changed;
// the paired restore functions (restoreKubeProxyRules, restoreDefaultRoute, startProcess,
// unblockUpstreamDns) rebuild the lab's declared state whatever happened before.
// Targets are lab names: a netns ("ndlab-node-1"), a node ("lab-node-1") or a pod
// ("web-1" or "default/web-1"; a hostNetwork pod means its node's namespace).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execIn, ipIn, readSysctlIn, setSysctlsIn } from './lab-exec.js';
import { isAlive, isListening, killPids, waitFor } from './lab-process.js';
import type { LabNode, LabPod, LabState } from './lab-state.js';
import { LAB_NETNS_PREFIX, NODE_NIC, UNDERLAY_GATEWAY, UPSTREAM_NETNS } from './lab-topology.js';
import { buildNodeResolvConf, buildPodResolvConf, etcNetnsDir, installNodeRules, labPaths, podSpecFor, readLabState, startPodProcess, writeLabState, type LabPaths } from './netns-lab.js';

export type RestoreFault = () => Promise<void>;

export interface FaultOptions {
  paths?: LabPaths; // where .lab lives (default: the repo's)
}

function loadState(options: FaultOptions): LabState {
  return readLabState(options.paths ?? labPaths());
}

export function findLabNode(state: LabState, name: string): LabNode {
  const node = state.nodes.find((n) => n.name === name || n.netns === name);
  if (!node) throw new Error(`no lab node ${name} (nodes: ${state.nodes.map((n) => n.name).join(', ')})`);
  return node;
}

export function findLabPod(state: LabState, ref: string): LabPod {
  const [namespace, name] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : [null, ref];
  const pod = state.pods.find((p) => p.name === name && (namespace === null || p.namespace === namespace));
  if (!pod) throw new Error(`no lab pod ${ref}`);
  return pod;
}

/** The network namespace a target names: a netns itself, a node, or a pod (hostNetwork -> its node). */
export function resolveNetns(state: LabState, target: string): string {
  if (target.startsWith(LAB_NETNS_PREFIX)) return target;
  const node = state.nodes.find((n) => n.name === target);
  if (node) return node.netns;
  const pod = findLabPod(state, target);
  return pod.netns ?? findLabNode(state, pod.nodeName).netns;
}

// ---------------------------------------------------------------- sysctl

/** e.g. setSysctl('lab-node-1', 'net.ipv4.ip_forward', 0) or ('lab-node-1', 'net.ipv4.conf.all.arp_ignore', 2). */
export async function setSysctl(target: string, key: string, value: string | number, options: FaultOptions = {}): Promise<RestoreFault> {
  const netns = resolveNetns(loadState(options), target);
  const previous = await readSysctlIn(netns, key);
  await setSysctlsIn(netns, { [key]: value });
  return async () => {
    await setSysctlsIn(netns, { [key]: previous });
  };
}

// ---------------------------------------------------------------- kube-proxy rules

/** Re-installs the node's kube-proxy (and CNI) rules without one Service, as if kube-proxy missed it. */
export async function flushServiceRules(node: string, service: string, options: FaultOptions = {}): Promise<RestoreFault> {
  const state = loadState(options);
  const labNode = findLabNode(state, node);
  const ref = service.includes('/') ? service : `default/${service}`;
  if (!state.services.some((s) => `${s.namespace}/${s.name}` === ref)) throw new Error(`no lab service ${ref}`);
  // The mode kube-proxy runs in now (switchKubeProxyMode may have changed the declared one).
  const live = { ...labNode, kubeProxyMode: await liveKubeProxyMode(labNode) };
  await installNodeRules(state, live, [ref]);
  return () => installNodeRules(state, live);
}

async function liveKubeProxyMode(node: LabNode): Promise<LabNode['kubeProxyMode']> {
  if (node.kubeProxyMode !== 'iptables' && node.kubeProxyMode !== 'nftables') return node.kubeProxyMode;
  const table = await execIn(node.netns, 'nft', ['list', 'table', 'ip', 'kube-proxy'], { allowFailure: true });
  return table.exitCode === 0 ? 'nftables' : 'iptables';
}

/** Puts back the node's complete declared rules (iptables tables, plus the nft table in nftables mode). */
export async function restoreKubeProxyRules(node: string, options: FaultOptions = {}): Promise<void> {
  const state = loadState(options);
  await installNodeRules(state, findLabNode(state, node));
}

/**
 * Edits the node's live iptables rules (iptables-save, edit the text, iptables-restore), as a hand
 * edit or a half-applied kube-proxy sync leaves them; the restore re-installs the declared rules.
 */
export async function editLiveIptables(node: string, edit: (save: string) => string, options: FaultOptions = {}): Promise<RestoreFault> {
  const state = loadState(options);
  const labNode = findLabNode(state, node);
  const saved = await execIn(labNode.netns, 'iptables-save', []);
  const edited = edit(saved.stdout);
  if (edited === saved.stdout) throw new Error(`the edit changed nothing in the iptables rules of ${node}`);
  await execIn(labNode.netns, 'iptables-restore', ['-w'], { input: edited });
  return () => restoreKubeProxyRules(node, options);
}

/**
 * Runs the node's kube-proxy in another mode (iptables <-> nftables) without a lab restart, as
 * when an operator switches kube-proxy's --proxy-mode; the restore puts the declared mode back.
 */
export async function switchKubeProxyMode(node: string, mode: 'iptables' | 'nftables', omitServices: readonly string[] = [], options: FaultOptions = {}): Promise<RestoreFault> {
  const state = loadState(options);
  const declared = findLabNode(state, node);
  const clearNft = () => execIn(declared.netns, 'nft', ['delete', 'table', 'ip', 'kube-proxy']).catch(() => undefined);
  await clearNft();
  await installNodeRules(state, { ...declared, kubeProxyMode: mode }, omitServices);
  return async () => {
    await clearNft();
    await installNodeRules(state, declared);
  };
}

// ---------------------------------------------------------------- firewall

/**
 * A DROP rule at the top of filter/FORWARD on the pod's node for packets to the pod's IP, as a
 * hand-made firewall rule or a host firewall leaves it: routed traffic to the pod dies silently.
 * With `tcpPort` only connections to that port die; the pod's own outgoing connections (whose
 * replies come back to an ephemeral port) still work.
 */
export async function dropForwardedToPod(pod: string, tcpPort: number | null = null, options: FaultOptions = {}): Promise<RestoreFault> {
  const state = loadState(options);
  const labPod = findLabPod(state, pod);
  if (labPod.hostNetwork) throw new Error(`lab pod ${pod} is on the host network: it has no pod IP of its own`);
  const netns = findLabNode(state, labPod.nodeName).netns;
  const match = ['-d', `${labPod.ip}/32`, ...(tcpPort === null ? [] : ['-p', 'tcp', '--dport', String(tcpPort)]), '-j', 'DROP'];
  await execIn(netns, 'iptables', ['-w', '-I', 'FORWARD', '1', ...match]);
  return async () => {
    await execIn(netns, 'iptables', ['-w', '-D', 'FORWARD', ...match]);
  };
}

// ---------------------------------------------------------------- links and addresses

interface IpLinkJson {
  ifname: string;
  mtu: number;
}

export async function readLinkMtu(netns: string, ifname: string): Promise<number> {
  const r = await ipIn(netns, ['-j', 'link', 'show', 'dev', ifname]);
  const links = JSON.parse(r.stdout) as IpLinkJson[];
  const mtu = links[0]?.mtu;
  if (typeof mtu !== 'number') throw new Error(`no MTU for ${ifname} in ${netns}`);
  return mtu;
}

export async function setLinkMtu(target: string, ifname: string, mtu: number, options: FaultOptions = {}): Promise<RestoreFault> {
  const netns = resolveNetns(loadState(options), target);
  const previous = await readLinkMtu(netns, ifname);
  await ipIn(netns, ['link', 'set', 'dev', ifname, 'mtu', String(mtu)]);
  return async () => {
    await ipIn(netns, ['link', 'set', 'dev', ifname, 'mtu', String(previous)]);
  };
}

/** e.g. a second address on a node NIC: addAddress('lab-node-2', 'eth0', '192.168.77.111/24'). */
export async function addAddress(target: string, ifname: string, cidr: string, options: FaultOptions = {}): Promise<RestoreFault> {
  const netns = resolveNetns(loadState(options), target);
  await ipIn(netns, ['addr', 'add', cidr, 'dev', ifname]);
  return async () => {
    await ipIn(netns, ['addr', 'del', cidr, 'dev', ifname], { allowFailure: true });
  };
}

async function routeLines(netns: string): Promise<string[]> {
  const r = await ipIn(netns, ['route', 'show', 'table', 'main']);
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

/** Re-adds routes that vanished (the kernel drops routes whose address or gateway went away). */
async function restoreRoutes(netns: string, saved: readonly string[]): Promise<void> {
  let missing: string[] = [...saved];
  for (let pass = 0; pass < 3 && missing.length > 0; pass += 1) {
    const current = new Set(await routeLines(netns));
    missing = saved.filter((line) => !current.has(line));
    for (const line of missing) {
      // `ip route show` lines are `ip route replace` arguments, less the state-only flags.
      const args = line.split(/\s+/).filter((t) => t !== 'linkdown' && t !== 'dead');
      await ipIn(netns, ['route', 'replace', ...args], { allowFailure: true });
    }
  }
}

/** Removes an address; with a pod's only address the kernel also drops its routes, and restore puts them back. */
export async function delAddress(target: string, ifname: string, cidr: string, options: FaultOptions = {}): Promise<RestoreFault> {
  const netns = resolveNetns(loadState(options), target);
  const routes = await routeLines(netns);
  await ipIn(netns, ['addr', 'del', cidr, 'dev', ifname]);
  return async () => {
    await ipIn(netns, ['addr', 'add', cidr, 'dev', ifname], { allowFailure: true });
    await restoreRoutes(netns, routes);
  };
}

// ---------------------------------------------------------------- default route

/** Removes the node's default route: Calico's proxy ARP for 169.254.1.1 stops answering. */
export async function delDefaultRoute(node: string, options: FaultOptions = {}): Promise<RestoreFault> {
  const labNode = findLabNode(loadState(options), node);
  await ipIn(labNode.netns, ['route', 'del', 'default']);
  return () => restoreDefaultRoute(node, options);
}

export async function restoreDefaultRoute(node: string, options: FaultOptions = {}): Promise<void> {
  const labNode = findLabNode(loadState(options), node);
  await ipIn(labNode.netns, ['route', 'replace', 'default', 'via', UNDERLAY_GATEWAY, 'dev', labNode.nicName || NODE_NIC]);
}

// ---------------------------------------------------------------- pod processes (CoreDNS)

const COREDNS_POD = 'kube-system/coredns-6d4b75cb6d-lab01';

/** Kills a pod's container process (default: the CoreDNS stand-in): its Service has no live backend. */
export async function stopProcess(pod: string = COREDNS_POD, options: FaultOptions = {}): Promise<RestoreFault> {
  const labPod = findLabPod(loadState(options), pod);
  // CRI-O's conmon exits with its container (crio profile): nothing of the pod is left running.
  await killPids(labPod.conmonPid ? [labPod.pid, labPod.conmonPid] : [labPod.pid]);
  return () => startProcess(pod, options);
}

/** Freezes a pod's container process (SIGSTOP): it still exists but answers nothing, as a hung CoreDNS. */
export async function freezeProcess(pod: string = COREDNS_POD, options: FaultOptions = {}): Promise<RestoreFault> {
  const labPod = findLabPod(loadState(options), pod);
  process.kill(labPod.pid, 'SIGSTOP');
  return async () => {
    process.kill(labPod.pid, 'SIGCONT');
  };
}

/**
 * Starts the pod's container process again (same cgroup, same container id) if it is not
 * running, waits until it listens, and records the new PID in .lab/topology.json.
 */
export async function startProcess(pod: string = COREDNS_POD, options: FaultOptions = {}): Promise<void> {
  const paths = options.paths ?? labPaths();
  const state = readLabState(paths);
  const labPod = findLabPod(state, pod);
  if (isAlive(labPod.pid)) return;
  const spec = podSpecFor(labPod);
  labPod.pid = startPodProcess(labPod, spec.program, state, paths, spec.qosClass);
  writeLabState(state, paths);
  const waits = labPod.ports.filter((p) => p.containerPort !== 9153).map((p) => waitFor(() => isListening(labPod.pid, p.containerPort, p.protocol), 10_000));
  if (!(await Promise.all(waits)).every(Boolean)) throw new Error(`${pod} did not listen again within 10 s`);
}

// ---------------------------------------------------------------- upstream DNS

const BLOCK_RULE_COMMENT = 'ndlab-fault block upstream dns';

function upstreamBlockRule(protocol: 'udp' | 'tcp'): string[] {
  return ['INPUT', '-p', protocol, '--dport', '53', '-m', 'comment', '--comment', BLOCK_RULE_COMMENT, '-j', 'DROP'];
}

/** Drops DNS queries at the upstream resolver: names outside cluster.local time out. */
export async function blockUpstreamDns(): Promise<RestoreFault> {
  for (const protocol of ['udp', 'tcp'] as const) await execIn(UPSTREAM_NETNS, 'iptables', ['-w', '-I', ...upstreamBlockRule(protocol)]);
  return unblockUpstreamDns;
}

export async function unblockUpstreamDns(): Promise<void> {
  for (const protocol of ['udp', 'tcp'] as const) {
    // Delete every copy, in case it was blocked twice.
    for (let i = 0; i < 10; i += 1) {
      const r = await execIn(UPSTREAM_NETNS, 'iptables', ['-w', '-D', ...upstreamBlockRule(protocol)], { allowFailure: true });
      if (r.exitCode !== 0) break;
    }
  }
}

// ---------------------------------------------------------------- resolv.conf

/**
 * Rewrites the file in place (same inode), so processes that already have it bound over their
 * /etc/resolv.conf by `ip netns exec` see the change.
 */
function replaceFileInPlace(file: string, text: string): RestoreFault {
  const previous = readFileSync(file, 'utf8');
  writeFileSync(file, text);
  return async () => {
    writeFileSync(file, previous);
  };
}

export async function setPodResolvConf(pod: string, text: string, options: FaultOptions = {}): Promise<RestoreFault> {
  const labPod = findLabPod(loadState(options), pod);
  if (labPod.netns === null) throw new Error(`${pod} is a hostNetwork pod: use setNodeResolvConf`);
  return replaceFileInPlace(join(etcNetnsDir(labPod.netns), 'resolv.conf'), text);
}

export async function setNodeResolvConf(node: string, text: string, options: FaultOptions = {}): Promise<RestoreFault> {
  const labNode = findLabNode(loadState(options), node);
  return replaceFileInPlace(join(etcNetnsDir(labNode.netns), 'resolv.conf'), text);
}

/**
 * CoreDNS (re)started with TEXT as its own /etc/resolv.conf: what kubelet writes for a dnsPolicy
 * Default pod when its resolvConf is the 127.0.0.53 stub. CoreDNS reads the file when it starts, so
 * the stand-in is restarted (same cgroup) and then really forwards to its own loopback.
 */
export async function startCorednsWithResolvConf(text: string, pod: string = COREDNS_POD, options: FaultOptions = {}): Promise<RestoreFault> {
  const undoFile = await setPodResolvConf(pod, text, options);
  await restartProcess(pod, options);
  return async () => {
    await undoFile();
    await restartProcess(pod, options);
  };
}

async function restartProcess(pod: string, options: FaultOptions): Promise<void> {
  const old = findLabPod(loadState(options), pod).pid;
  await killPids([old]);
  // PID 1 reaps the killed process a moment later; until then its zombie still names the
  // container's cgroup, which no restarted container on a real node leaves behind.
  await waitFor(() => !existsSync(`/proc/${old}`), 5_000);
  await startProcess(pod, options);
}

/** The declared resolv.conf texts, for tests that want to compare. */
export const declaredResolvConf = { pod: buildPodResolvConf, node: buildNodeResolvConf };

/**
 * Removes every kube-proxy chain from the node (what `kube-proxy --cleanup` leaves: kubelet's and
 * the CNI's chains stay), as on a node whose kube-proxy never ran; the restore puts them back.
 */
export async function removeKubeProxyRules(node: string, options: FaultOptions = {}): Promise<RestoreFault> {
  const state = loadState(options);
  const declared = findLabNode(state, node);
  await execIn(declared.netns, 'nft', ['delete', 'table', 'ip', 'kube-proxy']).catch(() => undefined);
  await installNodeRules(state, { ...declared, kubeProxyMode: 'none' });
  return () => restoreKubeProxyRules(node, options);
}

// ---------------------------------------------------------------- conn-check: a hop that drops

/** Inserts one iptables rule at the top of a chain (e.g. FORWARD -d POD/32 -j DROP); the restore deletes exactly it. */
export async function insertIptablesRule(target: string, table: string, chain: string, rule: readonly string[], options: FaultOptions = {}): Promise<RestoreFault> {
  const netns = resolveNetns(loadState(options), target);
  await execIn(netns, 'iptables', ['-w', '-t', table, '-I', chain, ...rule]);
  return async () => {
    await execIn(netns, 'iptables', ['-w', '-t', table, '-D', chain, ...rule]);
  };
}

/** Deletes one route (e.g. a peer's pod CIDR), as a CNI agent that lost it would; the restore adds it back as it was. */
export async function deleteRoute(target: string, destination: string, options: FaultOptions = {}): Promise<RestoreFault> {
  const netns = resolveNetns(loadState(options), target);
  const shown = (await ipIn(netns, ['route', 'show', destination])).stdout.trim();
  if (shown === '' || shown.includes('\n')) throw new Error(`expected one route to ${destination} in ${netns}, found: ${shown || 'none'}`);
  await ipIn(netns, ['route', 'del', destination]);
  return async () => {
    await ipIn(netns, ['route', 'replace', ...shown.split(/\s+/)]);
  };
}

/** Sets a link down; the kernel drops the routes through it, so the restore puts them back after setting it up. */
export async function setLinkDown(target: string, ifname: string, options: FaultOptions = {}): Promise<RestoreFault> {
  const netns = resolveNetns(loadState(options), target);
  const routes = (await ipIn(netns, ['route', 'show', 'dev', ifname])).stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  await ipIn(netns, ['link', 'set', 'dev', ifname, 'down']);
  return async () => {
    await ipIn(netns, ['link', 'set', 'dev', ifname, 'up']);
    for (const r of routes) await ipIn(netns, ['route', 'replace', ...r.split(/\s+/), 'dev', ifname]);
  };
}

/**
 * Pins a neighbour entry (nud permanent, with the MAC it has now) so the namespace stops sending
 * ARP for it. A test that makes a pod deaf to ARP pins the pod's own gateway entry: otherwise the
 * pod's next ARP to its gateway teaches the node the pod's MAC, and the fault hides by chance.
 */
export async function pinNeighbour(target: string, address: string, options: FaultOptions = {}): Promise<RestoreFault> {
  const netns = resolveNetns(loadState(options), target);
  const entries = JSON.parse((await ipIn(netns, ['-j', 'neigh', 'show', 'to', address])).stdout || '[]') as Array<{ dev?: string; lladdr?: string }>;
  const entry = entries.find((e) => e.dev && e.lladdr);
  if (!entry) throw new Error(`${target}: no neighbour entry with a MAC for ${address} to pin`);
  await ipIn(netns, ['neigh', 'replace', address, 'lladdr', entry.lladdr!, 'dev', entry.dev!, 'nud', 'permanent']);
  return async () => {
    await ipIn(netns, ['neigh', 'del', address, 'dev', entry.dev!]);
  };
}

/** Forgets a neighbour entry, as its cache timer would, so the next packet asks ARP again. */
export async function forgetNeighbour(target: string, address: string, options: FaultOptions = {}): Promise<void> {
  const netns = resolveNetns(loadState(options), target);
  await ipIn(netns, ['neigh', 'flush', 'to', address]);
}

/** Empties the KUBE-SVC- chain that nat KUBE-SERVICES jumps to for CLUSTERIP:PORT, as a half-applied kube-proxy sync leaves it. */
export async function flushServiceChain(node: string, clusterIP: string, port: number, options: FaultOptions = {}): Promise<RestoreFault & { chain?: string }> {
  let chain = '';
  const restore = await editLiveIptables(
    node,
    (save) => {
      const jump = save.split('\n').find((l) => l.startsWith('-A KUBE-SERVICES ') && l.includes(` -d ${clusterIP}/32 `) && l.includes(` --dport ${port} `) && / -j KUBE-SVC-/.test(l));
      chain = /-j (KUBE-SVC-\w+)/.exec(jump ?? '')?.[1] ?? '';
      if (!chain) throw new Error(`no KUBE-SERVICES jump for ${clusterIP}:${port} on ${node}`);
      return save.split('\n').filter((l) => !l.startsWith(`-A ${chain} `)).join('\n');
    },
    options,
  );
  return Object.assign(restore, { chain });
}
