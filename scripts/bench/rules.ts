// Benchmark: big kube-proxy rule sets (1k / 10k / 50k Services, 3 endpoints each) in iptables and
// nftables mode: parse the listing, then resolve ONE Service (what trace-svc does per port).
// Each (mode, size, repetition) runs in its own child process, so peak RSS (maxRSS) is that run's
// alone. Resolve is timed both with the destination index (the default) and with the plain
// rule-by-rule walk, in the same child, on the same parsed dump. `wc -l` on the same file is the
// floor: the cost of just reading the bytes once.
//
// usage: node --import ./test/ts-node-register.mjs scripts/bench/rules.ts [--reps 3] [--sizes 1000,10000,50000]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildGeneratedServices, generateIptablesSave, generateNftKubeProxy, type GeneratedService } from '../gen-kube-proxy-dump.js';
import { parseIptablesSave } from '../../src/kube-proxy/iptables-save.js';
import { buildServiceChainFromIptables } from '../../src/kube-proxy/iptables-walk.js';
import { findKubeProxyTable, parseNftRuleset } from '../../src/kube-proxy/nftables.js';
import { buildServiceChainFromNft } from '../../src/kube-proxy/nft-walk.js';
import type { ServicePacket } from '../../src/kube-proxy/service-chain.js';
import { median, printUptime, table } from './stats.js';

type Mode = 'iptables' | 'nft';

interface RunResult {
  readMs: number;
  parseMs: number;
  resolveMs: number; // one Service: the slowest of the probed Services
  resolvePlainMs: number | null; // same, rule-by-rule walk (iptables only)
  peakRssMb: number;
}

function packetFor(s: GeneratedService): ServicePacket {
  return { protocol: s.protocol, sourceIp: '10.244.7.7', destinationIp: s.clusterIp, destinationPort: s.port, hook: 'prerouting' };
}

// First, middle and last Service with endpoints: the last one sits at the end of KUBE-SERVICES,
// where a plain walk has tested every rule before it.
function probedServices(services: number): GeneratedService[] {
  const all = buildGeneratedServices({ services, seed: 1 }).filter((s) => s.endpoints.length > 0);
  return [all[0]!, all[Math.floor(all.length / 2)]!, all[all.length - 1]!];
}

function timeIt(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

function runChild(mode: Mode, services: number, file: string): RunResult {
  const t0 = performance.now();
  const text = readFileSync(file, 'utf8');
  const readMs = performance.now() - t0;
  const probed = probedServices(services);
  const check = (endpoints: number, s: GeneratedService) => {
    if (endpoints !== s.endpoints.length) throw new Error(`sanity: ${s.clusterIp} resolved to ${endpoints} endpoints, want ${s.endpoints.length}`);
  };
  if (mode === 'iptables') {
    let dump!: ReturnType<typeof parseIptablesSave>;
    const parseMs = timeIt(() => (dump = parseIptablesSave(text)));
    // Indexed first: it pays for building the index and for parsing the rules it reads; the plain
    // walk after it still parses every KUBE-SERVICES rule ahead of the Service (lazy rules).
    const indexed = probed.map((s) => timeIt(() => check(buildServiceChainFromIptables(dump, packetFor(s)).endpoints.length, s)));
    const plain = probed.map((s) => timeIt(() => check(buildServiceChainFromIptables(dump, packetFor(s), { ruleIndex: false }).endpoints.length, s)));
    return { readMs, parseMs, resolveMs: Math.max(...indexed), resolvePlainMs: Math.max(...plain), peakRssMb: process.resourceUsage().maxRSS / 1024 };
  }
  let table!: NonNullable<ReturnType<typeof findKubeProxyTable>>;
  const parseMs = timeIt(() => {
    const t = findKubeProxyTable(parseNftRuleset(text));
    if (t === null) throw new Error('sanity: no kube-proxy table');
    table = t;
  });
  const times = probed.map((s) => timeIt(() => check(buildServiceChainFromNft(table, packetFor(s)).endpoints.length, s)));
  return { readMs, parseMs, resolveMs: Math.max(...times), resolvePlainMs: null, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

function main(argv: string[]): void {
  const at = argv.indexOf('--child');
  if (at !== -1) {
    const res = runChild(argv[at + 1] as Mode, Number(argv[at + 2]), argv[at + 3] as string);
    process.stdout.write(JSON.stringify(res) + '\n');
    return;
  }
  const opt = (name: string, dflt: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : dflt);
  const reps = Number(opt('--reps', '3'));
  const sizes = opt('--sizes', '1000,10000,50000').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-bench-rules-'));
  const self = fileURLToPath(import.meta.url);
  printUptime('rules');
  const rows: string[][] = [];
  try {
    for (const mode of ['iptables', 'nft'] as const) {
      for (const n of sizes) {
        const file = join(dir, `${mode}-${n}.txt`);
        writeFileSync(file, mode === 'iptables' ? generateIptablesSave({ services: n, seed: 1 }) : generateNftKubeProxy({ services: n, seed: 1 }));
        const runs: RunResult[] = [];
        const wcMs: number[] = [];
        let lines = 0;
        for (let r = 0; r < reps; r++) {
          const out = execFileSync(process.execPath, [...process.execArgv, self, '--child', mode, String(n), file], { encoding: 'utf8' });
          runs.push(JSON.parse(out.trim().split('\n').pop()!) as RunResult);
          const w0 = performance.now();
          lines = Number(execFileSync('wc', ['-l', file], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
          wcMs.push(performance.now() - w0);
        }
        const mb = statSync(file).size / 1e6;
        const m = (f: (r: RunResult) => number) => median(runs.map(f));
        const parse = m((r) => r.parseMs);
        const resolve = m((r) => r.resolveMs);
        const plain = mode === 'iptables' ? m((r) => r.resolvePlainMs ?? 0) : null;
        rows.push([
          mode,
          String(n),
          String(lines),
          mb.toFixed(1),
          m((r) => r.readMs).toFixed(0),
          parse.toFixed(0),
          resolve.toFixed(1),
          plain === null ? '-' : plain.toFixed(1),
          (parse + resolve).toFixed(0),
          (mb / ((parse + resolve) / 1000)).toFixed(0),
          m((r) => r.peakRssMb).toFixed(0),
          median(wcMs).toFixed(0),
          (mb / (median(wcMs) / 1000)).toFixed(0),
        ]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`medians of ${reps} runs, each in a fresh child process\n`);
  process.stdout.write(
    table(
      ['mode', 'services', 'lines', 'MB', 'read ms', 'parse ms', 'resolve-1 ms', 'plain walk ms', 'parse+resolve ms', 'MB/s', 'maxRSS MB', 'wc -l ms', 'wc MB/s'],
      rows,
    ),
  );
  process.stdout.write('resolve-1: slowest of the first/middle/last Service (the first builds the index); plain walk: the same, every rule tested in order (kernel order, the code before issue #10)\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
