import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { findIpvsService, parseIpvsadm } from '../../../src/kube-proxy/ipvsadm.js';
import { fixturePath, readFixture } from './kube-proxy-fixtures.js';

describe('parseIpvsadm', () => {
  it('feiskyer -ln: persistent service, TCP and UDP DNS', () => {
    const t = parseIpvsadm(readFixture('ipvs/feiskyer-ipvsadm-ln-persistent.txt'));
    expect(t.format).to.equal('list');
    expect(t.version).to.equal('1.2.1');
    expect(t.size).to.equal(4096);
    expect(t.listing).to.equal('plain');
    expect(t.services.map((s) => `${s.protocol} ${s.vip}:${s.port} ${s.scheduler}`)).to.deep.equal([
      'tcp 10.0.0.1:443 rr',
      'tcp 10.0.0.10:53 rr',
      'udp 10.0.0.10:53 rr',
    ]);
    expect(t.services[0]?.persistentSeconds).to.equal(10800);
    expect(t.services[0]?.realServers).to.deep.equal([
      { ip: '192.168.0.1', port: 6443, forward: 'masq', weight: 1, activeConnections: 1, inactiveConnections: 0, stats: null, raw: '  -> 192.168.0.1:6443             Masq    1      1          0' },
    ]);
  });

  it('kube-router: persistence mask and active connections', () => {
    const t = parseIpvsadm(readFixture('ipvs/kube-router-ipvsadm-ln-persistent-mask.txt'));
    expect(t.services).to.have.length(5);
    expect(t.services[0]).to.deep.include({ persistentSeconds: 10800, persistenceMask: '0.0.0.0' });
    expect(findIpvsService(t, 'tcp', '10.3.0.15', 2379)?.realServers[0]?.activeConnections).to.equal(45);
  });

  it('opsnull: three real servers, trailing spaces', () => {
    const t = parseIpvsadm(readFixture('ipvs/opsnull-binary-install-ipvsadm-ln.txt'));
    expect(t.services[0]?.realServers.map((r) => `${r.ip}:${r.port}`)).to.deep.equal([
      '172.27.137.229:6443', '172.27.138.239:6443', '172.27.138.251:6443',
    ]);
    expect(t.complete).to.equal(true);
  });

  it('tkng kind: NodePort on every local address, UDP inactive conns', () => {
    const t = parseIpvsadm(readFixture('ipvs/tkng-kind-ipvsadm-ln.txt'));
    expect(t.services).to.have.length(12);
    expect(t.services.filter((s) => s.port === 31730).map((s) => s.vip)).to.deep.equal(['192.168.224.4', '10.244.2.1', '127.0.0.1']);
    expect(findIpvsService(t, 'udp', '10.96.0.10', 53)?.realServers.map((r) => r.inactiveConnections)).to.deep.equal([8, 8]);
  });

  it('-S -n save format (grep-filtered excerpts): ClusterIP and NodePort', () => {
    const c = parseIpvsadm(readFixture('ipvs/kubeadm-ipvsadm-S-n-save-format-clusterip.txt'));
    expect(c.format).to.equal('save');
    expect(c.services).to.have.length(1);
    expect(c.services[0]).to.deep.include({ protocol: 'tcp', vip: '10.96.54.11', port: 8080, scheduler: 'rr' });
    expect(c.services[0]?.realServers.map((r) => `${r.ip}:${r.port} ${r.forward} ${r.weight}`)).to.deep.equal([
      '10.244.1.2:8080 masq 1', '10.244.1.3:8080 masq 1', '10.244.2.2:8080 masq 1',
    ]);
    const n = parseIpvsadm(readFixture('ipvs/kubeadm-ipvsadm-S-n-save-format-nodeport.txt'));
    expect(n.services[0]?.vip).to.equal('192.168.193.172');
    expect(n.services[0]?.realServers).to.have.length(3);
  });

  it('reads every realdata ipvs fixture without throwing; non-ipvsadm files are flagged', () => {
    const files = readdirSync(fixturePath('ipvs'));
    expect(files.filter((f) => f.includes('ipvsadm')).length).to.be.greaterThan(0);
    for (const f of files) {
      const t = parseIpvsadm(readFixture(`ipvs/${f}`));
      if (f.includes('ipvsadm')) {
        expect(t.services.length, f).to.be.greaterThan(0);
        expect(t.complete, f).to.equal(true);
      } else {
        // ip addr / ip link output of kube-ipvs0 is not ipvsadm output
        expect(t.services, f).to.deep.equal([]);
        expect(t.complete, f).to.equal(false);
      }
    }
  });

  it('in every -Ln listing, one TCP/UDP/SCTP service per virtual-service line (what node-check counts)', () => {
    const listings = readdirSync(fixturePath('ipvs')).filter((f) => f.includes('ipvsadm') && parseIpvsadm(readFixture(`ipvs/${f}`)).format === 'list');
    expect(listings.length).to.be.greaterThan(2);
    for (const f of listings) {
      const text = readFixture(`ipvs/${f}`);
      const lines = text.split('\n').filter((l) => /^\s*(TCP|UDP|SCTP)\s/.test(l));
      const services = parseIpvsadm(text).services.filter((s) => s.protocol !== 'fwm');
      expect(lines.length, f).to.be.greaterThan(0);
      expect(services.length, f).to.equal(lines.length);
    }
  });

  it('save format real server without its -A line is an excerpt', () => {
    const t = parseIpvsadm('-a -u 10.96.0.10:53 -r 10.244.0.3:53 -m -w 1\n');
    expect(t.complete).to.equal(false);
    expect(t.services[0]?.protocol).to.equal('udp');
    expect(t.services[0]?.realServers[0]?.forward).to.equal('masq');
  });

  it('empty input', () => {
    const t = parseIpvsadm('');
    expect(t.format).to.equal('empty');
    expect(t.services).to.deep.equal([]);
  });
});
