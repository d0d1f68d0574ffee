// trace-svc through the real kubectl binary against the lab, whose kube-proxy rules are real
// iptables rules in each node's namespace (DNAT happens in the kernel).
import { expect } from 'chai';
import { editLiveIptables, flushServiceRules, restoreKubeProxyRules, switchKubeProxyMode } from '../../lab/lab-faults.js';
import { servicePortChainName, servicePortEndpointChainName } from '../../lab/kube-proxy-rules.js';
import { labState, probePodsLeft, runPlugin, skipUnlessLab } from '../support/lab-harness.js';

interface NodeJson {
  nodeName: string;
  mode: string;
  ports: Array<{
    via: string;
    destination: string;
    chain: { outcome: string; serviceChain: string | null; intendedDrop: { reason: string } | null; sessionAffinity: { timeoutSeconds: number | null } | null } | null;
    endpoints: Array<{ target: string; inRules: boolean; probability: number | null; masquerade: boolean | null }>;
  }>;
  probes: Array<{ to: string; what: string; ok: boolean | null }>;
}
interface ReportJson {
  nodes: NodeJson[];
  findings: Array<{ code: string; subject: string; severity: string; message: string }>;
}

describe('e2e: kubectl netdiag trace-svc', function () {
  this.timeout(120_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('shows on every node the DNAT to exactly the endpoints the API has, with equal shares', async () => {
    const run = await runPlugin(['trace-svc', 'web', '-o', 'json']);
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as ReportJson;
    const webPods = labState().pods.filter((p) => p.labels.app === 'web').map((p) => `${p.ip}:8080`).sort();
    expect(report.nodes.map((n) => n.nodeName).sort()).to.deep.equal(['lab-node-1', 'lab-node-2', 'lab-node-3']);
    for (const node of report.nodes) {
      expect(node.mode).to.equal('iptables');
      const port = node.ports[0]!;
      expect(port.destination).to.equal('10.96.100.10:80');
      expect(port.chain!.outcome).to.equal('dnat');
      expect(port.chain!.serviceChain).to.match(/^KUBE-SVC-[A-Z2-7]{16}$/);
      expect(port.endpoints.map((e) => e.target).sort()).to.deep.equal(webPods);
      for (const e of port.endpoints) expect(e.probability).to.be.closeTo(1 / 3, 0.01);
    }
    expect(report.findings.filter((f) => f.severity !== 'info')).to.deep.equal([]);
  });

  it('reports the missing rules for the one node whose kube-proxy lost the Service, and is clean once they are back', async () => {
    const restore = await flushServiceRules('lab-node-2', 'default/web');
    try {
      const broken = await runPlugin(['trace-svc', 'web', '-o', 'json', '--probe', '--from-node', 'lab-node-2']);
      expect(broken.code, broken.stderr).to.equal(1);
      const report = JSON.parse(broken.stdout) as ReportJson;
      expect(report.findings.map((f) => f.code)).to.include.members(['svc.rules-missing', 'svc.probe-service-fails']);
      expect(report.findings.filter((f) => f.code === 'svc.rules-missing').map((f) => f.subject)).to.deep.equal(['default/web:http on node lab-node-2']);
      expect(report.findings.filter((f) => f.code === 'svc.probe-service-fails').map((f) => f.subject)).to.deep.equal(['default/web:80 from node lab-node-2']);
      const node2 = report.nodes.find((n) => n.nodeName === 'lab-node-2')!;
      expect(node2.ports[0]!.chain!.outcome).to.equal('no-match');
      const endpointProbes = node2.probes.filter((p) => p.what === 'endpoint');
      expect(endpointProbes, 'one probe per web pod').to.have.length(3);
      expect(endpointProbes.every((p) => p.ok === true)).to.equal(true);
      // The other nodes still have their rules.
      const others = await runPlugin(['trace-svc', 'web', '-o', 'json', '--from-node', 'lab-node-1']);
      expect(others.code, others.stderr).to.equal(0);
    } finally {
      await restore();
    }
    const healed = await runPlugin(['trace-svc', 'web', '-o', 'json', '--probe', '--from-node', 'lab-node-2']);
    expect(healed.code, healed.stderr).to.equal(0);
    const report = JSON.parse(healed.stdout) as ReportJson;
    expect(report.findings.filter((f) => f.severity !== 'info')).to.deep.equal([]);
    const healedProbes = report.nodes.find((n) => n.nodeName === 'lab-node-2')!.probes;
    expect(healedProbes, 'the Service and its 3 web pods').to.have.length(4);
    expect(healedProbes.every((p) => p.ok === true)).to.equal(true);
  });

  it('says plainly when a Service has no endpoints and shows the REJECT, as info: no pod is selected on purpose', async () => {
    const run = await runPlugin(['trace-svc', 'empty', '-o', 'json']);
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as ReportJson;
    expect(report.findings.map((f) => f.code)).to.include('svc.no-ready-endpoints');
    expect(report.findings.filter((f) => f.severity !== 'info')).to.deep.equal([]);
    expect(report.nodes[0]!.ports[0]!.chain!.outcome).to.equal('reject');
  });

  it('lists the ports when asked for one the Service does not have (exit 2)', async () => {
    const run = await runPlugin(['trace-svc', 'kube-dns', '-n', 'kube-system', '--port', 'http']);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.equal('error: service kube-system/kube-dns has no port "http"\nhint: its ports: dns 53/UDP, dns-tcp 53/TCP, metrics 9153/TCP\n');
  });

  it('restores cleanly even if a previous run left the node broken', async () => {
    await restoreKubeProxyRules('lab-node-2');
  });
});

describe('e2e: kubectl netdiag trace-svc on a node in kube-proxy nftables mode', function () {
  this.timeout(120_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });

  it('walks the service-ips map, the service chain and the endpoint chains the kernel really has', async () => {
    const restore = await switchKubeProxyMode('lab-node-2', 'nftables');
    try {
      const run = await runPlugin(['trace-svc', 'web', '-o', 'json', '--from-node', 'lab-node-2', '--probe']);
      expect(run.code, run.stderr).to.equal(0);
      const report = JSON.parse(run.stdout) as ReportJson;
      const node = report.nodes[0]!;
      expect(node.mode).to.equal('nftables');
      expect(node.ports[0]!.chain!.outcome).to.equal('dnat');
      expect(node.ports[0]!.chain!.serviceChain).to.match(/^service-[A-Z0-9]+-default\/web\/tcp\/http$/);
      expect(node.ports[0]!.endpoints.map((e) => e.target).sort()).to.deep.equal(labState().pods.filter((p) => p.labels.app === 'web').map((p) => `${p.ip}:8080`).sort());
      expect(node.probes, 'the Service and its 3 web pods').to.have.length(4);
      expect(node.probes.every((p) => p.ok === true)).to.equal(true);
    } finally {
      await restore();
    }
  });

  it('reports the Service missing from the nftables rules of that node', async () => {
    const restore = await switchKubeProxyMode('lab-node-2', 'nftables', ['default/web']);
    try {
      const run = await runPlugin(['trace-svc', 'web', '-o', 'json', '--from-node', 'lab-node-2']);
      expect(run.code, run.stderr).to.equal(1);
      const report = JSON.parse(run.stdout) as ReportJson;
      expect(report.nodes[0]!.mode).to.equal('nftables');
      expect(report.findings.map((f) => f.code)).to.include('svc.rules-missing');
    } finally {
      await restore();
    }
  });
});

