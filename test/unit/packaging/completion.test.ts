import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  COMMAND_SPECS,
  GLOBAL_FLAGS,
  buildCompletion,
  parseCompletionLine,
  renderCompletion,
  renderCompletionScript,
  runComplete,
  type NameKind,
  type NameSource,
} from '../../../src/cli/completion.js';
import { runCli } from '../../../src/cli/cli.js';
import { fakeDeps } from '../../support/fake-deps.js';
import type { ClusterApi } from '../../../src/kube/cluster-api.js';

/** A cluster as plain lists; records what was asked so tests can check -n is honoured. */
function fakeNames(): NameSource & { asked: string[] } {
  const pods: Record<string, string[]> = { default: ['web-1', 'web-2', 'db-0'], 'kube-system': ['coredns-abc', 'kube-proxy-x'] };
  const services: Record<string, string[]> = { default: ['web', 'kubernetes'], 'kube-system': ['kube-dns'] };
  const asked: string[] = [];
  return {
    asked,
    async names(kind: NameKind, namespace: string | undefined) {
      asked.push(`${kind}:${namespace ?? '(context)'}`);
      if (kind === 'node') return ['lab-node-1', 'lab-node-2', 'other'];
      const table = kind === 'pod' ? pods : services;
      return table[namespace ?? 'default'] ?? [];
    },
    async contexts() {
      return ['prod', 'staging', 'lab'];
    },
  };
}

const complete = async (line: string[], names = fakeNames()) => {
  const words = line.slice(0, -1);
  return buildCompletion(words, line.at(-1)!, names);
};

describe('completion: parseCompletionLine', () => {
  it('finds the command, its positionals and the cluster flags in any order and spelling', () => {
    const line = parseCompletionLine(['--kubeconfig', '/k', '-nkube-system', 'veth-peer', '--context=lab', '-o', 'json', 'web-1']);
    expect(line.command?.name).to.equal('veth-peer');
    expect(line.positionals).to.deep.equal(['web-1']);
    expect([line.kubeconfig, line.context, line.namespace]).to.deep.equal(['/k', 'lab', 'kube-system']);
    expect(line.pendingFlag).to.equal(undefined);
  });

  it('does not take a flag value for the command (-n default veth-peer) or a boolean for a value taker', () => {
    expect(parseCompletionLine(['-n', 'default', 'veth-peer']).command?.name).to.equal('veth-peer');
    expect(parseCompletionLine(['arp-check', '--probe', 'web-1']).positionals).to.deep.equal(['web-1']);
  });

  it('says the partial word is a flag value when a value-taking flag ends the line', () => {
    expect(parseCompletionLine(['veth-peer', '--node']).pendingFlag?.name).to.equal('node');
    expect(parseCompletionLine(['-o']).pendingFlag?.name).to.equal('output');
    expect(parseCompletionLine(['veth-peer', '--keep-pod']).pendingFlag).to.equal(undefined);
  });

  it('handles an empty line', () => {
    expect(parseCompletionLine([])).to.deep.include({ command: undefined, positionals: [], pendingFlag: undefined });
  });
});

