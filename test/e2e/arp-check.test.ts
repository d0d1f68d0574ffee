// arp-check through the real kubectl binary against the lab: each seed fault is injected for real
// (lab-faults), the kernel shows the symptom (FAILED neighbour entries, no arping reply), and the
// plugin must name it with exit code 1; the healthy lab gives exit 0 and no error finding.
// NETDIAG_CAPTURE_SNAPSHOTS=1 also saves each run as test/fixtures/snapshots/arp-check/<case>/
// (with PROVENANCE.md) for the unit tests; otherwise snapshots go to a temporary directory.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addAddress, delDefaultRoute, setSysctl, type RestoreFault } from '../../lab/lab-faults.js';
import type { LabPod } from '../../lab/lab-state.js';
import { REPO, kernelLinks, labState, probePodsLeft, runPlugin, skipUnlessLab, type PluginRun } from '../support/lab-harness.js';

interface FindingJson {
  code: string;
  severity: string;
  subject: string;
  evidence: string[];
}
interface PodRowJson {
  kind: string;
  namespace: string;
  name: string;
  verdict?: string;
  nodeToPod?: { state: string };
  podToGateway?: { state: string } | null;
  probe?: { nodeToPod: { outcome: string; macAddresses: string[] } | null; podToGateway: { outcome: string; macAddresses: string[] } | null };
  podSide?: { arpIgnore: { all: number; iface: number; effective: number } };
}
interface ReportJson {
  kind: string;
  pods: PodRowJson[];
  findings: FindingJson[];
}

const CAPTURE = process.env.NETDIAG_CAPTURE_SNAPSHOTS === '1';
/** Probe pods this file's runs created (from their snapshots): other engineers' runs share the lab. */
const myProbePods: string[] = [];
const SNAPSHOTS = join(REPO, 'test', 'fixtures', 'snapshots', 'arp-check');

function pod(name: string): LabPod {
  return labState().pods.find((p) => p.name === name)!;
}

function nodeNetns(nodeName: string): string {
  return labState().nodes.find((n) => n.name === nodeName)!.netns;
}

/** The pod eth0's host-side veth, as the kernel pairs them (link_index), never by naming rule. */
function hostVethOf(p: LabPod): string {
  const eth0 = kernelLinks(p.netns!).find((l) => l.ifname === 'eth0')!;
  return kernelLinks(nodeNetns(p.nodeName)).find((l) => l.ifindex === eth0.link_index)!.ifname;
}

function inNetns(netns: string, args: readonly string[]): string {
  try {
    return execFileSync('ip', ['netns', 'exec', netns, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? '');
  }
}

function neigh(netns: string, args: readonly string[]): void {
  execFileSync('ip', ['-n', netns, 'neigh', ...args], { stdio: 'ignore' });
}

/** Runs arp-check -o json, saving its snapshot (into the fixtures when capturing). */
async function arpCheck(caseName: string, args: readonly string[], fault: string): Promise<{ run: PluginRun; report: ReportJson }> {
  const dir = CAPTURE ? join(SNAPSHOTS, caseName) : join(mkdtempSync(join(tmpdir(), 'netdiag-arp-')), caseName);
  if (CAPTURE) rmSync(dir, { recursive: true, force: true });
  const run = await runPlugin(['arp-check', ...args, '-o', 'json', '--save-snapshot', dir]);
  if (CAPTURE) {
    const kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'PROVENANCE.md'),
      `# arp-check snapshot: ${caseName}\n\n` +
        `- command: \`kubectl netdiag arp-check ${args.join(' ')} -o json --save-snapshot ${caseName}\` (test/e2e/arp-check.test.ts with NETDIAG_CAPTURE_SNAPSHOTS=1)\n` +
        `- lab fault: ${fault}\n` +
        `- date: ${new Date().toISOString().slice(0, 10)}\n` +
        `- kernel: ${kernel}; lab: npm run lab:up (netns lab, simulated API server)\n` +
        `- exit code: ${run.code}\n`,
    );
  }
  const snapshotFile = join(dir, 'snapshot.json');
  if (existsSync(snapshotFile)) {
    const snap = JSON.parse(readFileSync(snapshotFile, 'utf8')) as { nodes: Array<{ podName: string | null }> };
    for (const n of snap.nodes) if (n.podName) myProbePods.push(n.podName);
  }
  let report: ReportJson;
  try {
    report = JSON.parse(run.stdout) as ReportJson;
  } catch {
    throw new Error(`arp-check printed no JSON (exit ${run.code}): ${run.stderr}`);
  }
  return { run, report };
}