// Every Service shape kube-proxy programs differently, on every node, in both proxy modes: exit 0,
// no warn/error finding, and each kind of traffic ends where kube-proxy sends it.
async function traceAll(service: string, namespace: string): Promise<ReportJson> {
  const run = await runPlugin(['trace-svc', service, '-n', namespace, '--all-nodes', '-o', 'json']);
  expect(run.code, `${run.stderr}${run.stdout}`).to.equal(0);
  const report = JSON.parse(run.stdout) as ReportJson;
  expect(report.findings.filter((f) => f.severity !== 'info'), run.stdout).to.deep.equal([]);
  return report;
}

function shapeChecks(mode: 'iptables' | 'nftables'): void {
  it(`${mode}: ClientIP affinity, a named targetPort, a UDP and an SCTP port: DNAT to every web pod, affinity seen`, async () => {
    const report = await traceAll('sticky', 'default');
    const web = labState().pods.filter((p) => p.labels.app === 'web').map((p) => p.ip).sort();
    expect(report.nodes).to.have.length(3);
    for (const node of report.nodes) {
      expect(node.mode).to.equal(mode);
      expect(node.ports.map((p) => p.destination)).to.deep.equal(['10.96.100.30:80', '10.96.100.30:5353', '10.96.100.30:9999']);
      for (const port of node.ports) {
        expect(port.chain!.outcome).to.equal('dnat');
        expect(port.chain!.sessionAffinity, `${node.nodeName} ${port.destination}`).to.not.equal(null);
        expect(port.endpoints.map((e) => e.target.split(':')[0]).sort()).to.deep.equal(web);
        expect(port.endpoints.every((e) => e.inRules && e.target.endsWith(':8080'))).to.equal(true);
      }
    }
  });

  it(`${mode}: LoadBalancer with externalTrafficPolicy Local: DNAT on the endpoint's node, an explained drop elsewhere, the source range enforced`, async () => {
    const report = await traceAll('api-public', 'team-a');
    expect(report.nodes).to.have.length(3);
    for (const node of report.nodes) {
      const hosts = node.nodeName === 'lab-node-2';
      const vias = node.ports.map((p) => p.via);
      expect(vias).to.deep.equal(['cluster-ip', 'node-port', 'external-ip', 'load-balancer', 'load-balancer-outside']);
      for (const port of node.ports) {
        const what = `${node.nodeName} ${port.via}`;
        if (port.via === 'load-balancer-outside') {
          expect(port.chain!.outcome, what).to.equal('drop');
          expect(port.chain!.intendedDrop?.reason, what).to.equal('source-range');
        } else if (hosts || port.via === 'cluster-ip') {
          expect(port.chain!.outcome, what).to.equal('dnat');
          expect(port.endpoints.map((e) => e.target), what).to.deep.equal(['10.244.2.2:9090']);
          // Local policy keeps the client's address: no masquerade from another node
          if (port.via !== 'cluster-ip') expect(port.endpoints[0]!.masquerade, what).to.equal(false);
        } else {
          expect(port.chain!.outcome, what).to.equal('drop');
          expect(port.chain!.intendedDrop?.reason, what).to.be.oneOf(['no-local-endpoints', 'source-range']);
        }
      }
      const info = report.findings.filter((f) => f.code === 'svc.local-policy-drop' && f.subject.endsWith(`on node ${node.nodeName}`));
      expect(info.length, node.nodeName).to.equal(hosts ? 0 : 3);
      expect(info.every((f) => f.severity === 'info')).to.equal(true);
    }
  });

  it(`${mode}: internalTrafficPolicy Local: each node sends ClusterIP traffic to its own web pod only`, async () => {
    const report = await traceAll('web-local', 'default');
    expect(report.nodes).to.have.length(3);
    for (const node of report.nodes) {
      const own = labState().pods.filter((p) => p.labels.app === 'web' && p.nodeName === node.nodeName).map((p) => `${p.ip}:8080`);
      expect(own).to.have.length(1);
      expect(node.ports[0]!.chain!.outcome).to.equal('dnat');
      expect(node.ports[0]!.chain!.serviceChain ?? '', node.nodeName).to.match(mode === 'iptables' ? /^KUBE-SVL-/ : /^local-/);
      expect(node.ports[0]!.endpoints.map((e) => e.target)).to.deep.equal(own);
    }
  });

  it(`${mode}: a Service without selector follows its hand-made EndpointSlice, not the terminating endpoint`, async () => {
    const report = await traceAll('legacy-db', 'default');
    expect(report.nodes).to.have.length(3);
    for (const node of report.nodes) {
      expect(node.ports[0]!.chain!.outcome).to.equal('dnat');
      expect(node.ports[0]!.endpoints.map((e) => e.target)).to.deep.equal(['10.244.2.2:9090']);
    }
  });

  it(`${mode}: trafficDistribution PreferClose: each node DNATs to its zone's web pods only, said as info`, async () => {
    const report = await traceAll('web-zonal', 'default');
    const state = labState();
    expect(report.nodes).to.have.length(3);
    for (const node of report.nodes) {
      const zone = state.nodes.find((n) => n.name === node.nodeName)!.labels['topology.kubernetes.io/zone'];
      const zoneNodes = state.nodes.filter((n) => n.labels['topology.kubernetes.io/zone'] === zone).map((n) => n.name);
      const own = state.pods.filter((p) => p.labels.app === 'web' && zoneNodes.includes(p.nodeName)).map((p) => `${p.ip}:8080`).sort();
      expect(own.length, node.nodeName).to.be.within(1, 2);
      expect(node.ports[0]!.chain!.outcome).to.equal('dnat');
      expect(node.ports[0]!.endpoints.map((e) => e.target).sort(), node.nodeName).to.deep.equal(own);
      expect(node.ports[0]!.endpoints.every((e) => e.inRules)).to.equal(true);
      const info = report.findings.filter((f) => f.code === 'svc.topology-filtered' && f.subject.endsWith(`on node ${node.nodeName}`));
      expect(info).to.have.length(1);
      expect(info[0]!.message).to.contain(`hinted for zone ${zone}`);
    }
  });

  it(`${mode}: publishNotReadyAddresses: the not-ready pod is served and traced, no alarm`, async () => {
    const report = await traceAll('peer-discovery', 'default');
    const peer = labState().pods.find((p) => p.name === 'peer-0')!;
    expect(peer.ready).to.equal(false);
    expect(report.nodes).to.have.length(3);
    for (const node of report.nodes) {
      expect(node.ports[0]!.chain!.outcome).to.equal('dnat');
      expect(node.ports[0]!.endpoints.map((e) => [e.target, e.inRules])).to.deep.equal([[`${peer.ip}:8080`, true]]);
    }
  });

  it(`${mode}: headless and ExternalName Services: no rules by design, said once as info`, async () => {
    for (const name of ['web-headless', 'external-db']) {
      const report = await traceAll(name, 'default');
      expect(report.nodes).to.deep.equal([]);
      expect(report.findings.map((f) => [f.code, f.severity])).to.deep.equal([['svc.no-proxy-rules-by-design', 'info']]);
    }
  });
}

