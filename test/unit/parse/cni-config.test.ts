import { expect } from 'chai';
import { CNI_CONF_DIRS, parseCniConfigListing } from '../../../src/parse/cni-config.js';
import { snapshotSection } from './snapshot-section.js';

describe('parse/cni-config: the host/cni-conf listing', () => {
  it('a Calico node before the "#dir" framing: /etc/cni/net.d with one .conflist (lab capture)', () => {
    const section = snapshotSection('node-check/healthy-all', 'lab-node-1', 'host/cni-conf');
    expect(section.exitCode).to.equal(0);
    const dirs = parseCniConfigListing(section.stdout);
    expect(dirs).to.have.length(1);
    expect(dirs[0]!.dir).to.equal('/etc/cni/net.d');
    expect(dirs[0]!.configs).to.have.length(1);
    expect(dirs[0]!.configs[0]).to.deep.include({ name: '10-calico.conflist', validJson: true, pluginType: 'calico' });
    // The content is kept whole, per-node values included (node-check hashes it without them).
    expect(dirs[0]!.configs[0]!.text).to.match(/^\{[\s\S]*"nodename": "lab-node-1"[\s\S]*\}$/);
  });

  it('a flannel node: the first plugin of the list names it (lab capture)', () => {
    const dirs = parseCniConfigListing(snapshotSection('node-check/healthy-all', 'lab-node-3', 'host/cni-conf').stdout);
    expect(dirs.map((d) => d.configs.map((c) => [c.name, c.pluginType]))).to.deep.equal([[['10-flannel.conflist', 'flannel']]]);
  });

  it('k3s: the "#dir" line names the directory the config was found in (lab capture, k3s profile)', () => {
    const dirs = parseCniConfigListing(snapshotSection('node-check/profile-k3s', 'lab-node-3', 'host/cni-conf').stdout);
    expect(dirs).to.have.length(1);
    expect(dirs[0]!.dir).to.equal('/var/lib/rancher/k3s/agent/etc/cni/net.d');
    expect(dirs[0]!.configs.map((c) => [c.name, c.validJson, c.pluginType])).to.deep.equal([['10-flannel.conflist', true, 'flannel']]);
  });

  it('an existing directory with no config is an empty list, not a missing directory', () => {
    expect(parseCniConfigListing('#dir /etc/cni/net.d\n')).to.deep.equal([{ dir: '/etc/cni/net.d', configs: [] }]);
    // Output from before "#dir" framing: an empty listing is an empty /etc/cni/net.d.
    expect(parseCniConfigListing('')).to.deep.equal([{ dir: CNI_CONF_DIRS[0], configs: [] }]);
  });

  it('two directories, each with its own files; names sorted the way libcni picks them', () => {
    const text = [
      '#dir /etc/cni/net.d',
      '### 20-b.conf',
      '{"cniVersion":"0.4.0","name":"b","type":"bridge"}',
      '### 10-a.conflist',
      '{"cniVersion":"0.4.0","name":"a","plugins":[{"type":"ptp"},{"type":"portmap"}]}',
      '#dir /var/lib/rancher/rke2/agent/etc/cni/net.d',
      '### 05-x.json',
      '{"name":"x","plugins":[{"type":"calico"}]}',
      '',
    ].join('\n');
    const dirs = parseCniConfigListing(text);
    expect(dirs).to.have.length(2);
    expect(dirs.map((d) => [d.dir, d.configs.map((c) => `${c.name}=${c.pluginType}`)])).to.deep.equal([
      ['/etc/cni/net.d', ['10-a.conflist=ptp', '20-b.conf=bridge']],
      ['/var/lib/rancher/rke2/agent/etc/cni/net.d', ['05-x.json=calico']],
    ]);
  });

  it('files libcni does not load are skipped; broken JSON is kept and marked, a config without a type says so', () => {
    const text = '### calico-kubeconfig\napiVersion: v1\n### 10-calico.conflist\n{"plugins": [[,\n### 99-odd.conf\n{"name":"odd"}\n';
    const configs = parseCniConfigListing(text)[0]!.configs;
    expect(configs).to.have.length(2);
    expect(configs.map((c) => [c.name, c.validJson, c.pluginType])).to.deep.equal([
      ['10-calico.conflist', false, null],
      ['99-odd.conf', true, null],
    ]);
  });
});
