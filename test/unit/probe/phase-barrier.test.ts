// The barrier that lines up conn-check's phases across nodes.
import { expect } from 'chai';
import { createPhaseBarrier } from '../../../src/probe/phase-barrier.js';

describe('phase barrier', () => {
  it('releases a phase only when every node has arrived', async () => {
    const barrier = createPhaseBarrier(['a', 'b'], () => 60_000);
    const order: string[] = [];
    const a = barrier.arrive('before', 'a').then(() => order.push('a released'));
    await Promise.resolve();
    order.push('b arrives');
    const b = barrier.arrive('before', 'b').then(() => order.push('b released'));
    await Promise.all([a, b]);
    expect(order).to.deep.equal(['b arrives', 'a released', 'b released']);
    expect(barrier.missing()).to.deep.equal([]);
  });

  it('stops waiting for a node that never comes, and does not wait for it again', async () => {
    const waits: string[] = [];
    const barrier = createPhaseBarrier(['a', 'b'], (phase) => {
      waits.push(phase);
      return 5;
    });
    await barrier.arrive('ready', 'a');
    expect(barrier.missing()).to.deep.equal(['b']);
    await barrier.arrive('before', 'a'); // resolves at once: b is known to be missing
    expect(barrier.missing()).to.deep.equal(['b']);
    expect(waits).to.deep.equal(['ready', 'before']);
  });
});

describe('phase barrier: a node that gives up', () => {
  it('releases the nodes already waiting at once', async () => {
    const barrier = createPhaseBarrier(['a', 'b'], () => 60_000);
    const waiting = barrier.arrive('ready', 'a');
    barrier.leave('b');
    await waiting;
    expect(barrier.missing()).to.deep.equal(['b']);
    await barrier.arrive('before', 'a');
  });
});