describe('e2e: trace-svc on every Service shape kube-proxy programs', function () {
  this.timeout(300_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  describe('iptables mode', () => shapeChecks('iptables'));

  describe('nftables mode (every node switched at run time, then restored)', () => {
    const restores: Array<() => Promise<void>> = [];
    before(async function () {
      skipUnlessLab(this);
      for (const node of ['lab-node-1', 'lab-node-2', 'lab-node-3']) restores.push(await switchKubeProxyMode(node, 'nftables'));
    });
    after(async () => {
      for (const restore of restores.splice(0)) await restore();
    });
    shapeChecks('nftables');
  });
});

// Faults made in the node's kernel rules (iptables-save, edit, iptables-restore), each named by its
// own finding code.
describe('e2e: trace-svc names each broken kube-proxy rule set by its own code', function () {
  this.timeout(120_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });
  const WEB_SVC = servicePortChainName('default/web:http', 'tcp');

  async function tracedWith(edit: (save: string) => string, args: string[]): Promise<{ code: number; report: ReportJson }> {
    const restore = await editLiveIptables('lab-node-2', edit);
    try {
      const run = await runPlugin([...args, '--from-node', 'lab-node-2', '-o', 'json']);
      return { code: run.code, report: JSON.parse(run.stdout) as ReportJson };
    } finally {
      await restore();
    }
  }

  it('one KUBE-SEP chain deleted (with its jump): svc.endpoint-missing-from-rules', async () => {
    const sep = servicePortEndpointChainName('default/web:http', 'tcp', '10.244.1.1:8080');
    const { code, report } = await tracedWith((save) => save.split('\n').filter((l) => !l.includes(sep)).join('\n'), ['trace-svc', 'web']);
    expect(code).to.equal(1);
    const f = report.findings.filter((x) => x.severity !== 'info');
    expect(f.map((x) => [x.code, x.subject])).to.deep.equal([['svc.endpoint-missing-from-rules', 'default/web:http on node lab-node-2']]);
  });

  it('a stale endpoint kept after its pod was deleted: svc.stale-rule-target (error)', async () => {
    const stale = 'KUBE-SEP-LABSTALE0000000';
    const edit = (save: string): string => {
      const lines = save.split('\n');
      const nat = lines.indexOf('*nat');
      lines.splice(nat + 1, 0, `:${stale} - [0:0]`);
      const firstJump = lines.findIndex((l) => l.startsWith(`-A ${WEB_SVC} `) && l.includes('-j KUBE-SEP-'));
      lines.splice(firstJump, 0, `-A ${WEB_SVC} -m comment --comment "default/web:http -> 10.244.2.99:8080" -m statistic --mode random --probability 0.2500000000 -j ${stale}`);
      const commit = lines.indexOf('COMMIT', nat);
      lines.splice(commit, 0, `-A ${stale} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.99:8080`);
      return lines.join('\n');
    };
    const { code, report } = await tracedWith(edit, ['trace-svc', 'web']);
    expect(code).to.equal(1);
    const f = report.findings.filter((x) => x.severity !== 'info');
    expect(f.map((x) => [x.code, x.severity, x.subject])).to.deep.equal([['svc.stale-rule-target', 'error', 'default/web:http on node lab-node-2']]);
  });

  it('the affinity rules removed from a ClientIP Service: svc.affinity-rules-missing', async () => {
    const { code, report } = await tracedWith((save) => save.split('\n').filter((l) => !l.includes('--rcheck')).join('\n'), ['trace-svc', 'sticky', '--port', 'http', '--fail-on', 'warn']);
    expect(code).to.equal(1);
    const f = report.findings.filter((x) => x.severity !== 'info');
    expect(f.map((x) => [x.code, x.subject])).to.deep.equal([['svc.affinity-rules-missing', 'default/sticky:http on node lab-node-2']]);
  });

  it('an endpoint of the node\'s own zone missing from a zone-hinted Service: svc.endpoint-missing-from-rules', async () => {
    // lab-node-2 is in web-1's zone: its rules must DNAT to web-1 (web-3 is left out on purpose)
    const sep = servicePortEndpointChainName('default/web-zonal:http', 'tcp', '10.244.1.1:8080');
    const { code, report } = await tracedWith((save) => save.split('\n').filter((l) => !l.includes(sep)).join('\n'), ['trace-svc', 'web-zonal']);
    expect(code).to.equal(1);
    const f = report.findings.filter((x) => x.severity !== 'info');
    expect(f.map((x) => [x.code, x.subject])).to.deep.equal([['svc.endpoint-missing-from-rules', 'default/web-zonal:http on node lab-node-2']]);
  });

  it('a flushed KUBE-SVC chain: svc.rules-missing', async () => {
    const { code, report } = await tracedWith((save) => save.split('\n').filter((l) => !l.startsWith(`-A ${WEB_SVC} `)).join('\n'), ['trace-svc', 'web']);
    expect(code).to.equal(1);
    expect(report.findings.filter((x) => x.severity !== 'info').map((x) => [x.code, x.subject])).to.deep.equal([['svc.rules-missing', 'default/web:http on node lab-node-2']]);
  });
});
