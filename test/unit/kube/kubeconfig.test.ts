import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.js';
import { UserError } from '../../../src/errors.js';

const file = (dir: string, name: string, server: string, context: string) => {
  const path = join(dir, name);
  writeFileSync(path, `apiVersion: v1
kind: Config
clusters:
- name: shared
  cluster: { server: ${server} }
users:
- name: u
  user: { token: t }
contexts:
- name: ${context}
  context: { cluster: shared, user: u, namespace: ns-${context} }
current-context: ${context}
`);
  return path;
};

describe('loadKubeConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-kc-'));
  const first = file(dir, 'a', 'https://first:6443', 'one');
  const second = file(dir, 'b', 'https://second:6443', 'two');

  it('merges KUBECONFIG like kubectl: the first file wins for names and current-context', () => {
    const kc = loadKubeConfig({}, { KUBECONFIG: `${first}:${second}` });
    expect(kc.getCurrentContext()).to.equal('one');
    expect(kc.getCurrentCluster()?.server).to.equal('https://first:6443');
    expect(kc.getContexts().map((c) => c.name)).to.deep.equal(['one', 'two']);
  });
  it('--context picks another context; an unknown one is one clear error', () => {
    expect(loadKubeConfig({ context: 'two' }, { KUBECONFIG: `${first}:${second}` }).getCurrentContext()).to.equal('two');
    expect(() => loadKubeConfig({ context: 'nope' }, { KUBECONFIG: first })).to.throw(UserError, /context "nope" does not exist/);
  });
  it('names a missing or malformed kubeconfig', () => {
    expect(() => loadKubeConfig({ kubeconfig: join(dir, 'missing') }, {})).to.throw(UserError, /does not exist/);
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'clusters: [\n');
    expect(() => loadKubeConfig({ kubeconfig: bad }, {})).to.throw(UserError, /not valid YAML/);
    expect(() => loadKubeConfig({}, { HOME: dir })).to.throw(UserError, /no kubeconfig found/);
  });

  it('uses the in-cluster service account when no kubeconfig exists (a CI job running as a pod)', () => {
    const kc = loadKubeConfig({}, { HOME: dir, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' });
    expect(kc.getCurrentCluster()?.server).to.equal('https://10.96.0.1:443');
    expect(kc.getCurrentUser()?.authProvider?.config?.tokenFile).to.equal('/var/run/secrets/kubernetes.io/serviceaccount/token');
    expect(loadKubeConfig({}, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }).getCurrentCluster()?.server).to.equal('https://[fd00::1]:443');
  });
});
