// Exec replay pieces: which argv differences may be rewritten, and frames that keep a nonce whole.
import { expect } from 'chai';
import { appendFrame, nonceRewrites, parseScaleExecMode, rewriteFrame } from '../../../lab/api-server/exec-replay.js';

const frame = (channel: number, text: string): Buffer => Buffer.concat([Buffer.from([channel]), Buffer.from(text)]);

describe('api-server exec replay', () => {
  it('rewrites only nonces (16+ hex digits) between two argv of the same shape', () => {
    const a = ['sh', '-c', 'eval "$NETDIAG_SCRIPT"', 'netdiag-node', '0123456789abcdef01234567', 'host', 'route-get/192.168.77.12'];
    const b = [...a.slice(0, 4), 'fedcba9876543210fedcba98', ...a.slice(5)];
    expect(nonceRewrites(a, a)).to.deep.equal([]);
    expect(nonceRewrites(a, b)).to.deep.equal([['0123456789abcdef01234567', 'fedcba9876543210fedcba98']]);
    expect(nonceRewrites(a, [...b.slice(0, 6), 'route-get/192.168.77.13'])).to.equal(null);
    expect(nonceRewrites(a, a.slice(0, 6))).to.equal(null);
    expect(nonceRewrites(['x', 'short1'], ['x', 'short2'])).to.equal(null);
  });

  it('merges consecutive frames of one channel so a nonce split across chunks is rewritten', () => {
    const frames: Buffer[] = [];
    appendFrame(frames, frame(1, '@@NETDIAG 0123456789ab'));
    appendFrame(frames, frame(1, 'cdef BEGIN host\n'));
    appendFrame(frames, frame(2, 'warning\n'));
    appendFrame(frames, frame(1, 'done 0123456789abcdef\n'));
    expect(frames).to.have.length(3);
    const rewritten = frames.map((f) => rewriteFrame(f, [['0123456789abcdef', 'ffffeeeeddddcccc']]));
    expect(rewritten.map((f) => [f[0], f.subarray(1).toString()])).to.deep.equal([
      [1, '@@NETDIAG ffffeeeeddddcccc BEGIN host\n'],
      [2, 'warning\n'],
      [1, 'done ffffeeeeddddcccc\n'],
    ]);
  });

  it('keeps bytes that are not text as they were', () => {
    const binary = Buffer.from([1, 0xff, 0x00, 0x80, 0x41]);
    expect(rewriteFrame(binary, [['0123456789abcdef', 'ffffeeeeddddcccc']]).equals(binary)).to.equal(true);
  });

  it('takes live or replay, and says so when given something else', () => {
    expect(parseScaleExecMode(undefined)).to.equal('live');
    expect(parseScaleExecMode('replay')).to.equal('replay');
    expect(() => parseScaleExecMode('fast')).to.throw('NDLAB_SCALE_EXEC must be "live" or "replay", got "fast"');
  });
});
