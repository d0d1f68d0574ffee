// ipvsadm output -> virtual services with their real servers.
// Formats: `ipvsadm -Ln` (the table), `ipvsadm -Ln --stats` / `--rate` (counters instead of
// weights), and `ipvsadm -S -n` (save format: `-A -t VIP:PORT -s rr`, `-a -t ... -r RIP:PORT -m -w 1`).

export type IpvsProtocol = 'tcp' | 'udp' | 'sctp' | 'fwm';
export type IpvsForwardMethod = 'masq' | 'route' | 'tunnel' | 'local' | 'unknown';

export interface IpvsRealServer {
  ip: string;
  port: number;
  forward: IpvsForwardMethod;
  weight: number | null; // null in --stats/--rate listings
  activeConnections: number | null;
  inactiveConnections: number | null;
  stats: Record<string, number> | null; // --stats / --rate columns: conns, inpkts, ... or cps, inpps, ...
  raw: string;
}

export interface IpvsVirtualService {
  protocol: IpvsProtocol;
  vip: string; // for fwm services, the firewall mark
  port: number | null; // null for fwm
  scheduler: string | null;
  persistentSeconds: number | null; // "persistent 10800" / -p 10800
  persistenceMask: string | null; // "mask 0.0.0.0" / -M
  flags: string[]; // scheduler flags and others: ops, sh-fallback, ...
  stats: Record<string, number> | null;
  realServers: IpvsRealServer[];
  raw: string;
}

export interface IpvsTable {
  format: 'list' | 'save' | 'empty';
  version: string | null; // "1.2.1"
  size: number | null; // connection hash table size
  listing: 'plain' | 'stats' | 'rate' | null;
  services: IpvsVirtualService[];
  complete: boolean;
  warnings: string[];
}

const FORWARD: Record<string, IpvsForwardMethod> = {
  Masq: 'masq',
  Route: 'route',
  Tunnel: 'tunnel',
  Local: 'local',
  '-m': 'masq',
  '-g': 'route',
  '-i': 'tunnel',
};

// "10.96.0.1:443" or "[fd00::1]:443"
function splitEndpoint(s: string): { ip: string; port: number } | null {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close === -1) return null;
    return { ip: s.slice(1, close), port: Number(s.slice(close + 2)) };
  }
  const colon = s.lastIndexOf(':');
  if (colon === -1) return null;
  return { ip: s.slice(0, colon), port: Number(s.slice(colon + 1)) };
}

// ipvsadm prints big counters with K/M/G suffixes in --stats / --rate.
function parseCount(s: string): number {
  const m = s.match(/^(\d+(?:\.\d+)?)([KMGT]?)$/);
  if (m === null) return Number.NaN;
  const mult = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * mult;
}

export function parseIpvsadm(text: string): IpvsTable {
  const table: IpvsTable = {
    format: 'empty',
    version: null,
    size: null,
    listing: null,
    services: [],
    complete: true,
    warnings: [],
  };
  let statColumns: string[] = [];
  let current: IpvsVirtualService | null = null;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = (lines[n] as string).replace(/\r$/, '');
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const tok = line.split(/\s+/);
    const head = tok[0] as string;
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^IP Virtual Server version (\S+) \(size=(\d+)\)/)) !== null) {
      table.format = 'list';
      table.version = m[1] as string;
      table.size = Number(m[2]);
      continue;
    }
    if (head === 'Prot') {
      table.format = 'list';
      // "Prot LocalAddress:Port Scheduler Flags" or "... Conns InPkts OutPkts InBytes OutBytes"
      statColumns = tok.slice(2).map((c) => c.toLowerCase());
      table.listing = statColumns.includes('conns') ? 'stats' : statColumns.includes('cps') ? 'rate' : 'plain';
      if (table.listing === 'plain') statColumns = [];
      continue;
    }
    if (head === '->' && tok[1] === 'RemoteAddress:Port') continue;
    if (head === 'TCP' || head === 'UDP' || head === 'SCTP' || head === 'FWM') {
      table.format = 'list';
      const protocol = head.toLowerCase() as IpvsProtocol;
      const ep = protocol === 'fwm' ? { ip: tok[1] as string, port: null } : splitEndpoint(tok[1] ?? '');
      if (ep === null) {
        table.complete = false;
        table.warnings.push(`line ${n + 1}: virtual service not understood: ${line}`);
        current = null;
        continue;
      }
      current = {
        protocol,
        vip: ep.ip,
        port: ep.port,
        scheduler: null,
        persistentSeconds: null,
        persistenceMask: null,
        flags: [],
        stats: null,
        realServers: [],
        raw,
      };
      if (statColumns.length > 0) {
        current.stats = statsOf(statColumns, tok.slice(2));
      } else {
        current.scheduler = tok[2] ?? null;
        for (let i = 3; i < tok.length; i++) {
          const t = tok[i] as string;
          if (t === 'persistent') current.persistentSeconds = Number(tok[++i]);
          else if (t === 'mask') current.persistenceMask = tok[++i] ?? null;
          else current.flags.push(t);
        }
      }
      table.services.push(current);
      continue;
    }
    if (head === '->') {
      if (current === null) {
        table.complete = false;
        table.warnings.push(`line ${n + 1}: real server before any virtual service`);
        continue;
      }
      const ep = splitEndpoint(tok[1] ?? '');
      if (ep === null) {
        table.warnings.push(`line ${n + 1}: real server not understood: ${line}`);
        continue;
      }
      const rs: IpvsRealServer = {
        ip: ep.ip,
        port: ep.port,
        forward: 'unknown',
        weight: null,
        activeConnections: null,
        inactiveConnections: null,
        stats: null,
        raw,
      };
      if (statColumns.length > 0) {
        rs.stats = statsOf(statColumns, tok.slice(2));
      } else {
        rs.forward = FORWARD[tok[2] ?? ''] ?? 'unknown';
        rs.weight = tok[3] !== undefined ? Number(tok[3]) : null;
        rs.activeConnections = tok[4] !== undefined ? Number(tok[4]) : null;
        rs.inactiveConnections = tok[5] !== undefined ? Number(tok[5]) : null;
      }
      current.realServers.push(rs);
      continue;
    }
    if (head === '-A' || head === '-a') {
      table.format = 'save';
      parseSaveLine(table, tok, raw, n + 1);
      continue;
    }
    table.complete = false;
    table.warnings.push(`line ${n + 1}: not ipvsadm output: ${line.slice(0, 200)}`);
  }
  return table;
}

