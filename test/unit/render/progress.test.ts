import { expect } from 'chai';
import { createProgress, progressRows } from '../../../src/render/progress.js';

describe('progress', () => {
  it('shows one row per node for a few nodes', () => {
    const rows = progressRows(new Map([['n1', 'collecting'], ['n2', 'queued']]), 3);
    expect(rows).to.deep.equal(['  n1: collecting (3s)', '  n2: queued (3s)']);
  });
  it('for many nodes: a done/running/queued line and a few running nodes', () => {
    const states = new Map<string, string>();
    for (let i = 0; i < 100; i++) states.set(`n${i}`, i < 60 ? 'done' : i < 62 ? 'failed: x' : i < 74 ? 'collecting' : 'queued');
    const rows = progressRows(states, 12);
    expect(rows).to.have.length(1 + 8 + 1);
    expect(rows[0]).to.equal('  62/100 nodes done (2 failed), 12 running, 26 queued (12s)');
    expect(rows[1]).to.equal('  n62: collecting');
    expect(rows[9]).to.equal('  ... and 4 more running');
  });
  it('writes nothing live when stderr is not a terminal, and nothing but warnings when quiet', () => {
    let text = '';
    const plain = createProgress({ write: (t) => void (text += t), isTTY: false }, { quiet: false, now: () => 0 });
    plain.nodeState('n1', 'queued');
    plain.podCreated('n1', 'ns/p');
    expect(text).to.equal('probe pod ns/p created on node n1\n');
    text = '';
    const quiet = createProgress({ write: (t) => void (text += t), isTTY: true }, { quiet: true, now: () => 0 });
    quiet.nodeState('n1', 'queued');
    quiet.podCreated('n1', 'ns/p');
    quiet.note('careful');
    expect(text).to.equal('warning: careful\n');
  });
});
