// `ip -j -d addr show` (and its text form) -> NetLink[]: the interfaces of one network namespace
// with what veth-peer, arp-check and mtu-probe need: peer ifindex across namespaces, MAC, MTU,
// master bridge, vxlan VNI/port, bridge-port hairpin, addresses.
import {
  type JsonObject,
  type ParseResult,
  type SkippedRecord,
  booleanField,
  failure,
  isJsonObject,
  numberField,
  objectField,
  parseJsonArrayInput,
  splitLines,
  stringArrayField,
  stringField,
  success,
  toInt,
} from './json-input.js';

export const LINK_KINDS = ['veth', 'bridge', 'vxlan', 'ipip', 'geneve', 'wireguard', 'dummy', 'macvlan', 'ipvlan', 'vlan', 'bond', 'tun'] as const;
/**
 * 'device': ip reported no driver kind (physical NIC, loopback, or output taken without -d);
 * 'other': a kind not in LINK_KINDS (kindRaw has it).
 */
export type LinkKind = (typeof LINK_KINDS)[number] | 'device' | 'other';

export const OPER_STATES = ['UP', 'DOWN', 'UNKNOWN', 'LOWERLAYERDOWN', 'DORMANT', 'NOTPRESENT', 'TESTING'] as const;
export type OperState = (typeof OPER_STATES)[number];

export type AddressFamily = 'inet' | 'inet6';

/** The other end of a veth (or the lower device of a tunnel), as ip reports it. */
export interface LinkPeer {
  ifindex: number | null; // `link_index` / "@ifN": the peer's ifindex, in the namespace netnsId names
  ifname: string | null; // only when the peer is in the same namespace ("@name", JSON `link`)
  netnsId: number | null; // `link_netnsid`: set when the peer lives in another namespace
  netnsName: string | null; // text form "link-netns NAME" (ip resolves ids it has names for)
}

export interface InterfaceAddress {
  family: AddressFamily;
  address: string;
  prefixLength: number;
  scope: string; // global | link | host | site | a number
  dynamic: boolean;
  secondary: boolean;
  label: string | null;
}

export interface VxlanInfo {
  vni: number | null;
  dstPort: number | null;
  localAddress: string | null;
  underlayDev: string | null; // `dev` the vxlan sends through
  learning: boolean | null;
  remoteAddress: string | null; // `remote`/`group`
}

export const BRIDGE_PORT_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'] as const;
export type BridgePortState = (typeof BRIDGE_PORT_STATES)[number] | 'other';

export interface BridgePortInfo {
  state: BridgePortState;
  hairpin: boolean | null;
  learning: boolean | null;
  flood: boolean | null;
  proxyArp: boolean | null;
}

export interface NetLink {
  ifindex: number;
  ifname: string;
  peer: LinkPeer | null;
  macAddress: string | null;
  mtuBytes: number | null;
  operState: OperState | 'other';
  flags: string[]; // BROADCAST, UP, LOWER_UP, ...
  adminUp: boolean; // the UP flag
  master: string | null;
  kind: LinkKind;
  kindRaw: string | null;
  slaveKind: string | null; // "bridge" for a bridge port
  vxlan: VxlanInfo | null;
  bridgePort: BridgePortInfo | null;
  addresses: InterfaceAddress[];
  raw: string; // the record as ip printed it (JSON text or the text block)
}

const JSON_SOURCE = 'ip -j -d addr show';
const TEXT_SOURCE = 'ip addr show';

export function parseIpAddrJson(text: string): ParseResult<NetLink[]> {
  const parsed = parseJsonArrayInput(text, JSON_SOURCE);
  if (!parsed.ok) return parsed;
  const links: NetLink[] = [];
  const skipped: SkippedRecord[] = [];
  parsed.value.forEach((obj, i) => {
    const link = linkFromJson(obj);
    if (link) links.push(link);
    else {
      skipped.push({ source: JSON_SOURCE, position: `record ${i + 1}`, message: 'record has no ifindex/ifname', raw: JSON.stringify(obj) });
    }
  });
  return success(links, skipped);
}

function linkFromJson(obj: JsonObject): NetLink | null {
  const ifindex = numberField(obj, 'ifindex');
  const ifname = stringField(obj, 'ifname');
  if (ifindex === null || ifname === null) return null;
  const flags = stringArrayField(obj, 'flags');
  const linkinfo = objectField(obj, 'linkinfo');
  const kindRaw = linkinfo ? stringField(linkinfo, 'info_kind') : null;
  const infoData = linkinfo ? objectField(linkinfo, 'info_data') : null;
  const slaveKind = linkinfo ? stringField(linkinfo, 'info_slave_kind') : null;
  const slaveData = linkinfo ? objectField(linkinfo, 'info_slave_data') : null;
  return {
    ifindex,
    ifname,
    peer: peerFromJson(obj),
    macAddress: stringField(obj, 'address'),
    mtuBytes: numberField(obj, 'mtu'),
    operState: toOperState(stringField(obj, 'operstate')),
    flags,
    adminUp: flags.includes('UP'),
    master: stringField(obj, 'master'),
    kind: toLinkKind(kindRaw),
    kindRaw,
    slaveKind,
    vxlan: kindRaw === 'vxlan' && infoData ? vxlanFromJson(infoData) : null,
    bridgePort: slaveKind === 'bridge' && slaveData ? bridgePortFromJson(slaveData) : null,
    addresses: addressesFromJson(obj),
    raw: JSON.stringify(obj),
  };
}

