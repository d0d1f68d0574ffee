// Which dataplane steers Services on a node: kube-proxy (in pods, or outside them as k3s runs it
// inside its agent), or a kube-proxy replacement (Cilium, OVN-Kubernetes, Calico eBPF, Antrea
// proxyAll, kube-router). Evidence comes from the API (agent pods, their env/args, ConfigMaps)
// and from the node (interfaces the agent creates, the bpffs mount). docs/compatibility.md keeps
// the table of evidence and where each fact was looked up.
import type { IptablesDump } from './iptables-save.js';

export type ServiceProxy = 'cilium' | 'ovn-kubernetes' | 'calico-ebpf' | 'antrea-proxy' | 'kube-router';

/** A dataplane agent pod as the API shows it (kept in snapshots). */
export interface DataplaneAgentPod {
  proxy: ServiceProxy;
  namespace: string;
  name: string;
  nodeName: string | null;
  /** true: its settings say it handles Services; false: they say it does not; null: not visible. */
  replacesKubeProxy: boolean | null;
  setting: string; // the setting read, e.g. "cilium-config kube-proxy-replacement=true"
}

/** The cluster side of the decision (kept in snapshots). */
export interface ClusterDataplane {
  kubeProxyPods: Array<{ nodeName: string | null }>; // pods labelled k8s-app=kube-proxy
  kubeProxyConfigMap: boolean; // kube-system/kube-proxy exists (kubeadm writes it)
  agents: DataplaneAgentPod[];
  distribution: 'k3s' | 'rke2' | null; // from node annotations/labels: kube-proxy may run in the agent
}

export interface NodeDataplaneFacts {
  interfaces: readonly string[]; // every interface name on the node
  bpffs: boolean | null; // a bpf filesystem mounted in the node's view; null: not read
  kubeProxyRules: boolean; // KUBE-SERVICES chain / kube-proxy nft table / IPVS virtual servers
  remnants: readonly string[]; // kube-proxy's own chains left without its KUBE-SERVICES chain
}

export interface ServiceDataplaneVerdict {
  /** kube-proxy should be programming this node: its pods exist, or its chains are half there. */
  kubeProxyExpected: boolean;
  expectedBecause: string[];
  /** kube-proxy's rules are there while no kube-proxy pod exists (k3s agent, systemd unit). */
  kubeProxyOutsidePods: boolean;
  replacement: { proxy: ServiceProxy; title: string; inspect: string; evidence: string[] } | null;
}

interface ProxyFacts {
  title: string;
  interfaces: RegExp; // the devices its agent creates on every node
  inspect: string;
}

// Facts looked up per project (docs/compatibility.md cites the sources).
export const SERVICE_PROXIES: Readonly<Record<ServiceProxy, ProxyFacts>> = {
  cilium: { title: 'Cilium kube-proxy replacement (eBPF)', interfaces: /^(cilium_host|cilium_net|cilium_vxlan|cilium_geneve)$/, inspect: 'kubectl -n kube-system exec ds/cilium -- cilium-dbg service list (cilium service list before 1.15)' },
  'ovn-kubernetes': { title: 'OVN-Kubernetes (OVN load balancers)', interfaces: /^(ovn-k8s-mp0|br-int|genev_sys_6081)$/, inspect: 'ovn-nbctl lb-list in the ovnkube pod (ovn-nbctl --no-leader-only lb-list on OpenShift)' },
  'calico-ebpf': { title: 'Calico eBPF dataplane', interfaces: /^(bpfin\.cali|bpfout\.cali|bpfnatin|bpfnatout)$/, inspect: 'kubectl -n calico-system exec ds/calico-node -- calico-node -bpf nat dump' },
  'antrea-proxy': { title: 'AntreaProxy with proxyAll (Open vSwitch)', interfaces: /^(antrea-gw0)$/, inspect: 'antctl and ovs-ofctl dump-flows br-int in the antrea-agent pod of the node (kubectl -n kube-system exec ds/antrea-agent -c antrea-agent -- ...)' },
  'kube-router': { title: 'kube-router service proxy (IPVS)', interfaces: /^(kube-dummy-if|kube-bridge)$/, inspect: 'ipvsadm -Ln on the node (kube-router programs IPVS virtual servers)' },
};

// kube-proxy's own chains (not kubelet's KUBE-FIREWALL / KUBE-KUBELET-CANARY / KUBE-IPTABLES-HINT,
// which exist on every node whatever proxies Services).
const KUBE_PROXY_CHAIN = /^(KUBE-SERVICES|KUBE-NODEPORTS|KUBE-SVC-|KUBE-SEP-|KUBE-EXT-|KUBE-SVL-|KUBE-FW-|KUBE-XLB-|KUBE-PROXY-CANARY|KUBE-PROXY-FIREWALL|KUBE-EXTERNAL-SERVICES|KUBE-FORWARD)/;

/** kube-proxy chains present in any of the dumps (empty chains count: a flush leaves them). */
export function kubeProxyChains(dumps: ReadonlyArray<IptablesDump | null>): string[] {
  const out = new Set<string>();
  for (const d of dumps) {
    for (const [table, t] of d?.tables ?? []) for (const c of t.chains.keys()) if (KUBE_PROXY_CHAIN.test(c)) out.add(`${table} ${c}`);
  }
  return [...out].sort();
}

