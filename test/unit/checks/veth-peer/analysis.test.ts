// veth-peer analysis and rendering on snapshots captured from the lab's real kernel, plus the
// faults that are easiest to build by editing a copy of that raw output.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../../src/cli/cli.js';
import { diagnoseVethPeer, type VethPeerApi } from '../../../../src/checks/veth-peer/analysis.js';
import type { NodeCollection } from '../../../../src/probe/probe-run.js';
import { fakeDeps } from '../../../support/fake-deps.js';
import { expectGolden } from '../../../support/golden.js';
import { REPO } from '../../../support/lab-harness.js';

const SNAPSHOTS = join(REPO, 'test/fixtures/snapshots/veth-peer');
const GOLDEN = join(REPO, 'test/fixtures/golden/veth-peer');

function loadSnapshot(name: string): { api: VethPeerApi; nodes: NodeCollection[] } {
  const dir = join(SNAPSHOTS, name);
  const file = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8'));
  const nodes = file.nodes.map((n: { rawFile: string }) => ({ ...n, raw: readFileSync(join(dir, n.rawFile), 'utf8') }));
  return { api: file.api, nodes };
}

/** A copy of a snapshot whose raw node output was edited, to build a fault the lab does not have. */
function editedSnapshot(name: string, edit: (raw: string) => string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'netdiag-veth-')), name);
  cpSync(join(SNAPSHOTS, name), dir, { recursive: true });
  const file = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8'));
  const raw = join(dir, file.nodes[0].rawFile);
  writeFileSync(raw, edit(readFileSync(raw, 'utf8')));
  return dir;
}

describe('veth-peer analysis on lab snapshots', () => {
  it('pairs each Calico pod with its cali* peer by link index and finds the /32 route, vxlan.calico and the NIC', () => {
    const { api, nodes } = loadSnapshot('node-1');
    const report = diagnoseVethPeer(api, nodes);
    expect(report.findings).to.deep.equal([]);
    const web1 = report.rows.find((r) => r.name === 'web-1');
    if (web1?.kind !== 'pod') throw new Error('web-1 row missing');
    const pair = web1.pairs[0]!;
    expect(pair.hostPeer!.ifname).to.match(/^cali[0-9a-f]{11}$/);
    expect(pair.hostPeer!.ifindex).to.equal(pair.podInterface.iflink);
    expect(pair.leaveVia).to.deep.equal({ kind: 'route', route: `10.244.1.1 dev ${pair.hostPeer!.ifname} scope link` });
    expect(pair.cni).to.equal('calico');
    expect(web1.overlays.filter((o) => o.carriesRoutes.length > 0).map((o) => [o.ifname, o.vni, o.mtuBytes])).to.deep.include(['vxlan.calico', 4096, 1450]);
    expect(web1.nic).to.include({ ifname: 'eth0', address: '192.168.77.11', mtuBytes: 1500 });
    expect(report.rows.filter((r) => r.kind === 'host-network').map((r) => r.name).sort()).to.deep.equal(['calico-node-h2x9k', 'kube-proxy-4xk2p']);
  });

  it('puts flannel pods on the cni0 bridge with the port hairpin setting', () => {
    const { api, nodes } = loadSnapshot('node-3');
    const report = diagnoseVethPeer(api, nodes);
    const web3 = report.rows.find((r) => r.name === 'web-3');
    if (web3?.kind !== 'pod') throw new Error('web-3 row missing');
    expect(web3.pairs[0]!.leaveVia).to.deep.equal({ kind: 'bridge', bridge: 'cni0', bridgeMtuBytes: 1450 });
    expect(web3.pairs[0]!.hostPeer!.ifname).to.match(/^veth[0-9a-f]{8}$/);
    expect(web3.pairs[0]!.cni).to.equal('flannel');
    expect(web3.pairs[0]!.hostPeer!.hairpin).to.equal(true);
  });

  it('reports a node that failed as a finding while the other node still renders', () => {
    const one = loadSnapshot('node-1');
    const three = loadSnapshot('node-3');
    const report = diagnoseVethPeer({ pods: [...one.api.pods, ...three.api.pods.map((p) => ({ ...p, key: `q${p.key}` }))], nodeIPs: one.api.nodeIPs }, [one.nodes[0]!, { nodeName: 'lab-node-3', ok: false, error: 'node lab-node-3 cannot pull the probe image x', podName: null }]);
    expect(report.findings.map((f) => f.code)).to.deep.equal(['probe.node-failed']);
    expect(report.rows.find((r) => r.name === 'web-1')!.kind).to.equal('pod');
    expect(report.rows.find((r) => r.name === 'web-3')!.kind).to.equal('unreadable');
  });
});

