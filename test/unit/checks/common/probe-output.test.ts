// Cut-off node output becomes a probe.output-incomplete finding for every command.
import { expect } from 'chai';
import { diagnoseProbeOutput } from '../../../../src/checks/common/probe-output.js';
import type { NodeCollection } from '../../../../src/probe/probe-run.js';

const T = 'tok';
const node = (raw: string): NodeCollection => ({ nodeName: 'n1', ok: true, token: T, raw, podName: 'p', durationMs: 1 });
const section = (name: string, body: string) => `@@NETDIAG ${T} BEGIN ${name}\n${body}\n@@NETDIAG ${T} END ${name} rc=0\n`;

describe('diagnoseProbeOutput', () => {
  it('is silent for complete output, follow-up calls included, and for failed nodes', () => {
    const done = `@@NETDIAG ${T} DONE\n`;
    expect(diagnoseProbeOutput([node(section('meta', 'x') + done + section('ping/a', 'y') + done)])).to.deep.equal([]);
    expect(diagnoseProbeOutput([{ nodeName: 'n2', ok: false, error: 'e', podName: null }])).to.deep.equal([]);
  });

  it('names the section cut off, and output with no DONE marker', () => {
    const cut = diagnoseProbeOutput([node(`${section('meta', 'x')}@@NETDIAG ${T} BEGIN host/addr\n[{"ifindex": 1`)]);
    expect(cut).to.have.length(1);
    expect(cut[0]).to.include({ code: 'probe.output-incomplete', severity: 'error', subject: 'node n1' });
    expect(cut[0]!.evidence).to.deep.equal(['node n1: section host/addr has no end marker (output cut off)']);
    const unfinished = diagnoseProbeOutput([node(section('meta', 'x'))]);
    expect(unfinished[0]!.evidence).to.deep.equal(['node n1: the node script did not finish (no DONE marker)']);
  });
});
