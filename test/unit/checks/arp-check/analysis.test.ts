// arp-check analysis and rendering on snapshots captured from the lab's real kernel, each with the
// fault named in its PROVENANCE.md (test/e2e/arp-check.test.ts with NETDIAG_CAPTURE_SNAPSHOTS=1),
// plus cases built by editing a copy of that raw output.
import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../../src/cli/cli.js';
import { arpIgnoreRejects, buildArpProbeRequests, diagnoseArpCheck, type ArpCheckApi, type ArpCheckReport, type ArpPodCheck } from '../../../../src/checks/arp-check/analysis.js';
import type { NodeCollection } from '../../../../src/probe/probe-run.js';
import { parseNodeScriptOutput } from '../../../../src/probe/sections.js';
import { fakeDeps } from '../../../support/fake-deps.js';
import { expectGolden } from '../../../support/golden.js';
import { REPO } from '../../../support/lab-harness.js';

const SNAPSHOTS = join(REPO, 'test/fixtures/snapshots/arp-check');
const GOLDEN = join(REPO, 'test/fixtures/golden/arp-check');

function loadSnapshot(name: string): { api: ArpCheckApi; nodes: NodeCollection[] } {
  const dir = join(SNAPSHOTS, name);
  const file = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8'));
  const nodes = file.nodes.map((n: { rawFile: string }) => ({ ...n, raw: readFileSync(join(dir, n.rawFile), 'utf8') }));
  return { api: file.api, nodes };
}

function diagnose(name: string): ArpCheckReport {
  const { api, nodes } = loadSnapshot(name);
  return diagnoseArpCheck(api, nodes);
}

function codes(report: ArpCheckReport, severity: 'error' | 'warn' = 'error'): string[] {
  return report.findings.filter((f) => f.severity === severity).map((f) => f.code).sort();
}

function podRow(report: ArpCheckReport, name: string): ArpPodCheck {
  const row = report.pods.find((r) => r.name === name);
  if (row?.kind !== 'pod') throw new Error(`no checked row for ${name}`);
  return row;
}

/** Replaces text inside one section of one node's raw output (the other sections stay as captured). */
function editSection(raw: string, section: string, edit: (body: string) => string): string {
  const begin = raw.indexOf(` BEGIN ${section}\n`);
  if (begin === -1) throw new Error(`no section ${section}`);
  const end = raw.indexOf(` END ${section} rc=`, begin);
  return raw.slice(0, begin) + edit(raw.slice(begin, end)) + raw.slice(end);
}

/** A copy of a snapshot whose first node's raw output was edited. */
function editedSnapshot(name: string, edit: (raw: string) => string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'netdiag-arp-')), name);
  cpSync(join(SNAPSHOTS, name), dir, { recursive: true });
  const file = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8'));
  const raw = join(dir, file.nodes[0].rawFile);
  writeFileSync(raw, edit(readFileSync(raw, 'utf8')));
  return dir;
}

