// What the probe relies on to find a pod's plumbing: the host veth's ifindex equals the pod
// eth0's iflink, host veths are named as Calico / the bridge plugin name them, and a container
// id finds exactly the container's process through /proc/*/cgroup.
import { expect } from 'chai';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { runCommand } from '../../../lab/lab-exec.js';
import type { LabState } from '../../../lab/lab-state.js';
import { calicoVethName } from '../../../lab/lab-topology.js';
import { appPods, ipLinks, podNetns, requireLab } from './lab-network-helpers.js';
import { execIn } from '../../../lab/lab-exec.js';

function pidsWhoseCgroupMentions(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      /* process ended */
    }
  }
  return pids.sort((a, b) => a - b);
}

describe('lab network: pod identity', function () {
  let state: LabState;
  before(function () {
    state = requireLab(this);
  });

  it("each pod's eth0 iflink is its host veth's ifindex, named the CNI's way", async function () {
    for (const pod of appPods(state)) {
      const node = state.nodes.find((n) => n.name === pod.nodeName)!;
      const [podEth0] = (await ipLinks(podNetns(pod))).filter((l) => l.ifname === 'eth0');
      expect(podEth0, `${pod.name} eth0`).to.not.equal(undefined);
      const hostLinks = await ipLinks(node.netns);
      const peer = hostLinks.find((l) => l.ifindex === podEth0!.link_index);
      expect(peer, `${pod.name}: host link with ifindex ${podEth0!.link_index}`).to.not.equal(undefined);
      expect(podEth0!.mtu).to.equal(1450);
      if (node.cni === 'calico') {
        expect(peer!.ifname).to.equal(calicoVethName(pod.namespace, pod.name));
        expect(peer!.address).to.equal('ee:ee:ee:ee:ee:ee');
        const proxyArp = await execIn(node.netns, 'sysctl', ['-n', `net.ipv4.conf.${peer!.ifname}.proxy_arp`]);
        expect(proxyArp.stdout.trim()).to.equal('1');
      } else {
        expect(peer!.ifname).to.match(/^veth[0-9a-f]{8}$/);
        expect(peer!.master).to.equal('cni0');
      }
    }
  });

  it('grep -l <containerId> /proc/*/cgroup finds exactly the pod process (and, under CRI-O, its conmon)', function () {
    const crio = (state.profiles ?? []).includes('crio');
    for (const pod of state.pods) {
      expect(pod.containerId).to.match(/^[0-9a-f]{64}$/);
      const slice = `-pod${pod.uid.replaceAll('-', '_')}.slice`;
      const cgroup = readFileSync(`/proc/${pod.pid}/cgroup`, 'utf8');
      if (!crio) {
        expect(pidsWhoseCgroupMentions(pod.containerId), `${pod.namespace}/${pod.name}`).to.deep.equal([pod.pid]);
        expect(cgroup).to.include(`${slice}/cri-containerd-${pod.containerId}.scope`);
        continue;
      }
      // CRI-O: conmon first (lower PID) in crio-conmon-<id>.scope, then the container in crio-<id>.scope.
      expect(pod.conmonPid, `${pod.name} conmon`).to.be.a('number');
      expect(pidsWhoseCgroupMentions(pod.containerId), `${pod.namespace}/${pod.name}`).to.deep.equal([pod.conmonPid, pod.pid]);
      expect(cgroup).to.include(`${slice}/crio-${pod.containerId}.scope`);
      expect(readFileSync(`/proc/${pod.conmonPid}/cgroup`, 'utf8')).to.include(`${slice}/crio-conmon-${pod.containerId}.scope`);
    }
  });

  it("pod and node init processes live in their own namespaces", async function () {
    for (const pod of state.pods) {
      const netns = pod.netns ?? state.nodes.find((n) => n.name === pod.nodeName)!.netns;
      const identify = await runCommand('ip', ['netns', 'identify', String(pod.pid)]);
      expect(identify.stdout.trim(), pod.name).to.equal(netns);
    }
    for (const node of state.nodes) {
      const identify = await runCommand('ip', ['netns', 'identify', String(node.initPid)]);
      expect(identify.stdout.trim()).to.equal(node.netns);
      // Its mount view carries the node's own files.
      expect(readFileSync(`/proc/${node.initPid}/root/etc/resolv.conf`, 'utf8')).to.equal('nameserver 192.168.77.53\n');
      expect(readlinkSync(`/proc/${node.initPid}/ns/net`)).to.match(/^net:\[\d+\]$/);
    }
  });

  it('pods see the cluster resolv.conf in their own mount view', function () {
    const client = state.pods.find((p) => p.name === 'client-1')!;
    expect(readFileSync(`/proc/${client.pid}/root/etc/resolv.conf`, 'utf8')).to.equal(
      'search team-b.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
  });
});
