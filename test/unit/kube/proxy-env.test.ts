import { expect } from 'chai';
import { bypassedByNoProxy, proxyForServer } from '../../../src/kube/proxy-env.js';

// The rules of Go's golang.org/x/net/http/httpproxy (what kubectl uses), case by case.
describe('proxyForServer (HTTPS_PROXY/NO_PROXY as kubectl reads them)', () => {
  const server = 'https://api.example.com:6443';
  it('uses HTTPS_PROXY for an https server, adding http:// when the proxy has no scheme', () => {
    expect(proxyForServer(server, { HTTPS_PROXY: 'http://proxy:3128' })).to.equal('http://proxy:3128');
    expect(proxyForServer(server, { https_proxy: 'proxy:3128' })).to.equal('http://proxy:3128');
    expect(proxyForServer(server, { HTTP_PROXY: 'http://proxy:3128' }), 'HTTP_PROXY is for http servers only').to.equal(undefined);
    expect(proxyForServer('http://api.example.com:8080', { HTTP_PROXY: 'http://proxy:3128' })).to.equal('http://proxy:3128');
  });
  it('never proxies localhost or loopback addresses', () => {
    expect(proxyForServer('https://127.0.0.1:6443', { HTTPS_PROXY: 'http://proxy:3128' })).to.equal(undefined);
    expect(proxyForServer('https://localhost:6443', { HTTPS_PROXY: 'http://proxy:3128' })).to.equal(undefined);
    expect(proxyForServer('https://[::1]:6443', { HTTPS_PROXY: 'http://proxy:3128' })).to.equal(undefined);
  });
  it('takes all of 127.0.0.0/8 as loopback, and nothing next to it', () => {
    expect(proxyForServer('https://127.31.2.9:6443', { HTTPS_PROXY: 'http://proxy:3128' })).to.equal(undefined);
    expect(proxyForServer('https://128.0.0.1:6443', { HTTPS_PROXY: 'http://proxy:3128' })).to.equal('http://proxy:3128');
    expect(proxyForServer('https://[::2]:6443', { HTTPS_PROXY: 'http://proxy:3128' })).to.equal('http://proxy:3128');
  });
  it('honours NO_PROXY', () => {
    expect(proxyForServer(server, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'other.org, example.com' })).to.equal(undefined);
    expect(proxyForServer(server, { HTTPS_PROXY: 'http://p:1', no_proxy: '*' })).to.equal(undefined);
    expect(proxyForServer(server, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'other.org' })).to.equal('http://p:1');
  });
});

describe('bypassedByNoProxy', () => {
  it('matches a domain and its subdomains; a leading dot only subdomains', () => {
    expect(bypassedByNoProxy('example.com', '443', 'example.com')).to.equal(true);
    expect(bypassedByNoProxy('api.example.com', '443', 'example.com')).to.equal(true);
    expect(bypassedByNoProxy('badexample.com', '443', 'example.com')).to.equal(false);
    expect(bypassedByNoProxy('example.com', '443', '.example.com')).to.equal(false);
    expect(bypassedByNoProxy('a.example.com', '443', '.example.com')).to.equal(true);
  });
  it('matches IPs, CIDRs (v4 and v6) and ports', () => {
    expect(bypassedByNoProxy('10.1.2.3', '6443', '10.0.0.0/8')).to.equal(true);
    expect(bypassedByNoProxy('11.1.2.3', '6443', '10.0.0.0/8')).to.equal(false);
    expect(bypassedByNoProxy('fd00::5', '6443', 'fd00::/64')).to.equal(true);
    expect(bypassedByNoProxy('fd01::5', '6443', 'fd00::/64')).to.equal(false);
    expect(bypassedByNoProxy('10.1.2.3', '6443', '10.1.2.3')).to.equal(true);
    expect(bypassedByNoProxy('example.com', '6443', 'example.com:6443')).to.equal(true);
    expect(bypassedByNoProxy('example.com', '443', 'example.com:6443')).to.equal(false);
  });
});
