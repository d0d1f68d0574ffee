// The lab's stand-in for the Alpine/busybox probe image (netshoot): busybox sh and applets first on
// PATH, the real tools netshoot installs (iproute2, util-linux, iputils, netcat) from Debian, and an
// exec that enters only the node's network namespace, as a hostNetwork/hostPID container is.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildExecCommand, prepareProbeImage, REAL_TOOLS_IN_PROBE_IMAGE } from '../../../lab/api-server/exec.js';

const BUSYBOX = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();

describe('lab probe image', () => {
  it('execs into the node\'s network namespace only, never its mount namespace, with the probe\'s PATH', () => {
    expect(buildExecCommand(['sh', '-c', 'eval "$NETDIAG_SCRIPT"', 'netdiag-node', 't'], 4242, '/lab/probe-image/bin:/usr/bin')).to.deep.equal({
      file: 'nsenter',
      args: ['-t', '4242', '-n', '--', 'sh', '-c', 'eval "$NETDIAG_SCRIPT"', 'netdiag-node', 't'],
      env: { NETDIAG_HOST_PID: '4242', PATH: '/lab/probe-image/bin:/usr/bin' },
    });
  });

  describe('with busybox installed', () => {
    let dir = '';
    before(function () {
      if (!BUSYBOX) this.skip(); // scripts/setup.sh installs Debian's busybox
      dir = mkdtempSync(join(tmpdir(), 'netdiag-probe-image-'));
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('puts busybox applets first on PATH, except the tools netshoot installs for real', () => {
      const path = prepareProbeImage(dir);
      const bin = join(dir, 'probe-image', 'bin');
      expect(path.startsWith(`${bin}:`)).to.equal(true);
      for (const applet of ['sh', 'grep', 'sed', 'timeout', 'gzip', 'base64', 'mktemp', 'readlink']) expect(readlinkSync(join(bin, applet)), applet).to.equal(BUSYBOX);
      const realTools = [...REAL_TOOLS_IN_PROBE_IMAGE];
      expect(realTools).to.have.length(15);
      expect(realTools.filter((t) => existsSync(join(bin, t)))).to.deep.equal([]);
      // The shell that runs a command is busybox; `ip` resolves to iproute2 further down PATH.
      const { file, args, env } = buildExecCommand(['sh', '-c', 'readlink /proc/$$/exe; command -v ip; command -v grep'], 0, path);
      const out = execFileSync(file, args, { env: { ...env }, encoding: 'utf8' }).trim().split('\n');
      expect(out).to.have.length(3);
      expect(out[0]).to.equal(BUSYBOX);
      expect(out[1]).to.match(/^\/usr\/s?bin\/ip$/);
      expect(out[2]).to.equal(join(bin, 'grep'));
    });
  });
});