describe('completion: buildCompletion', () => {
  it('offers the commands with descriptions at the first word', async () => {
    const c = await complete(['']);
    expect(c.candidates.map((x) => x.split('\t')[0])).to.deep.equal(COMMAND_SPECS.map((s) => s.name));
    expect(c.candidates[0]).to.match(/^veth-peer\t\S/);
    expect(c.directive).to.equal(4);
    expect((await complete(['tr'])).candidates.map((x) => x.split('\t')[0])).to.deep.equal(['trace-svc']);
  });

  it('offers nothing after a word that is no command', async () => {
    expect(await complete(['bogus', ''])).to.deep.equal({ candidates: [], directive: 4 });
  });

  it('completes pods for the pod commands, in the namespace given on the line', async () => {
    for (const cmd of ['veth-peer', 'arp-check', 'mtu-probe', 'dns-check']) {
      expect((await complete([cmd, 'web'])).candidates, cmd).to.deep.equal(['web-1', 'web-2']);
    }
    const names = fakeNames();
    expect((await complete(['veth-peer', '-n', 'kube-system', ''], names)).candidates).to.deep.equal(['coredns-abc', 'kube-proxy-x']);
    expect((await complete(['--namespace=kube-system', 'dns-check', 'c'], names)).candidates).to.deep.equal(['coredns-abc']);
    expect(names.asked).to.deep.equal(['pod:kube-system', 'pod:kube-system']);
  });

  it('completes services for trace-svc and nodes for --node, node-check and node-diff', async () => {
    expect((await complete(['trace-svc', '-n', 'kube-system', ''])).candidates).to.deep.equal(['kube-dns']);
    expect((await complete(['veth-peer', '--node', 'lab'])).candidates).to.deep.equal(['lab-node-1', 'lab-node-2']);
    expect((await complete(['arp-check', '--node=lab-node-2'])).candidates).to.deep.equal(['--node=lab-node-2']);
    expect((await complete(['node-check', 'lab-node-1', ''])).candidates).to.deep.equal(['lab-node-2', 'other']);
    expect((await complete(['node-diff', 'lab-node-1', ''])).candidates).to.deep.equal(['lab-node-2', 'other']);
    expect((await complete(['node-diff', 'lab-node-1', 'lab-node-2', ''])).candidates).to.deep.equal([]);
  });

  it('stops after the one positional a command takes', async () => {
    expect(await complete(['veth-peer', 'web-1', ''])).to.deep.equal({ candidates: [], directive: 4 });
    expect(await complete(['cleanup', ''])).to.deep.equal({ candidates: [], directive: 4 });
  });

  it('completes -o, --fail-on and --context values, also glued to the flag', async () => {
    expect((await complete(['veth-peer', '-o', ''])).candidates).to.deep.equal(['table', 'wide', 'json', 'yaml', 'dot']);
    expect((await complete(['veth-peer', '--output=y'])).candidates).to.deep.equal(['--output=yaml']);
    expect((await complete(['veth-peer', '-oj'])).candidates).to.deep.equal(['-ojson']);
    expect((await complete(['--fail-on', ''])).candidates).to.deep.equal(['info', 'warn', 'error', 'never']);
    expect((await complete(['--context', 's'])).candidates).to.deep.equal(['staging']);
  });

  it('completes mtu-probe --to as a pod or node/NODE', async () => {
    expect((await complete(['mtu-probe', 'web-1', '--to', ''])).candidates).to.deep.equal(['web-1', 'web-2', 'db-0', 'node/']);
    expect((await complete(['mtu-probe', 'web-1', '--to', 'node/lab-node-1'])).candidates).to.deep.equal(['node/lab-node-1']);
  });

  it('leaves file names to the shell for --kubeconfig and directories for snapshots', async () => {
    expect(await complete(['--kubeconfig', ''])).to.deep.equal({ candidates: [], directive: 0 });
    expect(await complete(['veth-peer', '--from-snapshot', ''])).to.deep.equal({ candidates: [], directive: 16 });
    expect(await complete(['veth-peer', '--image', ''])).to.deep.equal({ candidates: [], directive: 4 });
  });

  it('offers the global and the command flags for a dash', async () => {
    const c = (await complete(['mtu-probe', '--n'])).candidates.map((x) => x.split('\t')[0]);
    expect(c).to.deep.equal(['--namespace', '--no-headers', '--no-probe']);
    expect((await complete(['-'])).candidates.map((x) => x.split('\t')[0])).to.include.members(['-n', '-o', '--output']);
  });
});

describe('completion: runComplete', () => {
  it('prints candidates, then the directive line', async () => {
    const deps = fakeDeps();
    await runComplete(['veth-peer', '-o', 'w'], deps, fakeNames());
    expect(deps.out()).to.equal('wide\n:4\n');
    expect(renderCompletion({ candidates: [], directive: 0 })).to.equal(':0\n');
  });

  it('prints nothing but the directive when the cluster cannot be asked', async () => {
    const deps = fakeDeps(); // connect() throws: no cluster in this test
    expect(await runComplete(['veth-peer', ''], deps)).to.equal(0);
    expect(deps.out()).to.equal(':4\n');
    expect(deps.err()).to.equal('');
  });

  it('asks the cluster through Deps.connect with the line kubeconfig/context, skipping probe pods', async () => {
    const deps = fakeDeps();
    let asked: unknown;
    deps.connect = async (options) => {
      asked = options;
      const pod = (name: string, labels?: Record<string, string>) => ({ metadata: { name, labels } });
      return {
        defaultNamespace: 'team-a',
        listPods: async ({ namespace }: { namespace?: string }) =>
          namespace === 'team-a' ? [pod('api-1'), pod('netdiag-lab-node-1-x', { 'app.kubernetes.io/managed-by': 'kubectl-netdiag' })] : [],
      } as unknown as ClusterApi;
    };
    await runComplete(['--kubeconfig', '/k', '--context', 'c', 'veth-peer', ''], deps);
    expect(deps.out()).to.equal('api-1\n:4\n');
    expect(asked).to.deep.equal({ kubeconfig: '/k', context: 'c', requestTimeoutMs: 5000 });
  });

  it('is reached through runCli as the hidden __complete command', async () => {
    const deps = fakeDeps();
    expect(await runCli(['__complete', 'veth-peer', '--fail-on', 'ne'], deps)).to.equal(0);
    expect(deps.out()).to.equal('never\n:4\n');
  });
});

