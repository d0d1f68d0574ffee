// veth-peer's finding codes, with what each means and what to do about it.
// ../catalog.ts assembles the full catalogue (explain, the drift test) from every check's list.
import { p, type FindingCatalogEntry } from '../catalog-entry.js';

export const VETH_PEER_FINDINGS = [
  {
    code: 'veth.netns-not-found',
    area: 'veth',
    severity: 'warn',
    title: "the pod's network namespace was not found on its node",
    seeds: ['000'],
    explanation: p(
      "veth-peer enters a pod's network namespace through a process of its container: it scans /proc/*/cgroup on the node for the container ID and, failing that, looks for a network namespace that holds the pod IP.",
      'Neither worked for this pod, so its interfaces and their host-side peers could not be read.',
      'This usually means the pod restarted, is terminating, or its container runtime keeps processes where the probe pod cannot see them; it does not by itself mean the network is broken.',
      'Check `kubectl get pod -o wide` (restarts, node, IP) and run the command again; if it repeats, check the container runtime on the node (crictl ps, crictl inspect).',
      'By hand the same lookup is: find the container PID (docker inspect, crictl inspect), then `nsenter -t PID -n ethtool -S eth0` for peer_ifindex and the node interface with that index in `ip link`.',
    ),
  },
  {
    code: 'veth.peer-not-found',
    area: 'veth',
    severity: 'varies',
    title: "a pod interface has no host-side peer in the node's namespace",
    seeds: ['000'],
    explanation: p(
      "The pod's interface names a peer ifindex (ip -d link's link_index, or `ethtool -S` peer_ifindex), but no interface with that ifindex exists in the node's network namespace, or the interface reports no peer at all.",
      'For a veth this is an error: the other end lives in some other namespace (a nested runtime, a Multus secondary network, a leftover from a crashed CNI call), so traffic from the pod never reaches the node\'s routing; for a non-veth interface (macvlan, ipvlan, a tunnel) it is info only.',
      "The tool compares the pod's link records with the node's `ip -j -d link` output by ifindex and checks that the host side points back at the pod's interface.",
      "Check the CNI's own tooling for where the peer went (calicoctl, cilium endpoint list, the Multus NetworkAttachmentDefinition) and the CNI agent's log around the pod's creation.",
      'Recreating the pod usually gives it a correctly wired veth.',
    ),
  },
  {
    code: 'veth.peer-down',
    area: 'veth',
    severity: 'error',
    title: "the host side of a pod's veth is down",
    seeds: [],
    explanation: p(
      "The host-side peer of the pod's eth0 (cali*, veth*, lxc*) is administratively down or has operational state DOWN/LOWERLAYERDOWN.",
      'A down veth end carries nothing: the pod cannot reach its gateway and nothing reaches the pod, while the pod itself may still show eth0 UP.',
      "veth-peer reads the flags and operstate of the peer found by ifindex in the node's `ip -j link` output.",
      'Check who took it down: the CNI agent log, a network manager on the node that manages every interface (NetworkManager, systemd-networkd without an unmanaged rule for cali*/veth*).',
      'Fix with `ip link set IFACE up` on the node, and stop the network manager from touching CNI interfaces.',
    ),
  },
  {
    code: 'veth.no-route-to-pod',
    area: 'veth',
    severity: 'error',
    title: 'the node has no route to the pod IP through its veth',
    seeds: ['001'],
    explanation: p(
      'Routed CNIs (Calico, ptp, Cilium in some modes) reach each pod through a /32 route `POD_IP dev cali... scope link` (on a Calico node: `10.233.74.65 dev cali9a8d0827254 scope link`); bridged CNIs put the veth into a bridge instead.',
      "This pod's host veth is neither in a bridge nor the target of a route for the pod IP, so replies and incoming traffic for the pod are routed somewhere else (the default route, another node).",
      "veth-peer looks for the /32 route of each pod IPv4 address on the peer interface in the node's main routing table and for a bridge master.",
      'Check `ip route get POD_IP` on the node and the CNI agent log (Calico: felix).',
      'Restore the route (`ip route add POD_IP/32 dev IFACE scope link`) or restart the CNI agent so it reprograms it; recreating the pod also works.',
    ),
  },
  {
    code: 'veth.mtu-exceeds-overlay',
    area: 'veth',
    severity: 'error',
    title: "the pod's MTU is larger than the overlay device's MTU",
    seeds: ['003'],
    explanation: p(
      "The pod's interface MTU is larger than the MTU of the overlay device (vxlan.calico, flannel.1, tunl0, cilium_vxlan) that carries routes to other nodes.",
      'Small packets and TCP handshakes work, but full-size packets to pods on other nodes are dropped or need fragmentation, so transfers stall while ping works: behind a Calico tunnel of MTU 1440, a client with MTU 1500 retransmitted its first full-size segment until the request timed out.',
      "veth-peer compares the pod link's MTU with every overlay device on the node that carries routes.",
      'Check the CNI MTU setting (Calico: veth_mtu in calico-config or the Installation resource; flannel: the subnet.env MTU) against the overlay MTU; `kubectl netdiag mtu-probe POD` measures the real path MTU.',
      'Set the CNI MTU to at most the overlay MTU and recreate the pods, or raise the NIC MTU so the overlay can grow.',
    ),
  },
  {
    code: 'veth.bridge-mismatch',
    area: 'veth',
    severity: 'warn',
    title: "a pod's veth is in a different bridge than its neighbours'",
    seeds: [],
    explanation: p(
      "On a bridged CNI every pod veth on a node normally hangs on the same bridge (cni0, docker0, cbr0); this pod's host veth is enslaved to a different one.",
      'The pod is then cut off from its gateway and the other pods, or reaches them through a bridge with other addresses, rules and sysctls.',
      "veth-peer counts the bridge masters of all eth0 peers per node and reports the pods that are not on the majority's bridge.",
      'Check what re-plugged the veth (a second CNI, docker\'s own bridge, a manual `ip link set master`) and the CNI config the runtime used for this pod.',
      'Move it back with `ip link set IFACE master BRIDGE`, or delete the pod so it is recreated with the right config.',
    ),
  },
] as const satisfies readonly FindingCatalogEntry[];
