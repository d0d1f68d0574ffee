import { expect } from 'chai';
import { parseIpRouteGetJson, parseIpRouteJson, parseIpRouteText, type RouteEntry } from '../../../src/parse/ip-route.js';
import { expectOk, readFixture, readFixtureStderr } from './fixture.js';

function route(routes: RouteEntry[], dst: string, table = 'main'): RouteEntry {
  const r = routes.find((x) => x.dst === dst && x.table === table);
  if (!r) throw new Error(`no route ${dst} in table ${table}`);
  return r;
}

describe('parse/ip-route: ip -j -d route show table all (lab capture)', () => {
  const routes = expectOk(parseIpRouteJson(readFixture('ip-route/lab/host-all.json')));

  it('reads main, local and IPv6 tables', () => {
    expect(routes).to.have.length(40);
    expect(new Set(routes.map((r) => r.table))).to.deep.equal(new Set(['main', 'local']));
    expect(routes.filter((r) => r.family === 'inet6')).to.have.length(22);
  });

  it('normalises "default" and keeps the raw form', () => {
    const def = route(routes, '0.0.0.0/0');
    expect(def).to.include({ dstRaw: 'default', isDefault: true, gateway: '192.168.77.2', dev: 'ul0', type: 'unicast', protocol: 'boot', scope: 'global' });
  });

  it('a Calico-style /32 route to a pod veth', () => {
    expect(route(routes, '10.77.1.2/32')).to.include({ dstRaw: '10.77.1.2', dev: 'ndfixcali0', scope: 'link', gateway: null, onlink: false });
  });

  it('blackhole, onlink via vxlan, and an mtu metric', () => {
    expect(route(routes, '10.77.1.0/24')).to.include({ type: 'blackhole', dev: null });
    expect(route(routes, '10.77.9.0/24')).to.include({ gateway: '10.77.9.0', dev: 'vxlan0', onlink: true });
    expect(route(routes, '10.77.9.0/24').flags).to.deep.equal(['onlink']);
    expect(route(routes, '10.77.8.0/24')).to.include({ mtuBytes: 1400, mtuLocked: false });
    expect(route(routes, '10.77.2.0/24')).to.include({ prefsrc: '10.77.2.1', protocol: 'kernel', mtuBytes: null });
  });

  it('local and broadcast routes of the local table', () => {
    expect(route(routes, '10.77.2.1/32', 'local')).to.include({ type: 'local', scope: 'host', dev: 'br0' });
    expect(route(routes, '10.77.2.255/32', 'local')).to.include({ type: 'broadcast', scope: 'link' });
    expect(route(routes, 'ff00::/8', 'local')).to.include({ type: 'multicast', family: 'inet6', metric: 256 });
  });

  it('keeps each record as raw JSON for evidence', () => {
    expect(JSON.parse(route(routes, '10.77.8.0/24').raw)).to.deep.include({ metrics: [{ mtu: 1400 }] });
  });

  it('empty and truncated input are typed errors', () => {
    const empty = parseIpRouteJson('');
    expect(empty.ok).to.equal(false);
    if (!empty.ok) expect(empty.error.reason).to.equal('empty-input');
    const text = readFixture('ip-route/lab/host-all.json');
    const cut = parseIpRouteJson(text.slice(0, 500));
    expect(cut.ok).to.equal(false);
    if (!cut.ok) {
      expect(cut.error.reason).to.equal('invalid-json');
      expect(cut.error.message).to.contain('ip -j -d route show table all');
    }
  });

  it('a locked mtu metric as ip -j prints it', () => {
    const [r] = expectOk(parseIpRouteJson('[{"dst":"10.0.0.0/8","dev":"eth0","flags":[],"metrics":[{"mtu":["lock",1400]}]}]'));
    expect(r).to.include({ mtuBytes: 1400, mtuLocked: true });
  });
});