function codes(report: ReportJson, severity = 'error'): string[] {
  return [...new Set(report.findings.filter((f) => f.severity === severity).map((f) => f.code))].sort();
}

describe('e2e: kubectl netdiag arp-check', function () {
  this.timeout(180_000);
  const restores: RestoreFault[] = [];
  const cleanups: Array<() => void> = [];
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'pending') return;
    while (restores.length > 0) await restores.pop()!();
    while (cleanups.length > 0) {
      try {
        cleanups.pop()!();
      } catch {
        // best effort: the next cleanup still runs
      }
    }
    const left = probePodsLeft().filter((p) => myProbePods.includes(p.split('/')[1] ?? ''));
    expect(left, 'probe pods left behind').to.deep.equal([]);
  });

  it('healthy Calico node: every pod answers its node and reaches 169.254.1.1 by proxy ARP; exit 0', async () => {
    const { run, report } = await arpCheck('healthy-lab-node-1', ['--node', 'lab-node-1', '--probe'], 'none (healthy lab)');
    expect(codes(report), JSON.stringify(report.findings)).to.deep.equal([]);
    expect(run.code, run.stderr).to.equal(0);
    const rows = report.pods.filter((r) => r.kind === 'pod');
    expect(rows.map((r) => r.name).sort()).to.deep.equal(['coredns-6d4b75cb6d-lab01', 'web-1']);
    for (const r of rows) {
      expect(r.verdict).to.equal('ok');
      expect(r.probe!.nodeToPod!.outcome).to.equal('answered');
      expect(r.probe!.podToGateway!.outcome).to.equal('answered');
      expect(r.probe!.podToGateway!.macAddresses).to.deep.equal(['ee:ee:ee:ee:ee:ee']);
    }
    expect(report.pods.filter((r) => r.kind === 'host-network').length).to.be.greaterThan(0);
  });

  it('healthy flannel node: bridge gateway answered by cni0; exit 0', async () => {
    const { run, report } = await arpCheck('healthy-lab-node-3', ['--node', 'lab-node-3', '--probe'], 'none (healthy lab)');
    expect(codes(report), JSON.stringify(report.findings)).to.deep.equal([]);
    expect(run.code, run.stderr).to.equal(0);
    const web3 = report.pods.find((r) => r.name === 'web-3')!;
    expect(web3.probe!.nodeToPod!.outcome).to.equal('answered');
  });

  it('pod with net.ipv4.conf.all.arp_ignore=2 (seed 001): ignore-blocks-host, FAILED entry on the node, no arping reply; exit 1', async () => {
    const web1 = pod('web-1');
    const node = nodeNetns(web1.nodeName);
    const cali = hostVethOf(web1);
    restores.push(await setSysctl('default/web-1', 'net.ipv4.conf.all.arp_ignore', 2));
    cleanups.push(() => neigh(node, ['flush', 'dev', cali]));
    // The node must ARP again: flush its entry and send it traffic, as the seed's ping did.
    neigh(node, ['flush', 'dev', cali]);
    inNetns(node, ['ping', '-c', '1', '-W', '1', web1.ip]);
    const { run, report } = await arpCheck('pod-arp-ignore-2', ['web-1', '--probe'], 'setSysctl(default/web-1, net.ipv4.conf.all.arp_ignore, 2); ip -n ndlab-node-1 neigh flush dev CALI; ping -c 1 -W 1 10.244.1.1 from the node');
    expect(codes(report)).to.include.members(['arp.ignore-blocks-host', 'arp.neighbor-failed', 'arp.pod-no-reply']);
    expect(run.code).to.equal(1);
    const row = report.pods.find((r) => r.name === 'web-1')!;
    expect(row.podSide!.arpIgnore).to.deep.include({ all: 2, effective: 2 });
    expect(['FAILED', 'INCOMPLETE']).to.include(row.nodeToPod!.state);
    expect(row.probe!.nodeToPod!.outcome).to.equal('no-reply');
    const finding = report.findings.find((f) => f.code === 'arp.ignore-blocks-host')!;
    expect(finding.subject).to.equal('pod default/web-1');
    expect(finding.evidence).to.include('pod net.ipv4.conf.all.arp_ignore = 2');
    expect(finding.evidence.join('\n')).to.match(/node net\.ipv4\.conf\.all\.arp_ignore = 0/);
  });

  it('proxy_arp=0 on the cali veth: proxy-arp-off, the pod cannot resolve 169.254.1.1; exit 1', async () => {
    const web1 = pod('web-1');
    const cali = hostVethOf(web1);
    restores.push(await setSysctl('lab-node-1', `net.ipv4.conf.${cali}.proxy_arp`, 0));
    cleanups.push(() => neigh(web1.netns!, ['flush', 'dev', 'eth0']));
    neigh(web1.netns!, ['flush', 'dev', 'eth0']);
    inNetns(web1.netns!, ['ping', '-c', '1', '-W', '1', pod('coredns-6d4b75cb6d-lab01').ip]);
    const { run, report } = await arpCheck('node-proxy-arp-off', ['web-1', '--probe'], `setSysctl(lab-node-1, net.ipv4.conf.${cali}.proxy_arp, 0); pod neigh flushed, ping from web-1 to coredns`);
    expect(codes(report)).to.include.members(['arp.proxy-arp-off', 'arp.gateway-unresolved']);
    expect(run.code).to.equal(1);
    const row = report.pods.find((r) => r.name === 'web-1')!;
    expect(row.probe!.podToGateway!.outcome).to.equal('no-reply');
  });

  it('node without a default route: no-default-route (proxy ARP stops answering); exit 1', async () => {
    restores.push(await delDefaultRoute('lab-node-2'));
    const { run, report } = await arpCheck('node-no-default-route', ['web-2', '--probe'], 'delDefaultRoute(lab-node-2)');
    expect(codes(report)).to.include.members(['arp.no-default-route', 'arp.gateway-unresolved']);
    expect(run.code).to.equal(1);
    expect(report.pods.find((r) => r.name === 'web-2')!.probe!.podToGateway!.outcome).to.equal('no-reply');
  });

  it('forwarding=0 on the cali veth: forwarding-off; exit 1', async () => {
    const api1 = pod('api-1');
    const cali = hostVethOf(api1);
    restores.push(await setSysctl('lab-node-2', `net.ipv4.conf.${cali}.forwarding`, 0));
    const { run, report } = await arpCheck('node-forwarding-off', ['api-1', '-n', 'team-a', '--probe'], `setSysctl(lab-node-2, net.ipv4.conf.${cali}.forwarding, 0)`);
    expect(codes(report)).to.include('arp.forwarding-off');
    expect(run.code).to.equal(1);
  });

  it('a second IPv4 address on the node NIC (seed 003): nic-multiple-ipv4; exit 1', async () => {
    restores.push(await addAddress('lab-node-2', 'eth0', '192.168.77.111/24'));
    const { run, report } = await arpCheck('node-nic-two-ipv4', ['web-2'], 'addAddress(lab-node-2, eth0, 192.168.77.111/24)');
    expect(codes(report)).to.include('arp.nic-multiple-ipv4');
    expect(run.code).to.equal(1);
    const f = report.findings.find((x) => x.code === 'arp.nic-multiple-ipv4')!;
    expect(f.subject).to.equal('node lab-node-2');
    expect(f.evidence.join('\n')).to.contain('192.168.77.111/24');
  });

  it("another node's InternalIP on a node's NIC: node-ip-duplicate, from the peer's host facts and from the API; exit 1", async () => {
    restores.push(await addAddress('lab-node-2', 'eth0', '192.168.77.13/24'));
    const onOwner = await arpCheck('node-ip-duplicate', ['web-3'], 'addAddress(lab-node-2, eth0, 192.168.77.13/24): lab-node-3\'s InternalIP on lab-node-2');
    const onHolder = await arpCheck('node-ip-duplicate-holder', ['web-2'], 'addAddress(lab-node-2, eth0, 192.168.77.13/24): the node holding the other\'s IP');
    await restores.pop()!();
    for (const { run, report } of [onOwner, onHolder]) {
      expect(codes(report)).to.include('arp.node-ip-duplicate');
      expect(run.code).to.equal(1);
      const f = report.findings.find((x) => x.code === 'arp.node-ip-duplicate')!;
      expect(f.subject).to.equal('node lab-node-3');
      expect(f.evidence[0]).to.match(/^node lab-node-2 eth0: inet 192\.168\.77\.13\/24/);
    }
  });

  it('two MACs answering for one pod IP (--probe): mac-conflict; exit 1', async () => {
    const web3 = pod('web-3');
    restores.push(await addAddress('team-b/client-1', 'eth0', `${web3.ip}/24`));
    cleanups.push(() => neigh(nodeNetns(web3.nodeName), ['flush', 'to', web3.ip]));
    const { run, report } = await arpCheck('pod-ip-two-macs', ['web-3', '--probe'], `addAddress(team-b/client-1, eth0, ${web3.ip}/24): web-3's IP also on client-1 (same cni0 bridge)`);
    expect(codes(report)).to.include('arp.mac-conflict');
    expect(run.code).to.equal(1);
    expect(report.pods.find((r) => r.name === 'web-3')!.probe!.nodeToPod!.macAddresses.length).to.equal(2);
  });

  it('IPVS VIPs on kube-ipvs0 without strict ARP: ipvs-not-strict; gone with arp_ignore=1/arp_announce=2', async () => {
    const node = nodeNetns('lab-node-2');
    // No dummy links in this kernel: a veth named kube-ipvs0 holds the VIP as kube-proxy's dummy would.
    execFileSync('ip', ['-n', node, 'link', 'add', 'kube-ipvs0', 'type', 'veth', 'peer', 'name', 'kube-ipvs0-p']);
    cleanups.push(() => execFileSync('ip', ['-n', node, 'link', 'del', 'kube-ipvs0'], { stdio: 'ignore' }));
    execFileSync('ip', ['-n', node, 'addr', 'add', '10.96.250.250/32', 'dev', 'kube-ipvs0']);
    const { run, report } = await arpCheck('node-ipvs-not-strict', ['web-2'], 'ip -n ndlab-node-2 link add kube-ipvs0 type veth peer name kube-ipvs0-p; ip addr add 10.96.250.250/32 dev kube-ipvs0');
    expect(codes(report)).to.include('arp.ipvs-not-strict');
    expect(run.code).to.equal(1);

    restores.push(await setSysctl('lab-node-2', 'net.ipv4.conf.all.arp_ignore', 1));
    restores.push(await setSysctl('lab-node-2', 'net.ipv4.conf.all.arp_announce', 2));
    const strict = await arpCheck('node-ipvs-strict', ['web-2'], 'as node-ipvs-not-strict, plus setSysctl(lab-node-2, net.ipv4.conf.all.arp_ignore, 1) and (..., arp_announce, 2)');
    expect(strict.report.findings.map((f) => f.code)).to.not.include('arp.ipvs-not-strict');
    expect(strict.run.code).to.equal(0);
  });

  it('usage: exactly one of POD or --node; bad names exit 2', async () => {
    const none = await runPlugin(['arp-check']);
    expect(none.code).to.equal(2);
    expect(none.stderr).to.contain('arp-check needs exactly one of: a POD name or --node NODE');
    const bad = await runPlugin(['arp-check', 'Web_1']);
    expect(bad.code).to.equal(2);
  });
});