describe('veth-peer faults built from real output', () => {
  it('finds a host peer that is down (exit 1)', async () => {
    const dir = editedSnapshot('node-1', (raw) => raw.replace(/("ifname":"cali0761ccbeace","flags":\[)"BROADCAST","MULTICAST","UP","LOWER_UP"\]/, '$1"BROADCAST","MULTICAST"]').replace(/("ifname":"cali0761ccbeace".*?"operstate":)"UP"/, '$1"DOWN"'));
    const deps = fakeDeps();
    expect(await runCli(['veth-peer', '--from-snapshot', dir, '-o', 'json'], deps)).to.equal(1);
    const report = JSON.parse(deps.out());
    expect(report.findings.map((f: { code: string }) => f.code)).to.deep.equal(['veth.peer-down']);
  });

  it('finds a pod IP without its /32 route on a routed CNI', async () => {
    const dir = editedSnapshot('node-1', (raw) => raw.replace(/\{"type":"unicast","dst":"10\.244\.1\.1","dev":"cali0761ccbeace"[^}]*\},?/, ''));
    const deps = fakeDeps();
    expect(await runCli(['veth-peer', '--from-snapshot', dir, '-o', 'json'], deps)).to.equal(1);
    const codes = JSON.parse(deps.out()).findings.map((f: { code: string }) => f.code);
    expect(codes).to.deep.equal(['veth.no-route-to-pod']);
  });

  it('finds a pod MTU larger than the overlay carries', async () => {
    const dir = editedSnapshot('node-1', (raw) => raw.replace(/("ifname":"vxlan\.calico","flags":\[[^\]]*\],"mtu":)1450/, '$11400'));
    const deps = fakeDeps();
    expect(await runCli(['veth-peer', '--from-snapshot', dir, '-o', 'json'], deps)).to.equal(1);
    const findings = JSON.parse(deps.out()).findings as Array<{ code: string; message: string }>;
    expect(findings.map((f) => f.code)).to.deep.equal(['veth.mtu-exceeds-overlay', 'veth.mtu-exceeds-overlay']);
    expect(findings[0]!.message).to.contain('MTU 1450 is larger than the overlay vxlan.calico MTU 1400');
  });

  it('says which section it could not parse when the output was cut off', async () => {
    const dir = editedSnapshot('node-1', (raw) => raw.slice(0, raw.indexOf('@@NETDIAG', raw.indexOf('BEGIN host/route') + 60)));
    const deps = fakeDeps();
    const code = await runCli(['veth-peer', '--from-snapshot', dir], deps);
    expect(deps.out()).to.match(/Could not read:\n\s+node lab-node-1: section host\/route has no end marker \(output cut off\)/);
    // Partial output must not pass as healthy.
    expect(deps.out()).to.contain('probe.output-incomplete');
    expect(code).to.equal(1);
  });
});

describe('veth-peer golden output', () => {
  for (const [snapshot, format] of [['node-1', 'table'], ['node-1', 'wide'], ['node-3', 'table'], ['node-1', 'json'], ['node-3', 'dot']] as const) {
    it(`renders ${snapshot} as ${format} exactly like the reviewed golden file`, async () => {
      const deps = fakeDeps();
      expect(await runCli(['veth-peer', '--from-snapshot', join(SNAPSHOTS, snapshot), '-o', format], deps)).to.equal(0);
      expectGolden(join(GOLDEN, `${snapshot}.${format}`), deps.out());
    });
  }
});
