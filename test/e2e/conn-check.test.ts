// conn-check through the real kubectl binary against the lab: healthy pairs exit 0, and each fault
// made in a node's or pod's kernel by hand is named with exit 1, its node and its hop or rule.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { kernelLinks, kubectl, labState, probePodsLeft, runPlugin, skipUnlessLab } from '../support/lab-harness.js';
import { deleteRoute, flushServiceChain, forgetNeighbour, insertIptablesRule, pinNeighbour, setLinkDown, setSysctl, type RestoreFault } from '../../lab/lab-faults.js';

interface Report {
  kind: string;
  verdict: { outcome: string; node: string | null; hop: string | null; sentence: string; evidence: string[] };
  hops: Array<{ node: string; hop: string; iface: string | null; out: number | null; back: number | null }>;
  deltas: Array<{ nodeName: string; where: string; rules: Array<{ table: string; chain: string; target: string; packets: number }>; links: Array<{ ifname: string; rx: number; tx: number }>; kernel: Record<string, number> }>;
  findings: Array<{ code: string; severity: string }>;
  probe: { summary: string; sent: number } | null;
  capture?: { hops: Array<{ nodeName: string; iface: string; summary: string[]; pcapFile?: string }> };
}

async function connCheck(args: readonly string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const run = await runPlugin(['conn-check', ...args, '-o', 'json']);
  expect(run.stdout, run.stderr).to.not.equal('');
  return { code: run.code, report: JSON.parse(run.stdout) as Report, stderr: run.stderr };
}

function codesAbove(report: Report, severity: 'info'): string[] {
  return report.findings.filter((f) => f.severity !== severity).map((f) => f.code);
}

/** The host-side veth of a lab pod, as the node's kernel pairs it with the pod's eth0. */
function hostVethOf(podName: string): { node: string; ifname: string } {
  const state = labState();
  const pod = state.pods.find((p) => p.name === podName)!;
  const node = state.nodes.find((n) => n.name === pod.nodeName)!;
  const eth0 = kernelLinks(pod.netns!).find((l) => l.ifname === 'eth0')!;
  const peer = kernelLinks(node.netns).find((l) => l.ifindex === eth0.link_index)!;
  return { node: node.name, ifname: peer.ifname };
}

