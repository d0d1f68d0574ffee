// Which dataplane steers Services (issue 14 items 4 and 5): the decision on plain inputs, the
// settings read from agent pods and ConfigMaps, and kube-proxy's chains in a real dump.
import { expect } from 'chai';
import { agentSettingFromSpec, antreaProxyAll, ciliumReplacesKubeProxy, distributionOf, judgeServiceDataplane, kubeProxyChains, type ClusterDataplane, type NodeDataplaneFacts } from '../../../src/kube-proxy/dataplane.js';
import { parseIptablesSave } from '../../../src/kube-proxy/iptables-save.js';
import { serviceProxyOfPod } from '../../../src/kube-proxy/dataplane-api.js';
import { readFixture } from './kube-proxy-fixtures.js';

const noRules: NodeDataplaneFacts = { interfaces: ['lo', 'eth0'], bpffs: null, kubeProxyRules: false, remnants: [] };
const cluster = (over: Partial<ClusterDataplane> = {}): ClusterDataplane => ({ kubeProxyPods: [], kubeProxyConfigMap: false, agents: [], distribution: null, ...over });
const cilium = (replaces: boolean | null, nodeName = 'n1') => ({ proxy: 'cilium' as const, namespace: 'kube-system', name: `cilium-${nodeName}`, nodeName, replacesKubeProxy: replaces, setting: replaces === null ? '' : `cilium-config kube-proxy-replacement=${replaces}` });

describe('judgeServiceDataplane', () => {
  it('recognises Cilium kube-proxy replacement on the node: no kube-proxy expected', () => {
    const v = judgeServiceDataplane(cluster({ agents: [cilium(true)] }), 'n1', { ...noRules, interfaces: ['eth0', 'cilium_host', 'cilium_net'], bpffs: true });
    expect(v.kubeProxyExpected).to.equal(false);
    expect(v.replacement?.proxy).to.equal('cilium');
    expect(v.replacement?.evidence).to.include('its devices on the node: cilium_host, cilium_net');
    expect(v.replacement?.inspect).to.contain('cilium-dbg service list');
  });

  it('expects kube-proxy wherever its pods exist, whatever else runs (the negative case)', () => {
    const v = judgeServiceDataplane(cluster({ kubeProxyPods: [{ nodeName: 'n1' }, { nodeName: 'n2' }], agents: [cilium(true)] }), 'n2', { ...noRules, interfaces: ['cilium_host'] });
    expect(v.kubeProxyExpected).to.equal(true);
    expect(v.expectedBecause).to.deep.equal(['2 kube-proxy pod(s) in the cluster, 1 on n2']);
  });

  it('expects kube-proxy on a node with its chains half flushed, even next to a replacement', () => {
    const v = judgeServiceDataplane(cluster({ agents: [cilium(true)] }), 'n1', { ...noRules, remnants: ['filter KUBE-PROXY-FIREWALL', 'nat KUBE-POSTROUTING'] });
    expect(v.kubeProxyExpected).to.equal(true);
    expect(v.expectedBecause[0]).to.contain('filter KUBE-PROXY-FIREWALL');
  });

  it('does not count Cilium without kube-proxy-replacement, nor an agent on another node', () => {
    expect(judgeServiceDataplane(cluster({ agents: [cilium(false)] }), 'n1', { ...noRules, interfaces: ['cilium_host'] }).replacement).to.equal(null);
    expect(judgeServiceDataplane(cluster({ agents: [cilium(true, 'n2')] }), 'n1', noRules).replacement).to.equal(null);
  });

  it('counts an agent whose settings are not visible only with its devices and no kube-proxy pods', () => {
    expect(judgeServiceDataplane(cluster({ agents: [cilium(null)] }), 'n1', { ...noRules, interfaces: ['cilium_host'] }).replacement?.proxy).to.equal('cilium');
    expect(judgeServiceDataplane(cluster({ agents: [cilium(null)] }), 'n1', noRules).replacement).to.equal(null);
  });

  it('takes a leftover kube-proxy ConfigMap as expecting kube-proxy only when no replacement runs', () => {
    expect(judgeServiceDataplane(cluster({ kubeProxyConfigMap: true }), 'n1', noRules).kubeProxyExpected).to.equal(true);
    expect(judgeServiceDataplane(cluster({ kubeProxyConfigMap: true, agents: [cilium(true)] }), 'n1', noRules).kubeProxyExpected).to.equal(false);
  });

  it('says kube-proxy runs outside pods when its rules are there and no pod is (k3s, systemd unit)', () => {
    const v = judgeServiceDataplane(cluster({ distribution: 'k3s' }), 'n1', { ...noRules, kubeProxyRules: true });
    expect(v).to.deep.include({ kubeProxyOutsidePods: true, kubeProxyExpected: false, replacement: null });
  });

  it('without dataplane facts (old snapshots) still expects kube-proxy', () => {
    expect(judgeServiceDataplane(null, 'n1', noRules).kubeProxyExpected).to.equal(true);
  });

  it('recognises OVN-Kubernetes, Calico eBPF, Antrea proxyAll and kube-router agents', () => {
    const agent = (proxy: 'ovn-kubernetes' | 'calico-ebpf' | 'antrea-proxy' | 'kube-router', replaces: boolean) => cluster({ agents: [{ proxy, namespace: 'x', name: 'a', nodeName: 'n1', replacesKubeProxy: replaces, setting: '' }] });
    expect(judgeServiceDataplane(agent('ovn-kubernetes', true), 'n1', { ...noRules, interfaces: ['ovn-k8s-mp0', 'br-int', 'genev_sys_6081'] }).replacement?.evidence).to.include('its devices on the node: ovn-k8s-mp0, br-int, genev_sys_6081');
    expect(judgeServiceDataplane(agent('calico-ebpf', true), 'n1', { ...noRules, interfaces: ['bpfin.cali', 'bpfout.cali'] }).replacement?.inspect).to.contain('calico-node -bpf nat dump');
    expect(judgeServiceDataplane(agent('calico-ebpf', false), 'n1', noRules).replacement).to.equal(null);
    expect(judgeServiceDataplane(agent('antrea-proxy', true), 'n1', noRules).replacement?.proxy).to.equal('antrea-proxy');
    expect(judgeServiceDataplane(agent('kube-router', true), 'n1', noRules).replacement?.inspect).to.contain('ipvsadm -Ln');
  });
});

