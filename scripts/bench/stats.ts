// Small helpers the benchmark scripts share: medians, a plain text table, the machine line.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** The machine and its load, printed with every set of figures (other jobs share these 2 cores). */
export function printUptime(what: string): void {
  const up = execFileSync('uptime', { encoding: 'utf8' }).trim();
  process.stdout.write(`== ${what}: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; uptime: ${up}\n`);
}
