// conn-check's finding codes, with what each means and what to do about it.
// ../catalog.ts assembles the full catalogue (explain, the drift test) from every check's list.
import { p, type FindingCatalogEntry } from '../catalog-entry.js';

export const CONN_CHECK_FINDINGS = [
  {
    code: 'conn.reached',
    area: 'conn',
    severity: 'info',
    title: 'the probes reached the destination',
    seeds: [],
    explanation: p(
      'conn-check sent its probes from the source\'s own network namespace and every one was answered: TCP connects completed, pings were answered, or (UDP, which has no answer) the destination pod\'s eth0 counted the datagrams in.',
      'The hop table shows how many packets each interface on the path counted each way while the probes ran.',
      'Nothing needs fixing; the counters are kept in -o json for comparison with a failing pair.',
    ),
  },
  {
    code: 'conn.not-probed',
    area: 'conn',
    severity: 'info',
    title: 'no probes were sent (--no-probe)',
    seeds: [],
    explanation: p(
      'With --no-probe conn-check only works out the expected path (the pods\' host veths, the routes between the nodes) and, when a NetworkPolicy answer was computed, cites it.',
      'Nothing was sent, so nothing says whether the path works.',
      'Run without --no-probe to send the probes and read the counters around them.',
    ),
  },
  {
    code: 'conn.probe-not-run',
    area: 'conn',
    severity: 'warn',
    title: 'the probes could not be sent',
    seeds: [],
    explanation: p(
      'The source node gave no probe result: its probe pod failed, or the source pod\'s network namespace was not found on the node (restarting, terminating).',
      'This says nothing about the network.',
      'Check the other findings (a node that could not be probed, a namespace not found) and run again.',
    ),
  },
  {
    code: 'conn.rule-drop',
    area: 'conn',
    severity: 'varies',
    title: 'a DROP or REJECT rule on the path counted the probes',
    seeds: [],
    explanation: p(
      'conn-check reads every table of both iptables backends (and nftables rules that carry counters) on every node of the path just before and just after its probes.',
      'A DROP or REJECT rule whose packet counter moved by at least the number of probes, and whose addresses, protocol and ports can match the probe or its reply, is named with its table, chain, rule number and the packets it counted.',
      'Rules of Calico (cali-tw-/cali-fw- "Drop if no policies passed packet") and kube-router (KUBE-NWPLCY-*) mean a NetworkPolicy isolates a side; kube-proxy\'s REJECT "has no endpoints" means the Service has no ready endpoint; any other rule was put there by someone: remove or narrow it.',
      'Error when every probe failed, warning when only some did. Rules on more than one node moving together are reported as undecided instead.',
    ),
  },
  {
    code: 'conn.chain-policy-drop',
    area: 'conn',
    severity: 'varies',
    title: "a built-in chain's DROP policy counted the probes",
    seeds: [],
    explanation: p(
      'The packets fell through every rule of a built-in chain (FORWARD on a node with `iptables -P FORWARD DROP`, as Docker sets it) and its policy counter moved by at least the number of probes.',
      'Pod traffic needs an ACCEPT rule in that chain; CNIs and kube-proxy (KUBE-FORWARD) normally install one.',
      'Add one for the pod CIDR, or set the policy back to ACCEPT.',
    ),
  },
  {
    code: 'conn.forwarding-off',
    area: 'conn',
    severity: 'varies',
    title: 'a node that must route the probes has IP forwarding off',
    seeds: [],
    explanation: p(
      'Traffic between a pod and anything outside it is routed by the node: net.ipv4.ip_forward must be 1 on the source pod\'s node and on the destination pod\'s node.',
      'The node had it at 0 during the probes and its Ip.ForwDatagrams counter did not move by the number of probes (the kernel counts the dropped packets in Ip.InAddrErrors), so the packets stopped there.',
      'Set it back (`sysctl -w net.ipv4.ip_forward=1`) and find what turned it off: a sysctl.d file, a hardening script, a network service restart.',
    ),
  },
  {
    code: 'conn.no-route',
    area: 'conn',
    severity: 'varies',
    title: 'the source node has no route to the destination pod CIDR',
    seeds: [],
    explanation: p(
      "The source node's routing table had no route for the destination pod's CIDR more specific than the default route, so the probes left through the default gateway (or, without one, were dropped with Ip.OutNoRoutes) and the destination node's host veth never counted them.",
      'The CNI agent (calico-node, flanneld) programs these routes; check its logs and restart it. On clusters whose pod addresses are routed by the cloud network (AWS VPC CNI), the default route is right and this finding is not given while the destination counts the packets.',
    ),
  },
  {
    code: 'conn.service-not-translated',
    area: 'conn',
    severity: 'varies',
    title: "the Service's kube-proxy chain has no endpoint rule",
    seeds: [],
    explanation: p(
      "The probes to the ClusterIP entered kube-proxy's KUBE-SVC-/KUBE-SVL- chain for the Service on the source node (its jump in nat KUBE-SERVICES counted them), but that chain holds no rule to a KUBE-SEP- chain, so no DNAT happened and the packets left for the ClusterIP itself, which nothing answers.",
      'kube-proxy missed the endpoints (sync errors, a stale or partly flushed table).',
      'Check its logs and restart it; trace-svc shows the chain.',
    ),
  },
  {
    code: 'conn.arp-unanswered',
    area: 'conn',
    severity: 'varies',
    title: "the destination node's ARP for the pod went unanswered",
    seeds: [],
    explanation: p(
      "After the probes the destination node's neighbour entry for the pod IP was INCOMPLETE or FAILED: the node asked who has the pod's address on its veth and nothing answered, so it could not hand the packets over.",
      "The usual cause is arp_ignore in the pod (1 or 2 on all or eth0): with arp_ignore=2 the pod answers only when the asker's address is in the same subnet as its /32, which a node asking from its own address never is.",
      'Set arp_ignore back to 0 in the pod (whatever set it: an init container, a sysctl in the pod spec); arp-check shows both sides.',
    ),
  },
  {
    code: 'conn.link-down',
    area: 'conn',
    severity: 'varies',
    title: 'an interface on the path is down',
    seeds: [],
    explanation: p(
      "A pod's host-side veth (or the pod's own interface) on the path was down while the probes ran; the kernel drops everything through a down link and removes the routes that used it.",
      'The hop table shows the link state next to the interface.',
      'Set it up again (and put back the pod route), or delete the pod so its CNI wires it anew.',
    ),
  },
  {
    code: 'conn.refused',
    area: 'conn',
    severity: 'varies',
    title: 'the destination refused the connection: nothing listens on the port',
    seeds: [],
    explanation: p(
      'Every probe came back refused (a TCP RST, or ICMP port unreachable for UDP) and no REJECT rule on the path counted them, so the packets reached the destination and no socket listens on that port there.',
      "Check the container's port, that the server listens on 0.0.0.0 rather than 127.0.0.1, and the Service's targetPort.",
      'When a rule could not be read, an ICMP reject by it cannot be told apart from a reset, and the verdict says so.',
    ),
  },
  {
    code: 'conn.undecided',
    area: 'conn',
    severity: 'varies',
    title: 'the probes failed and no counter says where',
    seeds: [],
    explanation: p(
      'No drop rule, chain policy, forwarding setting, route, ARP entry or link state on the path explains the failure with evidence that other traffic could not have produced, so conn-check does not blame any.',
      'The hop table shows the last hop that counted the probes, and counters that could not be read are listed.',
      'A packet capture on the hops can show more.',
    ),
  },
  {
    code: 'conn.policy-not-enforced',
    area: 'conn',
    severity: 'warn',
    title: 'the NetworkPolicies deny this flow, yet the probes got through',
    seeds: [],
    explanation: p(
      'The NetworkPolicy objects, read as the networking.k8s.io/v1 API defines them, isolate the source (egress) or the destination (ingress) and no rule allows this flow; the probes were answered all the same.',
      'The dataplane on the path does not enforce NetworkPolicy: flannel and other plugins without a policy engine accept the objects and ignore them, or the policy agent (calico-node, kube-router, cilium-agent) is down or behind.',
      'Install or repair a policy engine on the nodes of the path; until then the isolation the policies describe does not exist.',
    ),
  },
] as const satisfies readonly FindingCatalogEntry[];
