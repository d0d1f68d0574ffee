// The API side of "which dataplane steers Services": kube-proxy pods and ConfigMap, the agents of
// kube-proxy replacements and the settings that say whether they replace it. Two pod lists and at
// most three ConfigMap reads; anything unreadable (RBAC, absent) counts as not there.
import type { ClusterApi, ConfigMap, Node, Pod } from '../kube/cluster-api.js';
import { agentSettingFromSpec, antreaProxyAll, ciliumReplacesKubeProxy, distributionOf, type ClusterDataplane, type DataplaneAgentPod, type ServiceProxy } from './dataplane.js';

/** Which agent a pod is, from the labels its project's manifests give it. */
export function serviceProxyOfPod(labels: Record<string, string>): ServiceProxy | 'kube-proxy' | null {
  const k8sApp = labels['k8s-app'];
  if (k8sApp === 'kube-proxy') return 'kube-proxy';
  if (k8sApp === 'cilium') return 'cilium';
  if (k8sApp === 'calico-node') return 'calico-ebpf';
  if (k8sApp === 'kube-router') return 'kube-router';
  if (labels['app'] === 'ovnkube-node') return 'ovn-kubernetes';
  if (labels['app'] === 'antrea' && labels['component'] === 'antrea-agent') return 'antrea-proxy';
  return null;
}

export async function fetchClusterDataplane(api: ClusterApi, nodeList: Promise<readonly Node[]> | readonly Node[]): Promise<ClusterDataplane> {
  const none = (): Pod[] => [];
  const [nodes, byK8sApp, byApp, kubeProxyCm] = await Promise.all([
    nodeList,
    api.listPods({ namespace: undefined, labelSelector: 'k8s-app in (kube-proxy,cilium,calico-node,kube-router)' }).catch(none),
    api.listPods({ namespace: undefined, labelSelector: 'app in (ovnkube-node,antrea)' }).catch(none),
    readOptional(api, 'kube-system', 'kube-proxy'),
  ]);
  const pods = [...byK8sApp, ...byApp];
  const typed = pods.map((p) => ({ p, proxy: serviceProxyOfPod(p.metadata?.labels ?? {}) })).filter((x) => x.proxy !== null);
  const has = (proxy: ServiceProxy) => typed.some((x) => x.proxy === proxy);
  const [ciliumCm, antreaCm] = await Promise.all([
    has('cilium') ? readOptional(api, namespaceOf(typed, 'cilium'), 'cilium-config') : Promise.resolve(null),
    has('antrea-proxy') ? readOptional(api, namespaceOf(typed, 'antrea-proxy'), 'antrea-config') : Promise.resolve(null),
  ]);
  const agents: DataplaneAgentPod[] = [];
  for (const { p, proxy } of typed) {
    if (proxy === 'kube-proxy' || proxy === null) continue;
    let replaces: boolean | null;
    let setting: string;
    if (proxy === 'cilium') {
      const v = ciliumCm?.data?.['kube-proxy-replacement'];
      replaces = ciliumReplacesKubeProxy(v);
      setting = v === undefined ? '' : `cilium-config kube-proxy-replacement=${v}`;
    } else if (proxy === 'antrea-proxy') {
      replaces = antreaProxyAll(antreaCm?.data?.['antrea-agent.conf']);
      setting = replaces === null ? '' : `antrea-config antreaProxy.proxyAll=${replaces}`;
    } else {
      ({ replaces, setting } = agentSettingFromSpec(proxy, p.spec?.containers ?? []));
    }
    agents.push({ proxy, namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', nodeName: p.spec?.nodeName ?? null, replacesKubeProxy: replaces, setting });
  }
  const distributions = nodes.map((n) => distributionOf({ labels: n.metadata?.labels ?? {}, annotations: n.metadata?.annotations ?? {}, kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? '' }));
  return {
    kubeProxyPods: typed.filter((x) => x.proxy === 'kube-proxy').map((x) => ({ nodeName: x.p.spec?.nodeName ?? null })),
    kubeProxyConfigMap: kubeProxyCm !== null,
    agents,
    distribution: distributions.find((d) => d !== null) ?? null,
  };
}

function namespaceOf(typed: ReadonlyArray<{ p: Pod; proxy: ServiceProxy | 'kube-proxy' | null }>, proxy: ServiceProxy): string {
  return typed.find((x) => x.proxy === proxy)?.p.metadata?.namespace ?? 'kube-system';
}

async function readOptional(api: ClusterApi, namespace: string, name: string): Promise<ConfigMap | null> {
  try {
    return await api.readConfigMap(namespace, name);
  } catch {
    return null;
  }
}