describe('dataplane settings from the API', () => {
  it('reads Calico eBPF from FELIX_BPFENABLED and kube-router from --run-service-proxy (default true)', () => {
    expect(agentSettingFromSpec('calico-ebpf', [{ env: [{ name: 'FELIX_BPFENABLED', value: 'true' }] }])).to.deep.equal({ replaces: true, setting: 'FELIX_BPFENABLED=true' });
    expect(agentSettingFromSpec('calico-ebpf', [{ env: [{ name: 'CALICO_NETWORKING_BACKEND', value: 'bird' }] }]).replaces).to.equal(null);
    expect(agentSettingFromSpec('kube-router', [{ args: ['--run-router=true', '--run-service-proxy=false'] }]).replaces).to.equal(false);
    expect(agentSettingFromSpec('kube-router', [{ args: ['--run-router=true'] }]).replaces).to.equal(true);
  });

  it("reads Cilium's kube-proxy-replacement and Antrea's proxyAll", () => {
    expect(['true', 'strict', 'false', 'partial', undefined].map(ciliumReplacesKubeProxy)).to.deep.equal([true, true, false, false, null]);
    expect(antreaProxyAll('antreaProxy:\n  proxyAll: true\n  skipServices: []\n')).to.equal(true);
    expect(antreaProxyAll('antreaProxy:\n  # proxyAll: false\n')).to.equal(false);
    expect(antreaProxyAll(undefined)).to.equal(null);
  });

  it('knows each agent by the labels its manifests give it', () => {
    expect(serviceProxyOfPod({ 'k8s-app': 'cilium' })).to.equal('cilium');
    expect(serviceProxyOfPod({ app: 'ovnkube-node', component: 'network' })).to.equal('ovn-kubernetes');
    expect(serviceProxyOfPod({ app: 'antrea', component: 'antrea-agent' })).to.equal('antrea-proxy');
    expect(serviceProxyOfPod({ app: 'antrea', component: 'antrea-controller' })).to.equal(null);
    expect(serviceProxyOfPod({ 'k8s-app': 'kube-proxy' })).to.equal('kube-proxy');
  });

  it('tells k3s and RKE2 nodes from their annotations, labels or kubelet version', () => {
    expect(distributionOf({ annotations: { 'k3s.io/node-args': '["agent"]' } })).to.equal('k3s');
    expect(distributionOf({ labels: { 'node.kubernetes.io/instance-type': 'k3s' } })).to.equal('k3s');
    expect(distributionOf({ kubeletVersion: 'v1.30.6+rke2r1' })).to.equal('rke2');
    expect(distributionOf({ labels: { 'kubernetes.io/os': 'linux' }, kubeletVersion: 'v1.30.6' })).to.equal(null);
  });
});

describe('kubeProxyChains', () => {
  it("finds kube-proxy's chains in a real dump and ignores kubelet's", () => {
    const dump = parseIptablesSave(readFixture('iptables/flannel-kubeadm-v1.29-master-full.txt'));
    const chains = kubeProxyChains([dump]);
    expect(chains.length).to.be.greaterThan(5);
    expect(chains).to.include('nat KUBE-SERVICES');
    expect(chains.every((c) => !/KUBE-(FIREWALL|KUBELET-CANARY|IPTABLES-HINT)$/.test(c))).to.equal(true);
  });

  it('finds nothing in a dump holding only kubelet chains', () => {
    const dump = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n');
    expect(kubeProxyChains([dump, null])).to.deep.equal([]);
  });
});
