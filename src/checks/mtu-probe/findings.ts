// mtu-probe's finding codes, with what each means and what to do about it.
// ../catalog.ts assembles the full catalogue (explain, the drift test) from every check's list.
import { p, type FindingCatalogEntry } from '../catalog-entry.js';

export const MTU_PROBE_FINDINGS = [
  {
    code: 'mtu.veth-mismatch',
    area: 'mtu',
    severity: 'warn',
    title: 'the two ends of a pod veth have different MTUs',
    seeds: ['000'],
    explanation: p(
      "The pod's eth0 and its host-side veth (found by its peer ifindex) have different MTUs.",
      'Packets toward the pod are cut at the smaller MTU, so large transfers in one direction stall while small ones work.',
      'mtu-probe reads both ends of the pair.',
      'Usually the CNI MTU changed after the pod was created: recreate the pod so the CNI sets both ends to its configured MTU.',
    ),
  },
  {
    code: 'mtu.pod-exceeds-overlay',
    area: 'mtu',
    severity: 'error',
    title: "the pod MTU is larger than the overlay's",
    seeds: ['003'],
    explanation: p(
      "The pod's MTU is larger than the MTU of the overlay device its traffic to other nodes leaves through.",
      'Full-size pod packets to other nodes are dropped (or need fragmentation that DF forbids): handshakes work, transfers stall, as for a client with MTU 1500 whose first full-size segment to a Calico pod (tunnel MTU 1440) was retransmitted until timeout.',
      'mtu-probe follows the route from the pod to the target and compares each hop\'s MTU.',
      'Set the CNI MTU (pod and veth) to at most the overlay MTU and recreate the pods.',
    ),
  },
  {
    code: 'mtu.overlay-exceeds-nic',
    area: 'mtu',
    severity: 'error',
    title: 'the overlay MTU plus encapsulation is larger than the NIC MTU',
    seeds: ['003'],
    explanation: p(
      'An overlay device\'s MTU plus its encapsulation overhead (VXLAN 50 bytes, IPIP 20, WireGuard 60/80, GENEVE 50 plus options) is larger than the MTU of the NIC that carries it.',
      'Full-size tunnel packets do not fit the wire and are dropped, so large pod-to-pod transfers between nodes stall.',
      'mtu-probe adds the overhead of the overlay kind to its MTU and compares the sum with the NIC.',
      'Lower the overlay and pod MTU to NIC MTU minus the overhead (the CNI\'s MTU setting), or raise the NIC MTU if the network carries jumbo frames.',
    ),
  },
  {
    code: 'mtu.pod-exceeds-nic',
    area: 'mtu',
    severity: 'error',
    title: 'the pod MTU is larger than the routed NIC MTU (no overlay)',
    seeds: [],
    explanation: p(
      'Pods are routed without an overlay (host-gw, BGP, cloud routes) but their MTU is larger than the NIC\'s.',
      'Full-size pod packets leaving the node are dropped or need fragmentation.',
      'mtu-probe compares the pod MTU with the NIC on the route when no overlay is involved.',
      'Set the CNI MTU to at most the NIC MTU, or raise the NIC MTU.',
    ),
  },
  {
    code: 'mtu.node-mismatch',
    area: 'mtu',
    severity: 'warn',
    title: 'the same interface role has different MTUs on the two nodes',
    seeds: ['003'],
    explanation: p(
      'The pod, host veth, overlay or NIC MTU differs between the source and the target node.',
      'The nodes disagree on what fits, so packets that fit on one side are dropped on the other; typical after a node was added with different settings.',
      'mtu-probe compares the hops of both sides role by role.',
      'Make the MTU of each role the same on every node: the smaller value, unless the larger one is what the network really carries.',
    ),
  },
  {
    code: 'mtu.path-unreachable',
    area: 'mtu',
    severity: 'error',
    title: 'the target did not answer even small pings',
    seeds: [],
    explanation: p(
      'mtu-probe could not measure a path MTU because even the smallest don\'t-fragment ping got no reply.',
      'This is a connectivity problem, not an MTU problem (or ICMP is filtered on the path).',
      'Fix basic connectivity first: routes, network policies, ARP (`kubectl netdiag veth-peer`, `arp-check`, `node-check`).',
    ),
  },
  {
    code: 'mtu.path-below-pod-mtu',
    area: 'mtu',
    severity: 'error',
    title: 'the measured path MTU is smaller than what the pod sends',
    seeds: ['003'],
    explanation: p(
      'The pod sends packets up to its MTU, but the largest don\'t-fragment ping that got through the path is smaller.',
      'Packets between the two sizes are dropped; TCP recovers only if path MTU discovery works (see mtu.pmtu-black-hole), otherwise large transfers stall.',
      'mtu-probe bisects the ping payload size with DF set (`ping -M do -s SIZE`) in both directions and reports the largest that passed and the hop that limits it.',
      'Make the pod MTU match what the path carries (the CNI MTU setting), or fix the hop that is smaller than the rest.',
    ),
  },
  {
    code: 'mtu.pmtu-black-hole',
    area: 'mtu',
    severity: 'error',
    title: 'large packets vanish without ICMP "fragmentation needed"',
    seeds: ['003'],
    explanation: p(
      'Packets larger than the path MTU are dropped silently: no ICMP "fragmentation needed" comes back and no local "message too long" is reported.',
      'Path MTU discovery cannot work, so TCP keeps retransmitting full-size segments: connections open, then hang on the first large response.',
      'mtu-probe watches the failing ping sizes for a frag-needed reply or a local EMSGSIZE and reports the black hole when neither appears.',
      'Make the MTU consistent along the path; until then, TCP MSS clamping (`iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`) keeps TCP working, and ICMP type 3 code 4 must not be filtered.',
    ),
  },
  {
    code: 'mtu.mss-clamp-too-large',
    area: 'mtu',
    severity: 'warn',
    title: 'a TCPMSS rule sets an MSS larger than the path allows',
    seeds: [],
    explanation: p(
      'A TCPMSS --set-mss rule on the node sets an MSS whose segments (MSS + 40 bytes of headers) exceed the measured path MTU.',
      'The clamp that should protect TCP from MTU problems lets oversized segments through, so large transfers still stall.',
      'mtu-probe reads the TCPMSS rules from iptables-save and compares them with the measured path MTU.',
      'Use --set-mss PATH_MTU-40, or --clamp-mss-to-pmtu.',
    ),
  },
] as const satisfies readonly FindingCatalogEntry[];