function statsOf(columns: string[], values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  columns.forEach((c, i) => {
    const v = values[i];
    if (v !== undefined) out[c] = parseCount(v);
  });
  return out;
}

function parseSaveLine(table: IpvsTable, tok: string[], raw: string, lineNo: number): void {
  let protocol: IpvsProtocol | null = null;
  let vipSpec = '';
  let realSpec: string | null = null;
  let scheduler: string | null = null;
  let persistent: number | null = null;
  let mask: string | null = null;
  let forward: IpvsForwardMethod = 'unknown';
  let weight: number | null = null;
  const flags: string[] = [];
  for (let i = 1; i < tok.length; i++) {
    const t = tok[i] as string;
    const v = tok[i + 1] ?? '';
    switch (t) {
      case '-t':
      case '--tcp-service':
        protocol = 'tcp';
        vipSpec = v;
        i++;
        break;
      case '-u':
      case '--udp-service':
        protocol = 'udp';
        vipSpec = v;
        i++;
        break;
      case '--sctp-service':
        protocol = 'sctp';
        vipSpec = v;
        i++;
        break;
      case '-f':
      case '--fwmark-service':
        protocol = 'fwm';
        vipSpec = v;
        i++;
        break;
      case '-r':
      case '--real-server':
        realSpec = v;
        i++;
        break;
      case '-s':
      case '--scheduler':
        scheduler = v;
        i++;
        break;
      case '-p':
      case '--persistent':
        persistent = /^\d+$/.test(v) ? Number(v) : 300;
        if (/^\d+$/.test(v)) i++;
        break;
      case '-M':
      case '--netmask':
        mask = v;
        i++;
        break;
      case '-w':
      case '--weight':
        weight = Number(v);
        i++;
        break;
      case '-m':
      case '-g':
      case '-i':
        forward = FORWARD[t] ?? 'unknown';
        break;
      default:
        flags.push(t);
    }
  }
  if (protocol === null) {
    table.complete = false;
    table.warnings.push(`line ${lineNo}: no service address: ${raw}`);
    return;
  }
  const ep = protocol === 'fwm' ? { ip: vipSpec, port: null } : splitEndpoint(vipSpec);
  if (ep === null) return;
  let svc = table.services.find((s) => s.protocol === protocol && s.vip === ep.ip && s.port === ep.port);
  if (tok[0] === '-A' || svc === undefined) {
    if (svc === undefined) {
      svc = {
        protocol,
        vip: ep.ip,
        port: ep.port,
        scheduler,
        persistentSeconds: persistent,
        persistenceMask: mask,
        flags,
        stats: null,
        realServers: [],
        raw,
      };
      table.services.push(svc);
      // a real server whose -A line is missing: the excerpt is partial (grep-filtered)
      if (tok[0] === '-a') {
        table.complete = false;
        table.warnings.push(`line ${lineNo}: real server of ${vipSpec} without its -A line`);
      }
    }
  }
  if (tok[0] === '-a' && realSpec !== null) {
    const rs = splitEndpoint(realSpec);
    if (rs === null) return;
    svc.realServers.push({
      ip: rs.ip,
      port: rs.port,
      forward,
      weight,
      activeConnections: null,
      inactiveConnections: null,
      stats: null,
      raw,
    });
  }
}

export function findIpvsService(
  table: IpvsTable,
  protocol: IpvsProtocol,
  vip: string,
  port: number,
): IpvsVirtualService | undefined {
  return table.services.find((s) => s.protocol === protocol && s.vip === vip && s.port === port);
}
