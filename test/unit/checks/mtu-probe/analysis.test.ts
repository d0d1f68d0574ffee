// mtu-probe analysis without a cluster: the binary search as a pure function against fake probers,
// the encapsulation table, and the whole analysis on snapshots captured from the lab (see
// test/fixtures/snapshots/mtu-probe/*/PROVENANCE.md), plus golden renderings of the healthy case.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  diagnoseMtuProbe,
  encapsulationOverheadBytes,
  nextPmtuProbe,
  pmtuProbeFromSection,
  searchPathMtu,
  type MtuProbeApi,
  type MtuProbeReport,
  type PmtuProbe,
  type PmtuSearchRange,
} from '../../../../src/checks/mtu-probe/analysis.js';
import { loadSnapshot, type Collected } from '../../../../src/cli/command-runner.js';
import type { Deps } from '../../../../src/cli/deps.js';
import { renderMtuProbe } from '../../../../src/checks/mtu-probe/render.js';
import { paint } from '../../../../src/render/colour.js';
import { exitCodeFor } from '../../../../src/cli/exit-code.js';
import { expectGolden } from '../../../support/golden.js';
import type { GlobalOptions } from '../../../../src/cli/global-options.js';
import { buildMtuProbeTargets, parseMtuProbeTo } from '../../../../src/checks/mtu-probe/command.js';

const SNAPSHOTS = fileURLToPath(new URL('../../../fixtures/snapshots/mtu-probe/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../../../fixtures/golden/mtu-probe/', import.meta.url));

async function snapshot(name: string): Promise<Collected<MtuProbeApi>> {
  const deps = { readFile: (p: string) => readFile(p, 'utf8') } as unknown as Deps;
  return loadSnapshot<MtuProbeApi>(deps, `${SNAPSHOTS}${name}`, 'mtu-probe');
}

async function analyse(name: string): Promise<MtuProbeReport> {
  const s = await snapshot(name);
  return diagnoseMtuProbe(s.api, s.nodes);
}

/** A path that carries payloads up to `limit` and answers larger ones as `silent` says. */
function fakeProber(limit: number, signal: 'none' | 'frag-needed' = 'none') {
  const asked: number[] = [];
  const prober = async (size: number): Promise<PmtuProbe> => {
    asked.push(size);
    if (size <= limit) return { payloadBytes: size, outcome: 'passed', reportedMtuBytes: null, signal: null, detail: 'reply' };
    return signal === 'none'
      ? { payloadBytes: size, outcome: 'failed', reportedMtuBytes: null, signal: null, detail: '100% packet loss' }
      : { payloadBytes: size, outcome: 'failed', reportedMtuBytes: limit + 28, signal: 'frag-needed', detail: `Frag needed and DF set (mtu = ${limit + 28})` };
  };
  return { prober, asked };
}

const RANGE: PmtuSearchRange = { minPayloadBytes: 56, maxPayloadBytes: 1472 };
const largestPass = (probes: PmtuProbe[]) => Math.max(...probes.filter((p) => p.outcome === 'passed').map((p) => p.payloadBytes));

describe('mtu-probe: path MTU binary search', () => {
  it('finds every threshold of a silent path exactly, in at most 2 + ceil(log2(range)) probes', async () => {
    const bound = 2 + Math.ceil(Math.log2(RANGE.maxPayloadBytes - RANGE.minPayloadBytes));
    for (const limit of [56, 57, 100, 763, 1000, 1322, 1326, 1372, 1421, 1471]) {
      const { prober, asked } = fakeProber(limit);
      const probes = await searchPathMtu(RANGE, prober);
      expect(largestPass(probes), `limit ${limit}`).to.equal(limit);
      expect(probes.some((p) => p.payloadBytes === limit + 1 && p.outcome === 'failed'), `limit ${limit}: the size above was tried`).to.equal(true);
      expect(asked.length, `limit ${limit}`).to.be.at.most(bound);
      expect(new Set(asked).size, 'never asks a size twice').to.equal(asked.length);
    }
  });

  it('stops after two probes when the largest size passes, and after one when the smallest fails', async () => {
    const healthy = fakeProber(5000);
    expect((await searchPathMtu(RANGE, healthy.prober)).map((p) => p.payloadBytes)).to.deep.equal([56, 1472]);
    const down = fakeProber(10);
    expect((await searchPathMtu(RANGE, down.prober)).map((p) => p.payloadBytes)).to.deep.equal([56]);
  });

  it('jumps to the MTU an ICMP frag-needed names and confirms the size above it: 4 probes', async () => {
    const { prober, asked } = fakeProber(1372, 'frag-needed');
    const probes = await searchPathMtu(RANGE, prober);
    expect(asked).to.deep.equal([56, 1472, 1372, 1373]);
    expect(largestPass(probes)).to.equal(1372);
  });

  it('does not trust a reported MTU that the answers contradict', async () => {
    // The router claims 1400 but the path really carries 1300 (a second, silent hop behind it).
    const prober = async (size: number): Promise<PmtuProbe> =>
      size <= 1300
        ? { payloadBytes: size, outcome: 'passed', reportedMtuBytes: null, signal: null, detail: '' }
        : { payloadBytes: size, outcome: 'failed', reportedMtuBytes: 1400, signal: 'frag-needed', detail: '' };
    expect(largestPass(await searchPathMtu(RANGE, prober))).to.equal(1300);
  });

  it('continues from probes already made (the first call carries the smallest size)', () => {
    const first: PmtuProbe = { payloadBytes: 56, outcome: 'passed', reportedMtuBytes: null, signal: null, detail: '' };
    expect(nextPmtuProbe(RANGE, [first])).to.deep.equal({ kind: 'probe', payloadBytes: 1472 });
    expect(nextPmtuProbe(RANGE, [])).to.deep.equal({ kind: 'probe', payloadBytes: 56 });
  });
});

