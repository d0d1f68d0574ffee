import { expect } from 'chai';
import {
  effectiveArpAnnounce,
  effectiveArpIgnore,
  effectiveInterfaceSysctls,
  effectiveProxyArp,
  effectiveRpFilter,
  emptyInterfaceSysctls,
  parseSysctlGrep,
} from '../../../src/parse/sysctl.js';
import { expectOk, readFixture } from './fixture.js';

describe('parse/sysctl: grep -H . /proc/sys/net/... (lab capture)', () => {
  const node = expectOk(parseSysctlGrep(readFixture('sysctl/lab/host.txt')));

  it('reads per-interface values including all and default', () => {
    expect(Object.keys(node.ipv4Conf).sort()).to.deep.equal(['all', 'br0', 'default', 'lo', 'mtu0', 'ndfixcali0', 'ul0', 'vethbr0', 'vethbr1', 'vxlan0']);
    expect(node.ipv4Conf['vethbr1']).to.deep.equal({ arpIgnore: 2, arpAnnounce: 0, rpFilter: 0, proxyArp: false, forwarding: true });
    expect(node.ipv4Conf['ndfixcali0']?.proxyArp).to.equal(true);
    expect(node.ipv4Conf['all']).to.deep.equal({ arpIgnore: 0, arpAnnounce: 2, rpFilter: 1, proxyArp: false, forwarding: true });
  });

  it('global switches: ip_forward and bridge-nf-call-*', () => {
    expect(node.ipForward).to.equal(true);
    expect(node.bridgeNfCallIptables).to.equal(true);
    expect(node.bridgeNfCallIp6tables).to.equal(true);
    expect(node.entries).to.have.length(53);
    expect(node.entries[0]!.raw).to.equal('/proc/sys/net/ipv4/conf/all/arp_ignore:0');
  });

  it('effective values are the max of all and the interface', () => {
    const all = node.ipv4Conf['all'];
    expect(effectiveArpIgnore(all, node.ipv4Conf['vethbr1'])).to.equal(2); // interface wins
    expect(effectiveArpIgnore(all, node.ipv4Conf['vethbr0'])).to.equal(0);
    expect(effectiveArpAnnounce(all, node.ipv4Conf['vethbr0'])).to.equal(2); // all wins
    expect(effectiveRpFilter(all, node.ipv4Conf['ul0'])).to.equal(2);
    expect(effectiveRpFilter(all, node.ipv4Conf['br0'])).to.equal(1);
    expect(effectiveProxyArp(all, node.ipv4Conf['ndfixcali0'])).to.equal(true);
    expect(effectiveProxyArp(all, node.ipv4Conf['br0'])).to.equal(false);
    expect(effectiveInterfaceSysctls(node, 'vethbr1')).to.deep.equal({ arpIgnore: 2, arpAnnounce: 2, rpFilter: 1, proxyArp: false, forwarding: true });
  });

  it('a value that was not read makes the effective value unknown', () => {
    expect(effectiveArpIgnore(undefined, node.ipv4Conf['vethbr1'])).to.equal(null);
    expect(effectiveRpFilter(node.ipv4Conf['all'], emptyInterfaceSysctls())).to.equal(null);
    expect(effectiveProxyArp(undefined, undefined)).to.equal(null);
    expect(effectiveInterfaceSysctls(node, 'eth9').arpIgnore).to.equal(null);
  });

  it('seed 001: conf/all/arp_ignore=2 deafens an interface that says 0', () => {
    const seeded = expectOk(parseSysctlGrep('/proc/sys/net/ipv4/conf/all/arp_ignore:2\n/proc/sys/net/ipv4/conf/cali1/arp_ignore:0\n'));
    expect(effectiveArpIgnore(seeded.ipv4Conf['all'], seeded.ipv4Conf['cali1'])).to.equal(2);
  });

  it('empty input: nothing read, every value null', () => {
    const empty = expectOk(parseSysctlGrep(''));
    expect(empty).to.deep.equal({ ipv4Conf: {}, ipForward: null, bridgeNfCallIptables: null, bridgeNfCallIp6tables: null, entries: [] });
  });

  it('odd lines are skipped and named, the rest still count', () => {
    const r = parseSysctlGrep('grep: /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory\n/proc/sys/net/ipv4/ip_forward:0\n/proc/sys/net/ipv4/conf/eth0/rp_filter:x\n');
    expect(r.ok).to.equal(true);
    if (r.ok) {
      expect(r.value.ipForward).to.equal(false);
      expect(r.value.bridgeNfCallIptables).to.equal(null);
      expect(r.skipped.map((s) => s.position)).to.deep.equal(['line 1', 'line 3']);
    }
  });
});
