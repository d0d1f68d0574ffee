import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../support/lab-harness.js';
import {
  KREW_API_VERSION,
  fillKrewTemplate,
  membersNotInstalled,
  parseKrewManifest,
  validateKrewManifest,
  type KrewRelease,
} from '../../../scripts/krew-manifest.js';
import { archiveName, releaseUri } from '../../../scripts/krew-release.js';

const TEMPLATE = readFileSync(join(REPO, 'plugin.yaml'), 'utf8');
const RELEASE: KrewRelease = {
  version: 'v1.2.3',
  homepage: 'https://example.test/netdiag',
  uri: 'https://example.test/netdiag/releases/download/v1.2.3/kubectl-netdiag-v1.2.3.tar.gz',
  sha256: 'a'.repeat(64),
};

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    version: string;
    shortDescription: string;
    caveats: string;
    homepage: string;
    platforms: Array<{ selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] }; uri: string; sha256: string; bin: string; files?: Array<{ from: string; to: string }> }>;
  };
};

const filled = (): Manifest => parseKrewManifest(fillKrewTemplate(TEMPLATE, RELEASE)) as Manifest;

describe('krew manifest: plugin.yaml template', () => {
  it('fills to a manifest krew accepts, with every platform pointing at the one archive', () => {
    const m = filled();
    expect(validateKrewManifest(m)).to.deep.equal([]);
    expect(m.apiVersion).to.equal(KREW_API_VERSION);
    expect(m.spec.version).to.equal('v1.2.3');
    expect(m.spec.platforms.map((p) => `${p.selector.matchLabels?.os}/${p.selector.matchLabels?.arch}`)).to.deep.equal(['linux/amd64', 'darwin/arm64']);
    for (const p of m.spec.platforms) {
      expect(p).to.deep.include({ uri: RELEASE.uri, sha256: RELEASE.sha256, bin: 'kubectl-netdiag' });
      expect(p.files?.map((f) => f.from)).to.include.members(['kubectl-netdiag', 'LICENSE']);
    }
  });

  it('installs every archive member: the entry, its chunks beside it, LICENSE and README.md', () => {
    const members = ['kubectl-netdiag', 'kubectl-netdiag-chunk-AODOKYLN.mjs', 'kubectl-netdiag-cli-WKVJTM4D.mjs', 'LICENSE', 'README.md'];
    expect(membersNotInstalled(filled(), members)).to.deep.equal([]);
    // A file no `from` matches would be dropped by krew, a chunk in a subdirectory too.
    expect(membersNotInstalled(filled(), [...members, 'chunks/x.mjs', 'other.mjs'])).to.deep.equal(['chunks/x.mjs', 'other.mjs']);
  });

  it('warns in its caveats about privileged pods and the Node.js it needs', () => {
    const caveats = filled().spec.caveats;
    expect(caveats).to.match(/PRIVILEGED probe pods/);
    expect(caveats).to.match(/Node\.js >= 20/);
  });

  it('is unfilled as committed: placeholders, not a stale sha256', () => {
    expect(TEMPLATE).to.contain('sha256: "{{SHA256}}"');
    expect(validateKrewManifest(parseKrewManifest(TEMPLATE))).to.not.deep.equal([]);
  });

  it('refuses an unknown placeholder', () => {
    expect(() => fillKrewTemplate('version: "{{VERSON}}"', RELEASE)).to.throw(/unknown template value/);
  });

  it('names the release archive after the version under the repository releases', () => {
    expect(archiveName('v0.1.0')).to.equal('kubectl-netdiag-v0.1.0.tar.gz');
    expect(releaseUri('https://example.test/netdiag/', 'v0.1.0')).to.equal('https://example.test/netdiag/releases/download/v0.1.0/kubectl-netdiag-v0.1.0.tar.gz');
  });
});

describe('krew manifest: validateKrewManifest', () => {
  // Each case breaks one of krew's rules; the problem must name it.
  const cases: Array<[string, (m: Manifest) => void, RegExp]> = [
    ['apiVersion', (m) => (m.apiVersion = 'krew.googlecontainertools.github.com/v1alpha1'), /apiVersion/],
    ['kind', (m) => (m.kind = 'Plugins'), /kind must be Plugin/],
    ['name', (m) => (m.metadata.name = 'net-diag'), /metadata.name must be netdiag/],
    ['unsafe name', (m) => (m.metadata.name = 'net diag'), /metadata.name/],
    ['version without v', (m) => (m.spec.version = '1.2.3'), /v prefix/],
    ['version not semver', (m) => (m.spec.version = 'v1.2'), /semantic version/],
    ['short description missing', (m) => (m.spec.shortDescription = ''), /shortDescription is required/],
    ['short description two lines', (m) => (m.spec.shortDescription = 'a\nb'), /one line/],
    ['short description long', (m) => (m.spec.shortDescription = 'x'.repeat(51)), /51 characters/],
    ['no platforms', (m) => (m.spec.platforms = []), /at least one platform/],
    ['http uri', (m) => (m.spec.platforms[0]!.uri = 'http://example.test/a.tar.gz'), /platforms\[0\]: uri .* https/],
    ['upper-case sha256', (m) => (m.spec.platforms[1]!.sha256 = 'A'.repeat(64)), /platforms\[1\]: sha256 .* lower-case/],
    ['short sha256', (m) => (m.spec.platforms[0]!.sha256 = 'a'.repeat(63)), /sha256/],
    ['no bin', (m) => (m.spec.platforms[0]!.bin = ''), /bin is required/],
    ['bin not installed', (m) => (m.spec.platforms[0]!.files = [{ from: 'LICENSE', to: '.' }]), /bin kubectl-netdiag is not among the files/],
    ['empty files', (m) => (m.spec.platforms[0]!.files = []), /files must be left out or be non-empty/],
    ['file without to', (m) => (m.spec.platforms[0]!.files = [{ from: 'kubectl-netdiag', to: '' }]), /files\[0\].to is required/],
    ['selector key', (m) => (m.spec.platforms[0]!.selector = { matchLabels: { os: 'linux', cpu: 'x86' } }), /selector key "cpu"/],
    ['empty selector', (m) => (m.spec.platforms[0]!.selector = {}), /selector is empty/],
    ['empty matchLabels', (m) => (m.spec.platforms[0]!.selector = { matchLabels: {}, matchExpressions: [{ key: 'os' }] }), /matchLabels is given but empty/],
    ['http homepage', (m) => (m.spec.homepage = 'http://example.test'), /homepage/],
  ];
  for (const [what, breakIt, problem] of cases) {
    it(`rejects: ${what}`, () => {
      const m = filled();
      breakIt(m);
      const problems = validateKrewManifest(m);
      expect(problems.join('\n')).to.match(problem);
    });
  }

  it('accepts bin under a renamed file and pre-release versions', () => {
    const m = filled();
    m.spec.version = 'v1.0.0-rc.1+build.5';
    m.spec.platforms[0]!.files = [{ from: 'dist/kubectl-netdiag.mjs', to: 'kubectl-netdiag' }];
    m.spec.platforms[0]!.bin = './kubectl-netdiag';
    expect(validateKrewManifest(m)).to.deep.equal([]);
  });

  it('rejects what is not a manifest at all', () => {
    expect(validateKrewManifest(parseKrewManifest(''))).to.deep.equal(['the manifest is not a YAML mapping']);
    expect(validateKrewManifest({ apiVersion: KREW_API_VERSION, kind: 'Plugin', metadata: { name: 'netdiag' } })).to.deep.equal(['spec is missing']);
  });
});
