// Benchmark: bytes the node sends back for the host-kube-proxy request, before (iptables-legacy-save,
// iptables-nft-save AND iptables-save, all plain text) and after issue #10 (no duplicate
// iptables-save when both variants answer; each dump gzip+base64). Needs root.
//  - kernel round trip (1k and 10k Services): the generated dump is loaded with iptables-nft-restore
//    into a throwaway netns ndbench-x (removed after) and the real node script runs against it;
//    the decoded section is checked byte for byte against iptables-nft-save -c.
//  - 50k Services: loading them takes minutes (and failed here), so the generated file itself is
//    measured, with "[0:0] " counters added as -c prints them.
//
// usage: node --import ./test/ts-node-register.mjs scripts/bench/transfer.ts
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { generateIptablesSave } from '../gen-kube-proxy-dump.js';
import { parseNodeScriptOutput } from '../../src/probe/sections.js';
import { median, printUptime, table } from './stats.js';

const NETNS = 'ndbench-x';
const SCRIPT = join(import.meta.dirname, '../../src/node-script/netdiag-node.sh');
const TOKEN = 'bench1';

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t };
}

function bytesOf(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  return execFileSync(argv[0]!, argv.slice(1), { env, maxBuffer: 1 << 30 }).length;
}

function main(): void {
  printUptime('transfer');
  if (process.getuid?.() !== 0) {
    process.stdout.write('skip: the transfer benchmark needs root (ip netns, iptables-nft-restore)\n');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-bench-transfer-'));
  const rows: string[][] = [];
  let holder: ChildProcess | null = null;
  const dropNetns = () => {
    holder?.kill('SIGKILL');
    holder = null;
    try {
      execFileSync('ip', ['netns', 'del', NETNS], { stdio: 'ignore' });
    } catch {
      // not there
    }
  };
  try {
    for (const services of [1000, 10000]) {
      dropNetns();
      const file = join(dir, `ipt-${services}.txt`);
      writeFileSync(file, generateIptablesSave({ services, seed: 1 }));
      execFileSync('ip', ['netns', 'add', NETNS]);
      const load = timed(() => execFileSync('ip', ['netns', 'exec', NETNS, 'iptables-nft-restore', file]));
      // a process in the netns stands in for the node's PID 1 (NETDIAG_HOST_PID)
      holder = spawn('ip', ['netns', 'exec', NETNS, 'sleep', '600'], { stdio: 'ignore' });
      const pid = waitForNetnsPid();
      const inNs = (argv: string[]) => ['nsenter', '-t', String(pid), '-m', '-n', '--', ...argv];
      const before: number[] = [];
      const after: number[] = [];
      let beforeBytes = 0;
      let afterBytes = 0;
      let raw = '';
      // iptables-nft-save of 10k Services takes ~20 s here: one run at that size keeps the bench short
      for (let r = 0; r < (services >= 10000 ? 1 : 3); r++) {
        const b = timed(() => ['iptables-legacy-save', 'iptables-nft-save', 'iptables-save'].reduce((n, tool) => n + bytesOf(inNs([tool, '-c'])), 0));
        before.push(b.ms);
        beforeBytes = b.value;
        const a = timed(() => execFileSync('sh', [SCRIPT, TOKEN, 'host-kube-proxy'], { env: { ...process.env, NETDIAG_HOST_PID: String(pid) }, maxBuffer: 1 << 30 }).toString('utf8'));
        after.push(a.ms);
        raw = a.value;
        afterBytes = Buffer.byteLength(raw);
      }
      const direct = execFileSync('nsenter', ['-t', String(pid), '-m', '-n', '--', 'iptables-nft-save', '-c'], { maxBuffer: 1 << 30 }).toString('utf8');
      const decoded = parseNodeScriptOutput(raw, TOKEN).sections.get('host/iptables-nft')?.stdout ?? '';
      // the save's date line differs between two calls; everything else must be identical
      const same = decoded.replace(/ on .*$/gm, '') === direct.replace(/ on .*$/gm, '');
      rows.push([
        `${services} (kernel, netns)`,
        (beforeBytes / 1e6).toFixed(2),
        (afterBytes / 1e6).toFixed(2),
        (beforeBytes / afterBytes).toFixed(1) + 'x',
        median(before).toFixed(0),
        median(after).toFixed(0),
        same ? 'yes' : 'NO',
        `load ${(load.ms / 1000).toFixed(1)} s`,
      ]);
      dropNetns();
    }
    // 50k: the generated file, with counters as -c prints them
    const text = generateIptablesSave({ services: 50000, seed: 1 }).replace(/^-A /gm, '[0:0] -A ');
    const file = join(dir, 'ipt-50000-c.txt');
    writeFileSync(file, text);
    const plain = Buffer.byteLength(text);
    const gz: number[] = [];
    let gzBytes = 0;
    for (let r = 0; r < 3; r++) {
      // the node's pipeline, on the file: arguments are positional, never spliced into the text
      const t = timed(() => execFileSync('sh', ['-c', 'gzip -c "$1" | base64', 'sh', file], { maxBuffer: 1 << 30 }));
      gz.push(t.ms);
      gzBytes = t.value.length;
    }
    const b64 = execFileSync('sh', ['-c', 'gzip -c "$1" | base64', 'sh', file], { maxBuffer: 1 << 30 }).toString('utf8');
    const dec = timed(() => gunzipSync(Buffer.from(b64, 'base64')).toString('utf8'));
    const natFilter = text.split(/^\*/m).filter((t) => t.startsWith('nat') || t.startsWith('filter')).reduce((n, t) => n + Buffer.byteLength(t) + 1, 0);
    rows.push([
      '50000 (file)',
      ((plain * 2) / 1e6).toFixed(2),
      (gzBytes / 1e6).toFixed(2),
      ((plain * 2) / gzBytes).toFixed(1) + 'x',
      '-',
      median(gz).toFixed(0),
      dec.value === text ? 'yes' : 'NO',
      `decode ${dec.ms.toFixed(0)} ms; nat+filter ${((100 * natFilter) / plain).toFixed(2)}% of all tables`,
    ]);
    process.stdout.write(
      table(['services', 'before MB', 'after MB', 'ratio', 'before ms', 'after ms', 'decodes to same dump', 'notes'], rows),
    );
    process.stdout.write(
      'before: iptables-legacy-save -c + iptables-nft-save -c + iptables-save -c (plain); after: the node script\'s host-kube-proxy output (whole request, gzip+base64).\n' +
        '50000 row: before = the dump twice (nft-save and its duplicate iptables-save), after = gzip -c | base64 of it; "after ms" is the node-side gzip+base64 time.\n',
    );
  } finally {
    dropNetns();
    rmSync(dir, { recursive: true, force: true });
  }

  function waitForNetnsPid(): number {
    const want = execFileSync('ip', ['netns', 'exec', NETNS, 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).trim();
    for (let i = 0; i < 100; i++) {
      const out = execFileSync('ip', ['netns', 'pids', NETNS], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      for (const p of out) {
        try {
          const comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
          if (comm === 'sleep' && execFileSync('readlink', [`/proc/${p}/ns/net`], { encoding: 'utf8' }).trim() === want) return Number(p);
        } catch {
          // gone
        }
      }
      execFileSync('sleep', ['0.05']);
    }
    throw new Error(`no process found in netns ${NETNS}`);
  }
}

main();
