// Builds one krew release: the archive (the ESM bundle's entry as `kubectl-netdiag` and its chunks,
// LICENSE, README.md, regular files only), its sha256, and the filled, validated manifest in krew-manifest/.
//   bash scripts/krew-release.sh --repo-url https://github.com/OWNER/kubectl-netdiag [--version v0.1.0]
//        [--out-dir dist-krew] [--manifest-dir krew-manifest] [--no-bundle]
// The archive is https://.../releases/download/VERSION/kubectl-netdiag-VERSION.tar.gz under the
// repository URL; upload it there under that name.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { CHUNK_PREFIX, DEFAULT_OUTFILE, bundleCli } from './bundle.js';
import { fillKrewTemplate, membersNotInstalled, parseKrewManifest, validateKrewManifest, type KrewRelease } from './krew-manifest.js';

const REPO = resolve(import.meta.dirname, '..');

export interface KrewReleaseOptions {
  version: string;
  repoUrl: string;
  outDir: string;
  manifestDir: string;
  bundle: boolean; // false: reuse dist-bundle/kubectl-netdiag.mjs as it is
  sourceDateEpoch: number; // archive mtimes, so the same inputs give the same sha256
}

export interface KrewReleaseResult {
  archive: string;
  sha256: string;
  manifest: string;
}

export interface ArchiveMember {
  name: string; // in the archive
  source: string;
  mode: number;
}

/** The archive's members, in order: the entry, its chunks (as built now), LICENSE, README.md. */
export function archiveMembers(): ArchiveMember[] {
  const bundleDir = dirname(DEFAULT_OUTFILE.esm);
  const chunks = readdirSync(bundleDir).filter((f) => f.startsWith(CHUNK_PREFIX) && f.endsWith('.mjs')).sort();
  return [
    { name: 'kubectl-netdiag', source: DEFAULT_OUTFILE.esm, mode: 0o755 },
    ...chunks.map((f) => ({ name: f, source: join(bundleDir, f), mode: 0o644 })),
    { name: 'LICENSE', source: join(REPO, 'LICENSE'), mode: 0o644 },
    { name: 'README.md', source: join(REPO, 'README.md'), mode: 0o644 },
  ];
}

export function archiveName(version: string): string {
  return `kubectl-netdiag-${version}.tar.gz`;
}

export function releaseUri(repoUrl: string, version: string): string {
  return `${repoUrl.replace(/\/+$/, '')}/releases/download/${version}/${archiveName(version)}`;
}

/** A gzip'd ustar archive of regular files owned by 0:0 with fixed mtimes (reproducible). */
export function buildArchive(outfile: string, sourceDateEpoch: number): Buffer {
  const stage = mkdtempSync(join(tmpdir(), 'netdiag-krew-'));
  const members = archiveMembers();
  try {
    for (const m of members) {
      copyFileSync(m.source, join(stage, m.name));
      chmodSync(join(stage, m.name), m.mode);
    }
    const tar = execFileSync(
      'tar',
      ['--create', '--format=ustar', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${sourceDateEpoch}`, '-C', stage, '-f', '-', ...members.map((m) => m.name)],
      { maxBuffer: 256 * 1024 * 1024 },
    );
    const gz = gzipSync(tar, { level: 9 }); // node's gzip header carries no name and no time
    writeFileSync(outfile, gz);
    return gz;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export async function buildKrewRelease(options: KrewReleaseOptions): Promise<KrewReleaseResult> {
  if (!/^v\d/.test(options.version)) throw new Error(`version ${options.version} needs its v prefix (v0.1.0)`);
  if (!options.repoUrl.startsWith('https://')) throw new Error(`--repo-url ${options.repoUrl} must be an https:// URL`);
  if (options.bundle) await bundleCli('esm');
  mkdirSync(options.outDir, { recursive: true });
  mkdirSync(options.manifestDir, { recursive: true });
  const archive = join(options.outDir, archiveName(options.version));
  const sha256 = createHash('sha256').update(buildArchive(archive, options.sourceDateEpoch)).digest('hex');
  const release: KrewRelease = {
    version: options.version,
    homepage: options.repoUrl.replace(/\/+$/, ''),
    uri: releaseUri(options.repoUrl, options.version),
    sha256,
  };
  const text = fillKrewTemplate(readFileSync(join(REPO, 'plugin.yaml'), 'utf8'), release);
  const parsed = parseKrewManifest(text);
  const problems = validateKrewManifest(parsed);
  const notInstalled = membersNotInstalled(parsed, archiveMembers().map((m) => m.name));
  if (notInstalled.length > 0) problems.push(`krew would not install these archive members: ${notInstalled.join(', ')}`);
  if (problems.length > 0) throw new Error(`the krew manifest is invalid:\n  ${problems.join('\n  ')}`);
  const manifest = join(options.manifestDir, `netdiag-${options.version}.yaml`);
  writeFileSync(manifest, text);
  return { archive, sha256, manifest };
}

function repoUrlFromPackageJson(): string | undefined {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { repository?: string | { url?: string } };
  const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  return url?.replace(/^git\+/, '').replace(/\.git$/, '');
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
if (isMain) {
  const { values } = parseArgs({
    options: {
      version: { type: 'string' },
      'repo-url': { type: 'string' },
      'out-dir': { type: 'string', default: join(REPO, 'dist-krew') },
      'manifest-dir': { type: 'string', default: join(REPO, 'krew-manifest') },
      'no-bundle': { type: 'boolean', default: false },
    },
  });
  const pkgVersion = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const repoUrl = values['repo-url'] ?? process.env.NETDIAG_REPO_URL ?? repoUrlFromPackageJson();
  if (!repoUrl) {
    process.stderr.write('error: no repository URL to download the archive from\nhint: pass --repo-url https://github.com/OWNER/kubectl-netdiag (or set NETDIAG_REPO_URL)\n');
    process.exit(2);
  }
  try {
    const result = await buildKrewRelease({
      version: values.version ?? `v${pkgVersion}`,
      repoUrl,
      outDir: resolve(values['out-dir']),
      manifestDir: resolve(values['manifest-dir']),
      bundle: !values['no-bundle'],
      sourceDateEpoch: Number(process.env.SOURCE_DATE_EPOCH ?? 0),
    });
    process.stdout.write(`archive  ${result.archive}\nsha256   ${result.sha256}\nmanifest ${result.manifest}\n`);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
