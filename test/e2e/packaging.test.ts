// The shipped forms of the plugin, run the way users run them: the npm tarball installed offline
// into an empty prefix and found by the real kubectl, and the krew archive checked against its
// manifest and run after extraction. PATH holds only the install plus `node` and `kubectl`, so
// nothing from this repository's node_modules or bin/ can stand in for what was shipped.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KUBECONFIG, REPO, labUnavailableReason } from '../support/lab-harness.js';
import { archiveMembers, buildArchive, buildKrewRelease } from '../../scripts/krew-release.js';
import { CHUNK_PREFIX } from '../../scripts/bundle.js';
import { parseKrewManifest } from '../../scripts/krew-manifest.js';

const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };

/** A directory with only `node` and `kubectl` in it. */
function toolsDir(root: string): string {
  const dir = join(root, 'tools');
  mkdirSync(dir, { recursive: true });
  symlinkSync(process.execPath, join(dir, 'node'));
  symlinkSync(execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim(), join(dir, 'kubectl'));
  return dir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Run {
  const started = Date.now();
  const r = spawnSync(cmd, args, { env, cwd, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

describe('e2e: packaging', function () {
  this.timeout(180_000);
  let work: string;
  let tools: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'netdiag-pkg-'));
    tools = toolsDir(work);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  describe('npm package', () => {
    let prefix: string;
    let env: NodeJS.ProcessEnv;

    before(function () {
      // npm pack runs prepack, which builds the bundle.
      const packed = JSON.parse(
        execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
      ) as Array<{ filename: string; files: Array<{ path: string }> }>;
      const tarball = join(work, packed[0]!.filename);
      // The entry and every chunk it may load, as prepack just built them.
      const bundle = readdirSync(join(REPO, 'dist-bundle')).map((f) => `dist-bundle/${f}`);
      expect(bundle.filter((f) => f.startsWith(`dist-bundle/${CHUNK_PREFIX}`)).length).to.be.greaterThan(1);
      expect(packed[0]!.files.map((f) => f.path).sort()).to.deep.equal(
        ['LICENSE', 'README.md', 'bin/kubectl_complete-netdiag', ...bundle, 'docs/install.md', 'package.json'].sort(),
      );
      prefix = join(work, 'prefix');
      // An empty cache and --offline: any dependency to fetch would fail the install.
      execFileSync('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--cache', join(work, 'npm-cache'), tarball], {
        cwd: work,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      env = { PATH: `${join(prefix, 'bin')}:${tools}`, HOME: work, NO_COLOR: '1' };
    });

    it('installs only the bundle: no node_modules inside the package', () => {
      const installed = join(prefix, 'lib', 'node_modules', PKG.name);
      expect(readdirSync(installed).sort()).to.not.include('node_modules');
      expect(readdirSync(join(prefix, 'bin')).sort()).to.deep.equal(['kubectl-netdiag', 'kubectl_complete-netdiag']);
    });

    it('runs `kubectl netdiag --help` through the real kubectl from the installed prefix', () => {
      const plugins = run('kubectl', ['plugin', 'list'], env);
      expect(plugins.stdout).to.contain(join(prefix, 'bin', 'kubectl-netdiag'));
      const help = run('kubectl', ['netdiag', '--help'], env);
      expect(help.code, help.stderr).to.equal(0);
      for (const cmd of ['veth-peer', 'trace-svc', 'dns-check', 'completion']) expect(help.stdout).to.contain(`kubectl netdiag ${cmd}`);
      expect(help.stderr).to.equal('');
      const version = run('kubectl', ['netdiag', 'version'], env);
      expect(version.stdout).to.equal(`kubectl-netdiag ${PKG.version}\n`);
    });

    it('runs a real diagnosis from the bundle against the lab (node script and client-node inside)', function () {
      if (labUnavailableReason()) this.skip();
      const labEnv = { ...env, KUBECONFIG };
      const r = run('kubectl', ['netdiag', 'veth-peer', 'web-1', '-o', 'json'], labEnv, work);
      expect(r.code, r.stderr).to.equal(0);
      expect((JSON.parse(r.stdout) as { kind: string }).kind).to.equal('VethPeerReport');
      // (Cleanup is asserted by the veth-peer e2e tests; the shared lab may hold others' probe pods now.)
      const completion = run('kubectl', ['__complete', 'netdiag', 'veth-peer', 'web-'], labEnv);
      expect(completion.stdout.split('\n').filter((l) => l !== '')).to.deep.equal(['web-1', 'web-2', 'web-3', ':4']);
    });
  });

  describe('krew archive', () => {
    let archive: string;
    let manifestFile: string;
    let sha256: string;

    before(async () => {
      const result = await buildKrewRelease({
        version: `v${PKG.version}`,
        repoUrl: 'https://example.test/kubectl-netdiag',
        outDir: join(work, 'krew'),
        manifestDir: join(work, 'krew'),
        bundle: true,
        sourceDateEpoch: 0,
      });
      ({ archive, sha256 } = result);
      manifestFile = result.manifest;
    });

    it('has a manifest whose sha256 is the archive', () => {
      const actual = createHash('sha256').update(readFileSync(archive)).digest('hex');
      expect(sha256).to.equal(actual);
      const manifest = parseKrewManifest(readFileSync(manifestFile, 'utf8')) as { spec: { version: string; platforms: Array<{ sha256: string; uri: string }> } };
      expect(manifest.spec.version).to.equal(`v${PKG.version}`);
      expect(manifest.spec.platforms.length).to.be.greaterThan(0);
      for (const p of manifest.spec.platforms) {
        expect(p.sha256).to.equal(actual);
        expect(p.uri).to.equal(`https://example.test/kubectl-netdiag/releases/download/v${PKG.version}/kubectl-netdiag-v${PKG.version}.tar.gz`);
      }
    });

    it('holds exactly the bundle (entry and chunks), LICENSE and README.md, as regular files', () => {
      const listing = execFileSync('tar', ['-tvzf', archive], { encoding: 'utf8' }).trim().split('\n');
      const chunks = readdirSync(join(REPO, 'dist-bundle')).filter((f) => f.startsWith(CHUNK_PREFIX)).sort();
      expect(chunks.length).to.be.greaterThan(1);
      expect(listing.map((l) => l.split(/\s+/).at(-1))).to.deep.equal(['kubectl-netdiag', ...chunks, 'LICENSE', 'README.md']);
      expect(archiveMembers().map((m) => m.name)).to.deep.equal(['kubectl-netdiag', ...chunks, 'LICENSE', 'README.md']);
      for (const line of listing) expect(line[0], line).to.equal('-');
      expect(listing[0]).to.match(/^-rwxr-xr-x 0\/0 /);
    });

    it('is reproducible: the same inputs give the same bytes', () => {
      const again = buildArchive(join(work, 'again.tar.gz'), 0);
      expect(createHash('sha256').update(again).digest('hex')).to.equal(sha256);
    });

    it('runs from the extracted archive with only node on PATH', () => {
      const dir = join(work, 'extracted');
      mkdirSync(dir);
      execFileSync('tar', ['-xzf', archive, '-C', dir]);
      const env = { PATH: tools, HOME: work, NO_COLOR: '1' };
      const help = run(join(dir, 'kubectl-netdiag'), ['--help'], env, dir);
      expect(help.code, help.stderr).to.equal(0);
      expect(help.stdout).to.match(/^kubectl netdiag <command> \[flags\]/);
      // kubectl finds it under its krew name too.
      const viaKubectl = run('kubectl', ['netdiag', 'version'], { ...env, PATH: `${dir}:${tools}` });
      expect(viaKubectl.stdout).to.equal(`kubectl-netdiag ${PKG.version}\n`);
    });

    it('answers --help, version, explain CODE and static completion from the entry and small chunks only', () => {
      const dir = join(work, 'extracted-fast');
      mkdirSync(dir);
      execFileSync('tar', ['-xzf', archive, '-C', dir]);
      const shipped = readdirSync(dir).filter((f) => f === 'kubectl-netdiag' || f.startsWith(CHUNK_PREFIX));
      const shippedBytes = shipped.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
      // A loader hook lists every file node reads as a module.
      writeFileSync(join(work, 'record-hooks.mjs'), "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  if (url.startsWith('file:')) appendFileSync(process.env.NETDIAG_LOADED, url + '\\n');\n  return next(url, context);\n}\n");
      writeFileSync(join(work, 'record.mjs'), "import { register } from 'node:module';\nregister('./record-hooks.mjs', import.meta.url);\n");
      const loaded = (args: string[]) => {
        const list = join(work, `loaded-${args.join('_').replace(/[^a-z0-9_.-]/gi, '')}.txt`);
        writeFileSync(list, '');
        const r = spawnSync(process.execPath, ['--import', join(work, 'record.mjs'), join(dir, 'kubectl-netdiag'), ...args], {
          env: { PATH: tools, HOME: work, NO_COLOR: '1', NETDIAG_LOADED: list }, cwd: work, encoding: 'utf8', timeout: 30_000,
        });
        const files = [...new Set(readFileSync(list, 'utf8').split('\n').filter((l) => l.startsWith(`file://${dir}/`)).map((l) => l.slice(`file://${dir}/`.length)))];
        return { code: r.status, stdout: r.stdout, files, bytes: files.reduce((n, f) => n + statSync(join(dir, f)).size, 0) };
      };
      // The yardstick: a command that reaches the API client loads most of the bundle.
      const command = loaded(['veth-peer', 'web-1', '--kubeconfig', join(work, 'no-such-kubeconfig')]);
      expect(command.bytes).to.be.greaterThan(shippedBytes / 2);
      for (const args of [['--help'], ['veth-peer', '--help'], ['version'], ['explain', 'node.ip-forward-off'], ['__complete', ''], ['__complete', 'veth-peer', '-o', '']]) {
        const r = loaded(args);
        expect(r.code, args.join(' ')).to.equal(0);
        expect(r.stdout.length, args.join(' ')).to.be.greaterThan(0);
        expect(r.files.length, args.join(' ')).to.be.greaterThan(0);
        for (const f of r.files) expect(shipped, `${args.join(' ')} loads ${f}`).to.include(f);
        expect(r.bytes, `${args.join(' ')} loads ${r.files.join(', ')}`).to.be.lessThan(shippedBytes / 10);
      }
    });

    it('prints the same help from its pre-rendered texts as yargs does at run time', () => {
      const dir = join(work, 'extracted-help');
      mkdirSync(dir);
      execFileSync('tar', ['-xzf', archive, '-C', dir]);
      const env = { PATH: tools, HOME: work, NO_COLOR: '1' };
      // A third word (-v changes nothing in help) sends the line through yargs instead.
      for (const args of [['--help'], ['veth-peer', '--help'], ['node-check', '-h'], ['smoke', '--help']]) {
        const fast = run(join(dir, 'kubectl-netdiag'), args, env, dir);
        const full = run(join(dir, 'kubectl-netdiag'), [...args, '-v'], env, dir);
        expect(fast.code, args.join(' ')).to.equal(0);
        expect(fast.stdout.length, args.join(' ')).to.be.greaterThan(200);
        expect(fast.stdout, args.join(' ')).to.equal(full.stdout);
      }
    });
  });

  describe('single executable (opt-in: NETDIAG_TEST_SEA=1, ~100 MB)', () => {
    it('builds and runs --help without node on PATH', function () {
      if (process.env.NETDIAG_TEST_SEA !== '1') this.skip();
      this.timeout(300_000);
      execFileSync('bash', [join(REPO, 'scripts', 'build-sea.sh')], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
      const exe = join(REPO, 'dist-sea', 'kubectl-netdiag');
      const help = run(exe, ['--help'], { PATH: dirname(exe), HOME: work, NO_COLOR: '1' });
      expect(help.code, help.stderr).to.equal(0);
      expect(help.stdout).to.match(/^kubectl netdiag <command> \[flags\]/);
    });
  });
});
