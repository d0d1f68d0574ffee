// Address arithmetic in one place. IPv4 as unsigned 32-bit numbers (the kube-proxy walkers test
// millions of addresses against rule CIDRs, so these stay allocation-free and cache parsed CIDRs);
// dual-stack as bigints where IPv6 matters (NetworkPolicy ipBlocks, NO_PROXY).

export function parseIpv4(s: string): number | null {
  let value = 0;
  let parts = 0;
  let cur = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (cur < 0 || cur > 255) return null;
      value = value * 256 + cur;
      parts++;
      cur = -1;
    } else if (c >= 48 && c <= 57) {
      cur = (cur < 0 ? 0 : cur * 10) + (c - 48);
    } else {
      return null;
    }
  }
  return parts === 4 ? value >>> 0 : null;
}

/**
 * "10.96.0.10/32" -> the address as a number; null for any other prefix or form. The iptables
 * walker indexes every rule's `-d` with it: the slice beats reading in place (its input is itself
 * a slice of the dump, slow to index) and parseIpv4Cidr (a cache entry per rule, 3-8x slower).
 */
export function parseIpv4HostCidr(s: string): number | null {
  return s.endsWith('/32') ? parseIpv4(s.slice(0, -3)) : null;
}

// Four decimal numbers 0-255 without leading zeros: ping and inet_aton read "010" as octal 8, so
// "010.0.0.1" would name another address than the one the user or the API meant.
const CANONICAL_IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A canonical dotted quad ("10.0.3.7"): parseIpv4 reads it and formatIpv4 gives it back unchanged. */
export function isIpv4(s: string): boolean {
  return CANONICAL_IPV4.test(s);
}

export interface Ipv4Cidr {
  network: number;
  prefix: number;
}

const cidrCache = new Map<string, Ipv4Cidr | null>();

// "10.244.0.0/16" or a bare address (as /32). Null for IPv6 or garbage.
export function parseIpv4Cidr(s: string): Ipv4Cidr | null {
  const cached = cidrCache.get(s);
  if (cached !== undefined) return cached;
  const slash = s.indexOf('/');
  const ip = parseIpv4(slash === -1 ? s : s.slice(0, slash));
  let prefix = slash === -1 ? 32 : Number(s.slice(slash + 1));
  let result: Ipv4Cidr | null = null;
  if (ip !== null && Number.isInteger(prefix) && prefix >= 0 && prefix <= 32) {
    result = { network: (ip & ipv4Mask(prefix)) >>> 0, prefix };
  } else if (ip !== null && slash !== -1) {
    // dotted netmask: 10.0.0.0/255.255.0.0
    const m = parseIpv4(s.slice(slash + 1));
    if (m !== null) {
      prefix = 32 - countTrailingZeros(m);
      result = { network: (ip & m) >>> 0, prefix };
    }
  }
  if (cidrCache.size > 200_000) cidrCache.clear();
  cidrCache.set(s, result);
  return result;
}

function countTrailingZeros(m: number): number {
  if (m === 0) return 32;
  let n = 0;
  while ((m & 1) === 0) {
    m >>>= 1;
    n++;
  }
  return n;
}

export function ipv4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function cidrContainsIp(cidr: string, ip: string): boolean {
  const c = parseIpv4Cidr(cidr);
  const a = parseIpv4(ip);
  if (c === null || a === null) return false;
  return ((a & ipv4Mask(c.prefix)) >>> 0) === c.network;
}

/** An address in 169.254.0.0/16, bare or with its prefix as ip addr prints it ("169.254.3.1/16"). */
export function isLinkLocalIpv4(address: string): boolean {
  const slash = address.indexOf('/');
  return cidrContainsIp('169.254.0.0/16', slash === -1 ? address : address.slice(0, slash));
}

// True when every address of `inner` lies in `outer` (10.244.0.0/16 covers 10.244.3.0/24).
export function cidrCoversCidr(outer: string, inner: string): boolean {
  const o = parseIpv4Cidr(outer);
  const i = parseIpv4Cidr(inner);
  if (o === null || i === null) return false;
  return o.prefix <= i.prefix && ((i.network & ipv4Mask(o.prefix)) >>> 0) === o.network;
}