describe('arp-check analysis on healthy lab snapshots', () => {
  it('Calico node: /32 pods answer their node, 169.254.1.1 is answered by proxy ARP with the cali MAC', () => {
    const report = diagnose('healthy-lab-node-1');
    expect(report.findings).to.deep.equal([]);
    expect(report.problems).to.deep.equal([]);
    const web1 = podRow(report, 'web-1');
    expect(web1.podIP).to.equal('10.244.1.1');
    expect(web1.podInterface.addresses).to.deep.equal(['10.244.1.1/32']);
    expect(web1.hostInterface!.ifname).to.match(/^cali[0-9a-f]{11}$/);
    expect(web1.hostInterface!.bridge).to.equal(null);
    expect(web1.gateway).to.deep.include({ address: '169.254.1.1', dev: 'eth0', style: 'proxy-arp' });
    expect(web1.proxyArp).to.deep.equal({ all: false, iface: true, effective: true });
    expect(web1.forwarding).to.equal(true);
    expect(web1.nodeRouteToGateway).to.equal('default via 192.168.77.1 dev eth0');
    expect(web1.nodeRouteToPod).to.equal(`10.244.1.1 dev ${web1.hostInterface!.ifname} src 192.168.77.11`);
    expect(web1.nodeSide).to.deep.equal({
      ifname: web1.hostInterface!.ifname,
      arpIgnore: { all: 0, iface: 0, effective: 0 },
      arpAnnounce: { all: 0, iface: 0, effective: 0 },
      rpFilter: { all: 0, iface: 0, effective: 0 },
    });
    expect(web1.podSide!.arpIgnore).to.deep.equal({ all: 0, iface: 0, effective: 0 });
    expect(web1.probe.nodeToPod).to.deep.include({ outcome: 'answered', sourceAddress: '192.168.77.11', macAddresses: [web1.podInterface.macAddress] });
    expect(web1.probe.podToGateway).to.deep.include({ outcome: 'answered', macAddresses: ['ee:ee:ee:ee:ee:ee'] });
    expect(web1.verdict).to.equal('ok');
    expect(report.pods.filter((r) => r.kind === 'host-network').map((r) => r.name).sort()).to.deep.equal(['calico-node-h2x9k', 'kube-proxy-4xk2p']);
    expect(report.nodes.map((n) => [n.nodeName, n.role, n.nic, n.nicIPv4.join(','), n.ipvs])).to.deep.equal([
      ['lab-node-1', 'target', 'eth0', '192.168.77.11/24', null],
      ['lab-node-2', 'peer', 'eth0', '192.168.77.12/24', null],
      ['lab-node-3', 'peer', 'eth0', '192.168.77.13/24', null],
    ]);
  });

  it('flannel node: the gateway is cni0 itself, ARP from the pod arrives on the bridge', () => {
    const report = diagnose('healthy-lab-node-3');
    expect(report.findings).to.deep.equal([]);
    const web3 = podRow(report, 'web-3');
    expect(web3.hostInterface!.bridge).to.equal('cni0');
    expect(web3.gateway).to.deep.include({ address: '10.244.3.1', style: 'node-address' });
    expect(web3.nodeSide!.ifname).to.equal('cni0');
    expect(web3.probe.nodeToPod).to.deep.include({ iface: 'cni0', outcome: 'answered', sourceAddress: '10.244.3.1' });
  });

  it('plans arping from the node over the host veth (or its bridge) and from the pod to its gateway', () => {
    for (const [name, iface] of [['healthy-lab-node-1', /^cali[0-9a-f]{11}$/], ['healthy-lab-node-3', /^cni0$/]] as const) {
      const { api, nodes } = loadSnapshot(name);
      const node = nodes[0]!;
      if (!node.ok) throw new Error('node not ok');
      const sections = parseNodeScriptOutput(node.raw, node.token).sections;
      const onNode = api.pods.filter((p) => p.nodeName === node.nodeName && !p.hostNetwork);
      const requests = buildArpProbeRequests(onNode, sections);
      expect(requests.length).to.equal(onNode.length * 3);
      const first = onNode[0]!;
      expect(requests[0]).to.deep.equal({ kind: 'podpid', key: first.key, containerId: first.containerId, podIP: first.podIPs[0] });
      expect(requests[1]).to.include({ kind: 'arping', where: 'host', target: first.podIPs[0] });
      expect((requests[1] as { iface: string }).iface).to.match(iface);
      expect(requests[2]).to.deep.equal({ kind: 'arping', where: first.key, iface: 'eth0', target: name.endsWith('1') ? '169.254.1.1' : '10.244.3.1' });
    }
  });
});

