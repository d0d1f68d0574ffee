// The commands' own declarations: every check has one, both lists hold each once, and nothing on
// their import path is heavy (--help and every TAB read them; the check loads when it runs).
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { COMMAND_LINES, HELP_ORDER } from '../../../src/cli/command-list.js';
import { commandName, maxPositionals } from '../../../src/checks/command-line.js';
import { COMMAND_SPECS } from '../../../src/cli/completion.js';
import { runCli } from '../../../src/cli/cli.js';
import { fakeDeps } from '../../support/fake-deps.js';
import { REPO } from '../../support/lab-harness.js';

/** Modules loaded at run time from `file` (import type and import() left out), repo-relative. */
function staticImportClosure(file: string): { modules: string[]; packages: string[] } {
  const modules = new Set<string>();
  const packages = new Set<string>();
  const visit = (f: string) => {
    if (modules.has(f)) return;
    modules.add(f);
    const text = readFileSync(join(REPO, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^;']*?\sfrom\s+)?'([^']+)'/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(posix.normalize(posix.join(dirname(f), spec)).replace(/\.js$/, '.ts'));
      else packages.add(spec);
    }
  };
  visit(file);
  return { modules: [...modules].sort(), packages: [...packages].sort() };
}

describe('command declarations', () => {
  const names = COMMAND_LINES.map(commandName);

  it('lists every command once, in the same set for --help and completion', () => {
    expect(COMMAND_LINES).to.have.length(14);
    expect(new Set(names).size).to.equal(COMMAND_LINES.length);
    expect(HELP_ORDER).to.have.length(COMMAND_LINES.length);
    expect([...HELP_ORDER].sort((a, b) => commandName(a).localeCompare(commandName(b)))).to.deep.equal(
      [...COMMAND_LINES].sort((a, b) => commandName(a).localeCompare(commandName(b))),
    );
  });

  it('has a command line for every check folder with a command, declared in that folder', () => {
    const checks = readdirSync(join(REPO, 'src/checks'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(REPO, 'src/checks', d.name, 'command.ts')))
      .map((d) => d.name)
      .sort();
    expect(checks).to.have.length(9);
    for (const check of checks) {
      expect(names, check).to.include(check);
      expect(existsSync(join(REPO, 'src/checks', check, 'command-line.ts')), check).to.equal(true);
    }
  });

  it('loads no check, API client or yargs on the way to the declarations', () => {
    const { modules, packages } = staticImportClosure('src/cli/command-list.ts');
    expect(modules.length).to.be.greaterThan(COMMAND_LINES.length);
    expect(modules).to.include('src/checks/smoke/command-line.ts');
    expect(packages).to.deep.equal([]);
    const heavy = modules.filter((m) => /\/(command|analysis|render|command-runner|cleanup|rbac)\.ts$/.test(m) || m.startsWith('src/kube/') || m.startsWith('src/kube-proxy/'));
    expect(heavy).to.deep.equal([]);
  });

  it('sees through the import scan: the command runner does load the API layer', () => {
    const { modules } = staticImportClosure('src/cli/command-runner.ts');
    expect(modules.some((m) => m.startsWith('src/probe/'))).to.equal(true);
  });

  it('counts positionals from the yargs form', () => {
    const byName = (n: string) => COMMAND_LINES.find((c) => commandName(c) === n)!;
    expect(maxPositionals(byName('smoke'))).to.equal(0);
    expect(maxPositionals(byName('veth-peer'))).to.equal(1);
    expect(maxPositionals(byName('conn-check'))).to.equal(2);
    expect(maxPositionals(byName('node-check'))).to.equal(Number.POSITIVE_INFINITY);
  });

  it('gives completion the same commands and flags as yargs', () => {
    expect(COMMAND_SPECS).to.have.length(COMMAND_LINES.length);
    expect(COMMAND_SPECS.map((s) => s.name)).to.deep.equal(names);
    const veth = COMMAND_SPECS.find((s) => s.name === 'veth-peer')!;
    expect(veth.flags.map((f) => [f.name, f.short, f.value?.kind ?? null])).to.deep.equal([
      ['selector', 'l', 'none'],
      ['node', undefined, 'names'],
    ]);
    const trace = COMMAND_SPECS.find((s) => s.name === 'trace-svc')!;
    expect(trace.flags.filter((f) => f.value === null).map((f) => f.name)).to.deep.equal(['probe', 'all-nodes']);
  });
});

describe('command handlers', () => {
  const firstError = async (argv: string[]) => {
    const deps = fakeDeps();
    const code = await runCli(argv, deps);
    return { code, err: deps.err().split('\n')[0] };
  };

  it("a check reads its own arguments before the global options", async () => {
    for (const [argv, message] of [
      [['veth-peer', '-o', 'nope'], 'error: veth-peer needs exactly one of'],
      [['arp-check', '-o', 'nope'], 'error: arp-check needs exactly one of'],
      [['node-diff', 'a', '-o', 'nope'], 'error: node-diff needs two node names'],
    ] as const) {
      const r = await firstError([...argv]);
      expect(r.code, argv.join(' ')).to.equal(2);
      expect(r.err, argv.join(' ')).to.match(new RegExp(`^${message}`));
    }
  });

  it('smoke, cleanup, explain and rbac read the global options first', async () => {
    for (const argv of [['smoke', '--pod', 'x', '-o', 'nope'], ['cleanup', '-o', 'nope'], ['explain', 'no.such-code', '-o', 'nope'], ['rbac', '--subject', 'bogus', '-o', 'nope']]) {
      const r = await firstError(argv);
      expect(r.code, argv.join(' ')).to.equal(2);
      expect(r.err, argv.join(' ')).to.equal('error: unknown output format "nope"');
    }
  });

  it('version answers without reading the global options', async () => {
    const deps = fakeDeps();
    expect(await runCli(['version', '-o', 'nope'], deps)).to.equal(0);
    expect(deps.out()).to.match(/^kubectl-netdiag \S+\n$/);
  });
});
