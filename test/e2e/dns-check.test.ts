// dns-check through the real kubectl binary against the lab: each layer is broken for real
// (lab/lab-faults.ts), dns-check must name it and exit 1, and every fault is restored at once.
import { expect } from 'chai';
import * as faults from '../../lab/lab-faults.js';
import { kubectl, labState, runPlugin, setFaults, skipUnlessLab } from '../support/lab-harness.js';

interface ReportJson {
  kind: string;
  servers: Array<{ id: string; kind: string; address: string }>;
  matrix: Array<{ name: string; protocol: string; cells: Array<{ serverId: string; status: string }> }>;
  findings: Array<{ code: string; severity: string; subject: string; evidence: string[] }>;
}

const POD = ['client-1', '-n', 'team-b'];
// Other engineers run probes against the shared lab at the same time: only dns-check's probe
// pods (annotated with the command that made them) must be gone.
function dnsCheckProbePodsLeft(): string[] {
  const list = JSON.parse(kubectl(['get', 'pods', '-A', '-l', 'app.kubernetes.io/managed-by=kubectl-netdiag', '-o', 'json'])) as {
    items: Array<{ metadata: { namespace: string; name: string; annotations?: Record<string, string> } }>;
  };
  return list.items.filter((p) => p.metadata.annotations?.['kubectl-netdiag.io/command'] === 'dns-check').map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
}

const run = (args: string[]) => runPlugin(args);

async function dnsCheck(extra: string[] = []): Promise<{ code: number; report: ReportJson; stderr: string }> {
  const result = await run(['dns-check', ...POD, '-o', 'json', ...extra]);
  expect(result.code, result.stderr).to.be.oneOf([0, 1]);
  return { code: result.code, report: JSON.parse(result.stdout) as ReportJson, stderr: result.stderr };
}

const errorCodes = (r: ReportJson) => r.findings.filter((f) => f.severity === 'error').map((f) => f.code).sort();
const status = (r: ReportJson, name: string, protocol: string, serverId: string) =>
  r.matrix.find((m) => m.name === name && m.protocol === protocol)?.cells.find((c) => c.serverId === serverId)?.status;

describe('e2e: kubectl netdiag dns-check', function () {
  this.timeout(120_000);
  let restore: faults.RestoreFault | null = null;
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(async function () {
    if (restore) await restore();
    restore = null;
    if (this.currentTest?.state === 'pending') return;
    expect(dnsCheckProbePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('healthy lab: every layer answers, exit 0, and the table has names as rows and servers as columns', async () => {
    const { code, report } = await dnsCheck();
    expect(code).to.equal(0);
    expect(report.kind).to.equal('DnsCheckReport');
    expect(errorCodes(report)).to.deep.equal([]);
    const coredns = labState().pods.find((p) => p.labels['k8s-app'] === 'kube-dns')!;
    expect(report.servers.map((s) => s.address)).to.deep.equal(['10.96.0.10', coredns.ip, '192.168.77.53']);
    for (const protocol of ['udp', 'tcp']) {
      expect(status(report, 'kubernetes.default', protocol, 'service')).to.equal('ok');
      expect(status(report, 'www.example.test', protocol, 'upstream/192.168.77.53')).to.equal('ok');
    }
    const table = await run(['dns-check', ...POD]);
    expect(table.stderr).to.match(/probe pod \S+ created on node lab-node-3/).and.to.match(/probe pod \S+ deleted/);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/^NAME\s+PROTO\s+QUERIES\s+SVC 10\.96\.0\.10\s+COREDNS-\S+ \S+\s+UPSTREAM 192\.168\.77\.53$/m);
    expect(table.stdout).to.match(/^kubernetes\.default\s+udp\s+2\/4\s+NOERROR 10\.96\.0\.1 /m);
  });

  it('DNS server process stopped -> dns.coredns-down, exit 1', async () => {
    restore = await faults.stopProcess();
    const { code, report } = await dnsCheck();
    await restore();
    restore = null;
    expect(errorCodes(report)).to.deep.equal(['dns.coredns-down']);
    expect(code).to.equal(1);
  });

  it("kube-dns DNAT rules removed on the pod's node -> dns.service-unreachable (Service IP silent, CoreDNS pod answers), exit 1", async () => {
    const node = labState().pods.find((p) => p.name === 'client-1')!.nodeName;
    restore = await faults.flushServiceRules(node, 'kube-system/kube-dns');
    const { code, report } = await dnsCheck();
    await restore();
    restore = null;
    expect(errorCodes(report)).to.deep.equal(['dns.service-unreachable']);
    expect(status(report, 'kubernetes.default', 'udp', 'service')).to.equal('timeout');
    expect(report.matrix.find((m) => m.name === 'kubernetes.default' && m.protocol === 'udp')!.cells.find((c) => c.serverId.startsWith('pod/'))!.status).to.equal('ok');
    expect(code).to.equal(1);
  });

  it('upstream unreachable -> dns.upstream-failing, exit 1', async () => {
    restore = await faults.blockUpstreamDns();
    const { code, report } = await dnsCheck();
    await restore();
    restore = null;
    expect(errorCodes(report)).to.deep.equal(['dns.upstream-failing']);
    expect(status(report, 'kubernetes.default', 'udp', 'service')).to.equal('ok');
    expect(code).to.equal(1);
  });

  it("CoreDNS's node resolv.conf pointing at 127.0.0.53 -> dns.node-resolv-loopback with CoreDNS's loop log line, exit 1", async () => {
    const node = labState().pods.find((p) => p.labels['k8s-app'] === 'kube-dns')!.nodeName;
    const undoFile = await faults.setNodeResolvConf(node, 'nameserver 127.0.0.53\n');
    setFaults({ corednsLogLines: ['[INFO] plugin/reload: Running configuration SHA512 = 1', '[FATAL] plugin/loop: Loop (127.0.0.1:44222 -> :53) detected for zone "."'] });
    restore = async () => {
      await undoFile();
      setFaults({});
    };
    const { code, report } = await dnsCheck();
    await restore();
    restore = null;
    expect(errorCodes(report)).to.deep.equal(['dns.node-resolv-loopback']);
    const f = report.findings.find((x) => x.code === 'dns.node-resolv-loopback')!;
    expect(f.subject).to.equal(`node ${node}`);
    expect(f.evidence.join('\n')).to.contain('nameserver 127.0.0.53').and.to.match(/Loop \(127\.0\.0\.1:44222 -> :53\) detected/);
    expect(code).to.equal(1);
  });

  it('a pod resolv.conf with a wrong nameserver -> dns.wrong-nameserver, exit 1', async () => {
    restore = await faults.setPodResolvConf('client-1', 'search team-b.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.99\noptions ndots:5\n');
    const { code, report } = await dnsCheck();
    await restore();
    restore = null;
    expect(errorCodes(report)).to.deep.equal(['dns.wrong-nameserver']);
    expect(code).to.equal(1);
  });

  it('a short name of another namespace -> dns.short-name-other-namespace with the full form answering', async () => {
    const { code, report } = await dnsCheck(['--name', 'api']);
    expect(report.findings.map((f) => f.code)).to.include('dns.short-name-other-namespace');
    expect(status(report, 'api.team-a', 'udp', 'service')).to.equal('ok');
    expect(code).to.equal(0); // a warning: the cluster is fine, the application's name is not
  });

  it('rejects a name that is not a DNS name before any API call (exit 2)', async () => {
    const bad = await run(['dns-check', ...POD, '--name', '$(touch x)']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/^error: invalid --name value/);
  });
});
