// Profile crio (issue #14, item 3): the lab's pods as CRI-O runs them: containers in
// crio-<id>.scope, a conmon per container in crio-conmon-<id>.scope in the NODE's network
// namespace (started first, so it has the lower PID and its cgroup also names the container id),
// no pause process, and each pod namespace pinned under the node's /run/netns. The tool must
// report the pod's own namespace (never conmon's, which is the node's), and still reach a pod whose
// processes are gone through the pinned namespace.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { stopProcess } from '../../lab/lab-faults.js';
import { isAlive } from '../../lab/lab-process.js';
import type { LabPod, LabState } from '../../lab/lab-state.js';
import { kernelLinks, labBuildUnavailableReason, labState, probePodsLeft, rebuildLab, runPlugin } from '../support/lab-harness.js';


interface VethPeerJson {
  pods: Array<{
    name: string;
    pidMethod: string;
    pairs: Array<{ podInterface: { ifname: string; ifindex: number; addresses: string[] }; hostPeer: { ifname: string; ifindex: number } | null }>;
  }>;
  findings: Array<{ code: string; severity: string }>;
}

/** What the kernel says: the pod's eth0 and the host veth it is paired with. */
function kernelPair(pod: LabPod, state: LabState): { podIfindex: number; hostIfname: string; hostIfindex: number } {
  const eth0 = kernelLinks(pod.netns!).find((l) => l.ifname === 'eth0')!;
  const node = state.nodes.find((n) => n.name === pod.nodeName)!;
  const host = kernelLinks(node.netns).find((l) => l.ifindex === eth0.link_index)!;
  return { podIfindex: eth0.ifindex, hostIfname: host.ifname, hostIfindex: host.ifindex };
}

async function vethPeer(pod: LabPod): Promise<VethPeerJson> {
  const run = await runPlugin(['veth-peer', pod.name, '-n', pod.namespace, '-o', 'json']);
  expect(run.code, run.stderr).to.equal(0);
  return JSON.parse(run.stdout) as VethPeerJson;
}

function expectPodFacts(report: VethPeerJson, pod: LabPod, state: LabState, method: string): void {
  expect(report.pods).to.have.length(1);
  const [row] = report.pods;
  expect(row!.pidMethod).to.equal(method);
  const want = kernelPair(pod, state);
  expect(row!.pairs).to.have.length(1);
  const pair = row!.pairs[0]!;
  // The pod's own eth0 (its address, its ifindex), not the node's eth0 that conmon would show.
  expect(pair.podInterface.addresses.map((a) => a.split('/')[0])).to.include(pod.ip);
  expect(pair.podInterface.ifindex).to.equal(want.podIfindex);
  expect(pair.hostPeer?.ifname).to.equal(want.hostIfname);
  expect(pair.hostPeer?.ifindex).to.equal(want.hostIfindex);
  expect(report.findings.filter((f) => f.severity !== 'info')).to.deep.equal([]);
}

const labReason = labBuildUnavailableReason();

describe('profile crio: pod namespaces found past conmon and through pinned namespaces', function () {
  this.timeout(300_000);
  let state: LabState;
  before(function () {
    if (labReason) this.skip();
    rebuildLab(['crio']);
    state = labState();
    expect(state.profiles).to.deep.equal(['crio']);
  });
  after(function () {
    if (labReason) return;
    rebuildLab([]); // the default lab again, for whatever runs next
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('the lab runs pods as CRI-O does (read from the kernel)', function () {
    const pods = state.pods.filter((p) => !p.hostNetwork);
    expect(pods.length).to.be.greaterThan(3);
    for (const pod of pods) {
      const node = state.nodes.find((n) => n.name === pod.nodeName)!;
      expect(pod.conmonPid).to.be.a('number').below(pod.pid);
      expect(readFileSync(`/proc/${pod.conmonPid}/cgroup`, 'utf8')).to.include(`/crio-conmon-${pod.containerId}.scope`);
      expect(readFileSync(`/proc/${pod.pid}/cgroup`, 'utf8')).to.include(`/crio-${pod.containerId}.scope`);
      // conmon lives in the node's network namespace: the trap the first-match lookup fell into.
      expect(readlinkSync(`/proc/${pod.conmonPid}/ns/net`)).to.equal(readlinkSync(`/proc/${node.initPid}/ns/net`));
      expect(readlinkSync(`/proc/${pod.pid}/ns/net`)).to.not.equal(readlinkSync(`/proc/${node.initPid}/ns/net`));
      // The pinned file in the node's own mount view is the pod's namespace.
      const pin = `/proc/${node.initPid}/root${pod.pinnedNetns}`;
      const viaPin = execFileSync('nsenter', [`--net=${pin}`, '--', 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).trim();
      expect(viaPin).to.equal(readlinkSync(`/proc/${pod.pid}/ns/net`));
    }
  });

  it("with conmon present, veth-peer reports each pod's own namespace (found by its container scope)", async function () {
    const pods = ['web-1', 'web-3', 'client-1'].map((name) => state.pods.find((p) => p.name === name)!);
    expect(pods.every((p) => p !== undefined)).to.equal(true);
    for (const pod of pods) expectPodFacts(await vethPeer(pod), pod, state, 'container-id');
  });

  it('a pod whose processes are gone (CrashLoopBackOff) is still read through its pinned namespace', async function () {
    const web3 = state.pods.find((p) => p.name === 'web-3')!;
    const restore = await stopProcess('default/web-3');
    try {
      expect(isAlive(web3.pid)).to.equal(false);
      expect(isAlive(web3.conmonPid!)).to.equal(false);
      expectPodFacts(await vethPeer(web3), web3, state, 'pinned-netns');
    } finally {
      await restore();
    }
  });
});
