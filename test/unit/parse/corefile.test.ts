// The Corefile reader over the Corefiles clusters really run (test/fixtures/dns/corefile/, each
// with its repository, path and commit): kubeadm (two template generations), k3s, NodeLocal
// DNSCache and the Kubernetes docs' kube-dns translation.
import { expect } from 'chai';
import { load } from 'js-yaml';
import { corefileFacts, forwardTargetAddress, parseCorefile, readCorefile, type Corefile } from '../../../src/parse/corefile.js';
import { expectOk, readFixture } from './fixture.js';

/** data.Corefile of a ConfigMap fixture, as the API hands it to dns-check. */
function corefileOfConfigMap(relative: string): string {
  const doc = load(readFixture(relative)) as { data?: { Corefile?: unknown } };
  const text = doc.data?.Corefile;
  if (typeof text !== 'string') throw new Error(`${relative}: no data.Corefile`);
  return text;
}

const pluginNames = (c: Corefile, server = 0) => c.servers[server]!.plugins.map((p) => p.name);

describe('parse/corefile: CoreDNS Corefile', () => {
  it('kubeadm (current template): one server block, the forward with its own options, cache with a block', () => {
    const r = parseCorefile(readFixture('dns/corefile/kubeadm-coredns-008b365.corefile'));
    const corefile = expectOk(r);
    expect(r.ok && r.skipped).to.deep.equal([]);
    expect(corefile.servers).to.have.length(1);
    expect(corefile.servers[0]!.keys).to.deep.equal(['.:53']);
    expect(pluginNames(corefile)).to.deep.equal(['errors', 'health', 'ready', 'kubernetes', 'prometheus', 'forward', 'cache', 'loop', 'reload', 'loadbalance']);
    const forward = corefile.servers[0]!.plugins.find((p) => p.name === 'forward')!;
    expect(forward.args).to.deep.equal(['.', '/etc/resolv.conf']);
    expect(forward.options).to.deep.equal(['max_concurrent 1000']);
    expect(forward.raw).to.equal('forward . /etc/resolv.conf {');
    const cache = corefile.servers[0]!.plugins.find((p) => p.name === 'cache')!;
    expect(cache.args).to.deep.equal(['30']);
    expect(cache.options).to.deep.equal(['disable success cluster.local', 'disable denial cluster.local']);
    expect(corefile.topLevel).to.deep.equal([]);

    const facts = corefileFacts(corefile);
    expect(facts.forwards).to.deep.equal([{ from: '.', to: ['/etc/resolv.conf'], raw: 'forward . /etc/resolv.conf {' }]);
    expect(facts).to.deep.include({ loopPlugin: true, forwardsToResolvConf: true, forwardAddresses: [] });
  });

  it('kubeadm (older template): the kubernetes plugin keeps "upstream" as an option, forward without a block', () => {
    const corefile = expectOk(parseCorefile(readFixture('dns/corefile/kubeadm-coredns-8444b37.corefile')));
    expect(corefile.servers).to.have.length(1);
    expect(pluginNames(corefile)).to.deep.equal(['errors', 'health', 'kubernetes', 'prometheus', 'forward', 'cache', 'loop', 'reload', 'loadbalance']);
    const kubernetes = corefile.servers[0]!.plugins.find((p) => p.name === 'kubernetes')!;
    expect(kubernetes.args).to.deep.equal(['cluster.local', 'in-addr.arpa', 'ip6.arpa']);
    expect(kubernetes.options).to.deep.equal(['pods insecure', 'upstream', 'fallthrough in-addr.arpa ip6.arpa', 'ttl 30']);
    expect(readCorefile(readFixture('dns/corefile/kubeadm-coredns-8444b37.corefile'))).to.deep.include({ loopPlugin: true, forwardsToResolvConf: true });
  });

  it('k3s: an import inside the block is a plugin line, the one after it a top-level directive; a placeholder with braces keeps the depth', () => {
    const r = parseCorefile(corefileOfConfigMap('dns/corefile/k3s-coredns-configmap-66c487b.yaml'));
    const corefile = expectOk(r);
    expect(r.ok && r.skipped).to.deep.equal([]);
    expect(corefile.servers).to.have.length(1);
    expect(pluginNames(corefile)).to.deep.equal(['errors', 'health', 'ready', 'kubernetes', 'hosts', 'prometheus', 'forward', 'cache', 'loop', 'reload', 'loadbalance', 'import']);
    expect(corefile.servers[0]!.plugins.find((p) => p.name === 'hosts')!.options).to.deep.equal(['ttl 60', 'reload 15s', 'fallthrough']);
    expect(corefile.topLevel).to.have.length(1);
    expect(corefile.topLevel[0]).to.deep.include({ name: 'import', args: ['/etc/coredns/custom/*.server'] });
    const facts = corefileFacts(corefile);
    expect(facts.forwards).to.have.length(1);
    expect(facts.forwards[0]).to.deep.include({ from: '.', to: ['/etc/resolv.conf'] });
    expect(facts.loopPlugin).to.equal(true);
  });

  it('NodeLocal DNSCache: four server blocks with indented closing braces, placeholders are no addresses', () => {
    const r = parseCorefile(corefileOfConfigMap('dns/corefile/nodelocaldns-configmap-ba6a475.yaml'));
    const corefile = expectOk(r);
    expect(r.ok && r.skipped).to.deep.equal([]);
    expect(corefile.servers.map((s) => s.keys)).to.deep.equal([['__PILLAR__DNS__DOMAIN__:53'], ['in-addr.arpa:53'], ['ip6.arpa:53'], ['.:53']]);
    expect(pluginNames(corefile, 0)).to.deep.equal(['errors', 'cache', 'reload', 'loop', 'bind', 'forward', 'prometheus', 'health']);
    expect(corefile.servers[0]!.plugins.find((p) => p.name === 'cache')!.options).to.deep.equal(['success 9984 30', 'denial 9984 5']);
    const facts = corefileFacts(corefile);
    expect(facts.forwards.map((f) => f.to)).to.deep.equal([['__PILLAR__CLUSTER__DNS__'], ['__PILLAR__CLUSTER__DNS__'], ['__PILLAR__CLUSTER__DNS__'], ['__PILLAR__UPSTREAM__SERVERS__']]);
    expect(facts).to.deep.include({ loopPlugin: true, forwardsToResolvConf: false, forwardAddresses: [] });
  });

  it('Kubernetes docs (kube-dns translated, CoreDNS 1.2): proxy is a forward, stub domains are their own blocks', () => {
    const corefile = expectOk(parseCorefile(readFixture('dns/corefile/k8s-docs-stubdomains-proxy-a4da59c.corefile')));
    expect(corefile.servers.map((s) => s.keys)).to.deep.equal([['.:53'], ['abc.com:53'], ['my.cluster.local:53']]);
    expect(corefile.servers[0]!.plugins.find((p) => p.name === 'federation')!.options).to.deep.equal(['foo foo.feddomain.com']);
    const facts = corefileFacts(corefile);
    expect(facts.forwards).to.have.length(3);
    expect(facts.forwards.map((f) => [f.from, ...f.to])).to.deep.equal([['.', '8.8.8.8', '8.8.4.4'], ['.', '1.2.3.4'], ['.', '2.3.4.5']]);
    expect(facts).to.deep.include({ loopPlugin: false, forwardsToResolvConf: false, forwardAddresses: ['8.8.8.8', '8.8.4.4', '1.2.3.4', '2.3.4.5'] });
  });

  it('a published kind ConfigMap (tkng.io) reads like kubeadm\'s', () => {
    const facts = readCorefile(corefileOfConfigMap('dns/tkng-coredns-configmap-corefile.txt'));
    expect(facts.plugins).to.deep.equal(['errors', 'health', 'ready', 'kubernetes', 'prometheus', 'forward', 'cache', 'loop', 'reload', 'loadbalance']);
    expect(facts).to.deep.include({ loopPlugin: true, forwardsToResolvConf: true, forwardAddresses: [] });
  });

  it('empty is a Corefile with no block; text that never opens a block is unreadable, not empty', () => {
    for (const text of ['', '\n\n', '# only a comment\n']) {
      const r = parseCorefile(text);
      expect(r.ok, JSON.stringify(text)).to.equal(true);
      expect(r.ok && r.value).to.deep.equal({ servers: [], topLevel: [] });
    }
    const r = parseCorefile('<html><body>502 Bad Gateway</body></html>\n');
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.error.reason).to.equal('unrecognised-text');
      expect(r.error.message).to.equal('Corefile: no server block ("zone:port {") found');
    }
    // dns-check reads either as "no plugin": an empty Corefile really forwards nothing.
    expect(readCorefile('')).to.deep.equal({ forwards: [], plugins: [], loopPlugin: false, forwardsToResolvConf: false, forwardAddresses: [] });
  });

  it('unbalanced braces: the blocks that did open still count, the stray or missing brace is named', () => {
    const open = parseCorefile('.:53 {\n    forward . 10.0.0.2\n');
    expect(open.ok).to.equal(true);
    if (open.ok) {
      expect(open.skipped).to.have.length(1);
      expect(open.skipped[0]!.message).to.equal('1 block(s) left open at the end');
      expect(corefileFacts(open.value).forwardAddresses).to.deep.equal(['10.0.0.2']);
    }
    const stray = parseCorefile('.:53 {\n    loop\n}\n}\n');
    expect(stray.ok).to.equal(true);
    if (stray.ok) {
      expect(stray.skipped).to.have.length(1);
      expect(stray.skipped[0]).to.deep.include({ position: 'line 4', message: 'a "}" closes no open block' });
    }
  });

  it('forward targets: dns://, ports and IPv6 brackets stripped; files, tls:// and names are not addresses', () => {
    expect(forwardTargetAddress('dns://10.0.0.3:53')).to.equal('10.0.0.3');
    expect(forwardTargetAddress('10.0.0.10:8600')).to.equal('10.0.0.10');
    expect(forwardTargetAddress('[2001:db8::1]:53')).to.equal('2001:db8::1');
    expect(forwardTargetAddress('127.0.0.53')).to.equal('127.0.0.53');
    expect(forwardTargetAddress('/etc/resolv.conf')).to.equal(null);
    expect(forwardTargetAddress('tls://1.1.1.1')).to.equal(null);
    expect(forwardTargetAddress('consul-client.consul.svc.cluster.local:8600')).to.equal(null);
    expect(forwardTargetAddress('__PILLAR__UPSTREAM__SERVERS__')).to.equal(null);
  });
});
