// dns-check through the real kubectl binary against the lab: each layer is broken for real
// (lab/lab-faults.ts), dns-check must name it and exit 1, and every fault is restored at once.
import { expect } from 'chai';
import * as faults from '../../lab/lab-faults.js';
import { readFixture } from '../unit/parse/fixture.js';
import { kubectl, labState, runPlugin, setFaults, skipUnlessLab } from '../support/lab-harness.js';

interface ReportJson {
  kind: string;
  outsideName: { status: string; names: string[]; reason: string | null };
  coredns: Array<{ name: string; resolvConf: string[] | null; nodeResolvConf: string[] | null; upstreams: string[]; upstreamSource: string }>;
  servers: Array<{ id: string; kind: string; address: string }>;
  matrix: Array<{ name: string; protocol: string; cells: Array<{ serverId: string; status: string }> }>;
  findings: Array<{ code: string; severity: string; subject: string; evidence: string[] }>;
}

const POD = ['client-1', '-n', 'team-b'];
// The lab upstream's name: dns-check asks no outside name unless told (no default depends on the lab).
const OUTSIDE = ['--external-name', 'www.example.test'];
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
    const { code, report } = await dnsCheck(OUTSIDE);
    expect(code).to.equal(0);
    expect(report.kind).to.equal('DnsCheckReport');
    expect(errorCodes(report)).to.deep.equal([]);
    const coredns = labState().pods.find((p) => p.labels['k8s-app'] === 'kube-dns')!;
    expect(report.servers.map((s) => s.address)).to.deep.equal(['10.96.0.10', coredns.ip, '192.168.77.53']);
    for (const protocol of ['udp', 'tcp']) {
      expect(status(report, 'kubernetes.default', protocol, 'service')).to.equal('ok');
      expect(status(report, 'www.example.test', protocol, 'upstream/192.168.77.53')).to.equal('ok');
    }
    expect(report.outsideName).to.deep.equal({ status: 'asked', names: ['www.example.test'], reason: null });
    expect(report.coredns[0]).to.deep.include({ resolvConf: ['nameserver 192.168.77.53'], upstreamSource: 'coredns' });
    const table = await run(['dns-check', ...POD, ...OUTSIDE]);
    expect(table.stderr).to.match(/probe pod \S+ created on node lab-node-3/).and.to.match(/probe pod \S+ deleted/);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/^NAME\s+PROTO\s+QUERIES\s+SVC 10\.96\.0\.10\s+COREDNS-\S+ \S+\s+UPSTREAM 192\.168\.77\.53$/m);
    expect(table.stdout).to.match(/^kubernetes\.default\s+udp\s+2\/4\s+NOERROR 10\.96\.0\.1 /m);
  });

  it('no outside name asked: the outside check is skipped (said in JSON and table), exit 0, no warning', async () => {
    const { code, report } = await dnsCheck();
    expect(code).to.equal(0);
    expect(report.outsideName.status).to.equal('skipped');
    expect(report.findings.filter((f) => f.severity !== 'info')).to.deep.equal([]);
    expect(report.matrix.map((m) => m.name)).to.deep.equal(['kubernetes.default', 'kubernetes.default']);
    const table = await run(['dns-check', ...POD]);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/^Outside name: skipped \(no outside name asked for: pass --external-name NAME/m);
  });

  it('DNS server process stopped -> dns.coredns-down, exit 1', async () => {
    restore = await faults.stopProcess();
    const { code, report } = await dnsCheck(OUTSIDE);
    await restore();
    restore = null;
    expect(errorCodes(report)).to.deep.equal(['dns.coredns-down']);
    expect(code).to.equal(1);
  });

  it("kube-dns DNAT rules removed on the pod's node -> dns.service-unreachable (Service IP silent, CoreDNS pod answers), exit 1", async () => {
    const node = labState().pods.find((p) => p.name === 'client-1')!.nodeName;
    restore = await faults.flushServiceRules(node, 'kube-system/kube-dns');
    const { code, report } = await dnsCheck(OUTSIDE);
    await restore();
    restore = null;
    expect(errorCodes(report)).to.deep.equal(['dns.service-unreachable']);
    expect(status(report, 'kubernetes.default', 'udp', 'service')).to.equal('timeout');
    expect(report.matrix.find((m) => m.name === 'kubernetes.default' && m.protocol === 'udp')!.cells.find((c) => c.serverId.startsWith('pod/'))!.status).to.equal('ok');
    expect(code).to.equal(1);
  });

  it('upstream unreachable -> dns.upstream-failing, exit 1', async () => {
    restore = await faults.blockUpstreamDns();
    const { code, report } = await dnsCheck(OUTSIDE);
    await restore();
    restore = null;
    expect(errorCodes(report)).to.deep.equal(['dns.upstream-failing']);
    expect(status(report, 'kubernetes.default', 'udp', 'service')).to.equal('ok');
    expect(code).to.equal(1);
  });

  it('DNS server process frozen (SIGSTOP: alive, answers nothing) -> dns.coredns-down, exit 1', async () => {
    restore = await faults.freezeProcess();
    const { code, report } = await dnsCheck(OUTSIDE);
    await restore();
    restore = null;
    expect(errorCodes(report)).to.deep.equal(['dns.coredns-down']);
    expect(code).to.equal(1);
  });

  it("CoreDNS started with 127.0.0.53 in its own resolv.conf (a real loop) -> dns.coredns-forward-loopback with that file, exit 1", async () => {
    const coredns = labState().pods.find((p) => p.labels['k8s-app'] === 'kube-dns')!;
    restore = await faults.startCorednsWithResolvConf('nameserver 127.0.0.53\n');
    const { code, report } = await dnsCheck(OUTSIDE);
    await restore();
    restore = null;
    // The loop is real: the outside name times out through CoreDNS, so the upstream check fails too.
    expect(errorCodes(report)).to.deep.equal(['dns.coredns-forward-loopback', 'dns.upstream-failing']);
    const f = report.findings.find((x) => x.code === 'dns.coredns-forward-loopback')!;
    expect(f.subject).to.equal(`pod kube-system/${coredns.name}`);
    expect(f.evidence).to.include(`CoreDNS pod ${coredns.name} /etc/resolv.conf: nameserver 127.0.0.53`);
    expect(f.evidence).to.include('Corefile: forward . /etc/resolv.conf');
    expect(status(report, 'www.example.test', 'udp', 'service')).to.equal('timeout');
    expect(code).to.equal(1);
  });

  it("only the node's /etc/resolv.conf is the 127.0.0.53 stub (CoreDNS's own file is the real upstream) -> no loop, exit 0", async () => {
    const node = labState().pods.find((p) => p.labels['k8s-app'] === 'kube-dns')!.nodeName;
    restore = await faults.setNodeResolvConf(node, 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n');
    const { code, report } = await dnsCheck(OUTSIDE);
    await restore();
    restore = null;
    expect(report.findings.filter((f) => f.severity !== 'info')).to.deep.equal([]);
    expect(report.coredns[0]).to.deep.include({ resolvConf: ['nameserver 192.168.77.53'], upstreams: ['192.168.77.53'] });
    expect(report.coredns[0]!.nodeResolvConf).to.include('nameserver 127.0.0.53');
    expect(status(report, 'www.example.test', 'udp', 'upstream/192.168.77.53')).to.equal('ok');
    expect(code).to.equal(0);
  });

  it("CoreDNS's log with the loop plugin's fatal line (a real CoreDNS 1.9.3 log, served by the API) -> dns.coredns-loop, exit 1", async () => {
    const lines = readFixture('dns/kubeadm-vagrant-38-coredns-loop-log.txt').split('\n').filter((l) => l.trim() !== '');
    setFaults({ corednsLogLines: lines });
    restore = async () => setFaults({});
    const { code, report } = await dnsCheck();
    await restore();
    restore = null;
    expect(errorCodes(report)).to.deep.equal(['dns.coredns-loop']);
    expect(report.findings.find((f) => f.code === 'dns.coredns-loop')!.evidence.join('\n')).to.match(/Loop \(127\.0\.0\.1:59892 -> :53\) detected/);
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
