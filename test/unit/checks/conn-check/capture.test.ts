import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNodeScriptArgv, encodeNodeRequest, loadNodeScript } from '../../../../src/node-script/node-script.js';
import { parseNodeScriptOutput } from '../../../../src/probe/sections.js';
import { captureRequests, checkPcapDir, summariseCaptures, writePcapFiles, type CaptureHop, type CapturePlan, type PcapFiles } from '../../../../src/checks/conn-check/capture.js';
import type { CaptureFlow } from '../../../../src/checks/conn-check/capture-summary.js';
import { readPcapInfo } from '../../../../src/parse/pcap.js';
import { UserError } from '../../../../src/errors.js';
import { readFixture } from '../../parse/fixture.js';

const FLOW: CaptureFlow = { protocol: 'tcp', source: '10.244.3.3', destination: '10.244.1.1', port: 8081 };
const WEB1_ETH0: CaptureHop = { node: 'lab-node-1', iface: 'eth0', namespace: { kind: 'pod', name: 'web-1', containerId: 'abc123', podIP: '10.244.1.1' } };
const CAPS = { packets: 200, seconds: 20, snapBytes: 256, pcapBytes: 1048576 };

/** A plan whose one capture carries the handle the recorded fixture used. */
function planWithId(id: string, pcapBytes: number): CapturePlan {
  const plan = captureRequests([WEB1_ETH0], FLOW, { ...CAPS, pcapBytes });
  return { ...plan, captures: [{ ...plan.captures[0]!, id }] };
}
const fixtureOutput = (name: string) => new Map([['lab-node-1', parseNodeScriptOutput(readFixture(`tcpdump/${name}`), 'FIXTURE')]]);

function memoryFiles(dirs: string[]): PcapFiles & { written: Map<string, Uint8Array> } {
  const written = new Map<string, Uint8Array>();
  return { written, isDirectory: async (p) => dirs.includes(p), write: (p, b) => void written.set(p, b) };
}