/**
 * Longest-prefix match: the item whose destination CIDR covers `target` (an address, or a CIDR that
 * must lie wholly inside) with the longest prefix; the first of equals wins. Destinations that are
 * not IPv4 CIDRs are passed over (routes are normalised, so "default" arrives as 0.0.0.0/0).
 */
export function longestPrefixMatch<T>(items: readonly T[], destinationOf: (item: T) => string, target: string): T | null {
  const t = parseIpv4Cidr(target);
  if (t === null) return null;
  let best: T | null = null;
  let bestPrefix = -1;
  for (const item of items) {
    const d = parseIpv4Cidr(destinationOf(item));
    if (d === null || d.prefix <= bestPrefix || d.prefix > t.prefix) continue;
    if (((t.network & ipv4Mask(d.prefix)) >>> 0) !== d.network) continue;
    best = item;
    bestPrefix = d.prefix;
  }
  return best;
}

export function formatIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** True when the address numbers fall in the CIDR (10.244.0.0/16 holds 10.244.3.7). */
export function cidrContainsIpv4(cidr: string, ip: number | null): boolean {
  const c = parseIpv4Cidr(cidr);
  if (c === null || ip === null) return false;
  return ((ip & ipv4Mask(c.prefix)) >>> 0) === c.network;
}

export function cidrsOverlap(a: string, b: string): boolean {
  return cidrCoversCidr(a, b) || cidrCoversCidr(b, a);
}

/** "10.0.2.15/24" -> "10.0.2.0/24"; null for a host address (/32) or anything not IPv4. */
export function networkOfAddress(addressCidr: string): string | null {
  const c = parseIpv4Cidr(addressCidr);
  if (c === null || c.prefix === 32) return null;
  return `${formatIpv4(c.network)}/${c.prefix}`;
}

/**
 * The smallest IPv4 block holding every address, never longer than maxPrefix ("10.96.0.1" and
 * "10.96.100.20" -> "10.96.0.0/17"); addresses that are not IPv4 are left out, null when none is.
 */
export function coveringIpv4Cidr(addresses: readonly string[], maxPrefix = 32): string | null {
  const ips = addresses.map(parseIpv4).filter((n): n is number => n !== null);
  if (ips.length === 0) return null;
  const first = ips[0]!;
  let prefix = 32;
  for (const ip of ips) {
    while (prefix > 0 && ((ip ^ first) >>> (32 - prefix)) !== 0) prefix--;
  }
  prefix = Math.min(prefix, maxPrefix);
  return `${formatIpv4((first & ipv4Mask(prefix)) >>> 0)}/${prefix}`;
}

/** Both families: is `ip` inside `cidr`? False when either does not parse or the families differ. */
export function cidrContainsAddress(cidr: string, ip: string): boolean {
  const block = parseCidr(cidr);
  const addr = parseIp(ip);
  return block !== null && addr !== null && addr.family === block.family && cidrContains(block, addr.value);
}

export interface Cidr {
  family: 4 | 6;
  network: bigint;
  prefix: number;
}

export function cidrContains(cidr: Cidr, value: bigint): boolean {
  const bits = cidr.family === 4 ? 32 : 128;
  const shift = BigInt(bits - cidr.prefix);
  return value >> shift === cidr.network >> shift;
}

export function parseCidr(s: string): Cidr | null {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return null;
  const ip = parseIp(m[1]!);
  const prefix = Number(m[2]);
  if (ip === null || prefix > (ip.family === 4 ? 32 : 128)) return null;
  return { family: ip.family, network: ip.value, prefix };
}

export function parseIp(s: string): { family: 4 | 6; value: bigint } | null {
  if (s.includes(':')) {
    const v = parseIpv6(s);
    return v === null ? null : { family: 6, value: v };
  }
  const v = parseIpv4Big(s);
  return v === null ? null : { family: 4, value: v };
}

function parseIpv4Big(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    value = (value << 8n) | BigInt(Number(p));
  }
  return value;
}

function parseIpv6(s: string): bigint | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (text: string): number[] | null => {
    if (text === '') return [];
    const out: number[] = [];
    const items = text.split(':');
    for (const [i, item] of items.entries()) {
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIpv4Big(item);
        if (v4 === null) return null;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) {
        out.push(Number.parseInt(item, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}
