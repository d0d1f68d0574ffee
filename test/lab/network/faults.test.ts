// Each fault function really breaks the lab (the symptom shows in the kernel) and its restore
// really repairs it.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { execIn, ipIn } from '../../../lab/lab-exec.js';
import {
  addAddress,
  blockUpstreamDns,
  delAddress,
  delDefaultRoute,
  flushServiceRules,
  restoreDefaultRoute,
  restoreKubeProxyRules,
  setLinkMtu,
  setNodeResolvConf,
  setPodResolvConf,
  startCorednsWithResolvConf,
  setSysctl,
  startProcess,
  stopProcess,
  unblockUpstreamDns,
} from '../../../lab/lab-faults.js';
import { isAlive } from '../../../lab/lab-process.js';
import type { LabState } from '../../../lab/lab-state.js';
import { readLabState } from '../../../lab/netns-lab.js';
import { dig, httpGetFrom, ping, podByName, podNetns, requireLab } from './lab-network-helpers.js';

describe('lab network: faults break and restore', function () {
  let state: LabState;
  let client: string;
  let web1: string;
  let web2: string;
  before(function () {
    state = requireLab(this);
    client = podNetns(podByName(state, 'client-1'));
    web1 = podNetns(podByName(state, 'web-1'));
    web2 = podNetns(podByName(state, 'web-2'));
  });
  after(async function () {
    if (state === undefined || labStateOrNull() === null) return;
    // Belt and braces: whatever a failed test left broken.
    for (const node of state.nodes) {
      await restoreDefaultRoute(node.name);
      await restoreKubeProxyRules(node.name);
    }
    await unblockUpstreamDns();
    await startProcess();
  });

  it('setSysctl ip_forward=0 on node 1 stops traffic routed through it', async function () {
    const restore = await setSysctl('lab-node-1', 'net.ipv4.ip_forward', 0);
    try {
      expect(await ping(client, podByName(state, 'web-1').ip)).to.equal(false);
    } finally {
      await restore();
    }
    expect(await ping(client, podByName(state, 'web-1').ip)).to.equal(true);
  });

  it('flushServiceRules removes one Service from a node; restoreKubeProxyRules puts it back', async function () {
    const restore = await flushServiceRules('lab-node-3', 'default/web');
    try {
      const saved = await execIn(state.nodes[2]!.netns, 'iptables-save', ['-t', 'nat']);
      expect(saved.stdout).to.not.include('default/web:http');
      expect((await httpGetFrom(client, '10.96.100.10', 80)).ok).to.equal(false);
      // Other Services on the node are untouched.
      expect((await httpGetFrom(client, '10.96.100.20', 9090)).ok).to.equal(true);
    } finally {
      await restore();
    }
    expect((await httpGetFrom(client, '10.96.100.10', 80)).ok).to.equal(true);
  });

  it('flushServiceRules on a node in nftables mode removes the Service from the ip kube-proxy table', async function () {
    const nftNode = state.nodes.find((n) => n.kubeProxyMode === 'nftables');
    if (!nftNode) this.skip(); // only when lab:up ran with --nft-node
    const src = state.pods.find((p) => !p.hostNetwork && p.nodeName === nftNode!.name)!;
    const restore = await flushServiceRules(nftNode!.name, 'default/web');
    try {
      const table = await execIn(nftNode!.netns, 'nft', ['list', 'table', 'ip', 'kube-proxy']);
      expect(table.stdout).to.not.include('default/web/tcp/http');
      expect((await httpGetFrom(podNetns(src), '10.96.100.10', 80)).ok).to.equal(false);
    } finally {
      await restore();
    }
    expect((await httpGetFrom(podNetns(src), '10.96.100.10', 80)).ok).to.equal(true);
  });

  it('setLinkMtu 1400 on vxlan.calico makes full-size pod packets fail between nodes 1 and 2', async function () {
    const web2Ip = podByName(state, 'web-2').ip;
    const restore = await setLinkMtu('lab-node-1', 'vxlan.calico', 1400);
    try {
      expect(await ping(web1, web2Ip, ['-M', 'do', '-s', '1422'])).to.equal(false);
      expect(await ping(web1, web2Ip, ['-M', 'do', '-s', '1300'])).to.equal(true);
    } finally {
      await restore();
    }
    const links = JSON.parse((await ipIn('ndlab-node-1', ['-j', 'link', 'show', 'vxlan.calico'])).stdout) as Array<{ mtu: number }>;
    expect(links[0]!.mtu).to.equal(1450);
    // The kernel may cache the smaller path MTU for a while; a fresh size under it always works.
    expect(await ping(web1, web2Ip, ['-M', 'do', '-s', '1300'])).to.equal(true);
  });

  it('addAddress puts a second IP on a node NIC that answers; restore removes it', async function () {
    const restore = await addAddress('lab-node-2', 'eth0', '192.168.77.112/24');
    try {
      expect(await ping('ndlab-node-1', '192.168.77.112')).to.equal(true);
    } finally {
      await restore();
    }
    const addrs = await ipIn('ndlab-node-2', ['-o', 'addr', 'show', 'dev', 'eth0']);
    expect(addrs.stdout).to.not.include('192.168.77.112');
  });

  it("delAddress takes a pod's IP away; restore gives it back", async function () {
    const web1Ip = podByName(state, 'web-1').ip;
    const restore = await delAddress('web-1', 'eth0', `${web1Ip}/32`);
    try {
      expect(await ping(web2, web1Ip)).to.equal(false);
    } finally {
      await restore();
    }
    expect(await ping(web2, web1Ip)).to.equal(true);
  });

  it("delDefaultRoute on a Calico node silences proxy ARP for 169.254.1.1", async function () {
    const web2Ip = podByName(state, 'web-2').ip;
    await ipIn(web1, ['neigh', 'flush', 'dev', 'eth0']);
    const restore = await delDefaultRoute('lab-node-1');
    try {
      expect(await ping(web1, web2Ip)).to.equal(false);
      const neigh = await ipIn(web1, ['neigh', 'show', '169.254.1.1']);
      expect(neigh.stdout).to.not.match(/lladdr ee:ee:ee:ee:ee:ee/);
    } finally {
      await restore();
    }
    await ipIn(web1, ['neigh', 'flush', 'dev', 'eth0']);
    expect(await ping(web1, web2Ip)).to.equal(true);
    expect((await ipIn(web1, ['neigh', 'show', '169.254.1.1'])).stdout).to.match(/lladdr ee:ee:ee:ee:ee:ee/);
  });

  it('stopProcess kills the CoreDNS stand-in; startProcess brings it back in its cgroup', async function () {
    const before = podByName(readLabState(), 'coredns-6d4b75cb6d-lab01');
    const restore = await stopProcess();
    try {
      expect(isAlive(before.pid)).to.equal(false);
      const r = await dig(client, ['+short', '@10.96.0.10', 'web.default.svc.cluster.local']);
      expect(r.stdout).to.not.include('10.96.100.10');
    } finally {
      await restore();
    }
    const after = podByName(readLabState(), 'coredns-6d4b75cb6d-lab01');
    expect(after.pid).to.not.equal(before.pid);
    expect(readFileSync(`/proc/${after.pid}/cgroup`, 'utf8')).to.include(`cri-containerd-${after.containerId}.scope`);
    const r = await dig(client, ['+short', '@10.96.0.10', 'web.default.svc.cluster.local']);
    expect(r.stdout.trim()).to.equal('10.96.100.10');
  });

  it('blockUpstreamDns breaks external names only; unblock restores them', async function () {
    const restore = await blockUpstreamDns();
    try {
      const external = await dig(client, ['+short', '@10.96.0.10', 'www.example.test']);
      expect(external.stdout).to.not.include('192.168.77.80');
      const internal = await dig(client, ['+short', '@10.96.0.10', 'web.default.svc.cluster.local']);
      expect(internal.stdout.trim()).to.equal('10.96.100.10');
    } finally {
      await restore();
    }
    const external = await dig(client, ['+short', '@10.96.0.10', 'www.example.test']);
    expect(external.stdout.trim()).to.equal('192.168.77.80');
  });

  it("setPodResolvConf changes what the running pod process sees; restore puts it back", async function () {
    const pod = podByName(state, 'client-1');
    const original = readFileSync(`/proc/${pod.pid}/root/etc/resolv.conf`, 'utf8');
    const restore = await setPodResolvConf('team-b/client-1', 'nameserver 192.168.77.53\n');
    try {
      expect(readFileSync(`/proc/${pod.pid}/root/etc/resolv.conf`, 'utf8')).to.equal('nameserver 192.168.77.53\n');
      const r = await dig(client, ['+search', '+short', 'api.team-a']);
      expect(r.stdout).to.not.include('10.96.100.20');
    } finally {
      await restore();
    }
    expect(readFileSync(`/proc/${pod.pid}/root/etc/resolv.conf`, 'utf8')).to.equal(original);
  });

  it('startCorednsWithResolvConf restarts CoreDNS with a loopback upstream: outside names stop, cluster names answer; restore undoes it', async function () {
    const before = podByName(readLabState(), 'coredns-6d4b75cb6d-lab01');
    const restore = await startCorednsWithResolvConf('nameserver 127.0.0.53\n');
    try {
      const now = podByName(readLabState(), 'coredns-6d4b75cb6d-lab01');
      expect(now.pid).to.not.equal(before.pid);
      expect(readFileSync(`/proc/${now.pid}/root/etc/resolv.conf`, 'utf8')).to.equal('nameserver 127.0.0.53\n');
      const external = await dig(client, ['+short', '+time=2', '+tries=1', '@10.96.0.10', 'www.example.test']);
      expect(external.stdout).to.not.include('192.168.77.80');
      const internal = await dig(client, ['+short', '@10.96.0.10', 'web.default.svc.cluster.local']);
      expect(internal.stdout.trim()).to.equal('10.96.100.10');
    } finally {
      await restore();
    }
    const after = podByName(readLabState(), 'coredns-6d4b75cb6d-lab01');
    expect(readFileSync(`/proc/${after.pid}/root/etc/resolv.conf`, 'utf8')).to.equal('nameserver 192.168.77.53\n');
    const external = await dig(client, ['+short', '@10.96.0.10', 'www.example.test']);
    expect(external.stdout.trim()).to.equal('192.168.77.80');
  });

  it("setNodeResolvConf changes the node init process's view; restore puts it back", async function () {
    const node = state.nodes[0]!;
    const restore = await setNodeResolvConf(node.name, 'nameserver 127.0.0.53\n');
    try {
      expect(readFileSync(`/proc/${node.initPid}/root/etc/resolv.conf`, 'utf8')).to.equal('nameserver 127.0.0.53\n');
    } finally {
      await restore();
    }
    expect(readFileSync(`/proc/${node.initPid}/root/etc/resolv.conf`, 'utf8')).to.equal('nameserver 192.168.77.53\n');
  });
});

function labStateOrNull(): LabState | null {
  try {
    return readLabState();
  } catch {
    return null;
  }
}