function peerFromJson(obj: JsonObject): LinkPeer | null {
  const linkIndex = numberField(obj, 'link_index');
  const linkName = stringField(obj, 'link');
  const netnsId = numberField(obj, 'link_netnsid');
  if (linkIndex === null && linkName === null) return null;
  return { ifindex: linkIndex, ifname: linkName, netnsId, netnsName: null };
}

function vxlanFromJson(data: JsonObject): VxlanInfo {
  return {
    vni: numberField(data, 'id'),
    dstPort: numberField(data, 'port'),
    localAddress: stringField(data, 'local') ?? stringField(data, 'local6'),
    underlayDev: stringField(data, 'link'),
    learning: booleanField(data, 'learning'),
    remoteAddress: stringField(data, 'remote') ?? stringField(data, 'group') ?? stringField(data, 'remote6') ?? stringField(data, 'group6'),
  };
}

function bridgePortFromJson(data: JsonObject): BridgePortInfo {
  return {
    state: toBridgePortState(stringField(data, 'state')),
    hairpin: booleanField(data, 'hairpin'),
    learning: booleanField(data, 'learning'),
    flood: booleanField(data, 'flood'),
    proxyArp: booleanField(data, 'proxy_arp'),
  };
}

function addressesFromJson(obj: JsonObject): InterfaceAddress[] {
  const list = obj['addr_info'];
  if (!Array.isArray(list)) return [];
  const out: InterfaceAddress[] = [];
  for (const a of list) {
    if (!isJsonObject(a)) continue;
    const family = stringField(a, 'family');
    const address = stringField(a, 'local');
    const prefixLength = numberField(a, 'prefixlen');
    if ((family !== 'inet' && family !== 'inet6') || address === null || prefixLength === null) continue;
    out.push({
      family,
      address,
      prefixLength,
      scope: stringField(a, 'scope') ?? String(numberField(a, 'scope') ?? 'global'),
      // ip -j prints these flags as `"dynamic": true` only when set.
      dynamic: booleanField(a, 'dynamic') === true,
      secondary: booleanField(a, 'secondary') === true,
      label: stringField(a, 'label'),
    });
  }
  return out;
}

export function toOperState(value: string | null): OperState | 'other' {
  return (OPER_STATES as readonly string[]).includes(value ?? '') ? (value as OperState) : 'other';
}

export function toLinkKind(kindRaw: string | null): LinkKind {
  if (kindRaw === null) return 'device';
  return (LINK_KINDS as readonly string[]).includes(kindRaw) ? (kindRaw as LinkKind) : 'other';
}

export function toBridgePortState(value: string | null): BridgePortState {
  return (BRIDGE_PORT_STATES as readonly string[]).includes(value ?? '') ? (value as BridgePortState) : 'other';
}

// ---------------------------------------------------------------------------------------------
// Text form: `ip addr show`, `ip link show`, `ip -d link show`. Published node outputs (and old
// iproute2 without -j) are text. Stage 1 groups lines into one block per interface; stage 2 reads
// the fields veth-peer and mtu-probe need from each block.

// "14: calic8441ae7134@if3: <BROADCAST,...> mtu 1410 qdisc noqueue state UP group default"
const HEADER = /^(\d+):\s+([^\s:@]+)(?:@([^\s:]+))?:\s+<([^>]*)>\s*(.*)$/;

interface TextBlock {
  header: RegExpExecArray;
  lines: string[];
}

export function parseIpAddrText(text: string): ParseResult<NetLink[]> {
  if (text.trim() === '') return success([]);
  const blocks: TextBlock[] = [];
  const skipped: SkippedRecord[] = [];
  for (const { lineNo, line } of splitLines(text)) {
    const header = HEADER.exec(line);
    if (header) {
      blocks.push({ header, lines: [line] });
    } else if (/^\s/.test(line) && blocks.length > 0) {
      blocks[blocks.length - 1]!.lines.push(line);
    } else {
      skipped.push({ source: TEXT_SOURCE, position: `line ${lineNo}`, message: 'not an interface header or continuation line', raw: line });
    }
  }
  if (blocks.length === 0) {
    return failure('unrecognised-text', TEXT_SOURCE, `${TEXT_SOURCE}: no "N: name: <FLAGS>" interface lines found`, text);
  }
  return success(blocks.map(linkFromText), skipped);
}