describe('arp-check analysis on lab faults (real kernel output)', () => {
  // Exactly these error codes, no more: a fault must not drag unrelated errors along.
  const cases: Array<[string, string[], string]> = [
    ['pod-arp-ignore-2', ['arp.ignore-blocks-host', 'arp.neighbor-failed', 'arp.pod-no-reply'], 'pod default/web-1'],
    ['node-proxy-arp-off', ['arp.gateway-unresolved', 'arp.proxy-arp-off'], 'pod default/web-1'],
    ['node-no-default-route', ['arp.gateway-unresolved', 'arp.no-default-route'], 'pod default/web-2'],
    ['node-forwarding-off', ['arp.forwarding-off', 'arp.gateway-unresolved'], 'pod team-a/api-1'],
    ['node-nic-two-ipv4', ['arp.nic-multiple-ipv4'], 'node lab-node-2'],
    ['node-ip-duplicate', ['arp.node-ip-duplicate'], 'node lab-node-3'],
    ['pod-ip-two-macs', ['arp.mac-conflict'], 'pod default/web-3'],
    ['node-ipvs-not-strict', ['arp.ipvs-not-strict'], 'node lab-node-2'],
  ];
  for (const [name, expected, subject] of cases) {
    it(`${name}: ${expected.join(', ')}`, () => {
      const report = diagnose(name);
      expect(codes(report)).to.deep.equal(expected);
      const errors = report.findings.filter((x) => x.severity === 'error');
      expect(errors.length, 'error findings').to.be.greaterThan(0);
      for (const f of errors) expect(f.subject).to.equal(subject);
    });
  }

  it('arp_ignore=2 in the pod: names the pod and node values, the /32, the source the node asks from, and the silent arping', () => {
    const report = diagnose('pod-arp-ignore-2');
    const f = report.findings.find((x) => x.code === 'arp.ignore-blocks-host')!;
    expect(f.message).to.contain("the pod's effective arp_ignore is 2 (max of all=2 and eth0=0)");
    expect(f.message).to.contain('10.244.1.1/32 has no room for 192.168.77.11');
    expect(f.evidence.slice(0, 5)).to.deep.equal([
      'pod net.ipv4.conf.all.arp_ignore = 2',
      'pod net.ipv4.conf.eth0.arp_ignore = 0',
      'pod eth0: inet 10.244.1.1/32',
      `node lab-node-1 asks from 192.168.77.11 (ip route get 10.244.1.1: ${podRow(report, 'web-1').nodeRouteToPod})`,
      'node net.ipv4.conf.all.arp_ignore = 0',
    ]);
    expect(f.evidence).to.include('  sent 2 probes, received 0 responses');
    expect(f.remedy).to.contain('net.ipv4.conf.all.arp_ignore=0');
    const row = podRow(report, 'web-1');
    expect(row.verdict).to.equal('FAIL: ignore-blocks-host,neighbor-failed,pod-no-reply');
    expect(['FAILED', 'INCOMPLETE']).to.include(row.nodeToPod.state);
  });

  it('arp_ignore=2 without --probe: the static facts alone still name it', () => {
    const { api, nodes } = loadSnapshot('pod-arp-ignore-2');
    const report = diagnoseArpCheck({ ...api, probe: false }, nodes);
    expect(codes(report)).to.deep.equal(['arp.ignore-blocks-host', 'arp.neighbor-failed']);
    expect(podRow(report, 'web-1').probe).to.deep.equal({ nodeToPod: null, podToGateway: null });
  });

  it('the node holding another node InternalIP is found from the API list too (holder is the checked node)', () => {
    const report = diagnose('node-ip-duplicate-holder');
    const dup = report.findings.find((f) => f.code === 'arp.node-ip-duplicate')!;
    expect(dup.subject).to.equal('node lab-node-3');
    expect(dup.evidence[0]).to.match(/^node lab-node-2 eth0: inet 192\.168\.77\.13\/24 .*secondary/);
    expect(codes(report)).to.include.members(['arp.nic-multiple-ipv4', 'arp.node-ip-duplicate']);
  });

  it('two MACs for one pod IP: both named in the finding', () => {
    const report = diagnose('pod-ip-two-macs');
    const f = report.findings.find((x) => x.code === 'arp.mac-conflict')!;
    expect(f.message).to.match(/^2 MACs \([0-9a-f:]{17}, [0-9a-f:]{17}\) answered ARP for the pod IP 10\.244\.3\.2/);
    expect(podRow(report, 'web-3').probe.nodeToPod!.outcome).to.equal('two-macs');
  });

  it('IPVS with arp_ignore=1 and arp_announce=2 (strict ARP) is quiet', () => {
    const report = diagnose('node-ipvs-strict');
    expect(report.findings.map((f) => f.code)).to.not.include('arp.ipvs-not-strict');
    expect(report.nodes[0]!.ipvs).to.deep.equal({ vips: ['10.96.250.250'], arpIgnore: 1, arpAnnounce: 2 });
  });
});

