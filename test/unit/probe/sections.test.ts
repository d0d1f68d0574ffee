import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { parseNodeScriptOutput } from '../../../src/probe/sections.js';
import { buildNodeScriptArgv, encodeNodeRequest, loadNodeScript } from '../../../src/node-script/node-script.js';

describe('parseNodeScriptOutput', () => {
  const T = 'abc123';
  it('splits sections with their exit codes and stderr', () => {
    const text = [
      `@@NETDIAG ${T} BEGIN host/addr`,
      '[{"ifindex":1}]',
      '', // the script always prints a newline before END, so output keeps its own final newline
      `@@NETDIAG ${T} END host/addr rc=0`,
      `@@NETDIAG ${T} BEGIN host/ipvsadm`,
      '',
      `@@NETDIAG ${T} END host/ipvsadm rc=127`,
      `@@NETDIAG ${T} BEGIN host/ipvsadm#stderr`,
      'sh: ipvsadm: not found',
      `@@NETDIAG ${T} END host/ipvsadm#stderr rc=0`,
      `@@NETDIAG ${T} DONE`,
      '',
    ].join('\n');
    const out = parseNodeScriptOutput(text, T);
    expect(out.complete).to.equal(true);
    expect(out.problems).to.deep.equal([]);
    expect(out.sections.get('host/addr')).to.deep.include({ exitCode: 0, stdout: '[{"ifindex":1}]\n' });
    expect(out.sections.get('host/ipvsadm')).to.deep.include({ exitCode: 127, stdout: '', stderr: 'sh: ipvsadm: not found' });
  });

  it('keeps output that lacks a final newline byte for byte', () => {
    const text = `@@NETDIAG ${T} BEGIN x\nno newline\n@@NETDIAG ${T} END x rc=0\n@@NETDIAG ${T} DONE\n`;
    expect(parseNodeScriptOutput(text, T).sections.get('x')!.stdout).to.equal('no newline');
  });

  it('ignores markers carrying another token (output cannot forge a section end)', () => {
    const text = `@@NETDIAG ${T} BEGIN x\n@@NETDIAG other END x rc=0\nstill x\n@@NETDIAG ${T} END x rc=0\n@@NETDIAG ${T} DONE\n`;
    expect(parseNodeScriptOutput(text, T).sections.get('x')!.stdout).to.equal('@@NETDIAG other END x rc=0\nstill x');
  });

  it('reports truncated output instead of throwing', () => {
    const out = parseNodeScriptOutput(`@@NETDIAG ${T} BEGIN host/iptables\n*nat\n:KUBE-SERVICES`, T);
    expect(out.complete).to.equal(false);
    expect(out.problems[0]).to.match(/host\/iptables has no end marker/);
  });

  it('reports empty output as incomplete', () => {
    const out = parseNodeScriptOutput('', T);
    expect(out.complete).to.equal(false);
    expect(out.sections.size).to.equal(0);
  });
});

describe('node script', () => {
  it('passes inputs as arguments, never as script text', () => {
    const argv = buildNodeScriptArgv('tok', [{ kind: 'route-get', address: '10.0.0.1' }, { kind: 'pod', key: 'p0', containerId: 'abc', podIP: '10.0.0.2' }]);
    expect(argv).to.deep.equal(['sh', '-c', 'eval "$NETDIAG_SCRIPT"', 'netdiag-node', 'tok', 'route-get:10.0.0.1', 'pod:p0:abc:10.0.0.2']);
    // The exec argv the script receives runs it from the environment exactly as the pod will.
    const run = spawnSync(argv[0]!, [...argv.slice(1, 4), 'tok', 'bogus'], { env: { ...process.env, NETDIAG_SCRIPT: loadNodeScript() }, encoding: 'utf8' });
    expect(run.status).to.equal(2);
    expect(run.stderr).to.equal('netdiag-node: unknown request\n');
  });

  it('rejects requests that do not fit its closed vocabulary, running nothing', () => {
    const run = (...args: string[]) => {
      try {
        execFileSync('sh', ['-c', loadNodeScript(), 'netdiag-node', ...args], { stdio: 'pipe' });
        return 0;
      } catch (err) {
        return (err as { status: number }).status;
      }
    };
    expect(run('tok', 'route-get:$(touch /tmp/netdiag-pwned)')).to.equal(2);
    expect(run('tok', 'pod:p0:abc:1.2.3.4;rm')).to.equal(2);
    expect(run('bad token!', 'host')).to.equal(2);
    expect(run('tok', 'whatever')).to.equal(2);
    expect(run('tok', 'probe:host:tcp:1.2.3.4:80:11')).to.equal(2); // at most 10 attempts
    expect(run('tok', 'probe:host:tcp:1.2.3.4:80:0')).to.equal(2);
    expect(run('tok', 'probe:host:tcp:1.2.3.4:$(id):1')).to.equal(2);
    // smoke's connects were their own request once: the script no longer knows it
    expect(run('tok', 'connect:host:1.2.3.4:80:1')).to.equal(2);
  });

  it("rejects conn-check's probe and counters requests outside their patterns", () => {
    const run = (...args: string[]) => spawnSync('sh', ['-c', loadNodeScript(), 'netdiag-node', ...args], { encoding: 'utf8' });
    const requests = [
      'probe:host:sctp:10.0.0.1:80:3',
      'probe:host:tcp:10.0.0.1:80:11',
      'probe:host:tcp:10.0.0.1:80:0',
      'probe:host:tcp:$(touch /tmp/netdiag-pwned):80:3',
      'probe:host:tcp:10.0.0.1:8o:3',
      'probe:host:tcp:10.0.0.1:0:3', // tcp and udp need a port 1-65535
      'probe:host:udp:10.0.0.1:65536:3',
      'probe:host:icmp:10.0.0.1:80:3', // icmp has no port: 0
      'probe:host:tcp:10.0.0.1:80:3:x',
      'probe:HOST:icmp:10.0.0.1:0:3',
      'counters:during:host',
      'counters:before:../x',
    ];
    expect(requests).to.have.length(12);
    for (const request of requests) {
      const r = run('tok', request);
      expect(r.status, request).to.equal(2);
      expect(r.stderr, request).to.match(/^netdiag-node: bad /);
      expect(r.stdout, request).to.equal('');
    }
    expect(encodeNodeRequest({ kind: 'probe', where: 'src', protocol: 'udp', address: '10.0.0.1', port: 53, count: 3 })).to.equal('probe:src:udp:10.0.0.1:53:3');
    expect(encodeNodeRequest({ kind: 'counters', phase: 'after', where: 'e0' })).to.equal('counters:after:e0');
    // A pod key that was not found in this call gets a section saying so, not the node's counters.
    const missing = run('tok', 'counters:before:p9');
    expect(missing.status).to.equal(0);
    expect(missing.stdout).to.contain('@@NETDIAG tok BEGIN ctr/before/p9/missing');
  });
});