function linkFromText(block: TextBlock): NetLink {
  const [, index, ifname, at, flagText, rest] = block.header;
  const flags = (flagText ?? '').split(',').filter((f) => f !== '');
  const head = keyValues(rest ?? '');
  const link: NetLink = {
    ifindex: Number(index),
    ifname: ifname ?? '',
    peer: peerFromAt(at),
    macAddress: null,
    mtuBytes: toInt(head.get('mtu')),
    operState: toOperState(head.get('state') ?? null),
    flags,
    adminUp: flags.includes('UP'),
    master: head.get('master') ?? null,
    kind: 'device',
    kindRaw: null,
    slaveKind: null,
    vxlan: null,
    bridgePort: null,
    addresses: [],
    raw: block.lines.join('\n'),
  };
  for (const line of block.lines.slice(1)) {
    const tokens = line.trim().split(/\s+/);
    const first = tokens[0] ?? '';
    if (first.startsWith('link/')) {
      const mac = tokens[1];
      link.macAddress = mac && /^[0-9a-f]{2}(:[0-9a-f]{2})+$/i.test(mac) ? mac.toLowerCase() : null;
      const kv = keyValues(tokens.slice(2).join(' '));
      if (link.peer) {
        link.peer.netnsId = toInt(kv.get('link-netnsid'));
        link.peer.netnsName = kv.get('link-netns') ?? null;
      }
    } else if (first === 'inet' || first === 'inet6') {
      const addr = addressFromText(tokens);
      if (addr) link.addresses.push(addr);
    } else if (first === 'vxlan') {
      link.kind = 'vxlan';
      link.kindRaw = 'vxlan';
      link.vxlan = vxlanFromText(tokens.slice(1));
    } else if (first === 'bridge_slave') {
      link.slaveKind = 'bridge';
      link.bridgePort = bridgePortFromText(tokens.slice(1));
    } else if (/^[a-z_0-9]+$/.test(first) && !['valid_lft', 'altname', 'prop'].includes(first) && link.kindRaw === null) {
      // -d prints the driver kind as the first word of its own line ("veth", "bridge forward_delay ...").
      link.kindRaw = first;
      link.kind = toLinkKind(first);
    }
  }
  return link;
}

function peerFromAt(at: string | undefined): LinkPeer | null {
  // "@NONE": a tunnel device with no lower link.
  if (at === undefined || at === 'NONE') return null;
  const m = /^if(\d+)$/.exec(at);
  if (m) return { ifindex: Number(m[1]), ifname: null, netnsId: null, netnsName: null };
  return { ifindex: null, ifname: at, netnsId: null, netnsName: null };
}

function addressFromText(tokens: string[]): InterfaceAddress | null {
  const [family, cidr] = tokens;
  const m = /^(.+)\/(\d+)$/.exec(cidr ?? '');
  if (!m || (family !== 'inet' && family !== 'inet6')) return null;
  const scopeAt = tokens.indexOf('scope');
  const scope = scopeAt >= 0 ? (tokens[scopeAt + 1] ?? 'global') : 'global';
  // The label is the last token on inet lines when it is not a flag word.
  const last = tokens[tokens.length - 1] ?? '';
  const flagWords = new Set(['dynamic', 'secondary', 'noprefixroute', 'permanent', 'deprecated', 'tentative', 'mngtmpaddr', scope]);
  return {
    family,
    address: m[1]!,
    prefixLength: Number(m[2]),
    scope,
    dynamic: tokens.includes('dynamic'),
    secondary: tokens.includes('secondary'),
    label: family === 'inet' && tokens.length > 2 && !flagWords.has(last) ? last : null,
  };
}

function vxlanFromText(tokens: string[]): VxlanInfo {
  const kv = keyValues(tokens.join(' '));
  return {
    vni: toInt(kv.get('id')),
    dstPort: toInt(kv.get('dstport')),
    localAddress: kv.get('local') ?? null,
    underlayDev: kv.get('dev') ?? null,
    // iproute2 prints "nolearning" only when learning is off.
    learning: !tokens.includes('nolearning'),
    remoteAddress: kv.get('remote') ?? kv.get('group') ?? null,
  };
}

function bridgePortFromText(tokens: string[]): BridgePortInfo {
  const kv = keyValues(tokens.join(' '));
  const onOff = (key: string): boolean | null => (kv.get(key) === 'on' ? true : kv.get(key) === 'off' ? false : null);
  return {
    state: toBridgePortState(kv.get('state') ?? null),
    hairpin: onOff('hairpin'),
    learning: onOff('learning'),
    flood: onOff('flood'),
    proxyArp: onOff('proxy_arp'),
  };
}

/** "mtu 1410 qdisc noqueue state UP" -> Map{mtu:1410,...}; the first occurrence of a key wins. */
function keyValues(text: string): Map<string, string> {
  const tokens = text.trim().split(/\s+/);
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < tokens.length; i++) {
    const key = tokens[i]!;
    if (!map.has(key)) map.set(key, tokens[i + 1]!);
  }
  return map;
}