export function judgeServiceDataplane(cluster: ClusterDataplane | null, nodeName: string, node: NodeDataplaneFacts): ServiceDataplaneVerdict {
  // No API facts (an old snapshot): kube-proxy is assumed, as before this module existed.
  if (cluster === null) return { kubeProxyExpected: true, expectedBecause: ['no dataplane facts in this snapshot'], kubeProxyOutsidePods: false, replacement: null };
  const replacement = findReplacement(cluster, nodeName, node);
  const expectedBecause: string[] = [];
  const here = cluster.kubeProxyPods.filter((p) => p.nodeName === nodeName).length;
  if (cluster.kubeProxyPods.length > 0) expectedBecause.push(`${cluster.kubeProxyPods.length} kube-proxy pod(s) in the cluster, ${here} on ${nodeName}`);
  if (node.remnants.length > 0) expectedBecause.push(`kube-proxy chains without their Service rules: ${node.remnants.slice(0, 4).join(', ')}`);
  // A kubeadm ConfigMap left behind after moving to a replacement does not mean kube-proxy runs.
  if (cluster.kubeProxyConfigMap && replacement === null) expectedBecause.push('ConfigMap kube-system/kube-proxy exists');
  return {
    kubeProxyExpected: expectedBecause.length > 0,
    expectedBecause,
    kubeProxyOutsidePods: cluster.kubeProxyPods.length === 0 && node.kubeProxyRules,
    replacement,
  };
}

function findReplacement(cluster: ClusterDataplane, nodeName: string, node: NodeDataplaneFacts): ServiceDataplaneVerdict['replacement'] {
  for (const proxy of Object.keys(SERVICE_PROXIES) as ServiceProxy[]) {
    const facts = SERVICE_PROXIES[proxy];
    const agent = cluster.agents.find((a) => a.proxy === proxy && a.nodeName === nodeName);
    if (!agent || agent.replacesKubeProxy === false) continue;
    const devices = node.interfaces.filter((i) => facts.interfaces.test(i));
    // Settings not visible (null): the agent counts only when kube-proxy is absent and its
    // devices are on the node.
    if (agent.replacesKubeProxy === null && (cluster.kubeProxyPods.length > 0 || devices.length === 0)) continue;
    const evidence = [`pod ${agent.namespace}/${agent.name} on ${nodeName}${agent.setting ? `: ${agent.setting}` : ''}`];
    if (devices.length > 0) evidence.push(`its devices on the node: ${devices.join(', ')}`);
    if (node.bpffs) evidence.push('bpf filesystem mounted on the node');
    if (cluster.kubeProxyPods.length === 0) evidence.push('no kube-proxy pods in the cluster');
    return { proxy, title: facts.title, inspect: facts.inspect, evidence };
  }
  return null;
}

/** k3s and RKE2 mark their nodes; both run kube-proxy inside their agent, not as pods. */
export function distributionOf(node: { labels?: Record<string, string>; annotations?: Record<string, string>; kubeletVersion?: string }): ClusterDataplane['distribution'] {
  const a = node.annotations ?? {};
  const l = node.labels ?? {};
  const v = node.kubeletVersion ?? '';
  if ('rke2.io/node-args' in a || /\+rke2/.test(v)) return 'rke2';
  if ('k3s.io/node-args' in a || l['node.kubernetes.io/instance-type'] === 'k3s' || /\+k3s/.test(v)) return 'k3s';
  return null;
}

/** What an agent pod's own spec says about handling Services (env, args). */
export function agentSettingFromSpec(proxy: ServiceProxy, containers: ReadonlyArray<{ args?: string[]; command?: string[]; env?: Array<{ name: string; value?: string }> }>): { replaces: boolean | null; setting: string } {
  const env = (name: string) => containers.flatMap((c) => c.env ?? []).find((e) => e.name === name)?.value;
  const args = containers.flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]);
  switch (proxy) {
    case 'calico-ebpf': {
      const v = env('FELIX_BPFENABLED');
      return v === undefined ? { replaces: null, setting: '' } : { replaces: /^true$/i.test(v), setting: `FELIX_BPFENABLED=${v}` };
    }
    case 'kube-router': {
      // --run-service-proxy defaults to true in kube-router.
      const flag = args.find((a) => /^--run-service-proxy(=|$)/.test(a));
      if (flag === undefined) return { replaces: true, setting: '--run-service-proxy (default true)' };
      return { replaces: !/=false$/i.test(flag), setting: flag };
    }
    case 'ovn-kubernetes':
      return { replaces: true, setting: 'OVN-Kubernetes always implements Services itself' };
    default:
      return { replaces: null, setting: '' };
  }
}

/** Cilium's kube-proxy-replacement key ("true"/"strict" replace; "false"/"disabled"/"partial" do not fully). */
export function ciliumReplacesKubeProxy(value: string | undefined): boolean | null {
  if (value === undefined) return null;
  return /^(true|strict)$/i.test(value.trim());
}

/** Antrea: proxyAll under antreaProxy in antrea-agent.conf (AntreaProxy alone serves only pod traffic). */
export function antreaProxyAll(agentConf: string | undefined): boolean | null {
  if (agentConf === undefined) return null;
  const m = /^\s*proxyAll:\s*(true|false)\s*$/m.exec(agentConf);
  return m ? m[1] === 'true' : false;
}
