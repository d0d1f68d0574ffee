// `bridge -j -d link show` -> BridgePort[]: which ports a bridge (cni0) has and whether hairpin,
// learning and flooding are on. A pod reaching its own Service IP through kube-proxy DNAT back to
// itself needs hairpin on its bridge port (or kubelet's promiscuous-bridge mode).
import {
  type JsonObject,
  type ParseResult,
  type SkippedRecord,
  booleanField,
  numberField,
  parseJsonArrayInput,
  stringArrayField,
  stringField,
  success,
} from './json-input.js';
import { type BridgePortState, toBridgePortState } from './ip-addr.js';

export interface BridgePort {
  ifindex: number;
  ifname: string;
  master: string | null;
  state: BridgePortState;
  hairpin: boolean | null;
  learning: boolean | null;
  flood: boolean | null;
  mtuBytes: number | null;
  flags: string[];
  raw: string;
}

const SOURCE = 'bridge -j -d link show';

export function parseBridgeLinkJson(text: string): ParseResult<BridgePort[]> {
  const parsed = parseJsonArrayInput(text, SOURCE);
  if (!parsed.ok) return parsed;
  const ports: BridgePort[] = [];
  const skipped: SkippedRecord[] = [];
  parsed.value.forEach((obj, i) => {
    const port = portFromJson(obj);
    if (port) ports.push(port);
    else skipped.push({ source: SOURCE, position: `record ${i + 1}`, message: 'port has no ifindex/ifname', raw: JSON.stringify(obj) });
  });
  return success(ports, skipped);
}

function portFromJson(obj: JsonObject): BridgePort | null {
  const ifindex = numberField(obj, 'ifindex');
  const ifname = stringField(obj, 'ifname');
  if (ifindex === null || ifname === null) return null;
  // Quirk (iproute2 6.1, kernel 6.x): `bridge -j link` prints "link" by resolving the veth peer's
  // ifindex in the *local* namespace, so a port whose peer lives in a pod shows an unrelated local
  // name (vethbr0 -> "ul0" in test/fixtures/bridge-link/lab/host.json). It is not exposed here;
  // take the peer from `ip -j -d addr show` (link_index + link_netnsid) instead.
  return {
    ifindex,
    ifname,
    master: stringField(obj, 'master'),
    state: toBridgePortState(stringField(obj, 'state')),
    hairpin: booleanField(obj, 'hairpin'),
    learning: booleanField(obj, 'learning'),
    flood: booleanField(obj, 'flood'),
    mtuBytes: numberField(obj, 'mtu'),
    flags: stringArrayField(obj, 'flags'),
    raw: JSON.stringify(obj),
  };
}
