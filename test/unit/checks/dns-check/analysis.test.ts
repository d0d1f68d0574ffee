// dns-check analysis on snapshots captured from the lab (test/fixtures/snapshots/dns-check/*,
// see each PROVENANCE.md), plus the small pure pieces: Corefile, conntrack, name classes, rounds.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import {
  chainsFor,
  classifyName,
  diagnoseDnsCheck,
  planDnsQueries,
  type DnsCheckApi,
  type DnsCheckReport,
} from '../../../../src/checks/dns-check/analysis.js';
import { readCorefile } from '../../../../src/parse/corefile.js';
import { conntrackInsertFailed } from '../../../../src/parse/net-counters.js';
import { buildNameList } from '../../../../src/checks/dns-check/command.js';
import { renderDnsCheck } from '../../../../src/checks/dns-check/render.js';
import { parseNodeScriptOutput, type RawSection } from '../../../../src/probe/sections.js';
import { parseResolvConf } from '../../../../src/parse/resolv-conf.js';
import { readFixture } from '../../parse/fixture.js';
import type { NodeCollection } from '../../../../src/probe/probe-run.js';
import { readGlobalOptions, type GlobalOptions } from '../../../../src/cli/global-options.js';
import { paint } from '../../../../src/render/colour.js';
import { exitCodeFor } from '../../../../src/cli/exit-code.js';
import { expectGolden } from '../../../support/golden.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
const SNAPSHOTS = join(FIXTURES, 'snapshots', 'dns-check');
const GOLDEN = join(FIXTURES, 'golden', 'dns-check');

interface Snapshot {
  api: DnsCheckApi;
  nodes: NodeCollection[];
}

function loadSnapshot(name: string): Snapshot {
  const dir = join(SNAPSHOTS, name);
  const file = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')) as { api: DnsCheckApi; nodes: Array<NodeCollection & { rawFile?: string }> };
  const nodes = file.nodes.map((n) => (n.ok ? { ...n, raw: readFileSync(join(dir, n.rawFile!), 'utf8') } : n)) as NodeCollection[];
  return { api: file.api, nodes };
}

function diagnose(name: string, edit?: (api: DnsCheckApi) => void): DnsCheckReport {
  const snap = loadSnapshot(name);
  edit?.(snap.api);
  return diagnoseDnsCheck(snap.api, snap.nodes);
}

const codes = (r: DnsCheckReport) => r.findings.map((f) => `${f.severity}:${f.code}`).sort();

function options(output: GlobalOptions['output']): GlobalOptions {
  // The same defaults the CLI applies, so new options never need editing here.
  return readGlobalOptions({ output, image: 'x' });
}

/** Latencies change from run to run: golden files hold 0 ms everywhere (set before rendering, so columns stay aligned). */
function withoutLatencies(report: DnsCheckReport): DnsCheckReport {
  const copy = JSON.parse(JSON.stringify(report)) as DnsCheckReport;
  for (const row of copy.matrix) {
    for (const cell of row.cells) {
      if (cell.latencyMs !== null) cell.latencyMs = 0;
      for (const step of cell.steps) {
        if (step.timeMs !== null) step.timeMs = 0;
        step.evidence = step.evidence.replace(/\(\d+ ms\)/, '(0 ms)');
      }
    }
  }
  for (const f of copy.findings) f.evidence = f.evidence.map((e) => e.replace(/\(\d+ ms\)/, '(0 ms)'));
  return copy;
}

function compareGolden(file: string, actual: string): void {
  expectGolden(join(GOLDEN, file), actual);
}