describe('capture requests', () => {
  it('per node: the pod lookup, then the start; the stop asks for the pcap only when told', () => {
    const hostVeth: CaptureHop = { node: 'lab-node-1', iface: 'cali1a2b3c4d5e6', namespace: { kind: 'node' } };
    const client: CaptureHop = { node: 'lab-node-3', iface: 'eth0', namespace: { kind: 'pod', name: 'client-1', containerId: null, podIP: '10.244.3.3' } };
    const plan = captureRequests([WEB1_ETH0, hostVeth, client], FLOW, { ...CAPS, pcapBytes: 0 }, 'r1');
    expect([...plan.start.keys()]).to.deep.equal(['lab-node-1', 'lab-node-3']);
    expect(plan.start.get('lab-node-1')!.map(encodeNodeRequest)).to.deep.equal([
      'podpid:cap0:abc123:10.244.1.1',
      'capture-start:r1c0:cap0:eth0:tcp:10.244.3.3:10.244.1.1:8081:200:20:256',
      'capture-start:r1c1:host:cali1a2b3c4d5e6:tcp:10.244.3.3:10.244.1.1:8081:200:20:256',
    ]);
    expect(plan.start.get('lab-node-3')!.map(encodeNodeRequest)).to.deep.equal([
      'podpid:cap2:none:10.244.3.3',
      'capture-start:r1c2:cap2:eth0:tcp:10.244.3.3:10.244.1.1:8081:200:20:256',
    ]);
    expect(plan.stop.get('lab-node-1')!.map(encodeNodeRequest)).to.deep.equal(['capture-stop:r1c0:0', 'capture-stop:r1c1:0']);
    expect(plan.captures.map((c) => c.fileName)).to.deep.equal(['lab-node-1-web-1-eth0.pcap', 'lab-node-1-cali1a2b3c4d5e6.pcap', 'lab-node-3-client-1-eth0.pcap']);
  });

  it('a hop past a DNAT carries its own flow; names that would collide get a suffix', () => {
    const dnat: CaptureFlow = { protocol: 'tcp', source: '10.244.3.3', destination: '10.244.2.1', port: 8080 };
    const hop: CaptureHop = { node: 'n', iface: 'eth0', namespace: { kind: 'node' } };
    const plan = captureRequests([hop, { ...hop, flow: dnat }], { ...FLOW, destination: '10.96.100.10', port: 80 });
    expect(plan.captures.map((c) => c.flow.destination)).to.deep.equal(['10.96.100.10', '10.244.2.1']);
    expect(plan.captures.map((c) => c.fileName)).to.deep.equal(['n-eth0.pcap', 'n-eth0-2.pcap']);
  });

  it('refuses caps, addresses and interfaces it cannot pass on, in one sentence', () => {
    const bad = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(err).to.be.instanceOf(UserError);
        return (err as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(bad(() => captureRequests([WEB1_ETH0], FLOW, { ...CAPS, packets: 0 }))).to.equal('capture packets must be a whole number from 1 to 100000, not 0');
    expect(bad(() => captureRequests([WEB1_ETH0], FLOW, { ...CAPS, seconds: 1.5 }))).to.match(/^capture seconds must be/);
    expect(bad(() => captureRequests([WEB1_ETH0], FLOW, { ...CAPS, packets: 100_000, snapBytes: 1500 }))).to.equal(
      'a capture of 100000 packets of up to 1500 bytes could reach 145 MiB per hop; at most 64 MiB: lower the packet cap or the snap length',
    );
    expect(bad(() => captureRequests([WEB1_ETH0], { ...FLOW, destination: 'fd00::1' }))).to.equal('cannot capture the flow to or from fd00::1: capture takes IPv4 addresses only');
    expect(bad(() => captureRequests([WEB1_ETH0], { ...FLOW, destination: '10.244.1.01' }))).to.match(/IPv4 addresses only/);
    expect(bad(() => captureRequests([WEB1_ETH0], { ...FLOW, port: null }))).to.equal('a tcp flow needs a port from 1 to 65535');
    expect(bad(() => captureRequests([WEB1_ETH0], { ...FLOW, protocol: 'icmp' }))).to.equal('an icmp flow has no port');
    expect(bad(() => captureRequests([{ ...WEB1_ETH0, iface: 'eth0;reboot' }], FLOW))).to.match(/not an interface name$/);
  });
});

describe('capture results', () => {
  it('reads a recorded start/stop pair: the summary, what ended it, and a pcap whose records match the count', () => {
    const [hop] = summariseCaptures(planWithId('fxrst', 1048576), fixtureOutput('lab-node-script-rst-pair.txt'));
    expect(hop!.status).to.equal('captured');
    expect(hop!.problem).to.equal(null);
    expect(hop!.endedBy).to.equal('stop');
    expect(hop!.packets).to.have.length(4);
    expect(hop!.capturedCount).to.equal(4);
    expect(hop!.summary).to.deep.include({ synSent: 1, synAckSeen: 0 });
    expect(hop!.summary!.resets).to.deep.equal([{ from: '10.244.1.1', count: 1 }]);
    expect(hop!.pcapTruncated).to.equal(false);
    const info = readPcapInfo(hop!.pcap!);
    expect(info).to.deep.include({ records: 4, snapLength: 256, linkType: 1, wholeBytes: hop!.pcap!.length });
  });

  it('a pcap over its byte cap comes back cut at a record boundary and says so', () => {
    const [hop] = summariseCaptures(planWithId('fxcap', 300), fixtureOutput('lab-node-script-capped-pair.txt'));
    expect(hop!.status).to.equal('captured');
    expect(hop!.pcapTruncated).to.equal(true);
    expect(hop!.pcap!.length).to.be.at.most(300);
    const info = readPcapInfo(hop!.pcap!)!;
    expect(info.wholeBytes).to.equal(hop!.pcap!.length);
    expect(info.records).to.be.greaterThan(0);
    expect(info.records).to.be.lessThan(hop!.capturedCount!);
  });

  it('a node that sent nothing back, or a capture that never started, is said, not empty', () => {
    const plan = planWithId('fxrst', 0);
    expect(summariseCaptures(plan, new Map())[0]).to.deep.include({ status: 'not-captured', problem: 'could not capture: no output from node lab-node-1', summary: null });
    const other = summariseCaptures(planWithId('nosuch', 0), fixtureOutput('lab-node-script-rst-pair.txt'))[0]!;
    expect(other).to.deep.include({ status: 'not-captured', problem: 'could not capture: the capture was never started' });
  });

  it('--pcap DIR: refused when it does not exist; one NODE[-POD]-IFACE.pcap per hop otherwise', async () => {
    const hops = summariseCaptures(planWithId('fxrst', 1048576), fixtureOutput('lab-node-script-rst-pair.txt'));
    const files = memoryFiles(['/out']);
    let refused: unknown;
    await checkPcapDir('/nope', files).catch((err: unknown) => (refused = err));
    expect(refused).to.be.instanceOf(UserError);
    expect((refused as Error).message).to.equal('--pcap /nope: no such directory');
    expect([...writePcapFiles('/out', hops, files).values()]).to.deep.equal(['/out/lab-node-1-web-1-eth0.pcap']);
    expect(files.written.get('/out/lab-node-1-web-1-eth0.pcap')).to.equal(hops[0]!.pcap);
  });
});

describe('node script capture requests', () => {
  const T = 'tok';
  // The probe image's shell and applets without tcpdump: even a request that passed the checks by
  // mistake could not capture on this machine.
  const busybox = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
  let bin = '';
  before(function () {
    if (!busybox) this.skip(); // scripts/setup.sh installs it
    bin = mkdtempSync(join(tmpdir(), 'netdiag-notcpdump-'));
    for (const applet of ['sh', 'grep', 'sed', 'mktemp', 'rm', 'cat', 'timeout', 'mkdir', 'date', 'printf']) symlinkSync(busybox, join(bin, applet));
  });
  after(() => {
    if (bin) rmSync(bin, { recursive: true, force: true });
  });
  const runScript = (requests: string[]) =>
    spawnSync(join(bin, 'sh'), ['-c', loadNodeScript(), 'netdiag-node', T, ...requests], {
      env: { PATH: bin, NETDIAG_HOST_PID: String(process.pid) },
      encoding: 'utf8',
    });

  it('refuses fields outside the closed patterns, running nothing', () => {
    const start = (fields: string) => runScript([`capture-start:${fields}`]);
    for (const [bad, what] of [
      ['id1:host:eth0:tcp:10.0.0.1:10.0.0.02:80:10:5:256', 'capture address'],
      ['id1:host:eth0:tcp:10.0.0.1:10.0.0.2:80:10:5:256:x', 'capture field count'],
      ['id1:host:eth0;id:tcp:10.0.0.1:10.0.0.2:80:10:5:256', 'capture interface'],
      ['id1:host:eth0:tcp or 1=1:10.0.0.1:10.0.0.2:80:10:5:256', 'capture protocol'],
      ['id1:host:eth0:tcp:10.0.0.1:10.0.0.2:0:10:5:256', 'capture port'],
      ['id1:host:eth0:icmp:10.0.0.1:10.0.0.2:80:10:5:256', 'capture port'],
      ['id1:host:eth0:tcp:10.0.0.1:10.0.0.2:80:0:5:256', 'capture limit'],
      ['id1:host:eth0:tcp:10.0.0.1:10.0.0.2:80:10:5:32', 'capture limit'],
      ['id1:host:eth0:tcp:10.0.0.1:10.0.0.2:80:100000:5:1500', 'capture limit'],
      ['i-d:host:eth0:tcp:10.0.0.1:10.0.0.2:80:10:5:256', 'capture id'],
      ['id1:host:*:tcp:10.0.0.1:10.0.0.2:80:10:5:256', 'capture interface'],
    ] as const) {
      const run = start(bad);
      expect(run.status, bad).to.equal(2);
      expect(run.stderr, bad).to.equal(`netdiag-node: bad ${what} in request\n`);
      expect(run.stdout, bad).to.equal('');
    }
    expect(runScript(['capture-stop:id1:x']).status).to.equal(2);
    expect(runScript(['capture-stop:id1:99999999999']).stderr).to.equal('netdiag-node: bad capture pcap limit in request\n');
  });

  it('an image without tcpdump says so in the start section, with no capture left behind', () => {
    const argv = buildNodeScriptArgv(T, [{ kind: 'capture-start', id: 'nt1', where: 'host', iface: 'eth0', protocol: 'tcp', source: '10.0.0.1', destination: '10.0.0.2', port: 80, packets: 10, seconds: 5, snapBytes: 256 }]);
    const run = spawnSync(join(bin, 'sh'), argv.slice(1), { env: { PATH: bin, NETDIAG_SCRIPT: loadNodeScript(), NETDIAG_HOST_PID: String(process.pid) }, encoding: 'utf8' });
    const out = parseNodeScriptOutput(run.stdout, T);
    expect(out.complete).to.equal(true);
    expect(out.sections.get('capture/nt1/start')).to.deep.include({ exitCode: 127, stdout: 'could not capture: tcpdump not in the image\n' });
    const plan = captureRequests([{ node: 'n1', iface: 'eth0', namespace: { kind: 'node' } }], { protocol: 'tcp', source: '10.0.0.1', destination: '10.0.0.2', port: 80 });
    const [hop] = summariseCaptures({ ...plan, captures: [{ ...plan.captures[0]!, id: 'nt1' }] }, new Map([['n1', out]]));
    expect(hop).to.deep.include({ status: 'not-captured', problem: 'could not capture: tcpdump not in the image' });
    expect(existsSync(join(tmpdir(), 'netdiag-capture-nt1'))).to.equal(false);
  });
});
