import { expect } from 'chai';
import {
  cidrContainsAddress,
  cidrContainsIp,
  cidrContainsIpv4,
  cidrCoversCidr,
  cidrsOverlap,
  coveringIpv4Cidr,
  formatIpv4,
  isIpv4,
  isLinkLocalIpv4,
  longestPrefixMatch,
  networkOfAddress,
  parseIpv4,
  parseIpv4Cidr,
  parseIpv4HostCidr,
} from '../../../src/net/ip.js';

describe('net/ip', () => {
  it('parses dotted quads and refuses everything else', () => {
    expect(parseIpv4('10.244.3.9')).to.equal(0x0af40309);
    expect(parseIpv4('255.255.255.255')).to.equal(0xffffffff);
    for (const bad of ['', '10.0.0', '10.0.0.256', '10..0.1', 'fe80::1', '10.0.0.1/8']) expect(parseIpv4(bad), bad).to.equal(null);
  });
  it('calls canonical dotted quads IPv4: exactly those parseIpv4 reads and formatIpv4 writes back', () => {
    const good = ['0.0.0.0', '10.244.3.9', '192.168.0.1', '255.255.255.255', '1.22.199.249'];
    const bad = ['', '10.0.0', '10.0.0.1.2', '10.0.0.256', '999.1.1.1', '10..0.1', '010.0.0.1', '10.0.0.00', ' 10.0.0.1', '10.0.0.1/32', 'fe80::1', '1e1.0.0.1', '+1.0.0.1'];
    expect(good.filter(isIpv4)).to.deep.equal(good);
    expect(bad.filter(isIpv4)).to.deep.equal([]);
    for (const s of [...good, ...bad]) {
      const n = parseIpv4(s);
      expect(isIpv4(s), s).to.equal(n !== null && formatIpv4(n) === s);
    }
  });
  it('reads a host CIDR (/32) as its address and nothing else', () => {
    expect(parseIpv4HostCidr('10.96.0.10/32')).to.equal(0x0a60000a);
    expect(parseIpv4HostCidr('0.0.0.0/32')).to.equal(0);
    const others = ['10.96.0.10', '10.96.0.0/24', '10.96.0.10/255.255.255.255', '10.96.0.256/32', 'fd00::1/32', '/32', '10.96.0.10/320'];
    expect(others.map(parseIpv4HostCidr)).to.deep.equal(others.map(() => null));
  });
  it('normalises a CIDR to its network, accepts a bare address and a dotted netmask', () => {
    expect(parseIpv4Cidr('10.0.2.15/24')).to.deep.equal({ network: 0x0a000200, prefix: 24 });
    expect(parseIpv4Cidr('10.0.2.15')).to.deep.equal({ network: 0x0a00020f, prefix: 32 });
    expect(parseIpv4Cidr('10.1.0.0/255.255.0.0')).to.deep.equal({ network: 0x0a010000, prefix: 16 });
    expect(parseIpv4Cidr('10.0.0.0/33')).to.equal(null);
  });
  it('tests membership by the network, whatever host bits the CIDR carries', () => {
    expect(cidrContainsIp('10.244.3.0/24', '10.244.3.9')).to.equal(true);
    expect(cidrContainsIp('10.244.3.7/24', '10.244.3.9')).to.equal(true);
    expect(cidrContainsIp('10.244.3.0/24', '10.244.4.1')).to.equal(false);
    expect(cidrContainsIp('0.0.0.0/0', '169.254.1.1')).to.equal(true);
    expect(cidrContainsIp('10.244.1.1/32', '10.244.1.1')).to.equal(true);
    expect(cidrContainsIp('10.0.0.0/8', 'fe80::1')).to.equal(false);
    expect(cidrContainsIpv4('10.96.0.0/12', parseIpv4('10.111.255.1'))).to.equal(true);
    expect(cidrContainsIpv4('10.96.0.0/12', null)).to.equal(false);
  });
  it('compares ranges', () => {
    expect(cidrCoversCidr('10.244.0.0/16', '10.244.3.0/24')).to.equal(true);
    expect(cidrCoversCidr('10.244.3.0/24', '10.244.0.0/16')).to.equal(false);
    expect(cidrsOverlap('10.244.3.0/24', '10.244.0.0/16')).to.equal(true);
    expect(cidrsOverlap('10.244.0.0/16', '192.168.0.0/16')).to.equal(false);
    expect(networkOfAddress('192.168.56.11/24')).to.equal('192.168.56.0/24');
    expect(networkOfAddress('10.244.1.1/32')).to.equal(null);
    expect(formatIpv4(0xc0a8380b)).to.equal('192.168.56.11');
  });
  it('picks the most specific covering destination, the first of equals, for an address or a whole CIDR', () => {
    const routes = [
      { dst: '0.0.0.0/0', dev: 'eth0' },
      { dst: '10.244.0.0/16', dev: 'flannel.1' },
      { dst: '10.244.2.0/24', dev: 'cni0' },
      { dst: '10.244.2.0/24', dev: 'second' },
      { dst: 'fd00::/8', dev: 'v6' },
      { dst: 'garbage', dev: 'bad' },
      { dst: '10.244.2.7/32', dev: 'host' },
    ];
    const dev = (target: string) => longestPrefixMatch(routes, (r) => r.dst, target)?.dev ?? null;
    expect(dev('10.244.2.9')).to.equal('cni0');
    expect(dev('10.244.2.7')).to.equal('host');
    expect(dev('10.244.9.1')).to.equal('flannel.1');
    expect(dev('192.168.1.1')).to.equal('eth0');
    // a CIDR target needs a destination holding all of it: a /24 does not cover a /16
    expect(dev('10.244.2.0/24')).to.equal('cni0');
    expect(dev('10.244.0.0/16')).to.equal('flannel.1');
    expect(dev('10.0.0.0/8')).to.equal('eth0');
    expect(dev('fd00::1')).to.equal(null);
    expect(dev('not-an-address')).to.equal(null);
    expect(longestPrefixMatch(routes.slice(1, 3), (r) => r.dst, '192.168.1.1')).to.equal(null);
    expect(longestPrefixMatch([], (r: { dst: string }) => r.dst, '10.0.0.1')).to.equal(null);
  });
  it('knows link-local addresses bare or with the prefix ip addr prints, whatever that prefix', () => {
    const link = ['169.254.1.1', '169.254.0.0', '169.254.255.255/16', '169.254.20.10/32', '169.254.3.1/8'];
    const not = ['169.253.255.255', '169.255.0.1/16', '10.0.2.15/24', '1.169.254.1', 'fe80::1/64', '169.254.1', ''];
    expect(link.filter(isLinkLocalIpv4)).to.deep.equal(link);
    expect(not.filter(isLinkLocalIpv4)).to.deep.equal([]);
  });
  it('handles both families where IPv6 matters', () => {
    expect(cidrContainsAddress('fd00::/8', 'fd00::1')).to.equal(true);
    expect(cidrContainsAddress('fd00::/8', '10.0.0.1')).to.equal(false);
    expect(cidrContainsAddress('10.0.0.0/8', '10.1.2.3')).to.equal(true);
    expect(cidrContainsAddress('not-a-cidr', '10.1.2.3')).to.equal(false);
  });
  it('finds the smallest block holding every address, capped at maxPrefix', () => {
    expect(coveringIpv4Cidr(['10.96.0.1', '10.96.0.10', '10.96.100.20'])).to.equal('10.96.0.0/17');
    expect(coveringIpv4Cidr(['10.96.0.1'])).to.equal('10.96.0.1/32');
    expect(coveringIpv4Cidr(['10.96.0.1'], 24)).to.equal('10.96.0.0/24');
    expect(coveringIpv4Cidr(['10.0.0.1', '192.168.0.1'])).to.equal('0.0.0.0/0');
    // IPv6 addresses are left out; with none left there is no block.
    expect(coveringIpv4Cidr(['fd00::1', '10.96.0.1', '10.96.0.2'])).to.equal('10.96.0.0/30');
    expect(coveringIpv4Cidr(['fd00::1'])).to.equal(null);
    expect(coveringIpv4Cidr([])).to.equal(null);
  });
});