describe('arp-check faults built from real output', () => {
  it("the node's conf.all.arp_ignore=2 that new pods would inherit is a warning while the pods are still fine", async () => {
    const dir = editedSnapshot('healthy-lab-node-1', (raw) => editSection(raw, 'host/sysctl', (s) => s.replace('/proc/sys/net/ipv4/conf/all/arp_ignore:0', '/proc/sys/net/ipv4/conf/all/arp_ignore:2')));
    const deps = fakeDeps();
    expect(await runCli(['arp-check', '--from-snapshot', dir, '-o', 'json'], deps)).to.equal(0);
    const findings = JSON.parse(deps.out()).findings as Array<{ code: string; severity: string; subject: string }>;
    expect(findings.map((f) => [f.code, f.severity, f.subject])).to.deep.equal([
      ['arp.node-ignore-inherited', 'warn', 'pod default/web-1'],
      ['arp.node-ignore-inherited', 'warn', 'pod kube-system/coredns-6d4b75cb6d-lab01'],
    ]);
  });

  it('a FAILED entry left over while the pod answers arping now is only a warning', () => {
    const { api, nodes } = loadSnapshot('healthy-lab-node-1');
    const node = nodes[0]!;
    if (!node.ok) throw new Error('node not ok');
    const raw = editSection(node.raw, 'host/neigh', (s) => s.replace(/\n\[/, '\n[{"dst":"10.244.1.1","dev":"cali0761ccbeace","state":["FAILED"]},'));
    const report = diagnoseArpCheck(api, [{ ...node, raw }, ...nodes.slice(1)]);
    expect(report.findings.map((f) => [f.code, f.severity])).to.deep.equal([['arp.neighbor-failed', 'warn']]);
  });

  it('a probe node that failed is an error; a peer node that failed is a warning and drops out of the comparison', () => {
    const { api, nodes } = loadSnapshot('healthy-lab-node-1');
    const report = diagnoseArpCheck(api, [nodes[0]!, { nodeName: 'lab-node-2', ok: false, error: 'cannot pull the probe image', podName: null }, nodes[2]!]);
    expect(report.findings.map((f) => [f.code, f.severity, f.subject])).to.deep.equal([['probe.peer-node-failed', 'warn', 'node lab-node-2']]);
    const failed = diagnoseArpCheck(api, [{ nodeName: 'lab-node-1', ok: false, error: 'x', podName: null }, nodes[1]!, nodes[2]!]);
    expect(failed.findings.map((f) => f.code)).to.deep.equal(['probe.node-failed']);
    expect(failed.pods.find((r) => r.name === 'web-1')!.kind).to.equal('unreadable');
  });
});

describe('arp_ignore and subnets as the kernel applies them', () => {
  it('arp_ignore=2 rejects a sender outside the target address subnet; 0, 1 and 3 never reject an address on the interface; 8 always', () => {
    expect(arpIgnoreRejects(2, '192.168.77.11', '10.244.1.1/32', 'eth0')).to.match(/^arp_ignore=2 answers only senders inside the subnet/);
    expect(arpIgnoreRejects(2, '10.244.3.1', '10.244.3.2/24', 'eth0')).to.equal(null);
    for (const v of [0, 1, 3]) expect(arpIgnoreRejects(v, '192.168.77.11', '10.244.1.1/32', 'eth0')).to.equal(null);
    expect(arpIgnoreRejects(8, '10.244.3.1', '10.244.3.2/24', 'eth0')).to.match(/^arp_ignore=8/);
    expect(arpIgnoreRejects(null, '1.2.3.4', '10.0.0.1/32', 'eth0')).to.equal(null);
  });

});

describe('arp-check golden output', () => {
  // The exit code of each run: 1 where arp_ignore leaves a pod unreachable (an error finding).
  for (const [snapshot, format, exitCode] of [['healthy-lab-node-1', 'table', 0], ['healthy-lab-node-1', 'json', 0], ['healthy-lab-node-3', 'wide', 0], ['pod-arp-ignore-2', 'table', 1]] as const) {
    it(`renders ${snapshot} as ${format} exactly like the reviewed golden file`, async () => {
      const deps = fakeDeps();
      expect(await runCli(['arp-check', '--from-snapshot', join(SNAPSHOTS, snapshot), '-o', format], deps)).to.equal(exitCode);
      expectGolden(join(GOLDEN, `${snapshot}.${format}`), deps.out());
    });
  }
});
