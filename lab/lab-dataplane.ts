// The dataplane profiles of the lab (issue 14 items 4 and 5), built for real:
//  k3s            kube-proxy and flannel run inside the k3s agent (no kube-proxy or flannel pods;
//                 kube-proxy's rules stay in the kernel), CNI config under /var/lib/rancher/k3s in
//                 the node's own mount view, k3s's node labels and annotations.
//  no-kube-proxy  Cilium kube-proxy replacement chained on the lab's CNIs (Cilium's documented
//                 generic-veth chaining): no KUBE-* proxy rules on any node, a cilium agent pod per
//                 node, cilium_host/cilium_net in the node netns and a bpffs in its mount view.
//                 The lab cannot load eBPF programs, so Service translation is done by a plain nft
//                 table (ip ndlab-service-lb) standing in for Cilium's eBPF load balancer.
import { readFileSync, readlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipIn, runCommand } from './lab-exec.js';
import { waitFor } from './lab-process.js';
import { hasProfile, type LabProfile } from './lab-profiles.js';
import type { LabConfigMap, LabNode, LabState } from './lab-state.js';
import { buildServiceEndpoints } from './kube-proxy-rules.js';
import { buildCalicoConflist, buildFlannelConflist, LAB_NODES, POD_MTU, type PodSpec } from './lab-topology.js';

export const K3S_CNI_CONF_DIR = '/var/lib/rancher/k3s/agent/etc/cni/net.d';
export const SERVICE_LB_TABLE = 'ndlab-service-lb';

