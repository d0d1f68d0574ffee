// Benchmark: parse + resolve of kube-proxy iptables-save dumps for 1k / 10k / 50k Services.
// Each size runs in its own child process so peak RSS is that size's alone; `wc -l` on the same
// file is printed as the floor (the cost of just reading the bytes once).
//
// usage: node --import ./test/ts-node-register.mjs scripts/bench-iptables.ts [1000 10000 50000]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildGeneratedServices, generateIptablesSave } from './gen-kube-proxy-dump.js';
import { parseIptablesSave } from '../src/kube-proxy/iptables-save.js';
import {
  buildServiceChainFromIptables,
  findMasqueradeScopes,
  listProgrammedServicePorts,
} from '../src/kube-proxy/iptables-walk.js';

interface BenchResult {
  services: number;
  lines: number;
  megabytes: number;
  readMs: number;
  parseMs: number;
  resolveMs: number;
  peakRssMb: number;
  wcMs: number;
}

function runOne(services: number, file: string): BenchResult {
  const t0 = performance.now();
  const text = readFileSync(file, 'utf8');
  const t1 = performance.now();
  const dump = parseIptablesSave(text);
  const t2 = performance.now();
  // resolve: what trace-svc does with a dump: list programmed ports, find the masquerade CIDR,
  // and trace a packet to the first, middle and last Service (first match wins, so the last
  // Service scans the whole of KUBE-SERVICES).
  const ports = listProgrammedServicePorts(dump);
  const scopes = findMasqueradeScopes(dump);
  const all = buildGeneratedServices({ services, seed: 1 });
  let endpoints = 0;
  for (const s of [all[0], all[Math.floor(all.length / 2)], all[all.length - 2]]) {
    if (s === undefined) continue;
    const sc = buildServiceChainFromIptables(dump, {
      protocol: s.protocol,
      sourceIp: '10.244.7.7',
      destinationIp: s.clusterIp,
      destinationPort: s.port,
      hook: 'prerouting',
    });
    endpoints += sc.endpoints.length;
  }
  const t3 = performance.now();
  const clusterIpPorts = ports.filter((p) => p.kind === 'cluster-ip').length;
  if (clusterIpPorts !== services || scopes.clusterCidr === null || endpoints === 0) {
    throw new Error(`bench sanity check failed: ${clusterIpPorts} cluster-IP ports, ${endpoints} endpoints`);
  }
  const w0 = performance.now();
  const wc = execFileSync('wc', ['-l', file], { encoding: 'utf8' });
  const w1 = performance.now();
  return {
    services,
    lines: Number(wc.trim().split(/\s+/)[0]),
    megabytes: statSync(file).size / 1e6,
    readMs: t1 - t0,
    parseMs: t2 - t1,
    resolveMs: t3 - t2,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    wcMs: w1 - w0,
  };
}

function main(argv: string[]): void {
  const oneAt = argv.indexOf('--one');
  if (oneAt !== -1) {
    const res = runOne(Number(argv[oneAt + 1]), argv[oneAt + 2] as string);
    process.stdout.write(JSON.stringify(res) + '\n');
    return;
  }
  const sizes = argv.length > 0 ? argv.map(Number) : [1000, 10000, 50000];
  const dir = mkdtempSync(join(tmpdir(), 'netdiag-bench-'));
  const self = fileURLToPath(import.meta.url);
  try {
    const rows: BenchResult[] = [];
    for (const n of sizes) {
      const file = join(dir, `iptables-${n}.txt`);
      writeFileSync(file, generateIptablesSave({ services: n, seed: 1 }));
      const out = execFileSync(process.execPath, [...process.execArgv, self, '--one', String(n), file], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      rows.push(JSON.parse(out.trim().split('\n').pop() as string) as BenchResult);
    }
    const f = (x: number, d = 0): string => x.toFixed(d);
    process.stdout.write('services    lines      MB   read ms  parse ms  resolve ms  parse+resolve ms  peak RSS MB  wc -l ms\n');
    for (const r of rows) {
      process.stdout.write(
        `${String(r.services).padStart(8)} ${String(r.lines).padStart(8)} ${f(r.megabytes, 1).padStart(7)} ${f(r.readMs).padStart(9)} ${f(r.parseMs).padStart(9)} ${f(r.resolveMs).padStart(11)} ${f(r.parseMs + r.resolveMs).padStart(17)} ${f(r.peakRssMb).padStart(12)} ${f(r.wcMs).padStart(9)}\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