describe('mtu-probe: encapsulation overhead', () => {
  it('knows what each overlay adds over IPv4 and IPv6', () => {
    expect(encapsulationOverheadBytes('vxlan', 'inet')).to.equal(50);
    expect(encapsulationOverheadBytes('vxlan', 'inet6')).to.equal(70);
    expect(encapsulationOverheadBytes('ipip', 'inet')).to.equal(20);
    expect(encapsulationOverheadBytes('geneve', 'inet')).to.equal(50);
    expect(encapsulationOverheadBytes('wireguard', 'inet')).to.equal(60);
    expect(encapsulationOverheadBytes('wireguard', 'inet6')).to.equal(80);
    expect(encapsulationOverheadBytes('veth', 'inet')).to.equal(null);
  });
});

describe('mtu-probe: ping sections -> probe answers', () => {
  const section = (stdout: string) => ({ name: 'ping/src/10.244.2.1/1422', exitCode: 1, stdout, stderr: '' });
  it('reads a reply, a silent loss and a frag-needed', () => {
    expect(pmtuProbeFromSection(section('PING 10.244.2.1 (10.244.2.1) 1322(1350) bytes of data.\n1330 bytes from 10.244.2.1: icmp_seq=1 ttl=62 time=0.2 ms\n\n--- 10.244.2.1 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 201ms\n'), 1322).outcome).to.equal('passed');
    const silent = pmtuProbeFromSection(section('PING 10.244.2.1 (10.244.2.1) 1422(1450) bytes of data.\n\n--- 10.244.2.1 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss, time 208ms\n'), 1422);
    expect(silent).to.include({ outcome: 'failed', signal: null, reportedMtuBytes: null });
    const frag = pmtuProbeFromSection(section('PING 10.244.3.2 (10.244.3.2) 1422(1450) bytes of data.\nFrom 192.168.77.11 icmp_seq=1 Frag needed and DF set (mtu = 1400)\nping: local error: message too long, mtu=1400\n\n--- 10.244.3.2 ping statistics ---\n2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 205ms\n'), 1422);
    expect(frag).to.include({ outcome: 'failed', signal: 'frag-needed', reportedMtuBytes: 1400 });
    expect(pmtuProbeFromSection(section('no namespace for this pod\n'), 56).outcome).to.equal('error');
  });
});

