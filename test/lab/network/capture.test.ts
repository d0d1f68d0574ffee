// conn-check's capture building block against the lab's kernel: the node script's capture-start /
// capture-stop run as the lab's kubelet runs an exec (busybox first on PATH, nsenter into the
// node's network namespace), while another exec on another node sends the probes (the node
// script's own tcp action from client-1's namespace). Faults are made in the kernel.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExecCommand, prepareProbeImage } from '../../../lab/api-server/exec.js';
import { ipIn } from '../../../lab/lab-exec.js';
import { setSysctl } from '../../../lab/lab-faults.js';
import type { LabState } from '../../../lab/lab-state.js';
import { calicoVethName } from '../../../lab/lab-topology.js';
import { buildNodeScriptArgv, loadNodeScript, type NodeRequest } from '../../../src/node-script/node-script.js';
import { parseNodeScriptOutput } from '../../../src/probe/sections.js';
import { nodePcapFiles } from '../../../src/checks/conn-check/capture-command.js';
import { captureRequests, summariseCaptures, writePcapFiles, type CaptureCaps, type CaptureHop, type CapturePlan, type HopCapture } from '../../../src/checks/conn-check/capture.js';
import type { CaptureFlow } from '../../../src/checks/conn-check/capture-summary.js';
import { readPcapInfo } from '../../../src/parse/pcap.js';
import { podByName, requireLab } from './lab-network-helpers.js';

const CAPS: CaptureCaps = { packets: 200, seconds: 30, snapBytes: 256, pcapBytes: 1024 * 1024 };