describe('e2e: kubectl netdiag conn-check', function () {
  this.timeout(240_000);
  let restore: RestoreFault | null = null;
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(async function () {
    if (restore) await restore();
    restore = null;
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  describe('healthy pairs exit 0 with the hop table', () => {
    it('across nodes (Calico to Calico): every hop counted the probes out and the replies back', async () => {
      const { code, report } = await connCheck(['web-1', 'web-2']);
      expect(code).to.equal(0);
      expect(report.kind).to.equal('ConnCheckReport');
      expect(report.verdict.outcome).to.equal('reached');
      expect(codesAbove(report, 'info')).to.deep.equal([]);
      expect(report.hops.length).to.be.greaterThan(3);
      const veth = hostVethOf('web-2');
      const row = report.hops.find((h) => h.node === veth.node && h.iface === veth.ifname);
      expect(row, JSON.stringify(report.hops)).to.not.equal(undefined);
      expect(row!.out).to.be.at.least(3);
      expect(row!.back).to.be.at.least(3);
      // -o json keeps the deltas per node and namespace.
      expect(report.deltas.map((d) => `${d.nodeName}/${d.where}`).sort()).to.deep.equal(['lab-node-1/host', 'lab-node-1/src', 'lab-node-2/dst', 'lab-node-2/host']);
    });

    it('on one node, Calico to flannel, flannel to Calico, to a Service (TCP and UDP), to a node, from a node', async () => {
      for (const args of [
        ['web-2', 'team-a/api-1', '--port', '9090'],
        ['web-1', 'web-3'],
        ['team-b/client-1', 'web-2', '--port', '8080'],
        ['web-1', 'svc/web'],
        ['web-1', 'node/lab-node-2', '--protocol', 'icmp'],
        ['default/web-1', 'svc/kube-dns', '-n', 'kube-system'], // UDP 53: reached when the endpoint counts the datagrams in
        ['node/lab-node-3', 'web-1'],
      ]) {
        const { code, report } = await connCheck(args);
        expect(code, `${args.join(' ')}: ${report.verdict.sentence}`).to.equal(0);
        expect(report.verdict.outcome, args.join(' ')).to.equal('reached');
        expect(codesAbove(report, 'info'), args.join(' ')).to.deep.equal([]);
        if (args[1] === 'svc/web') {
          // The NAT rules that counted the probes, in the order the packet meets them.
          const nat = report.hops.filter((h) => h.hop === 'service NAT').map((h) => h.iface!.replace(/-[A-Z0-9]{16} /, '-* '));
          expect(nat.length, JSON.stringify(report.hops)).to.be.greaterThan(2);
          expect(nat[0]).to.match(/^nat\/KUBE-SERVICES #/);
          expect(nat[nat.length - 1]).to.match(/^nat\/KUBE-SEP-\* #/);
        }
      }
    });
  });

  describe('faults made in the kernel are named with exit 1, their node and hop', () => {
    it('a DROP rule in FORWARD on the destination node, then healthy again once it is gone', async () => {
      restore = await insertIptablesRule('lab-node-2', 'filter', 'FORWARD', ['-d', '10.244.2.1/32', '-j', 'DROP']);
      const { code, report } = await connCheck(['web-1', 'web-2']);
      expect(code).to.equal(1);
      expect(report.findings.map((f) => f.code)).to.include('conn.rule-drop');
      expect(report.verdict.node).to.equal('lab-node-2');
      expect(report.verdict.hop).to.equal('filter/FORWARD rule 1');
      expect(report.verdict.sentence).to.contain('-A FORWARD -d 10.244.2.1/32 -j DROP');
      await restore();
      restore = null;
      const again = await connCheck(['web-1', 'web-2']);
      expect(again.code).to.equal(0);
    });

    it('arp_ignore=2 in the destination pod: the node ARPs for it on its host veth unanswered', async () => {
      // web-2 must not ARP for its gateway during the test: its request would teach the node its MAC.
      await connCheck(['web-2', 'web-1']); // a fresh gateway entry in web-2 to pin
      const r0 = await pinNeighbour('web-2', '169.254.1.1');
      const r1 = await setSysctl('web-2', 'net.ipv4.conf.all.arp_ignore', 2);
      const r2 = await setSysctl('web-2', 'net.ipv4.conf.eth0.arp_ignore', 2);
      restore = async () => {
        await r2();
        await r1();
        await r0();
      };
      await forgetNeighbour('lab-node-2', '10.244.2.1');
      const { code, report } = await connCheck(['web-1', 'web-2']);
      expect(code).to.equal(1);
      expect(report.findings.map((f) => f.code)).to.include('conn.arp-unanswered');
      expect(report.verdict.node).to.equal('lab-node-2');
      expect(report.verdict.hop).to.equal(`ARP for 10.244.2.1 on ${hostVethOf('web-2').ifname}`);
      expect(report.verdict.sentence).to.contain('arp_ignore=2');
    });

    it("proxy_arp off on the source pod's host veth: the pod's ARP for its gateway is unanswered", async () => {
      const veth = hostVethOf('web-1');
      restore = await setSysctl(veth.node, `net.ipv4.conf.${veth.ifname}.proxy_arp`, 0);
      await forgetNeighbour('web-1', '169.254.1.1');
      const { code, report } = await connCheck(['web-1', 'web-2']);
      expect(code).to.equal(1);
      expect(report.findings.map((f) => f.code)).to.deep.equal(['conn.arp-unanswered']);
      expect(report.verdict.node).to.equal('lab-node-1');
      expect(report.verdict.hop).to.equal('ARP for 169.254.1.1 on eth0 in pod web-1');
      expect(report.verdict.sentence).to.contain(`proxy_arp=0 on ${veth.ifname}`);
    });

    it('ip_forward=0 on the destination node', async () => {
      restore = await setSysctl('lab-node-2', 'net.ipv4.ip_forward', 0);
      const { code, report } = await connCheck(['web-1', 'web-2']);
      expect(code).to.equal(1);
      expect(report.findings.map((f) => f.code)).to.include('conn.forwarding-off');
      expect(report.verdict.node).to.equal('lab-node-2');
      expect(report.verdict.hop).to.equal('net.ipv4.ip_forward=0');
      const node2 = report.deltas.find((d) => d.nodeName === 'lab-node-2' && d.where === 'host')!;
      expect(node2.kernel['Ip.InAddrErrors'] ?? 0).to.be.at.least(3);
    });

    it("the source node's route to the destination pod CIDR deleted", async () => {
      restore = await deleteRoute('lab-node-1', '10.244.2.0/24');
      const { code, report } = await connCheck(['web-1', 'web-2']);
      expect(code).to.equal(1);
      expect(report.findings.map((f) => f.code)).to.include('conn.no-route');
      expect(report.verdict.node).to.equal('lab-node-1');
      expect(report.verdict.hop).to.equal('route to 10.244.2.1');
    });

    it('the destination host veth down', async () => {
      const veth = hostVethOf('web-2');
      restore = await setLinkDown(veth.node, veth.ifname);
      const { code, report } = await connCheck(['web-1', 'web-2']);
      expect(code).to.equal(1);
      expect(report.findings.map((f) => f.code)).to.include('conn.link-down');
      expect(report.verdict.node).to.equal('lab-node-2');
      expect(report.verdict.hop).to.equal(veth.ifname);
      await restore();
      restore = null;
      expect((await connCheck(['web-1', 'web-2'])).code).to.equal(0);
    });

    it('nothing listening on the port: the RST is named, not a rule', async () => {
      const { code, report } = await connCheck(['web-1', 'web-2', '--port', '8081']);
      expect(code).to.equal(1);
      expect(report.findings.map((f) => f.code)).to.include('conn.refused');
      expect(report.verdict.node).to.equal('lab-node-2');
      expect(report.verdict.hop).to.equal('port 8081');
    });

    it("a Service with no endpoints: kube-proxy's REJECT is named, not a missing listener", async () => {
      const { code, report } = await connCheck(['web-1', 'svc/empty']);
      expect(code).to.equal(1);
      expect(report.findings.map((f) => f.code)).to.deep.equal(['conn.rule-drop']);
      expect(report.verdict.node).to.equal('lab-node-1');
      expect(report.verdict.hop).to.match(/^filter\/KUBE-SERVICES rule \d+$/);
      expect(report.verdict.sentence).to.match(/^rejected on lab-node-1 by /);
    });

    it("the Service's KUBE-SVC chain flushed on the source node", async () => {
      const web = labState().services.find((s) => s.namespace === 'default' && s.name === 'web')!;
      const fault = await flushServiceChain('lab-node-1', web.clusterIP, 80);
      restore = fault;
      const { code, report } = await connCheck(['web-1', 'svc/web']);
      expect(code).to.equal(1);
      expect(report.findings.map((f) => f.code)).to.include('conn.service-not-translated');
      expect(report.verdict.node).to.equal('lab-node-1');
      expect(report.verdict.hop).to.equal(`nat/${fault.chain}`);
      await restore();
      restore = null;
      expect((await connCheck(['web-1', 'svc/web'])).code).to.equal(0);
    });
  });

  it('a NetworkPolicy that isolates the destination: the Calico drop rule and the policy are named; --no-probe gives the policy answer alone', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'netdiag-netpol-')), 'deny.json');
    const policy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny-web-2-ingress', namespace: 'default' }, spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] } };
    writeFileSync(file, JSON.stringify(policy));
    kubectl(['apply', '-f', file]);
    restore = async () => void kubectl(['delete', '-f', file]);
    const { code, report } = await connCheck(['web-1', 'web-2']);
    expect(code, report.verdict.sentence).to.equal(1);
    expect(report.findings.map((f) => f.code)).to.include('conn.rule-drop');
    expect(report.verdict.node).to.equal('lab-node-2');
    expect(report.verdict.hop).to.match(/^filter\/cali-tw-cali[0-9a-f]{11} rule \d+$/);
    expect(report.verdict.evidence.join('\n')).to.contain('denied: default/deny-web-2-ingress isolates web-2 for ingress');
    // The same policy selects web-3, on the flannel-style node, which enforces none: said, as a warning.
    const unenforced = await connCheck(['web-1', 'web-3']);
    expect(unenforced.report.verdict.outcome).to.equal('reached');
    expect(unenforced.report.findings.filter((f) => f.severity === 'warn').map((f) => f.code)).to.deep.equal(['conn.policy-not-enforced']);
    const policyOnly = await connCheck(['web-1', 'web-2', '--no-probe']);
    expect(policyOnly.code).to.equal(0);
    expect(policyOnly.report.verdict.sentence).to.contain('denied: default/deny-web-2-ingress isolates web-2 for ingress');
    await restore();
    restore = null;
    const again = await connCheck(['web-1', 'web-2']);
    expect(again.code, again.report.verdict.sentence).to.equal(0);
  });

  it('--capture summarises the flow in both pods; --pcap writes one readable pcap per hop; a closed port shows its RST', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-pcap-'));
    const { code, report } = await connCheck(['web-1', 'web-2', '--capture', '--pcap', dir]);
    expect(code, report.verdict.sentence).to.equal(0);
    const hops = report.capture?.hops ?? [];
    expect(hops.map((h) => `${h.nodeName} ${h.iface}`)).to.deep.equal(['lab-node-1 default/web-1 eth0', 'lab-node-2 default/web-2 eth0']);
    for (const h of hops) {
      expect(h.summary.join('; ')).to.match(/^3 SYN sent to 10\.244\.2\.1:8080, 3 SYN-ACK back/);
      expect(h.pcapFile, JSON.stringify(h)).to.be.a('string');
      expect(readFileSync(h.pcapFile!).readUInt32LE(0)).to.be.oneOf([0xa1b2c3d4, 0xa1b23c4d]);
    }
    expect(readdirSync(dir).sort()).to.deep.equal(hops.map((h) => basename(h.pcapFile!)).sort());
    const closed = await connCheck(['web-1', 'web-2', '--port', '8081', '--capture']);
    expect(closed.code).to.equal(1);
    expect(closed.report.capture?.hops.map((h) => h.summary.join('; '))).to.satisfy((lines: string[]) => lines.length === 2 && lines.every((l) => /RST from 10\.244\.2\.1/.test(l)));
    const noDir = await runPlugin(['conn-check', 'web-1', 'web-2', '--pcap', join(dir, 'missing')]);
    expect(noDir.code).to.equal(2);
    expect(noDir.stderr).to.match(/^error: --pcap .*missing: no such directory/);
  });

  it('refuses bad input before any API call, with one sentence and exit 2', async () => {
    for (const args of [['web-1', '10.0.0.1:70000'], ['10.0.0.1', 'web-1'], ['web-1', 'svc/web', '--protocol', 'icmp'], ['web-1', 'web-2', '--count', '0'], ['web-1', 'web-2', '--protocol', 'sctp']]) {
      const run = await runPlugin(['conn-check', ...args]);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr, args.join(' ')).to.match(/^error: /);
      expect(run.stderr, args.join(' ')).to.not.match(/\bat \S+:\d+:\d+/);
    }
  });
});
