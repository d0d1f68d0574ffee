import { expect } from 'chai';
import { parseBridgeLinkJson } from '../../../src/parse/bridge-link.js';
import { expectOk, readFixture } from './fixture.js';

describe('parse/bridge-link: bridge -j -d link show (lab capture)', () => {
  const ports = expectOk(parseBridgeLinkJson(readFixture('bridge-link/lab/host.json')));

  it('both br0 ports with hairpin, learning and flood', () => {
    expect(ports.map((p) => [p.ifindex, p.ifname, p.master, p.state, p.hairpin, p.learning, p.flood])).to.deep.equal([
      [7, 'vethbr0', 'br0', 'forwarding', true, true, true],
      [8, 'vethbr1', 'br0', 'forwarding', false, false, true],
    ]);
    expect(ports[0]!.mtuBytes).to.equal(1500);
  });

  it('does not expose bridge\'s misresolved "link" peer name', () => {
    // The raw record says "link":"ul0" for vethbr0, whose real peer is eth0 in ndfix-pod2.
    expect(JSON.parse(ports[0]!.raw)).to.have.property('link', 'ul0');
    expect(ports[0]).to.not.have.property('link');
  });

  it('empty, truncated and empty-list inputs', () => {
    const empty = parseBridgeLinkJson('');
    expect(!empty.ok && empty.error.reason).to.equal('empty-input');
    const cut = parseBridgeLinkJson(readFixture('bridge-link/lab/host.json').slice(0, 200));
    expect(!cut.ok && cut.error.message).to.match(/^bridge -j -d link show: output is not complete JSON/);
    expect(expectOk(parseBridgeLinkJson('[]\n'))).to.deep.equal([]);
  });
});