describe('dns-check analysis (lab snapshots)', () => {
  it('healthy: every name resolves at the Service, each CoreDNS pod and the upstream; only the ndots info', () => {
    const r = diagnose('healthy');
    expect(codes(r)).to.deep.equal(['info:dns.ndots-amplification']);
    expect(r.servers.map((s) => s.id)).to.deep.equal(['service', 'pod/coredns-6d4b75cb6d-lab01', 'upstream/192.168.77.53']);
    const udp = r.matrix.find((m) => m.name === 'kubernetes.default' && m.protocol === 'udp')!;
    expect(udp.cells[0]).to.deep.include({ status: 'ok', answeredBy: 'kubernetes.default.svc.cluster.local.', queries: 2 });
    expect(udp.cells[0]!.answers).to.deep.equal(['A 10.96.0.1']);
    expect(udp.cells[2]!.status, 'cluster names are never asked upstream').to.equal('not-run');
    const ext = r.matrix.find((m) => m.name === 'www.example.test' && m.protocol === 'tcp')!;
    expect(ext.cells.map((c) => c.status)).to.deep.equal(['ok', 'ok', 'ok']);
    expect(r.queryCost.find((q) => q.name === 'www.example.test')).to.deep.include({ queriesPerRecordType: 4, worstCase: 4, answeredBy: 'www.example.test.' });
    expect(r.resolver).to.deep.include({ source: 'pod', nameservers: ['10.96.0.10'], ndots: 5 });
    expect(r.coredns[0]).to.deep.include({ nodeName: 'lab-node-1', upstreams: ['192.168.77.53'], resolvConf: ['nameserver 192.168.77.53'], upstreamSource: 'coredns' });
    expect(r.outsideName).to.deep.equal({ status: 'asked', names: ['www.example.test'], reason: null });
  });

  it('DNS server process stopped: both the Service IP and the pod IP refuse -> dns.coredns-down', () => {
    const r = diagnose('coredns-stopped');
    expect(codes(r)).to.deep.equal(['error:dns.coredns-down']);
    const f = r.findings[0]!;
    expect(f.message).to.contain('no CoreDNS pod answers');
    expect(f.evidence.join('\n')).to.match(/10\.244\.1\.2#53: connection refused/);
  });

  it('kube-dns DNAT rules removed on the pod node: Service IP times out, pod IP answers -> dns.service-unreachable (seed 003)', () => {
    const r = diagnose('service-rules-flushed');
    expect(codes(r)).to.deep.equal(['error:dns.service-unreachable']);
    const f = r.findings[0]!;
    expect(f.subject).to.equal('service kube-system/kube-dns from node lab-node-3');
    expect(f.evidence.join('\n')).to.match(/10\.96\.0\.10#53: timed out/).and.to.match(/kube-proxy on lab-node-3: pod kube-proxy-\S+ Running/);
    const row = r.matrix.find((m) => m.name === 'kubernetes.default' && m.protocol === 'udp')!;
    expect(row.cells.map((c) => c.status)).to.deep.equal(['timeout', 'ok', 'not-run']);
  });

  it('upstream unreachable: cluster names answer, the external name times out everywhere -> dns.upstream-failing', () => {
    const r = diagnose('upstream-blocked');
    expect(codes(r)).to.deep.equal(['error:dns.upstream-failing', 'info:dns.ndots-amplification']);
    const f = r.findings.find((x) => x.code === 'dns.upstream-failing')!;
    expect(f.message).to.contain('192.168.77.53 does not answer');
    const row = r.matrix.find((m) => m.name === 'www.example.test' && m.protocol === 'udp')!;
    expect(row.cells[0]!.steps.map((s) => s.status)).to.deep.equal(['nxdomain', 'nxdomain', 'nxdomain', 'timeout']);
  });

  it("CoreDNS started with 127.0.0.53 in its own resolv.conf (a real loop in the lab) -> dns.coredns-forward-loopback with that file as evidence", () => {
    const r = diagnose('coredns-forward-loopback');
    expect(codes(r)).to.deep.equal(['error:dns.coredns-forward-loopback', 'error:dns.upstream-failing', 'info:dns.ndots-amplification']);
    const f = r.findings.find((x) => x.code === 'dns.coredns-forward-loopback')!;
    expect(f.subject).to.equal('pod kube-system/coredns-6d4b75cb6d-lab01');
    expect(f.evidence).to.include('CoreDNS pod coredns-6d4b75cb6d-lab01 /etc/resolv.conf: nameserver 127.0.0.53');
    expect(f.evidence).to.include('Corefile: forward . /etc/resolv.conf');
    expect(f.evidence).to.include('node lab-node-1 /etc/resolv.conf (context): nameserver 192.168.77.53');
    expect(r.servers).to.have.length(2);
    expect(r.servers.some((s) => s.kind === 'upstream'), 'a loopback upstream is never queried').to.equal(false);
    // The loop is real: the outside name times out through the Service while cluster names answer.
    expect(r.matrix.find((m) => m.name === 'www.example.test' && m.protocol === 'udp')!.cells[0]!.status).to.equal('timeout');
    expect(r.matrix.find((m) => m.name === 'kubernetes.default' && m.protocol === 'udp')!.cells[0]!.status).to.equal('ok');
  });

  it('the same loop on a systemd-resolved lab (kubelet resolvConf left at the stub) is named the same way', () => {
    const r = diagnose('resolved-forward-loopback');
    expect(codes(r)).to.include('error:dns.coredns-forward-loopback');
    expect(r.coredns[0]).to.deep.include({ resolvConf: ['nameserver 127.0.0.53'], upstreams: [], upstreamSource: 'coredns' });
  });

  it('systemd-resolved node (stub 127.0.0.53 in /etc/resolv.conf, kubelet gives CoreDNS the uplink list): no loop, only the ndots info', () => {
    const r = diagnose('resolved-healthy');
    expect(codes(r)).to.deep.equal(['info:dns.ndots-amplification']);
    const row = r.coredns[0]!;
    expect(row.nodeResolvConf).to.include('nameserver 127.0.0.53');
    expect(row.nodeResolvConf).to.include('search .');
    expect(row).to.deep.include({ resolvConf: ['nameserver 192.168.77.53'], upstreams: ['192.168.77.53'], upstreamSource: 'coredns' });
    expect(r.matrix.find((m) => m.name === 'www.example.test' && m.protocol === 'udp')!.cells.map((c) => c.status)).to.deep.equal(['ok', 'ok', 'ok']);
    expect(r.problems).to.deep.equal([]);
  });

  it("only the node's file says 127.0.0.53 and CoreDNS's own file was not read: no loop claimed, the gap is said", () => {
    const r = diagnose('node-resolv-loopback');
    expect(codes(r)).to.deep.equal(['info:dns.ndots-amplification']);
    expect(r.problems).to.have.length(1);
    expect(r.problems[0]).to.match(/^node lab-node-1: could not read \/etc\/resolv\.conf of CoreDNS pod kube-system\/coredns-6d4b75cb6d-lab01: /);
    expect(r.coredns[0]).to.deep.include({ resolvConf: null, upstreamSource: 'none', upstreams: [] });
  });

  it('a hostNetwork CoreDNS forwarding to 127.0.0.53 reaches the node stub: not a loop', () => {
    const r = diagnose('resolved-forward-loopback', (api) => {
      api.corednsPods[0]!.hostNetwork = true;
    });
    expect(codes(r)).to.not.include('error:dns.coredns-forward-loopback');
  });

  it('a Corefile forwarding to a literal loopback address is a loop whatever the files say', () => {
    const r = diagnose('resolved-healthy', (api) => {
      api.corefile = '.:53 {\n    errors\n    forward . 127.0.0.1\n    loop\n}\n';
    });
    const f = r.findings.find((x) => x.code === 'dns.coredns-forward-loopback')!;
    expect(f.severity).to.equal('error');
    expect(f.message).to.contain('the Corefile forwards to 127.0.0.1');
  });

  it("the loop plugin's log line (real CoreDNS 1.9.3 and 1.2.2 logs) alone -> dns.coredns-loop", () => {
    for (const file of ['kubeadm-vagrant-38-coredns-loop-log.txt', 'coredns-2087-loop-log-1.2.txt']) {
      const lines = readFixture(`dns/${file}`).split('\n').filter((l) => l.trim() !== '');
      const r = diagnose('resolved-healthy', (api) => {
        api.corednsPods[0]!.logTail = lines;
      });
      const loops = r.findings.filter((x) => x.code === 'dns.coredns-loop');
      expect(loops, file).to.have.length(1);
      expect(loops[0]!.severity).to.equal('error');
      expect(loops[0]!.evidence.join('\n'), file).to.match(/\[FATAL\] plugin\/loop/);
    }
  });

  it('the real Ubuntu stub file parses to the loopback nameserver a node-only reader would have blamed', () => {
    const conf = parseResolvConf(readFixture('resolv-conf/realdata/coredns-6321-ubuntu-stub-resolv-conf.txt'));
    expect(conf.ok).to.equal(true);
    if (conf.ok) expect(conf.value.nameservers).to.deep.equal(['127.0.0.53']);
  });

  it('no outside name asked: the outside check is skipped and said so, not a warning', () => {
    const r = diagnose('healthy-no-outside-name');
    expect(codes(r)).to.deep.equal(['info:dns.ndots-amplification']);
    expect(r.outsideName.status).to.equal('skipped');
    expect(r.outsideName.reason).to.contain('--external-name');
    expect(r.matrix.map((m) => m.name)).to.deep.equal(['kubernetes.default', 'kubernetes.default']);
    expect(renderDnsCheck(r, options('table'), paint(false))).to.match(/^Outside name: skipped \(no outside name asked for/m);
  });

  it('a frozen CoreDNS (alive, answers nothing) -> dns.coredns-down, with its own resolv.conf still read', () => {
    const r = diagnose('coredns-frozen');
    expect(codes(r)).to.deep.equal(['error:dns.coredns-down']);
    expect(r.findings[0]!.evidence.join('\n')).to.match(/10\.244\.1\.2#53: timed out/);
    expect(r.coredns[0]!.resolvConf).to.deep.equal(['nameserver 192.168.77.53']);
  });

  it('pod resolv.conf with a wrong nameserver under ClusterFirst -> dns.wrong-nameserver error', () => {
    const r = diagnose('wrong-nameserver');
    expect(codes(r)).to.deep.equal(['error:dns.wrong-nameserver', 'info:dns.ndots-amplification']);
    expect(r.findings[0]!.message).to.contain('asks 10.96.0.99 first');
    expect(r.servers.map((s) => s.address), 'the foreign nameserver is not contacted').to.not.include('10.96.0.99');
  });

  it('the same file under dnsPolicy Default is by design: info only', () => {
    const r = diagnose('wrong-nameserver', (api) => {
      api.pod.dnsPolicy = 'Default';
    });
    expect(r.findings.find((f) => f.code === 'dns.wrong-nameserver')!.severity).to.equal('info');
  });

  it('a short name of another namespace: NXDOMAIN in the search list, NOERROR for name.namespace (seed 004)', () => {
    const r = diagnose('short-name');
    expect(codes(r)).to.deep.equal(['info:dns.ndots-amplification', 'warn:dns.short-name-other-namespace']);
    const f = r.findings.find((x) => x.code === 'dns.short-name-other-namespace')!;
    expect(f.remedy).to.contain('api.team-a');
    expect(r.matrix.map((m) => `${m.name}/${m.protocol}:${m.cells[0]!.status}`)).to.deep.equal(['api/udp:refused', 'api/tcp:refused', 'api.team-a/udp:ok', 'api.team-a/tcp:ok']);
  });

  it('a failed probe node becomes a finding and the rest still reports', () => {
    const snap = loadSnapshot('healthy');
    const nodes = snap.nodes.map((n) => (n.nodeName === 'lab-node-1' ? { nodeName: n.nodeName, ok: false as const, error: 'image pull failed', podName: null } : n));
    const r = diagnoseDnsCheck(snap.api, nodes);
    expect(codes(r)).to.include('error:probe.node-failed');
    expect(r.matrix.find((m) => m.name === 'kubernetes.default')!.cells[0]!.status).to.equal('ok');
  });

  it('golden: table and json of the healthy lab', () => {
    const r = withoutLatencies(diagnose('healthy'));
    expect(exitCodeFor(r.findings, options('table').failOn), 'the exit code of this run').to.equal(0);
    compareGolden('healthy.table.txt', renderDnsCheck(r, options('table'), paint(false)));
    compareGolden('healthy.json', renderDnsCheck(r, options('json'), paint(false)));
  });
});

describe('dns-check query rounds', () => {
  it('plans one candidate per chain per round and stops where the resolver stops', () => {
    const snap = loadSnapshot('healthy');
    const node = snap.nodes.find((n) => n.ok && n.nodeName === 'lab-node-3') as Extract<NodeCollection, { ok: true }>;
    const all = parseNodeScriptOutput(node.raw, node.token).sections;
    // Only the first call's sections (host-files, pod): round 1 asks each chain's first candidate.
    const first = new Map<string, RawSection>([...all].filter(([k]) => !k.startsWith('dig/')));
    const round1 = planDnsQueries(snap.api, 'lab-node-3', first);
    expect(round1[0]).to.deep.include({ kind: 'podpid', key: 'p0' });
    const digs = round1.filter((r) => r.kind === 'dig');
    expect(digs).to.have.length(8); // 2 names x (Service + 1 CoreDNS pod) x udp/tcp
    expect(digs.every((d) => d.kind === 'dig' && d.name.endsWith('.team-b.svc.cluster.local.'))).to.equal(true);
    // With everything answered, nothing is left to ask.
    expect(planDnsQueries(snap.api, 'lab-node-3', all)).to.deep.equal([]);
    // lab-node-1 runs CoreDNS, not the client pod: it asks only the upstreams CoreDNS forwards to.
    const node1 = snap.nodes.find((n) => n.nodeName === 'lab-node-1' && n.ok);
    if (!node1?.ok) throw new Error('lab-node-1 missing from the snapshot');
    const upstreamChains = chainsFor(snap.api, 'lab-node-1', parseNodeScriptOutput(node1.raw, node1.token).sections);
    expect(upstreamChains).to.have.length(2);
    expect(upstreamChains.every((c) => c.server.kind === 'upstream' && c.candidates.length === 1)).to.equal(true);
  });
});

describe('dns-check pieces', () => {
  it('reads the forward targets and the loop plugin from a Corefile', () => {
    const facts = readCorefile('.:53 {\n    errors\n    forward . 10.0.0.2 dns://10.0.0.3:53 /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    loop # catch loops\n}\n');
    expect(facts.forwardAddresses).to.deep.equal(['10.0.0.2', '10.0.0.3']);
    expect(facts.forwardsToResolvConf).to.equal(true);
    expect(facts.loopPlugin).to.equal(true);
    expect(facts.plugins).to.deep.equal(['errors', 'forward', 'loop']);
    expect(readCorefile('')).to.deep.include({ forwards: [], loopPlugin: false });
  });

  it('sums insert_failed over the per-CPU lines of conntrack -S', () => {
    const text = 'cpu=0   \tfound=0 invalid=3 insert=0 insert_failed=0 drop=0\ncpu=1   \tfound=0 invalid=0 insert=0 insert_failed=17 drop=17\n';
    expect(conntrackInsertFailed(text)).to.deep.equal({ total: 17, lines: ['cpu=1   \tfound=0 invalid=0 insert=0 insert_failed=17 drop=17'] });
    expect(conntrackInsertFailed('')).to.equal(null);
  });

  it('classifies names: short, name.namespace and *.svc are cluster names', () => {
    const ns = new Set(['default', 'team-a']);
    expect(classifyName('api', ns)).to.equal('cluster');
    expect(classifyName('api.team-a', ns)).to.equal('cluster');
    expect(classifyName('kubernetes.default', ns)).to.equal('cluster');
    expect(classifyName('db.prod.svc.cluster.local.', ns)).to.equal('cluster');
    expect(classifyName('www.example.test', ns)).to.equal('external');
    expect(classifyName('example.com', ns)).to.equal('external');
  });

  it('adds the full form of a short name that is a Service only in other namespaces', () => {
    const names = buildNameList({ pod: 'client-1', names: ['api', 'web'], externalName: 'x' }, 'team-b', new Set(['team-a', 'team-b', 'default']), [
      { name: 'api', namespace: 'team-a' },
      { name: 'web', namespace: 'team-b' },
    ]);
    expect(names.map((n) => `${n.name}:${n.origin}:${n.zone}`)).to.deep.equal(['api:flag:cluster', 'api.team-a:full-form:cluster', 'web:flag:cluster']);
    const defaults = buildNameList({ pod: 'p', names: [], externalName: 'www.example.test' }, 'default', new Set(['default']), []);
    expect(defaults.map((n) => n.name)).to.deep.equal(['kubernetes.default', 'www.example.test']);
    const noOutside = buildNameList({ pod: 'p', names: [], externalName: null }, 'default', new Set(['default']), []);
    expect(noOutside.map((n) => n.name), 'no default outside name').to.deep.equal(['kubernetes.default']);
  });
});