describe('lab network: packet capture of one flow (conn-check --capture)', function () {
  let state: LabState;
  let work: string;
  let probePath: string;
  let runTag = '';
  let runs = 0;

  before(function () {
    state = requireLab(this);
    work = mkdtempSync(join(tmpdir(), 'netdiag-capture-test-'));
    probePath = prepareProbeImage(work);
    if (!existsSync('/usr/bin/tcpdump') && !existsSync('/usr/sbin/tcpdump')) throw new Error('tcpdump is not installed (bash scripts/setup.sh)');
  });
  beforeEach(() => {
    runTag = `lab${process.pid % 10000}${++runs}`;
  });
  afterEach(function () {
    // No capture outlives its stop: no handle directory and no tcpdump of this run left.
    const left = readdirSync(tmpdir()).filter((f) => f.startsWith(`netdiag-capture-${runTag}c`));
    expect(left, 'capture directories left').to.deep.equal([]);
    expect(capturesRunning(runTag), 'tcpdump processes left').to.deep.equal([]);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const node = (name: string) => state.nodes.find((n) => n.name === name)!;
  const web1 = () => podByName(state, 'web-1');
  const client = () => podByName(state, 'client-1');

  /** One exec of the node script on NODE, as the lab's kubelet runs it; resolves once every pipe closed. */
  function execNodeScript(nodeName: string, token: string, requests: NodeRequest[]): Promise<string> {
    const { file, args, env } = buildExecCommand(buildNodeScriptArgv(token, requests), node(nodeName).initPid, probePath);
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { env: { ...process.env, ...env, NETDIAG_SCRIPT: loadNodeScript() }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`node script on ${nodeName} exited ${code}`))));
    });
  }

  /** conn-check's probe: a TCP connect from client-1's namespace, through the node script on its node. */
  async function tcpProbe(port: number, times = 1, from = client()): Promise<void> {
    const c = from;
    for (let i = 0; i < times; i++) {
      await execNodeScript(c.nodeName, 'PROBE', [
        { kind: 'podpid', key: 'c1', containerId: c.containerId, podIP: c.ip },
        { kind: 'tcp', where: 'c1', address: web1().ip, port },
      ]);
    }
  }

  /** Starts every hop's capture, runs the traffic, stops them: what conn-check does per node. */
  async function captureWhile(hops: CaptureHop[], flow: CaptureFlow, caps: CaptureCaps, traffic: (starts: Map<string, string>, plan: CapturePlan) => Promise<void>): Promise<HopCapture[]> {
    const plan = captureRequests(hops, flow, caps, runTag);
    const token = `T${runTag}`;
    const raw = new Map<string, string>();
    await Promise.all([...plan.start].map(async ([n, requests]) => raw.set(n, await execNodeScript(n, token, requests))));
    await traffic(raw, plan);
    await Promise.all([...plan.stop].map(async ([n, requests]) => raw.set(n, raw.get(n)! + (await execNodeScript(n, token, requests)))));
    const outputs = new Map([...raw].map(([n, text]) => [n, parseNodeScriptOutput(text, token)] as const));
    expect(outputs.size, 'nodes that ran the capture').to.be.greaterThan(0);
    for (const [n, out] of outputs) expect(out.problems, n).to.deep.equal([]);
    return summariseCaptures(plan, outputs);
  }

  const podHop = (podName: string): CaptureHop => {
    const pod = podByName(state, podName);
    return { node: pod.nodeName, iface: 'eth0', namespace: { kind: 'pod', name: pod.name, containerId: pod.containerId, podIP: pod.ip } };
  };
  const hostVethHop = (): CaptureHop => ({ node: web1().nodeName, iface: calicoVethName(web1().namespace, web1().name), namespace: { kind: 'node' } });
  const tcpFlow = (port: number): CaptureFlow => ({ protocol: 'tcp', source: client().ip, destination: web1().ip, port });

  it('TCP to web-1:8080: SYN and SYN-ACK in both pods and on the host veth, and valid pcaps', async function () {
    const hops = [podHop('client-1'), hostVethHop(), podHop('web-1')];
    const result = await captureWhile(hops, tcpFlow(8080), CAPS, () => tcpProbe(8080));
    expect(result).to.have.length(3);
    for (const hop of result) {
      const where = hop.capture.fileName;
      expect(hop.status, where).to.equal('captured');
      expect(hop.endedBy, where).to.equal('stop');
      expect(hop.summary, where).to.deep.include({ synSent: 1, synAckSeen: 1, repliesNeverSeen: false, arpUnanswered: [] });
      expect(hop.summary!.resets, where).to.deep.equal([]);
      expect(hop.pcapTruncated, where).to.equal(false);
      // A real pcap: the magic number, as many records as tcpdump printed, and tcpdump reads it back.
      const pcap = Buffer.from(hop.pcap!);
      expect(pcap.readUInt32LE(0), where).to.be.oneOf([0xa1b2c3d4, 0xa1b23c4d]);
      expect(readPcapInfo(pcap)!.records, where).to.equal(hop.packets.length);
      const file = join(work, `${runTag}-${where}`);
      writeFileSync(file, pcap);
      const back = execFileSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(back.trim().split('\n'), where).to.have.length(hop.packets.length);
    }
    // --pcap DIR: one file per hop, named after node (pod) and interface.
    const dir = join(work, `pcap-${runTag}`);
    execFileSync('mkdir', [dir]);
    const written = [...writePcapFiles(dir, result, nodePcapFiles).values()];
    expect(written.map((p) => p.slice(dir.length + 1))).to.deep.equal([
      'lab-node-3-client-1-eth0.pcap',
      `lab-node-1-${calicoVethName('default', 'web-1')}.pcap`,
      'lab-node-1-web-1-eth0.pcap',
    ]);
    expect(readFileSync(written[2]!).equals(Buffer.from(result[2]!.pcap!))).to.equal(true);
  });

  it('TCP to a port nothing listens on: the RST from web-1, seen at every hop', async function () {
    const result = await captureWhile([podHop('client-1'), hostVethHop(), podHop('web-1')], tcpFlow(8081), CAPS, () => tcpProbe(8081));
    expect(result).to.have.length(3);
    for (const hop of result) {
      expect(hop.summary, hop.capture.fileName).to.deep.include({ synSent: 1, synAckSeen: 0 });
      expect(hop.summary!.resets, hop.capture.fileName).to.deep.equal([{ from: web1().ip, count: 1 }]);
    }
  });

  it('arp_ignore=2 in web-1: the host veth shows who-has web-1 unanswered, the pod never sees the SYN', async function () {
    const restores = [
      await setSysctl('web-1', 'net.ipv4.conf.all.arp_ignore', 2),
      await setSysctl('web-1', 'net.ipv4.conf.eth0.arp_ignore', 2),
    ];
    try {
      await ipIn(node(web1().nodeName).netns, ['neigh', 'flush', 'dev', hostVethHop().iface]);
      const [veth, pod] = await captureWhile([hostVethHop(), podHop('web-1')], tcpFlow(8080), CAPS, () => tcpProbe(8080));
      expect(veth!.summary!.arpUnanswered).to.deep.equal([web1().ip]);
      expect(veth!.summary).to.deep.include({ synSent: 0, synAckSeen: 0 });
      expect(pod!.summary).to.deep.include({ synSent: 0, forward: 0 });
    } finally {
      for (const restore of restores.reverse()) await restore();
      await ipIn(node(web1().nodeName).netns, ['neigh', 'flush', 'dev', hostVethHop().iface]);
    }
  });

  it('Calico VXLAN between nodes: the flow shows on vxlan.calico at both ends, and not on the NIC, which carries it encapsulated', async function () {
    const web2 = podByName(state, 'web-2');
    const flow: CaptureFlow = { protocol: 'tcp', source: web2.ip, destination: web1().ip, port: 8080 };
    const tunnel = (nodeName: string): CaptureHop => ({ node: nodeName, iface: 'vxlan.calico', namespace: { kind: 'node' } });
    const nic: CaptureHop = { node: web2.nodeName, iface: 'eth0', namespace: { kind: 'node' } };
    const result = await captureWhile([tunnel(web2.nodeName), tunnel(web1().nodeName), nic], flow, CAPS, () => tcpProbe(8080, 1, web2));
    expect(result).to.have.length(3);
    for (const hop of result.slice(0, 2)) expect(hop.summary, hop.capture.fileName).to.deep.include({ synSent: 1, synAckSeen: 1 });
    expect(result[2]!.status).to.equal('captured');
    expect(result[2]!.summary).to.deep.include({ packets: 0, forward: 0 });
  });

  it('the packet cap ends tcpdump at N packets, whatever else flows', async function () {
    const [hop] = await captureWhile([podHop('web-1')], tcpFlow(8080), { ...CAPS, packets: 3 }, () => tcpProbe(8080, 3));
    expect(hop!.status).to.equal('captured');
    expect(hop!.endedBy).to.equal('packets');
    expect(hop!.capturedCount).to.equal(3);
    expect(hop!.packets).to.have.length(3);
    expect(readPcapInfo(hop!.pcap!)!.records).to.equal(3);
  });

  it('a start sent again (an exec retried after its stream dropped) answers with the capture already running', async function () {
    const [hop] = await captureWhile([podHop('web-1')], tcpFlow(8080), CAPS, async (starts, plan) => {
      const nodeName = web1().nodeName;
      const again = await execNodeScript(nodeName, `T${runTag}`, plan.start.get(nodeName)!);
      expect(startedPid(again)).to.be.a('string');
      expect(startedPid(again)).to.equal(startedPid(starts.get(nodeName)!));
      expect(capturesRunning(runTag)).to.have.length(1);
      await tcpProbe(8080);
    });
    expect(hop!.status).to.equal('captured');
    expect(hop!.summary).to.deep.include({ synSent: 1, synAckSeen: 1 });
  });

  it('the seconds cap ends tcpdump by itself: traffic after it is not captured', async function () {
    const [hop] = await captureWhile([podHop('web-1')], tcpFlow(8080), { ...CAPS, seconds: 1 }, async (starts) => {
      const pid = Number(startedPid([...starts.values()].join('\n')));
      expect(capturesRunning(runTag)).to.deep.equal([pid]);
      // Wait (bounded) until the cap has ended it, without a stop: then send the probe.
      for (let i = 0; i < 150 && capturesRunning(runTag).includes(pid); i++) await new Promise((r) => setTimeout(r, 100));
      expect(capturesRunning(runTag)).to.not.include(pid);
      await tcpProbe(8080);
    });
    expect(hop!.status).to.equal('captured');
    expect(hop!.endedBy).to.equal('seconds');
    expect(hop!.capturedCount).to.equal(0);
    expect(hop!.packets).to.deep.equal([]);
  });
});

function startedPid(nodeScriptOutput: string): string | undefined {
  return /BEGIN capture\/\w+\/start\npid=(\d+)\n/.exec(nodeScriptOutput)?.[1];
}

/** PIDs of live (not zombie) tcpdump processes writing one of this run's capture files. */
function capturesRunning(runTag: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!stat.includes('(tcpdump)') || /\) [ZX] /.test(stat)) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(`netdiag-capture-${runTag}c`)) pids.push(Number(entry));
    } catch {
      /* ended meanwhile */
    }
  }
  return pids;
}
