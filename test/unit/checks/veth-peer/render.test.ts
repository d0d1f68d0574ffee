// veth-peer's table when the pods span several nodes (-l SELECTOR, smoke's per-node checks): one
// line per node, then only the interfaces that are not ok; -o wide and json keep every one.
import { expect } from 'chai';
import { renderVethPeer } from '../../../../src/checks/veth-peer/render.js';
import { readGlobalOptions } from '../../../../src/cli/global-options.js';
import { paint } from '../../../../src/render/colour.js';
import type { PodPathRow, VethPair, VethPeerReport } from '../../../../src/checks/veth-peer/analysis.js';

function pair(i: number, over: Partial<VethPair['hostPeer'] & object> = {}): VethPair {
  return {
    podInterface: { ifname: 'eth0', ifindex: 2, iflink: 10 + i, macAddress: null, addresses: [`10.244.0.${i}/32`], mtuBytes: 1450, operState: 'UP' },
    hostPeer: { ifname: `cali${i}`, ifindex: 10 + i, macAddress: null, mtuBytes: 1450, operState: 'UP', adminUp: true, master: null, hairpin: null, proxyArp: true, forwarding: true, rpFilter: 0, ...over },
    primary: true,
    leaveVia: { kind: 'route', route: `10.244.0.${i} dev cali${i} scope link` },
    cni: 'calico',
    tcpdump: null,
  } as VethPair;
}

function report(): VethPeerReport {
  const rows: PodPathRow[] = [];
  for (let i = 0; i < 30; i += 1) {
    const nodeName = `node-${String((i % 10) + 1).padStart(2, '0')}`;
    rows.push({ kind: 'pod', namespace: 'default', name: `web-${i}`, nodeName, pairs: [pair(i)], overlays: [], nic: null, pidMethod: 'crictl' });
  }
  // web-4 (node-05): its host side is down, and a finding says so; web-7 (node-08) unreadable.
  rows[4] = { ...(rows[4] as Extract<PodPathRow, { kind: 'pod' }>), pairs: [pair(4, { adminUp: false, operState: 'DOWN' })] };
  rows[7] = { kind: 'unreadable', namespace: 'default', name: 'web-7', nodeName: 'node-08', note: 'network namespace not found' };
  const findings = [{ code: 'veth.peer-down' as const, severity: 'error' as const, subject: 'pod default/web-4 eth0', message: 'down', evidence: [], remedy: 'up' }];
  return { rows, findings, problems: [] };
}

const options = (output: string) => readGlobalOptions({ output });
const webLines = (text: string) => text.split('\n').filter((l) => /^default\s+web-/.test(l));
const nodeLines = (text: string) => text.split('\n').filter((l) => /^node-\d\d /.test(l));

describe('veth-peer table for pods on many nodes', () => {
  it('prints one line per node, then only the interfaces that are not ok', () => {
    const out = renderVethPeer(report(), options('table'), paint(false));
    const nodes = nodeLines(out);
    expect(nodes).to.have.length(10);
    expect(nodes.find((l) => l.startsWith('node-05 '))).to.match(/^node-05\s+3\s+3\s+1\s+ERROR$/);
    expect(nodes.find((l) => l.startsWith('node-08 '))).to.match(/^node-08\s+3\s+2\s+1\s+WARN$/);
    expect(nodes.find((l) => l.startsWith('node-01 '))).to.match(/^node-01\s+3\s+3\s+0\s+ok$/);
    const shown = webLines(out);
    expect(shown).to.have.length(2);
    expect(shown[0]).to.match(/^default\s+web-4\s+node-05 /);
    expect(shown[1]).to.match(/^default\s+web-7\s+node-08 /);
    // Paths only for what is shown.
    expect(out.split('\n').filter((l) => l.startsWith('  default/web-'))).to.have.length(1);
    expect(out).to.contain('-o wide lists every one');
    expect(out).to.contain('veth.peer-down');
  });

  it('prints no interface table when every interface is ok', () => {
    const healthy = report();
    healthy.rows = healthy.rows.filter((r) => r.name !== 'web-4' && r.name !== 'web-7');
    healthy.findings = [];
    const out = renderVethPeer(healthy, options('table'), paint(false));
    expect(nodeLines(out)).to.have.length(10);
    expect(webLines(out)).to.have.length(0);
  });

  it('-o wide lists every interface', () => {
    const out = renderVethPeer(report(), options('wide'), paint(false));
    expect(webLines(out)).to.have.length(30);
    expect(nodeLines(out)).to.have.length(0);
  });

  it('json keeps every pod', () => {
    const parsed = JSON.parse(renderVethPeer(report(), options('json'), paint(false))) as { pods: unknown[] };
    expect(parsed.pods).to.have.length(30);
  });

  it('pods on one node show every interface', () => {
    const one = report();
    one.rows = one.rows.filter((r) => r.nodeName === 'node-05');
    const out = renderVethPeer(one, options('table'), paint(false));
    expect(webLines(out)).to.have.length(3);
    expect(nodeLines(out)).to.have.length(0);
  });
});
