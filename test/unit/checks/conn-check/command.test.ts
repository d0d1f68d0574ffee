// conn-check's arguments are checked before any API call, and its plan asks each node only for
// what the path needs.
import { expect } from 'chai';
import { buildConnCheckTargets, parseConnRef, readConnCheckTarget } from '../../../../src/checks/conn-check/command.js';
import { UserError } from '../../../../src/errors.js';
import type { ConnCheckApi } from '../../../../src/checks/conn-check/analysis.js';

function usageError(args: Record<string, unknown>): string {
  try {
    readConnCheckTarget(args);
  } catch (err) {
    expect(err).to.be.instanceOf(UserError);
    expect((err as UserError).exitCode).to.equal(2);
    return (err as UserError).message;
  }
  throw new Error(`accepted ${JSON.stringify(args)}`);
}

describe('conn-check arguments', () => {
  it('classifies SRC and DST forms', () => {
    expect(parseConnRef('web-1', 'DST')).to.deep.equal({ kind: 'pod', name: 'web-1', namespace: undefined });
    expect(parseConnRef('team-a/api-1', 'DST')).to.deep.equal({ kind: 'pod', name: 'api-1', namespace: 'team-a' });
    expect(parseConnRef('node/lab-node-2', 'SRC')).to.deep.equal({ kind: 'node', name: 'lab-node-2' });
    expect(parseConnRef('svc/web', 'DST')).to.deep.equal({ kind: 'service', name: 'web' });
    expect(parseConnRef('10.244.2.1:8080', 'DST')).to.deep.equal({ kind: 'ip', address: '10.244.2.1', port: 8080 });
    expect(parseConnRef('10.244.2.1', 'DST')).to.deep.equal({ kind: 'ip', address: '10.244.2.1', port: null });
  });

  it('defaults to 3 probes, the protocol from the destination, probing on', () => {
    expect(readConnCheckTarget({ src: 'web-1', dst: 'web-2' })).to.deep.include({ count: 3, protocol: null, port: null, probe: true });
    expect(readConnCheckTarget({ src: 'web-1', dst: '10.0.0.1:53', protocol: 'UDP' })).to.deep.include({ port: 53, protocol: 'udp' });
    expect(readConnCheckTarget({ src: 'web-1', dst: 'web-2', 'no-probe': true }).probe).to.equal(false);
  });

  it('refuses bad input with one sentence each', () => {
    const messages = [
      usageError({ src: '10.0.0.1', dst: 'web-1' }),
      usageError({ src: 'svc/web', dst: 'web-1' }),
      usageError({ src: 'web-1', dst: '10.0.0.1:0' }),
      usageError({ src: 'web-1', dst: '999.0.0.1' }),
      usageError({ src: 'web-1', dst: 'fe80::1' }),
      usageError({ src: 'Web_1', dst: 'web-2' }),
      usageError({ src: 'web-1', dst: 'a/b/c' }),
      usageError({ src: 'web-1', dst: '$(touch x)' }),
      usageError({ src: 'web-1', dst: 'web-2', port: '70000' }),
      usageError({ src: 'web-1', dst: 'web-2', port: '80', protocol: 'icmp' }),
      usageError({ src: 'web-1', dst: 'web-2', protocol: 'sctp' }),
      usageError({ src: 'web-1', dst: 'web-2', count: '11' }),
      usageError({ src: 'web-1', dst: 'web-2', count: '1.5' }),
      usageError({ src: 'web-1', dst: '10.0.0.1:80', port: '81' }),
      usageError({ src: 'web-1', dst: 'svc/web', protocol: 'icmp' }),
    ];
    expect(messages).to.have.length(15);
    for (const m of messages) expect(m, m).to.match(/^[^\n]+$/);
  });

  it('takes four dotted numbers as an address: an octet over 255 or with a leading zero is refused, not read as a pod name', () => {
    expect(usageError({ src: 'web-1', dst: '999.1.1.1' })).to.equal('DST 999.1.1.1: not an IPv4 address');
    expect(usageError({ src: 'web-1', dst: '10.0.0.256:80' })).to.equal('DST 10.0.0.256:80: not an IPv4 address');
    // ping would read 010 as octal 8: another address than the one typed
    expect(usageError({ src: 'web-1', dst: '010.0.0.1' })).to.equal('DST 010.0.0.1: not an IPv4 address');
    expect(parseConnRef('1.2.3', 'DST')).to.deep.equal({ kind: 'pod', name: '1.2.3', namespace: undefined });
  });
});

describe('conn-check plan', () => {
  const api: ConnCheckApi = {
    source: { kind: 'pod', key: 'src', namespace: 'default', name: 'web-1', nodeName: 'n1', ip: '10.244.1.1', containerId: 'abc' },
    destination: { kind: 'pod', key: 'dst', namespace: 'default', name: 'web-2', nodeName: 'n2', ip: '10.244.2.1', containerId: 'def' },
    protocol: 'tcp',
    port: 8080,
    count: 3,
    probe: true,
    nodeIPs: { n1: '192.168.77.11', n2: '192.168.77.12' },
  };

  it('one probe pod per node of the path, each finding its own pods, routes toward the far end', () => {
    const targets = buildConnCheckTargets(api, 60);
    expect(targets.map((t) => t.nodeName)).to.deep.equal(['n1', 'n2']);
    const [n1, n2] = targets;
    expect(n1!.requests).to.deep.include({ kind: 'route-get', address: '10.244.2.1' });
    expect(n1!.requests).to.deep.include({ kind: 'pod', key: 'src', containerId: 'abc', podIP: '10.244.1.1' });
    expect(n2!.requests).to.deep.include({ kind: 'route-get', address: '10.244.1.1' });
    expect(n2!.requests).to.deep.include({ kind: 'pod', key: 'dst', containerId: 'def', podIP: '10.244.2.1' });
    // The probes and counters run in the follow-ups, never with the facts.
    expect(targets.flatMap((t) => t.requests).filter((r) => r.kind === 'probe' || r.kind === 'counters')).to.deep.equal([]);
    expect(targets.every((t) => typeof t.followUp === 'function')).to.equal(true);
  });

  it('takes every node\'s "before" counters before the probes and every "after" after them, one exec per phase', async () => {
    const targets = buildConnCheckTargets(api, 60);
    const calls: string[] = [];
    const empty = { sections: new Map(), complete: true, problems: [] };
    await Promise.all(
      targets.map((t) =>
        t.followUp!({
          nodeName: t.nodeName,
          output: () => empty,
          run: async (requests) => {
            const what = requests.find((r) => r.kind === 'probe') ? 'probe' : requests.find((r) => r.kind === 'counters' && r.phase === 'before') ? 'before' : 'after';
            calls.push(`${t.nodeName} ${what}`);
            await new Promise((resolve) => setImmediate(resolve));
            return empty;
          },
        }),
      ),
    );
    expect(calls).to.have.length(5);
    expect(calls.slice(0, 2).sort()).to.deep.equal(['n1 before', 'n2 before']);
    expect(calls[2]).to.equal('n1 probe');
    expect(calls.slice(3).sort()).to.deep.equal(['n1 after', 'n2 after']);
  });

  it('without probing there are no follow-ups at all', () => {
    const targets = buildConnCheckTargets({ ...api, probe: false }, 60);
    expect(targets).to.have.length(2);
    expect(targets.some((t) => t.followUp)).to.equal(false);
  });
});
