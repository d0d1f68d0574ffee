// `kubectl netdiag explain` and `--explain`, driven through runCli with captured streams and no
// cluster: the catalogue is offline, so a connect attempt would fail these tests.
import { expect } from 'chai';
import { load } from 'js-yaml';
import { runCli } from '../../../src/cli/cli.js';
import { rewriteExplainFlag } from '../../../src/cli/commands/explain.js';
import { FINDING_AREAS, FINDING_CATALOG, findCatalogEntry } from '../../../src/checks/catalog.js';
import { runFastPath } from '../../../src/cli/fast-path.js';
import { fakeDeps } from '../../support/fake-deps.js';

async function cli(...argv: string[]) {
  const deps = fakeDeps();
  const code = await runCli(argv, deps);
  return { code, out: deps.out(), err: deps.err() };
}

describe('kubectl netdiag explain', () => {
  it('prints the long form of a code and exits 0', async () => {
    const r = await cli('explain', 'arp.ignore-blocks-host');
    expect(r.code).to.equal(0);
    expect(r.err).to.equal('');
    const entry = findCatalogEntry('arp.ignore-blocks-host')!;
    expect(r.out.split('\n')[0]).to.equal(`arp.ignore-blocks-host: ${entry.title}`);
    expect(r.out).to.contain('SEVERITY:  error\n');
    expect(r.out).to.not.match(/seed/i);
    // The whole explanation, wrapped at 100 columns.
    expect(r.out.split('\n').every((l) => l.length <= 100)).to.equal(true);
    expect(r.out.replace(/\s+/g, ' ')).to.contain(entry.explanation);
  });

  it('names the other codes an explanation refers to', async () => {
    const r = await cli('explain', 'arp.pod-no-reply');
    expect(r.out).to.contain('SEE ALSO:  arp.ignore-blocks-host\n');
  });

  it('accepts --explain CODE as a global flag, with or without a command', async () => {
    const direct = await cli('explain', 'dns.coredns-loop');
    for (const argv of [['--explain', 'dns.coredns-loop'], ['--explain=dns.coredns-loop'], ['smoke', '--fail-on', 'warn', '--explain', 'dns.coredns-loop'], ['dns-check', 'web-1', '--explain', 'dns.coredns-loop']]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).to.equal(0);
      expect(r.out, argv.join(' ')).to.equal(direct.out);
    }
  });

  it('answers an unknown code with exit 2 and the closest codes as a hint', async () => {
    for (const argv of [['explain', 'dns.coredns-lop'], ['--explain', 'dns.coredns-lop']]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).to.equal(2);
      expect(r.out).to.equal('');
      expect(r.err).to.match(/^error: unknown finding code "dns\.coredns-lop"\nhint: did you mean dns\.coredns-loop[,?]/);
    }
    const far = await cli('explain', 'qqqqqqqqqqqqqqqqqqqqqqqqq');
    expect(far.code).to.equal(2);
    expect(far.err).to.match(/hint: kubectl netdiag explain lists every code\n$/);
  });

  it('lists every code grouped by area as a CODE SEVERITY TITLE table', async () => {
    const r = await cli('explain');
    expect(r.code).to.equal(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).to.match(/^CODE\s+SEVERITY\s+TITLE$/);
    const codes = lines.slice(1).map((l) => l.split(/\s+/)[0]!);
    expect(codes).to.have.length(FINDING_CATALOG.length);
    expect([...codes].sort()).to.deep.equal(FINDING_CATALOG.map((e) => e.code).sort());
    // Grouped: the areas appear in FINDING_AREAS order, each in one run of rows.
    const areaRuns = codes.map((c) => c.slice(0, c.indexOf('.'))).filter((a, i, all) => i === 0 || all[i - 1] !== a);
    expect(areaRuns).to.deep.equal([...FINDING_AREAS]);
    expect(lines.find((l) => l.startsWith('dns.coredns-loop '))).to.match(/^dns\.coredns-loop\s+error\s+CoreDNS detected a forwarding loop and exits$/);
  });

  it('wraps the TITLE column to a terminal, in the fast path too; -o wide and a pipe never wrap', async () => {
    const longest = Math.max(...FINDING_CATALOG.map((e) => e.code.length + e.title.length));
    expect(longest).to.be.greaterThan(80); // the catalogue has titles that need the wrap
    for (const run of [(d: ReturnType<typeof fakeDeps>) => runCli(['explain'], d), (d: ReturnType<typeof fakeDeps>) => runFastPath(['explain', 'dns'], d)]) {
      const tty = fakeDeps({ terminalColumns: 80 });
      expect(await run(tty)).to.equal(0);
      const lines = tty.out().trimEnd().split('\n');
      expect(lines.length).to.be.greaterThan(10);
      expect(lines.filter((l) => l.length > 80)).to.deep.equal([]);
    }
    const wide = fakeDeps({ terminalColumns: 80 });
    expect(await runCli(['explain', '-o', 'wide'], wide)).to.equal(0);
    expect(wide.out().split('\n').filter((l) => l.length > 80).length).to.be.greaterThan(0);
    const piped = fakeDeps();
    expect(await runCli(['explain'], piped)).to.equal(0);
    expect(piped.out().split('\n').filter((l) => l.length > 80).length).to.be.greaterThan(0);
  });

  it('adds the area column with -o wide, drops headers with --no-headers, and filters by area', async () => {
    const wide = await cli('explain', '-o', 'wide');
    expect(wide.out.split('\n')[0]).to.match(/^CODE\s+AREA\s+SEVERITY\s+TITLE$/);
    expect(wide.out).to.match(/\nnode\.nic-multiple-ipv4\s+node\s+varies\s+/);
    const area = await cli('explain', 'mtu', '--no-headers');
    const codes = area.out.trimEnd().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(codes).to.deep.equal(FINDING_CATALOG.filter((e) => e.area === 'mtu').map((e) => e.code).sort());
    expect((await cli('explain', 'node-diff.*')).out).to.contain('node-diff.ip-forward ');
  });

  it('gives the catalogue as a FindingCatalog document with -o json and -o yaml', async () => {
    const json = await cli('explain', '-o', 'json');
    expect(json.code).to.equal(0);
    const doc = JSON.parse(json.out) as { apiVersion: string; kind: string; entries: Array<Record<string, unknown>> };
    expect(doc.apiVersion).to.equal('kubectl-netdiag.io/v1alpha1');
    expect(doc.kind).to.equal('FindingCatalog');
    expect(doc.entries).to.have.length(FINDING_CATALOG.length);
    const { seeds: _internal, ...masquerade } = findCatalogEntry('svc.masquerade-cidr-mismatch')!;
    expect(doc.entries.find((e) => e.code === 'svc.masquerade-cidr-mismatch')).to.deep.equal(masquerade);
    // The incident write-ups the entries are traced to are the project's own, not the user's.
    expect(doc.entries.filter((e) => 'seeds' in e)).to.deep.equal([]);
    const one = load((await cli('--explain', 'node.ip-forward-off', '-o', 'yaml')).out) as typeof doc;
    expect(one.kind).to.equal('FindingCatalog');
    expect(one.entries.map((e) => e.code)).to.deep.equal(['node.ip-forward-off']);
  });

  it('refuses -o dot', async () => {
    const r = await cli('explain', '-o', 'dot');
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/^error: explain has no dot output\n/);
  });

  it('rewrites --explain into the explain command, keeping only output flags', () => {
    expect(rewriteExplainFlag(['veth-peer', 'web'])).to.equal(null);
    expect(rewriteExplainFlag(['trace-svc', 'web', '-n', 'x', '--explain', 'svc.rules-missing', '-o', 'json'])).to.deep.equal(['explain', 'svc.rules-missing', '-o', 'json']);
    expect(rewriteExplainFlag(['--explain', '-ojson'])).to.deep.equal(['explain', '-ojson']);
    expect(rewriteExplainFlag(['x', '--', '--explain', 'a.b'])).to.equal(null);
  });
});