describe('mtu-probe: --to and the probe plan', () => {
  const dns = (s: string) => /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s);
  it('classifies --to values without I/O', () => {
    expect(parseMtuProbeTo(undefined, dns)).to.deep.equal({ kind: 'default' });
    expect(parseMtuProbeTo('10.0.3.7', dns)).to.deep.equal({ kind: 'ip', address: '10.0.3.7' });
    expect(parseMtuProbeTo('node/worker-2', dns)).to.deep.equal({ kind: 'node', name: 'worker-2' });
    expect(parseMtuProbeTo('pod/web-2', dns)).to.deep.equal({ kind: 'pod', name: 'web-2', namespace: undefined });
    expect(parseMtuProbeTo('team-a/api-1', dns)).to.deep.equal({ kind: 'pod', name: 'api-1', namespace: 'team-a' });
    expect(parseMtuProbeTo('web-3', dns)).to.deep.equal({ kind: 'name', name: 'web-3' });
    expect(() => parseMtuProbeTo('fd00::1', dns)).to.throw(/IPv6/);
    expect(() => parseMtuProbeTo('$(touch x)', dns)).to.throw(/invalid/);
  });

  it('plans one probe per node, each pinging from its own pod with the first size in the first call', async () => {
    const { api } = await snapshot('healthy');
    const targets = buildMtuProbeTargets(api);
    expect(targets.map((t) => t.nodeName)).to.deep.equal(['lab-node-1', 'lab-node-2']);
    expect(targets.every((t) => typeof t.followUp === 'function')).to.equal(true);
    expect(targets[0]!.requests.at(-1)).to.deep.equal({ kind: 'ping', where: 'src', destination: '10.244.2.1', payloadBytes: 56, count: 2 });
    expect(targets[1]!.requests.at(-1)).to.deep.equal({ kind: 'ping', where: 'dst', destination: '10.244.1.1', payloadBytes: 56, count: 2 });
    const noProbe = buildMtuProbeTargets({ ...api, probe: false });
    expect(noProbe).to.have.length(2);
    expect(noProbe.flatMap((t) => t.requests).some((r) => r.kind === 'ping')).to.equal(false);
    expect(noProbe.some((t) => t.followUp)).to.equal(false);
  });
});