/** `  -o, --output  ...` and `      --node  ...` lines of a yargs help text. */
function helpFlags(help: string): string[] {
  return [...new Set([...help.matchAll(/^\s+(?:-\w, )?--([\w-]+)/gm)].map((m) => m[1]!))].sort();
}

describe('completion: in step with the CLI', () => {
  it('knows every command the CLI has, and no other', async () => {
    const deps = fakeDeps();
    await runCli(['--help'], deps);
    const inHelp = [...deps.out().matchAll(/^\s+kubectl netdiag ([a-z][\w-]*)/gm)].map((m) => m[1]!);
    expect(inHelp.length).to.be.greaterThan(5);
    expect([...new Set(inHelp)].sort()).to.deep.equal(COMMAND_SPECS.map((c) => c.name).sort());
  });

  for (const spec of COMMAND_SPECS) {
    it(`knows every flag of ${spec.name}`, async () => {
      const deps = fakeDeps();
      await runCli([spec.name, '--help'], deps);
      const expected = [...GLOBAL_FLAGS, ...spec.flags].map((f) => f.name).sort();
      expect(helpFlags(deps.out())).to.deep.equal(expected);
    });
  }
});

describe('completion: shell scripts', () => {
  // The bash script run for real: COMP_WORDS as bash would set them, a stand-in kubectl-netdiag
  // that answers __complete like the plugin does.
  function bashComplete(words: string[], answer: string): string[] {
    const dir = mkdtempSync(join(tmpdir(), 'netdiag-bash-'));
    const fake = join(dir, 'kubectl-netdiag');
    writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\nprintf '%b' '${answer}'\n`, { mode: 0o755 });
    const script = [
      renderCompletionScript('bash'),
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}`,
      `COMP_WORDS[0]='${fake}'`,
      '_kubectl_netdiag',
      'printf "%s\\n" "${COMPREPLY[@]}"',
      `echo ---; cat '${dir}/args'`,
    ].join('\n');
    return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trimEnd().split('\n');
  }

  it('bash: asks __complete with the words and the partial, and offers the candidates without descriptions', () => {
    const out = bashComplete(['kubectl-netdiag', 'veth-peer', '-n', 'kube-system', 'co'], 'coredns-abc\\tpod\\n:4\\n');
    expect(out).to.deep.equal(['coredns-abc', '---', '__complete', 'veth-peer', '-n', 'kube-system', 'co']);
  });

  it('bash: puts --output=VALUE back together after bash split it at =', () => {
    const out = bashComplete(['kubectl-netdiag', 'veth-peer', '--output', '=', 'j'], '--output=json\\n:4\\n');
    expect(out).to.deep.equal(['json', '---', '__complete', 'veth-peer', '--output=j']);
  });

  it('prints the scripts through `completion bash|zsh` and refuses other shells', async () => {
    for (const shell of ['bash', 'zsh'] as const) {
      const deps = fakeDeps();
      expect(await runCli(['completion', shell], deps)).to.equal(0);
      expect(deps.out()).to.equal(renderCompletionScript(shell));
      expect(deps.out()).to.contain('__complete');
    }
    const deps = fakeDeps();
    expect(await runCli(['completion', 'fish'], deps)).to.equal(2);
    expect(execFileSync('bash', ['-n'], { input: renderCompletionScript('bash') }).toString()).to.equal('');
  });
});