/** k3s's node labels and annotations (as `kubectl get node -o yaml` shows them on k3s 1.30). */
export function k3sNodeMetadata(node: Pick<LabNode, 'name' | 'internalIP' | 'labels'>): { labels: Record<string, string>; annotations: Record<string, string> } {
  const server = 'node-role.kubernetes.io/control-plane' in node.labels;
  const labels: Record<string, string> = { ...node.labels, 'beta.kubernetes.io/instance-type': 'k3s', 'node.kubernetes.io/instance-type': 'k3s' };
  if (server) Object.assign(labels, { 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/master': 'true' });
  return {
    labels,
    annotations: {
      'flannel.alpha.coreos.com/backend-type': 'vxlan',
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
      'flannel.alpha.coreos.com/public-ip': node.internalIP,
      'k3s.io/hostname': node.name,
      'k3s.io/internal-ip': node.internalIP,
      'k3s.io/node-args': JSON.stringify([server ? 'server' : 'agent']),
      'k3s.io/node-env': '{}',
    },
  };
}

/** One Cilium agent pod per node (DaemonSet cilium in kube-system, k8s-app=cilium, hostNetwork). */
export const CILIUM_AGENT_PODS: readonly PodSpec[] = LAB_NODES.map((n, i) => ({
  name: `cilium-${['x7k2p', 'm4q9d', 'r8t5w'][i] ?? `n${i}`}`,
  namespace: 'kube-system',
  nodeName: n.name,
  hostNetwork: true,
  ip: null,
  labels: { 'k8s-app': 'cilium', 'app.kubernetes.io/name': 'cilium-agent', 'app.kubernetes.io/part-of': 'cilium' },
  containerName: 'cilium-agent',
  image: 'quay.io/cilium/cilium:v1.16.1',
  ports: [],
  program: 'sleep',
  qosClass: 'burstable',
  dnsPolicy: 'ClusterFirst',
}));

/** The pods a profile runs: k3s embeds kube-proxy and flannel; no-kube-proxy has Cilium instead of kube-proxy. */
export function profilePods(pods: readonly PodSpec[], profiles: readonly LabProfile[]): PodSpec[] {
  const isKubeProxy = (p: PodSpec) => p.labels['k8s-app'] === 'kube-proxy';
  let out = [...pods];
  if (profiles.includes('k3s')) out = out.filter((p) => !isKubeProxy(p) && p.labels['app'] !== 'flannel');
  if (profiles.includes('no-kube-proxy')) out = [...out.filter((p) => !isKubeProxy(p)), ...CILIUM_AGENT_PODS];
  return out;
}

/** ConfigMaps: no kube-proxy ConfigMap on k3s or without kube-proxy; cilium-config for Cilium. */
export function profileConfigMaps(maps: readonly LabConfigMap[], profiles: readonly LabProfile[]): LabConfigMap[] {
  let out = [...maps];
  if (profiles.includes('k3s') || profiles.includes('no-kube-proxy')) out = out.filter((m) => !m.name.startsWith('kube-proxy'));
  if (profiles.includes('k3s')) out = out.filter((m) => m.name !== 'kube-flannel-cfg');
  if (profiles.includes('masquerade-all')) {
    // kube-proxy --masquerade-all: its config says so, as the rules do
    out = out.map((m) => (m.name.startsWith('kube-proxy') ? { ...m, data: { ...m.data, 'config.conf': (m.data['config.conf'] ?? '').replace('masqueradeAll: false', 'masqueradeAll: true') } } : m));
  }
  if (profiles.includes('no-kube-proxy')) {
    out.push({ name: 'cilium-config', namespace: 'kube-system', data: { 'kube-proxy-replacement': 'true', 'cni-chaining-mode': 'generic-veth', 'enable-ipv4': 'true', 'bpf-root': '/sys/fs/bpf', 'routing-mode': 'native' } });
  }
  return out;
}

/** Cilium's host devices: the cilium_host/cilium_net veth pair every agent creates. */
export async function addCiliumDevices(netns: string): Promise<void> {
  await ipIn(netns, ['link', 'add', 'cilium_host', 'mtu', String(POD_MTU), 'type', 'veth', 'peer', 'name', 'cilium_net', 'mtu', String(POD_MTU)]);
  await ipIn(netns, ['link', 'set', 'cilium_net', 'up']);
  await ipIn(netns, ['link', 'set', 'cilium_host', 'up']);
}

// Cilium's default IPv4 service loopback address (--ipv4-service-loopback-address): the source it
// gives a pod's connection to a Service that the load balancer sends back to that same pod.
const CILIUM_SERVICE_LOOPBACK = '169.254.42.1';

/**
 * The stand-in for Cilium's eBPF Service load balancer: ClusterIP and NodePort DNAT to the ready
 * endpoints, chosen at random, in a table that is not kube-proxy's. A pod reaching itself through
 * a Service (hairpin) is SNATed to the service loopback address as Cilium does; without it the
 * pod's reply would skip the host and never be un-DNATed.
 */
export function buildServiceLbRuleset(state: Pick<LabState, 'services' | 'pods' | 'nodes'>): string {
  const T = `ip ${SERVICE_LB_TABLE}`;
  const lines = [`add table ${T}`, `flush table ${T}`];
  lines.push(`add chain ${T} prerouting { type nat hook prerouting priority dstnat; policy accept; }`);
  lines.push(`add chain ${T} output { type nat hook output priority -100; policy accept; }`);
  lines.push(`add chain ${T} services`);
  lines.push(`add rule ${T} prerouting jump services`, `add rule ${T} output jump services`);
  lines.push(`add chain ${T} postrouting { type nat hook postrouting priority srcnat; policy accept; }`);
  const hairpinned = new Set<string>();
  buildServiceEndpoints(state).forEach((sp, i) => {
    if (sp.endpoints.length === 0) return;
    const proto = sp.port.protocol.toLowerCase();
    const chain = `svc-${i}`;
    lines.push(`add chain ${T} ${chain}`);
    sp.endpoints.forEach((e, j) => {
      lines.push(`add chain ${T} ${chain}-ep${j}`, `add rule ${T} ${chain}-ep${j} meta l4proto ${proto} dnat to ${e.ip}:${e.port}`);
      if (!hairpinned.has(e.ip)) lines.push(`add rule ${T} postrouting ct status dnat ip saddr ${e.ip} ip daddr ${e.ip} snat to ${CILIUM_SERVICE_LOOPBACK}`);
      hairpinned.add(e.ip);
    });
    const vmap = sp.endpoints.map((_, j) => `${j} : jump ${chain}-ep${j}`).join(', ');
    lines.push(`add rule ${T} ${chain} numgen random mod ${sp.endpoints.length} vmap { ${vmap} }`);
    lines.push(`add rule ${T} services ip daddr ${sp.service.clusterIP} ${proto} dport ${sp.port.port} jump ${chain}`);
    if (sp.port.nodePort !== undefined) lines.push(`add rule ${T} services fib daddr type local ${proto} dport ${sp.port.nodePort} jump ${chain}`);
  });
  return lines.join('\n') + '\n';
}

/** Waits until `ip netns exec` has unshared the node init's mount namespace and exec'd the init. */
async function ownMountNamespace(pid: number): Promise<void> {
  const mine = readlinkSync('/proc/self/ns/mnt');
  const ready = await waitFor(() => {
    try {
      // Still `ip` until it has set /etc and /sys up and exec'd the init program.
      return readlinkSync(`/proc/${pid}/ns/mnt`) !== mine && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'ip';
    } catch {
      return false;
    }
  }, 5000);
  // Mounting in our own namespace would change the machine's /var/lib: never do that.
  if (!ready) throw new Error(`node init ${pid} has no mount namespace of its own`);
}

/**
 * Files and mounts in each node's own mount view (the init process's, which the probe enters):
 * k3s's CNI config under /var/lib/rancher through an overlay on /var/lib, and a bpffs for Cilium.
 * The machine's own /var/lib and /sys/fs/bpf are never touched.
 */
export async function applyNodeMountProfiles(state: LabState, labDir: string, log: (line: string) => void): Promise<void> {
  for (const node of state.nodes) {
    if (hasProfile(state, 'k3s')) {
      await ownMountNamespace(node.initPid);
      const base = join(labDir, 'nodes', node.name, 'var-lib');
      const confDir = join(base, 'upper', K3S_CNI_CONF_DIR.replace(/^\/var\/lib\//, ''));
      mkdirSync(confDir, { recursive: true });
      mkdirSync(join(base, 'upper', 'rancher', 'k3s', 'data', 'current', 'bin'), { recursive: true });
      mkdirSync(join(base, 'work'), { recursive: true });
      const [file, text] = node.cni === 'calico' ? ['10-calico.conflist', buildCalicoConflist(node.name)] : ['10-flannel.conflist', buildFlannelConflist()];
      writeFileSync(join(confDir, file), text + '\n');
      await runCommand('nsenter', ['-t', String(node.initPid), '-m', '--', 'mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=/var/lib,upperdir=${join(base, 'upper')},workdir=${join(base, 'work')}`, '/var/lib']);
    }
    if (hasProfile(state, 'no-kube-proxy')) {
      await ownMountNamespace(node.initPid);
      const r = await runCommand('nsenter', ['-t', String(node.initPid), '-m', '--', 'mount', '-t', 'bpf', 'bpf', '/sys/fs/bpf'], { allowFailure: true });
      if (r.exitCode !== 0) log(`bpffs not mounted on ${node.name}: ${r.stderr.trim()}`);
    }
  }
}