describe('mtu-probe: analysis of lab snapshots', () => {
  it('healthy: every hop carries 1450, both directions measure 1450 in 2 probes, no findings', async () => {
    const r = await analyse('healthy');
    expect(r.hops.map((h) => `${h.nodeName} ${h.role} ${h.mtuBytes} ${h.overheadBytes} ${h.usableBytes}`)).to.deep.equal([
      'lab-node-1 pod 1450 0 1450',
      'lab-node-1 host-veth 1450 0 1450',
      'lab-node-1 overlay 1450 0 1450',
      'lab-node-1 nic 1500 50 1450',
      'lab-node-2 nic 1500 50 1450',
      'lab-node-2 overlay 1450 0 1450',
      'lab-node-2 host-veth 1450 0 1450',
      'lab-node-2 pod 1450 0 1450',
    ]);
    expect(r.directions.map((d) => [d.pathMtuBytes, d.probeCount, d.blackHole])).to.deep.equal([[1450, 2, false], [1450, 2, false]]);
    expect(r.verdict.status).to.equal('ok');
    expect(r.findings).to.deep.equal([]);
  });

  it('node-2 NIC at 1400: black hole both ways, limited by lab-node-2 eth0, about log2 probes', async () => {
    const r = await analyse('node2-nic-1400');
    expect(r.directions).to.have.length(2);
    for (const d of r.directions) {
      expect(d.status).to.equal('measured');
      expect(d.blackHole).to.equal(true);
      expect(d.largestPassingPayloadBytes).to.equal(1326); // the kernel's answer in the capture (veth allows MTU + 4)
      expect(d.smallestFailingPayloadBytes).to.equal(1327);
      expect(d.probeCount).to.be.at.most(2 + Math.ceil(Math.log2(1422 - 56)));
    }
    expect(r.verdict).to.include({ status: 'limited', pathMtuBytes: 1354, podMtuBytes: 1450 });
    expect(r.verdict.limitingHop).to.match(/^lab-node-2 eth0 \(nic/);
    expect(r.verdict.action).to.match(/lower the CNI MTU .* to 1350 .* or raise eth0 on node lab-node-2 to 1500/);
    const codes = r.findings.map((f) => `${f.severity} ${f.code}`).sort();
    expect(codes).to.deep.equal([
      'error mtu.overlay-exceeds-nic',
      'error mtu.path-below-pod-mtu',
      'error mtu.path-below-pod-mtu',
      'error mtu.pmtu-black-hole',
      'error mtu.pmtu-black-hole',
      'warn mtu.node-mismatch',
    ]);
  });

  it('underlay link at 1400: no node interface explains it, so the verdict names the network between the nodes', async () => {
    const r = await analyse('underlay-1400');
    expect(r.configuredPathMtuBytes).to.equal(1450);
    expect(r.verdict.status).to.equal('limited');
    expect(r.verdict.limitingHop).to.match(/^the network between lab-node-1 eth0 and lab-node-2 eth0/);
    expect(r.findings.map((f) => f.code)).to.not.include('mtu.overlay-exceeds-nic');
    expect(r.findings.filter((f) => f.code === 'mtu.pmtu-black-hole')).to.have.length(2);
  });

  it('node-1 NIC at 1400, routed without overlay: frag-needed one way (4 probes), silent the other', async () => {
    const r = await analyse('node1-nic-1400-direct');
    const [forward, reverse] = r.directions;
    expect(forward).to.deep.include({ pathMtuBytes: 1400, largestPassingPayloadBytes: 1372, probeCount: 4, blackHole: false });
    expect(forward!.icmpSignal).to.include({ kind: 'frag-needed', mtuBytes: 1400 });
    expect(reverse).to.deep.include({ blackHole: true });
    expect(r.verdict.limitingHop).to.match(/^lab-node-1 eth0 \(nic, MTU 1400\)/);
    expect(r.findings.map((f) => f.code)).to.include.members(['mtu.pod-exceeds-nic', 'mtu.path-below-pod-mtu', 'mtu.pmtu-black-hole']);
    expect(r.findings.filter((f) => f.code === 'mtu.pmtu-black-hole').map((f) => f.subject)).to.deep.equal([`path ${reverse!.from} -> ${reverse!.to}`]);
  });

  it('--no-probe: the same facts give a configuration-only verdict', async () => {
    const s = await snapshot('node2-nic-1400');
    const r = diagnoseMtuProbe({ ...s.api, probe: false }, s.nodes);
    expect(r.directions).to.deep.equal([]);
    expect(r.verdict).to.include({ status: 'limited', measured: false, pathMtuBytes: 1350 });
    expect(r.findings.map((f) => f.code).sort()).to.deep.equal(['mtu.node-mismatch', 'mtu.overlay-exceeds-nic']);
  });

  it('reads TCPMSS rules from iptables-save lines', async () => {
    const s = await snapshot('healthy');
    const node = s.nodes.find((n) => n.nodeName === 'lab-node-1');
    if (!node?.ok) throw new Error('fixture');
    const token = node.token;
    const extra = [
      `@@NETDIAG ${token} BEGIN host/iptables`,
      '*mangle',
      ':FORWARD ACCEPT [0:0]',
      '[12:720] -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
      '-A POSTROUTING -o eth0 -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1420',
      'COMMIT',
      '',
      `@@NETDIAG ${token} END host/iptables rc=0`,
      `@@NETDIAG ${token} DONE`,
      '',
    ].join('\n');
    const nodes = s.nodes.map((n) => (n === node ? { ...node, raw: `${node.raw}${extra}` } : n));
    const r = diagnoseMtuProbe(s.api, nodes);
    expect(r.mssClamps.map((c) => [c.nodeName, c.table, c.chain, c.action])).to.deep.equal([
      ['lab-node-1', 'mangle', 'FORWARD', { kind: 'clamp-to-pmtu' }],
      ['lab-node-1', 'mangle', 'POSTROUTING', { kind: 'set-mss', mssBytes: 1420 }],
    ]);
    // MSS 1420 + 40 bytes of TCP/IP headers = 1460, more than the 1450 the path carries.
    expect(r.findings.filter((f) => f.code === 'mtu.mss-clamp-too-large').map((f) => f.subject)).to.deep.equal(['node lab-node-1 mangle/POSTROUTING']);
  });
});

// ---------------------------------------------------------------------------------------------
// Golden files: the healthy snapshot rendered as table and json, colour off, rtts normalised.

const OPTIONS = { output: 'table', noHeaders: false } as GlobalOptions;
const normalise = (text: string) => text.replace(/time[=<][\d.]+ ?ms/g, 'time=<rtt> ms');

async function compareGolden(file: string, actual: string): Promise<void> {
  expectGolden(`${GOLDEN}${file}`, actual);
}

describe('mtu-probe: golden output (healthy lab)', () => {
  it('table', async () => {
    const r = await analyse('healthy');
    expect(exitCodeFor(r.findings, 'error'), 'the exit code of this run (--fail-on error, the default)').to.equal(0);
    await compareGolden('healthy.table.txt', normalise(renderMtuProbe(r, OPTIONS, paint(false))));
  });
  it('json', async () => {
    const r = await analyse('healthy');
    const json = normalise(renderMtuProbe(r, { ...OPTIONS, output: 'json' }, paint(false)));
    expect(JSON.parse(json).kind).to.equal('MtuProbeReport');
    expect(exitCodeFor(r.findings, 'error'), 'the exit code of this run (--fail-on error, the default)').to.equal(0);
    await compareGolden('healthy.json', json);
  });
});