describe('parse/ip-route: ip -j route get (lab captures)', () => {
  it('to a pod: the /32 veth route, no type printed means unicast', () => {
    const r = expectOk(parseIpRouteGetJson(readFixture('ip-route/lab/host-get-pod.json')));
    expect(r).to.include({ dst: '10.77.1.2/32', dev: 'ndfixcali0', prefsrc: '192.168.77.1', type: 'unicast', gateway: null });
  });

  it('across the vxlan: gateway and source on the overlay', () => {
    const r = expectOk(parseIpRouteGetJson(readFixture('ip-route/lab/host-get-vxlan.json')));
    expect(r).to.include({ gateway: '10.77.9.0', dev: 'vxlan0', prefsrc: '10.77.0.0' });
  });

  it('to a local address: type local via lo, cache ["local"]', () => {
    const r = expectOk(parseIpRouteGetJson(readFixture('ip-route/lab/host-get-local.json')));
    expect(r).to.include({ type: 'local', dev: 'lo' });
    expect(r.cache).to.deep.equal(['local']);
  });

  it('from a Calico-style pod: via 169.254.1.1', () => {
    const r = expectOk(parseIpRouteGetJson(readFixture('ip-route/lab/pod-get-peer.json')));
    expect(r).to.include({ gateway: '169.254.1.1', dev: 'eth0', prefsrc: '10.77.1.2' });
  });

  it('into a blackhole: stdout empty, the kernel error becomes a command-error', () => {
    const r = parseIpRouteGetJson(readFixture('ip-route/lab/host-get-blackhole.json'), readFixtureStderr('ip-route/lab/host-get-blackhole.json'));
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.error.reason).to.equal('command-error');
      expect(r.error.message).to.equal('ip -j route get: RTNETLINK answers: Invalid argument');
    }
  });

  it('empty output with no stderr is empty-input; [] is unexpected-shape', () => {
    const empty = parseIpRouteGetJson('');
    expect(!empty.ok && empty.error.reason).to.equal('empty-input');
    const none = parseIpRouteGetJson('[]');
    expect(!none.ok && none.error.reason).to.equal('unexpected-shape');
  });
});

describe('parse/ip-route: text form', () => {
  it('lab host routes agree with the JSON capture of the same namespace', () => {
    const text = expectOk(parseIpRouteText(readFixture('ip-route/lab/host.txt')));
    const json = expectOk(parseIpRouteJson(readFixture('ip-route/lab/host-all.json'))).filter((r) => r.table === 'main' && r.family === 'inet');
    const key = (r: RouteEntry) => [r.dst, r.type, r.gateway, r.dev, r.prefsrc, r.onlink, r.mtuBytes].join(' ');
    expect(text.map(key)).to.deep.equal(json.map(key));
  });

  it('published Calico node: blackhole, bird routes, /32 per pod', () => {
    const routes = expectOk(parseIpRouteText(readFixture('ip-route/realdata/calico-kind-node-ip-route.txt')));
    expect(routes).to.have.length(11);
    expect(route(routes, '0.0.0.0/0')).to.include({ gateway: '172.18.0.1', dev: 'eth0' });
    expect(route(routes, '10.244.190.0/24')).to.include({ type: 'blackhole', protocol: 'bird' });
    expect(route(routes, '10.244.190.3/32')).to.include({ dev: 'calid2e34ad38c6', scope: 'link' });
    expect(route(routes, '10.244.175.0/24')).to.include({ gateway: '172.18.0.4', protocol: 'bird', scope: 'global' });
  });

  it('published Calico pod: default via 169.254.1.1 and its link route', () => {
    const routes = expectOk(parseIpRouteText(readFixture('ip-route/realdata/calico-kind-pod-ip-route.txt')));
    expect(routes.map((r) => [r.dst, r.gateway, r.scope])).to.deep.equal([
      ['0.0.0.0/0', '169.254.1.1', 'global'],
      ['169.254.1.1/32', null, 'link'],
    ]);
  });

  it('published Cilium pod: the default route carries mtu 1450', () => {
    const routes = expectOk(parseIpRouteText(readFixture('ip-route/realdata/cilium-kind-pod-ip-route.txt')));
    expect(route(routes, '0.0.0.0/0')).to.include({ gateway: '10.0.0.215', mtuBytes: 1450 });
  });

  it('published flannel node: onlink routes via flannel.1, cni0 kernel route', () => {
    const routes = expectOk(parseIpRouteText(readFixture('ip-route/realdata/flannel-kind-node-ip-route.txt')));
    expect(route(routes, '10.244.0.0/24')).to.include({ gateway: '10.244.0.0', dev: 'flannel.1', onlink: true });
    expect(route(routes, '10.244.2.0/24')).to.include({ dev: 'cni0', protocol: 'kernel', prefsrc: '10.244.2.1', onlink: false });
  });

  it('published kindnet node: per-pod scope host routes', () => {
    const routes = expectOk(parseIpRouteText(readFixture('ip-route/realdata/kindnet-kind-node-ip-route.txt')));
    expect(routes.filter((r) => r.scope === 'host').map((r) => r.dev)).to.deep.equal([
      'vethf821f7f9', 'veth87514986', 'veth9829983c', 'veth010c83ae', 'vetha1079faf',
    ]);
  });

  it('empty text is no routes; garbage is unrecognised-text', () => {
    expect(expectOk(parseIpRouteText(''))).to.deep.equal([]);
    const r = parseIpRouteText('Error: ipv4: FIB table does not exist.\n');
    expect(!r.ok && r.error.reason).to.equal('unrecognised-text');
  });
});
