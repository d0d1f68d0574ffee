// `grep -H . /proc/sys/net/ipv4/conf/*/{arp_ignore,arp_announce,rp_filter,proxy_arp,forwarding}
//  /proc/sys/net/ipv4/ip_forward /proc/sys/net/bridge/bridge-nf-call-iptables ...` -> typed values.
// grep -H prints "path:value" per file; files that do not exist (br_netfilter not loaded) are
// absent from stdout, so every value is nullable.
import { type ParseResult, type SkippedRecord, splitLines, success, toInt } from './json-input.js';

export interface SysctlEntry {
  path: string;
  value: string;
  raw: string;
}

/** Per-interface IPv4 settings (conf/<iface>/...); `all` and `default` are keys too. */
export interface InterfaceSysctls {
  arpIgnore: number | null;
  arpAnnounce: number | null;
  rpFilter: number | null;
  proxyArp: boolean | null;
  forwarding: boolean | null;
}

export interface NodeSysctls {
  ipv4Conf: Record<string, InterfaceSysctls>;
  ipForward: boolean | null; // net.ipv4.ip_forward
  bridgeNfCallIptables: boolean | null; // net.bridge.bridge-nf-call-iptables (needs br_netfilter)
  bridgeNfCallIp6tables: boolean | null;
  entries: SysctlEntry[]; // every line read, including keys this module has no field for
}

const SOURCE = 'grep -H . /proc/sys/net/...';
const CONF_PATH = /^\/proc\/sys\/net\/ipv4\/conf\/([^/]+)\/([a-z_]+)$/;

const CONF_FIELDS: Record<string, keyof InterfaceSysctls> = {
  arp_ignore: 'arpIgnore',
  arp_announce: 'arpAnnounce',
  rp_filter: 'rpFilter',
  proxy_arp: 'proxyArp',
  forwarding: 'forwarding',
};

export function emptyInterfaceSysctls(): InterfaceSysctls {
  return { arpIgnore: null, arpAnnounce: null, rpFilter: null, proxyArp: null, forwarding: null };
}

/** Empty input is a valid (if useless) answer: no file could be read, every value stays null. */
export function parseSysctlGrep(text: string): ParseResult<NodeSysctls> {
  const result: NodeSysctls = { ipv4Conf: {}, ipForward: null, bridgeNfCallIptables: null, bridgeNfCallIp6tables: null, entries: [] };
  const skipped: SkippedRecord[] = [];
  for (const { lineNo, line } of splitLines(text)) {
    // Stage 1: "path:value". Paths under /proc/sys never contain ':'; interface names cannot.
    const m = /^(\/proc\/sys\/[^:]+):(.*)$/.exec(line);
    if (!m) {
      skipped.push({ source: SOURCE, position: `line ${lineNo}`, message: 'not a "path:value" line', raw: line });
      continue;
    }
    const path = m[1]!;
    const value = m[2]!.trim();
    result.entries.push({ path, value, raw: line });
    // Stage 2: known keys to typed fields.
    const conf = CONF_PATH.exec(path);
    const n = toInt(value);
    if (conf) {
      const field = CONF_FIELDS[conf[2]!];
      if (field === undefined) continue;
      if (n === null) {
        skipped.push({ source: SOURCE, position: `line ${lineNo}`, message: `${conf[2]} is not an integer`, raw: line });
        continue;
      }
      const iface = (result.ipv4Conf[conf[1]!] ??= emptyInterfaceSysctls());
      if (field === 'proxyArp' || field === 'forwarding') iface[field] = n !== 0;
      else iface[field] = n;
    } else if (path === '/proc/sys/net/ipv4/ip_forward') {
      result.ipForward = n === null ? null : n !== 0;
    } else if (path === '/proc/sys/net/bridge/bridge-nf-call-iptables') {
      result.bridgeNfCallIptables = n === null ? null : n !== 0;
    } else if (path === '/proc/sys/net/bridge/bridge-nf-call-ip6tables') {
      result.bridgeNfCallIp6tables = n === null ? null : n !== 0;
    }
  }
  return success(result, skipped);
}

// Effective values. Linux Documentation/networking/ip-sysctl.rst (conf/interface/* section):
//   arp_ignore:   "The max value from conf/{all,interface}/arp_ignore is used when ARP request
//                  is received on the {interface}"
//   arp_announce: "The max value from conf/{all,interface}/arp_announce is used."
//   rp_filter:    "The max value from conf/{all,interface}/rp_filter is used when doing source
//                  validation on the {interface}."
//   proxy_arp:    "proxy_arp for the interface will be enabled if at least one of
//                  conf/{all,interface}/proxy_arp is set to TRUE, it will be disabled otherwise"
// So a node with conf/all/arp_ignore=2 (seed 001) is deaf on every interface whatever the
// interface says. A value that was not read makes the effective value unknown (null): the max
// of the one that was read is only a lower bound.

function maxOfBoth(all: number | null | undefined, iface: number | null | undefined): number | null {
  if (all === null || all === undefined || iface === null || iface === undefined) return null;
  return Math.max(all, iface);
}

export function effectiveArpIgnore(all: InterfaceSysctls | undefined, iface: InterfaceSysctls | undefined): number | null {
  return maxOfBoth(all?.arpIgnore, iface?.arpIgnore);
}

export function effectiveArpAnnounce(all: InterfaceSysctls | undefined, iface: InterfaceSysctls | undefined): number | null {
  return maxOfBoth(all?.arpAnnounce, iface?.arpAnnounce);
}

export function effectiveRpFilter(all: InterfaceSysctls | undefined, iface: InterfaceSysctls | undefined): number | null {
  return maxOfBoth(all?.rpFilter, iface?.rpFilter);
}

/** OR of all and iface; true as soon as either is known true. */
export function effectiveProxyArp(all: InterfaceSysctls | undefined, iface: InterfaceSysctls | undefined): boolean | null {
  if (all?.proxyArp === true || iface?.proxyArp === true) return true;
  if (all?.proxyArp === false && iface?.proxyArp === false) return false;
  return null;
}

/** Convenience: the effective values for one interface of a parsed node. */
export function effectiveInterfaceSysctls(node: NodeSysctls, ifname: string): InterfaceSysctls {
  const all = node.ipv4Conf['all'];
  const iface = node.ipv4Conf[ifname];
  return {
    arpIgnore: effectiveArpIgnore(all, iface),
    arpAnnounce: effectiveArpAnnounce(all, iface),
    rpFilter: effectiveRpFilter(all, iface),
    proxyArp: effectiveProxyArp(all, iface),
    // IPv4 forwarding per interface is its own conf/<iface>/forwarding (ip_forward sets them all).
    forwarding: iface?.forwarding ?? null,
  };
}

export interface ConntrackUsage {
  count: number; // entries in the table now
  max: number; // the size at which the kernel drops new connections
}

/** The conntrack table's fill; null when either file was not read (nf_conntrack not loaded, or not readable). */
export function conntrackUsageOf(sysctl: NodeSysctls | null): ConntrackUsage | null {
  const value = (key: string) => {
    const e = sysctl?.entries.find((x) => x.path === `/proc/sys/net/netfilter/${key}`);
    const n = e ? Number(e.value) : NaN;
    return Number.isFinite(n) ? n : null;
  };
  const count = value('nf_conntrack_count');
  const max = value('nf_conntrack_max');
  return count !== null && max !== null && max > 0 ? { count, max } : null;
}
