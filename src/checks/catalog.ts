// Every finding code the analysis can emit, with what it means and what to do about it. CI jobs
// match on these codes, so this list is the contract: test/unit/checks/catalog.test.ts
// scans src/ and fails when a code is emitted but missing here, or listed here but never emitted.
// `kubectl netdiag explain CODE` (and `--explain CODE`) prints an entry; docs/ci.md shows how to
// match codes with jq.
import type { Severity } from './finding.js';

export const FINDING_AREAS = ['veth', 'svc', 'node', 'arp', 'mtu', 'dns', 'probe', 'smoke', 'node-diff', 'conn'] as const;
export type FindingArea = (typeof FINDING_AREAS)[number];

/** The severity a code is emitted with; 'varies' when the analysis picks it from the evidence. */
export type CatalogSeverity = Severity | 'varies';

/** The operator write-ups in shared/seeds/ an entry comes from. */
export type SeedIncident = '000' | '001' | '002' | '003' | '004';

export interface FindingCatalogEntry {
  readonly code: string;
  readonly area: FindingArea;
  readonly severity: CatalogSeverity;
  readonly title: string; // one line
  readonly seeds: readonly SeedIncident[];
  readonly explanation: string; // what it means, why it breaks pod networking, detection, checks, fix
}

// Sentences of an explanation, kept one per line in the source so diffs stay readable.
function p(...sentences: string[]): string {
  return sentences.join(' ');
}

export const FINDING_CATALOG = [
  // ------------------------------------------------------------------ veth (veth-peer)
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
      'Seed 000 shows the manual equivalent: find the container PID, then `nsenter -t PID -n ethtool -S eth0` for peer_ifindex.',
    ),
  },
  {
    code: 'veth.peer-not-found',
    area: 'veth',
    severity: 'varies',
    title: "a pod interface has no host-side peer in the node's namespace",
    seeds: ['000'],
    explanation: p(
      "The pod's interface names a peer ifindex (ip -d link's link_index, or `ethtool -S` peer_ifindex as in seed 000), but no interface with that ifindex exists in the node's network namespace, or the interface reports no peer at all.",
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
      'Routed CNIs (Calico, ptp, Cilium in some modes) reach each pod through a /32 route `POD_IP dev cali... scope link`, as on the Calico node of seed 001; bridged CNIs put the veth into a bridge instead.',
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
      'Small packets and TCP handshakes work, but full-size packets to pods on other nodes are dropped or need fragmentation, so transfers stall while ping works: the 1440-versus-1500 case of seed 003.',
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

  // ------------------------------------------------------------------ svc (trace-svc)
  {
    code: 'svc.no-selector',
    area: 'svc',
    severity: 'warn',
    title: 'the Service has no selector and no EndpointSlices',
    seeds: [],
    explanation: p(
      'A Service without a selector gets no endpoints from Kubernetes: someone has to write its EndpointSlices (or Endpoints) by hand, and none exist.',
      'Its ClusterIP then has no backend: kube-proxy installs a REJECT rule, so clients see "connection refused" or timeouts.',
      'trace-svc reads spec.selector and the EndpointSlices labelled kubernetes.io/service-name.',
      'Check whether the selector was dropped by mistake (a Helm value, a kustomize patch) or whether the Service is meant to point outside the cluster.',
      'Add a selector, or create an EndpointSlice for it with the external addresses.',
    ),
  },
  {
    code: 'svc.no-ready-endpoints',
    area: 'svc',
    severity: 'warn',
    title: 'the Service has no ready endpoints',
    seeds: [],
    explanation: p(
      "No endpoint of the Service is ready: either no pod matches its selector (info: a Deployment scaled to zero looks the same), or the matching pods fail their readiness probes (warn).",
      'kube-proxy then has nothing to DNAT to and rejects connections to the ClusterIP; from the outside this looks like a network problem but is not one.',
      'trace-svc reads the EndpointSlices (ready, serving, terminating) and the selected pods\' Ready condition.',
      'Check `kubectl get pods --show-labels` against the selector, and `kubectl describe pod` for readiness probe failures.',
      'Fix the selector or the labels, or the readiness probe or the application; the REJECT rule goes away by itself once an endpoint is ready.',
    ),
  },
  {
    code: 'svc.iptables-both-backends',
    area: 'svc',
    severity: 'warn',
    title: 'KUBE-* chains exist in both iptables-legacy and iptables-nft',
    seeds: [],
    explanation: p(
      'The node has kube-proxy chains (KUBE-SERVICES) in the legacy iptables tables and in the nf_tables-backed ones at the same time.',
      'The kernel runs both sets of rules; the set kube-proxy no longer maintains is stale and can DNAT to old endpoints or reject Services that work in the other set.',
      "trace-svc reads both backends with the probe image's own iptables-legacy-save and iptables-nft-save inside the node's network namespace (as kube-proxy does from its container) and checks which of them hold KUBE-SERVICES rules.",
      "This usually happens after an OS upgrade switched the iptables alternative, or when kube-proxy's image and the node disagree on the backend.",
      "Flush the backend kube-proxy does not use (for example `iptables-legacy -t nat -F; iptables-legacy -t nat -X`), and make the node's iptables alternative match kube-proxy's.",
    ),
  },
  {
    code: 'svc.rules-unreadable',
    area: 'svc',
    severity: 'info',
    title: "could not read kube-proxy's rules on this node",
    seeds: [],
    explanation: p(
      "No backend that was read holds kube-proxy rules, and at least one could not be read: the probe image lacks the tool (exit 127), the kernel refused it (the probe pod is not privileged), or its kernel interface is missing.",
      'This says nothing about the rules themselves, so it is not reported as missing kube-proxy rules. The evidence names each source (iptables nf_tables or legacy backend, the nftables kube-proxy table, IPVS) and why it could not be read.',
      "trace-svc reads the rules with the probe image's own iptables-nft-save, iptables-legacy-save, nft and ipvsadm inside the node's network namespace, as kube-proxy does from its container; the node's own binaries are never used (Talos, Bottlerocket and Flatcar have none).",
      'Run again with an --image that has these tools (netshoot has them) and a privileged probe pod.',
    ),
  },
  {
    code: 'svc.kube-proxy-free',
    area: 'svc',
    severity: 'info',
    title: 'no kube-proxy rules: a kube-proxy replacement steers Services',
    seeds: [],
    explanation: p(
      'The node has no KUBE-SERVICES chain, no nftables kube-proxy table and no IPVS virtual servers, kube-proxy is not expected (no kube-proxy pods, no half-flushed kube-proxy chains), and a replacement runs on the node: Cilium with kube-proxy-replacement, OVN-Kubernetes, Calico eBPF (FELIX_BPFENABLED), AntreaProxy with proxyAll, or kube-router\'s service proxy.',
      'Those dataplanes translate Services in eBPF maps, OVN load balancers or OVS flows that iptables-save cannot show, so this is expected and not a fault.',
      'trace-svc cannot walk them; it says so once, with the command that shows the translation (cilium-dbg service list, ovn-nbctl lb-list, calico-node -bpf nat dump, antctl/ovs-ofctl, ipvsadm -Ln).',
      'docs/compatibility.md lists the evidence read for each dataplane.',
    ),
  },
  {
    code: 'svc.dataplane-unknown',
    area: 'svc',
    severity: 'info',
    title: 'no kube-proxy rules and no known Service dataplane on this node',
    seeds: [],
    explanation: p(
      'The node has no kube-proxy rules, the cluster has no kube-proxy pods or kube-proxy ConfigMap, and no known replacement agent runs on the node.',
      'netdiag cannot tell what steers Services here, so it does not call it broken.',
      'Run trace-svc with --probe to try the ClusterIP for real; deploy kube-proxy or the replacement the cluster was built for if it fails.',
    ),
  },
  {
    code: 'svc.no-kube-proxy-rules',
    area: 'svc',
    severity: 'error',
    title: 'no kube-proxy rules at all on this node',
    seeds: ['002', '003'],
    explanation: p(
      'The node has no kube-proxy rules in any backend: no KUBE-SERVICES chain in iptables-nft or iptables-legacy, no nftables kube-proxy table, no IPVS virtual servers.',
      'Every ClusterIP, including the kube-dns Service, fails from pods on this node, while pod IPs still work: the new-node case of seed 003, where kube-proxy stayed Pending on a freshly added node.',
      'trace-svc reads every backend and reports this when none of them holds kube-proxy state and no Cilium devices are present.',
      'Check `kubectl -n kube-system get pods -o wide | grep kube-proxy` for a pod on this node (Pending, evicted, CrashLoopBackOff) and its log; seed 002 describes the chains kube-proxy should have written.',
      'Get kube-proxy running on the node (resources, taints and tolerations, priorityClassName system-node-critical); it writes the rules within seconds of starting.',
    ),
  },
  {
    code: 'svc.rules-missing',
    area: 'svc',
    severity: 'error',
    title: 'kube-proxy has no rule for this Service port on this node',
    seeds: ['002', '003'],
    explanation: p(
      'The rule walk for the ClusterIP (or NodePort) found no match in KUBE-SERVICES, or ended in a drop, although the API has ready endpoints for the port.',
      "Packets to that Service port are not DNATed on this node, so they go nowhere: kube-proxy here is stale, stuck or stopped (seed 003's kube-proxy case).",
      'trace-svc simulates the packet through the nat table the way the kernel would (KUBE-SERVICES -> KUBE-SVC-* -> KUBE-SEP-*, seed 002), or through the nftables or IPVS equivalent.',
      "Check kube-proxy's pod and log on the node for sync errors, and `iptables-save -t nat | grep CLUSTER_IP` on the node.",
      'Restart kube-proxy on the node (delete its pod) and look at why it stopped syncing.',
    ),
  },
  {
    code: 'svc.stale-reject',
    area: 'svc',
    severity: 'error',
    title: 'the node still rejects a Service that now has endpoints',
    seeds: [],
    explanation: p(
      'kube-proxy installs a REJECT rule (KUBE-SERVICES / KUBE-EXTERNAL-SERVICES "has no endpoints") for Services without ready endpoints, and removes it when one becomes ready.',
      'This node still rejects the Service although the API lists ready endpoints, so clients on this node get "connection refused" while other nodes work.',
      'trace-svc finds the walk ending at a REJECT rule while the EndpointSlices have ready endpoints for the port.',
      "kube-proxy on the node has not synced since the endpoints became ready: check its log (API connection errors, iptables-restore failures).",
      'Restart kube-proxy on the node.',
    ),
  },
  {
    code: 'svc.no-endpoints-reject',
    area: 'svc',
    severity: 'info',
    title: 'kube-proxy rejects the Service because it has no endpoints (as designed)',
    seeds: [],
    explanation: p(
      'The rule walk ends at kube-proxy\'s REJECT rule for a Service without ready endpoints, and the API agrees there are none.',
      'This is correct behaviour, reported so the "connection refused" clients see is explained: the network is fine and the backends are missing.',
      'See svc.no-ready-endpoints for why there are no endpoints; the REJECT disappears as soon as one is ready.',
    ),
  },
  {
    code: 'svc.topology-filtered',
    area: 'svc',
    severity: 'info',
    title: 'kube-proxy uses only the endpoints hinted for this node\'s zone (topology hints)',
    seeds: [],
    explanation: p(
      'With trafficDistribution (PreferClose, PreferSameZone, PreferSameNode) or the topology-mode Auto annotation, the EndpointSlice controller hints each endpoint for a zone or node, and kube-proxy on a node keeps only the endpoints hinted for its zone (or itself) when every ready endpoint carries a hint and at least one matches; otherwise it uses all of them.',
      'trace-svc applies the same rule before comparing the rules with the EndpointSlices, so the endpoints of other zones are not reported as missing, and says which endpoints this node uses.',
      'An endpoint hinted for the node\'s own zone that is missing from the rules is still an error (svc.endpoint-missing-from-rules).',
    ),
  },
  {
    code: 'svc.local-policy-drop',
    area: 'svc',
    severity: 'varies',
    title: 'kube-proxy drops traffic on purpose: traffic policy Local and no endpoint on this node',
    seeds: [],
    explanation: p(
      'With externalTrafficPolicy: Local (NodePort, LoadBalancer, external IPs) or internalTrafficPolicy: Local (ClusterIP), kube-proxy only sends traffic to endpoints on the node it arrives at, so the client source IP is kept.',
      'A node without such an endpoint drops that traffic by design (iptables "has no local endpoints" DROP rules, nftables no-endpoint-nodeports / no-endpoint-services elements with drop); load balancers learn which nodes to use from the healthCheckNodePort.',
      'trace-svc reports it as info and names the nodes that do host an endpoint; it warns only when no node hosts a ready endpoint, since then the traffic is dropped everywhere.',
      'Send the traffic to a node listed as hosting an endpoint, run the workload on more nodes (a DaemonSet, topology spread), or use the Cluster policy if the source IP does not need to be kept.',
    ),
  },
  {
    code: 'svc.source-range-drop',
    area: 'svc',
    severity: 'info',
    title: 'loadBalancerSourceRanges does not admit this source (as designed)',
    seeds: [],
    explanation: p(
      'kube-proxy drops traffic to a LoadBalancer IP from sources outside spec.loadBalancerSourceRanges (iptables KUBE-FW / KUBE-PROXY-FIREWALL, nftables firewall-ips and firewall-* chains).',
      'This is the Service policy working; sources inside the ranges reach the endpoints.',
      'Add the client range to spec.loadBalancerSourceRanges if it should be admitted.',
    ),
  },
  {
    code: 'svc.no-proxy-rules-by-design',
    area: 'svc',
    severity: 'info',
    title: 'headless or ExternalName Service: kube-proxy writes no rules for it',
    seeds: [],
    explanation: p(
      'A headless Service (clusterIP: None) is answered by DNS with the endpoint addresses themselves, an ExternalName Service with a CNAME; neither has a virtual IP, so kube-proxy has nothing to program.',
      'trace-svc says so instead of looking for rules; whether clients reach it depends on DNS and on the endpoints themselves.',
      'Use kubectl netdiag dns-check POD --name NAME.NAMESPACE to check the answer, and veth-peer on an endpoint pod to follow its path.',
    ),
  },
  {
    code: 'svc.rules-undecided',
    area: 'svc',
    severity: 'info',
    title: 'the rule walk depends on a match trace-svc cannot evaluate',
    seeds: [],
    explanation: p(
      'A rule on the path has a match the walker does not model (an iptables module, an nftables expression), and only the branch where that match applies reaches an endpoint.',
      'trace-svc follows both branches and says what each does instead of claiming the rules are missing.',
      'Check the named match by hand (iptables -t nat -S CHAIN, nft list chain ...) if traffic really fails.',
    ),
  },
  {
    code: 'svc.affinity-rules-missing',
    area: 'svc',
    severity: 'warn',
    title: 'sessionAffinity ClientIP, but the node has no affinity rules for the Service',
    seeds: [],
    explanation: p(
      'For sessionAffinity: ClientIP kube-proxy writes `-m recent --rcheck` jumps in the KUBE-SVC chain and `-m recent --set` on each endpoint\'s DNAT (nftables: affinity-* sets, `ip saddr @affinity-...` and `update @affinity-...`; IPVS: a persistent virtual server).',
      'Without them, each new connection of a client picks an endpoint at random: sessions that rely on stickiness break on this node only.',
      'kube-proxy on the node is stale or its rules were edited: restart it.',
    ),
  },
  {
    code: 'svc.endpoint-missing-from-rules',
    area: 'svc',
    severity: 'error',
    title: "ready endpoints are missing from this node's kube-proxy rules",
    seeds: ['002'],
    explanation: p(
      'Some endpoints the EndpointSlices list as ready have no KUBE-SEP-* chain (no DNAT target) in the Service chain on this node.',
      'kube-proxy here is behind the API: new pods get no traffic from this node, and if the old ones are gone the Service fails from here.',
      'trace-svc compares the DNAT targets found by walking KUBE-SVC-* (seed 002) with the ready endpoint addresses and ports.',
      "Check kube-proxy's log on the node for sync errors or an unreachable API server.",
      'Restart kube-proxy on the node.',
    ),
  },
  {
    code: 'svc.stale-rule-target',
    area: 'svc',
    severity: 'varies',
    title: 'the rules DNAT to addresses that are no longer ready endpoints',
    seeds: [],
    explanation: p(
      'The Service chain on this node still has KUBE-SEP-* rules whose DNAT target is not a ready endpoint in the API.',
      'An error when no EndpointSlice has the address at all (its pod is gone); a warning when a slice still lists it, not ready (kube-proxy may be falling back to terminating endpoints).',
      'A share of new connections (the rule\'s statistic probability) goes to a deleted or unready pod and times out, so the Service fails intermittently from this node.',
      'trace-svc lists every DNAT target of the walked chain and looks each one up in the EndpointSlices.',
      "kube-proxy on the node is stale: check its log and restart it.",
    ),
  },
  {
    code: 'svc.partial-dnat',
    area: 'svc',
    severity: 'warn',
    title: 'part of new connections match no endpoint rule',
    seeds: ['002'],
    explanation: p(
      "kube-proxy spreads connections over endpoints with `-m statistic --mode random --probability P` rules, the last one unconditional (seed 002).",
      'The probabilities in this chain do not add up: a share of new connections falls through every KUBE-SEP-* jump and is not DNATed, so those connections fail.',
      'trace-svc multiplies the probabilities along the chain and reports the unmatched share.',
      'Check the KUBE-SVC-* chain on the node (`iptables-save -t nat | grep KUBE-SVC-...`) for hand edits or a half-applied restore.',
      'Restart kube-proxy so it rewrites the chain.',
    ),
  },
  {
    code: 'svc.masquerade-cidr-mismatch',
    area: 'svc',
    severity: 'error',
    title: "kube-proxy's cluster CIDR does not cover the pod network",
    seeds: ['002'],
    explanation: p(
      'kube-proxy marks Service traffic for MASQUERADE with a rule like `-A KUBE-SERVICES ! -s CLUSTER_CIDR -d CLUSTER_IP -j KUBE-MARK-MASQ`; its --cluster-cidr must be the real pod network.',
      'When it is not (seed 002: MASQUERADE scoped to the wrong CIDR), traffic from pods outside that CIDR is masqueraded to the node address, and traffic from outside that should be masqueraded is not, so replies take the wrong path, policies see the wrong source, and some Services fail only from some nodes.',
      "trace-svc reads the `! -s CIDR ... KUBE-MARK-MASQ` rules kube-proxy wrote and checks that the CIDR covers every node's pod CIDR.",
      'Check clusterCIDR in the kube-proxy ConfigMap (or its --cluster-cidr flag) against the CNI\'s IP pool and kube-controller-manager --cluster-cidr.',
      'Set it to the real pod network and restart kube-proxy.',
    ),
  },
  {
    code: 'svc.cluster-cidr-overlaps-services',
    area: 'svc',
    severity: 'warn',
    title: "kube-proxy's cluster CIDR contains Service IPs",
    seeds: ['002', '004'],
    explanation: p(
      "The cluster CIDR kube-proxy uses for its masquerade decision contains this Service's ClusterIP: the pod and Service ranges overlap.",
      'Pod routes and ClusterIP DNAT then compete for the same addresses, and the masquerade rule treats Service traffic as pod traffic.',
      'trace-svc reads the CIDR from the masquerade rules (seed 002) and tests each ClusterIP against it; seed 004 has the related case of a pod CIDR overlapping another network.',
      'Pods and Services need disjoint ranges (kube-controller-manager --cluster-cidr and --service-cluster-ip-range); re-plan one of them, which needs a migration.',
    ),
  },
  {
    code: 'svc.hairpin-off',
    area: 'svc',
    severity: 'warn',
    title: 'a pod cannot reach itself through its own Service (hairpin off)',
    seeds: [],
    explanation: p(
      'The source pod is itself an endpoint of the Service and its veth is a bridge port with hairpin mode off.',
      'When kube-proxy DNATs the pod\'s connection back to the pod itself, the bridge would have to send the frame out of the port it came in on, which it refuses without hairpin mode, so the connection times out; other endpoints still work.',
      "trace-svc reads the bridge port's hairpin flag (`bridge -j link`) for the --from pod's veth.",
      "Enable hairpin mode: kubelet --hairpin-mode=hairpin-veth, or hairpinMode: true in the bridge CNI plugin's config, then recreate the pod.",
    ),
  },
  {
    code: 'svc.probe-service-fails',
    area: 'svc',
    severity: 'error',
    title: 'connections to the ClusterIP fail while the endpoints answer directly',
    seeds: ['002', '003'],
    explanation: p(
      'With --probe, trace-svc opens a TCP connection to the ClusterIP and to each ready endpoint from the source pod or node.',
      'The endpoints accept connections but the ClusterIP does not, so the application and the pod network are fine and the Service steering on this node is broken.',
      'Look at the rule walk in the same output: missing or stale kube-proxy rules, a wrong masquerade scope (seed 002), or kube-proxy not running on the node (seed 003).',
      'Fix kube-proxy on this node, usually by restarting it.',
    ),
  },
  {
    code: 'svc.probe-endpoint-fails',
    area: 'svc',
    severity: 'error',
    title: 'endpoints do not accept connections even directly',
    seeds: [],
    explanation: p(
      'With --probe, a TCP connection straight to an endpoint (pod IP and target port) failed.',
      'Then the Service cannot work either, whatever the rules say: the application is not listening on the target port, a NetworkPolicy or host firewall drops the traffic, or the route to the pod is broken.',
      'trace-svc reports the error text of each failed connect.',
      'Check the container\'s listening sockets (`ss -lnt` in the pod), the Service targetPort, NetworkPolicies selecting the pod, and the route and veth shown in the output (veth-peer, arp-check).',
    ),
  },

  // ------------------------------------------------------------------ node (node-check, trace-svc)
  {
    code: 'node.ip-forward-off',
    area: 'node',
    severity: 'error',
    title: 'net.ipv4.ip_forward is 0 on the node',
    seeds: ['004'],
    explanation: p(
      'The node does not route IPv4 packets between interfaces.',
      'Every packet a pod sends off its node, and every packet for a pod arriving from another node or from a Service DNAT, has to be forwarded, so pods can reach only their own node; seed 004 shows it as endless SYN retransmits to a pod IP or Service.',
      'node-check and trace-svc read /proc/sys/net/ipv4/ip_forward on the node.',
      'Check what reset it: a sysctl file that sets it to 0, a security baseline, a network service restart.',
      'Run `sysctl -w net.ipv4.ip_forward=1` and persist it in /etc/sysctl.d/.',
    ),
  },
  {
    code: 'node.bridge-nf-call-iptables-off',
    area: 'node',
    severity: 'error',
    title: 'bridged pod traffic skips iptables (br_netfilter off)',
    seeds: ['004'],
    explanation: p(
      'Pods hang on a Linux bridge (cni0, docker0) but net.bridge.bridge-nf-call-iptables is 0 or br_netfilter is not loaded.',
      "Frames between pods on the same bridge then never pass through iptables: kube-proxy's DNAT is not undone on the replies, so a pod calling a Service whose endpoint is on the same node gets replies from the wrong address and the connection hangs; network policies are skipped too (seed 004).",
      'node-check and trace-svc read /proc/sys/net/bridge/bridge-nf-call-iptables on nodes that have a bridge with veth ports.',
      'Run `modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1`, and persist both in /etc/modules-load.d and /etc/sysctl.d.',
    ),
  },
  {
    code: 'node.iface-forwarding-off',
    area: 'node',
    severity: 'error',
    title: 'forwarding is off on CNI interfaces although ip_forward is on',
    seeds: ['004'],
    explanation: p(
      'net.ipv4.ip_forward is 1 but net.ipv4.conf.IFACE.forwarding is 0 on a pod veth, bridge, overlay or the NIC.',
      'Packets that arrive on such an interface are not routed, so the pods behind it, or the tunnel, are cut off while the rest of the node works; it is the per-interface form of the ip_forward case in seed 004.',
      'node-check reads /proc/sys/net/ipv4/conf/*/forwarding for the interfaces it classifies as CNI interfaces.',
      'Set `sysctl -w net.ipv4.conf.IFACE.forwarding=1` for each and find what turned it off (a sysctl file with a wildcard, a network manager).',
    ),
  },
  {
    code: 'node.rp-filter-strict',
    area: 'node',
    severity: 'warn',
    title: 'strict reverse-path filtering on an overlay interface',
    seeds: [],
    explanation: p(
      'The effective rp_filter on an overlay device is 1 (strict); the effective value is the maximum of conf/all and conf/IFACE.',
      'Strict mode drops a packet when the route back to its source would leave through a different interface, which is common with overlays, several NICs and asymmetric routing, so some pod-to-pod paths silently fail.',
      'node-check reads conf/all/rp_filter and conf/IFACE/rp_filter for every overlay device.',
      'Use loose mode (2) or 0 on overlay interfaces, and check conf/all too since it wins when larger.',
    ),
  },
  {
    code: 'node.arp-ignore-strict',
    area: 'node',
    severity: 'warn',
    title: 'arp_ignore >= 2 on pod-facing interfaces',
    seeds: ['001'],
    explanation: p(
      'The effective arp_ignore (max of conf/all and conf/IFACE) on pod veths or the CNI bridge is 2 or more.',
      'With arp_ignore=2 the kernel answers ARP only when the target and sender addresses are in the same subnet on that interface, which is never the case for Calico\'s /32 pods and 169.254.1.1 gateway: seed 001, where a new node had net.ipv4.conf.all.arp_ignore=2, pods inherited it and nothing could reach them ("Destination Host Unreachable").',
      'node-check reads the sysctls of pod-facing interfaces on the node.',
      'Set net.ipv4.conf.all.arp_ignore back to 0 (or 1) in /etc/sysctl.d and recreate the pods; `kubectl netdiag arp-check POD` shows both sides of one pod in detail.',
    ),
  },
  {
    code: 'node.nic-multiple-ipv4',
    area: 'node',
    severity: 'varies',
    title: 'the node NIC has more than one IPv4 address',
    seeds: ['003'],
    explanation: p(
      'The interface holding the node\'s InternalIP has several IPv4 addresses, often a static address plus a DHCP lease on the same NIC (seed 003).',
      'The kernel may pick the extra address as the source of traffic to other nodes, including encapsulated overlay traffic, while the peers\' tunnel entries and firewalls only know the InternalIP, so requests go out and replies never come back.',
      "node-check lists the NIC's addresses and runs `ip route get PEER_INTERNAL_IP` to see which source the kernel picks: error when it is not the InternalIP, warn when it still is (a DHCP renewal or address reorder can change that).",
      'Remove the extra address (set one addressing method, e.g. BOOTPROTO=none with a static IPADDR), then restart the CNI agent; a VIP on its own /32 (keepalived, kube-vip) is expected.',
    ),
  },
  {
    code: 'node.missing-pod-cidr-route',
    area: 'node',
    severity: 'error',
    title: "no route to some nodes' pod CIDRs while others have one",
    seeds: ['003'],
    explanation: p(
      "The node has specific routes (via the overlay or a peer's address) to most other nodes' pod CIDRs, but none, or only the default route, for some of them.",
      'Pods on those peer nodes are unreachable from this node; typical after adding a node whose CNI agent has not programmed it yet or crashed (seed 003\'s new-node cases).',
      "node-check resolves each other node's spec.podCIDR against this node's routing table and classifies the route (overlay, underlay, default-only, none).",
      'Check the CNI agent on this node and on the peers (calico-node BGP/VXLAN state, flanneld log).',
      'Restart the CNI agent so it reprograms its routes; by hand, add the route the way the others look (`ip route add CIDR via PEER dev IFACE onlink`).',
    ),
  },
  {
    code: 'node.pod-cidr-routes-via-default',
    area: 'node',
    severity: 'info',
    title: "other nodes' pod CIDRs are reached only through the default route",
    seeds: [],
    explanation: p(
      "No other node's pod CIDR has a specific route on this node; all of them would leave through the default route.",
      'That is correct when the cloud or the gateway routes pod CIDRs (cloud route tables, BGP to the top-of-rack), and broken when the CNI should have programmed overlay or host-gw routes.',
      'node-check reports this as info because it cannot tell which setup the cluster uses.',
      'If the CNI is meant to route (VXLAN, IPIP, host-gw), restart its agent on this node; with Calico IPAM, node.spec.podCIDR may not be the block Calico really uses.',
    ),
  },
  {
    code: 'node.pod-cidr-route-wrong',
    area: 'node',
    severity: 'error',
    title: "the route to a peer's pod CIDR cannot carry pod traffic",
    seeds: [],
    explanation: p(
      "The route to another node's pod CIDR exists but cannot work: it is blackhole/unreachable/prohibit, or points at a device that is down or is neither an overlay nor the NIC.",
      'Traffic to pods on that node is dropped on this node.',
      "node-check classifies each route to a peer's pod CIDR by type and output device.",
      'Delete the wrong route and restart the CNI agent so it reprograms it; look for a leftover from an earlier CNI or a manual route.',
    ),
  },
  {
    code: 'node.pod-cidr-overlaps-node-network',
    area: 'node',
    severity: 'error',
    title: 'the pod network overlaps the node network',
    seeds: ['004'],
    explanation: p(
      "A pod CIDR (the node's spec.podCIDR or kube-proxy's cluster CIDR) overlaps the subnet of the node's NIC.",
      'Addresses in the overlap are both "a pod" and "a host on the LAN": the kernel routes them to whichever route is more specific, so node-to-node or pod-to-pod traffic goes to the wrong side ("No route to host" between nodes, seed 004).',
      'node-check compares the pod CIDRs with the networks of the NIC\'s addresses.',
      "Choose a pod CIDR (the CNI's IP pool, kube-controller-manager --cluster-cidr) that does not overlap the hosts' subnets; changing it needs a migration of the pool.",
    ),
  },
  {
    code: 'node.pod-cidr-overlaps-service-network',
    area: 'node',
    severity: 'error',
    title: 'the pod network overlaps the Service network',
    seeds: ['004'],
    explanation: p(
      'A pod CIDR overlaps the Service CIDR (from kube-proxy\'s rules, --service-cidr, or inferred from the ClusterIPs).',
      'ClusterIP DNAT and pod routes then fight over the same addresses: a pod whose IP equals a ClusterIP is unreachable, and masquerade decisions go wrong (seed 004 has the node-network form of this overlap).',
      'node-check compares the pod CIDRs with the Service CIDR; pass --service-cidr when the inferred one (the smallest prefix holding all ClusterIPs, at least a /24) is too narrow.',
      'The pod CIDR and --service-cluster-ip-range must be disjoint; re-plan one of them (a migration).',
    ),
  },
  {
    code: 'node.kube-proxy-not-running',
    area: 'node',
    severity: 'error',
    title: 'kube-proxy is not running on this node',
    seeds: ['003'],
    explanation: p(
      'No Running and Ready kube-proxy pod is on this node while other nodes have one, or the one there is Pending, failing or not ready.',
      'Nothing maintains the Service rules on the node, so ClusterIPs (DNS included) fail as soon as the rules go stale, or at once on a new node that never had them: seed 003, where kube-proxy stayed Pending on newly added nodes.',
      'node-check looks for pods labelled k8s-app=kube-proxy bound to or aimed at the node.',
      'Check `kubectl -n kube-system describe pod` for the reason (insufficient resources, taints, image pull) and give kube-proxy priorityClassName system-node-critical so it is never the pod that cannot be scheduled.',
    ),
  },
  {
    code: 'node.kube-proxy-rules-missing',
    area: 'node',
    severity: 'error',
    title: 'kube-proxy rules are missing for Service ports on this node',
    seeds: ['002', '003'],
    explanation: p(
      "The node has no kube-proxy rules at all, or some of the Service ports the API has are not programmed in its rules.",
      'Those ClusterIPs do not work from pods on this node (DNS too, if kube-dns is among them), while pod-to-pod traffic is fine.',
      'node-check counts KUBE-SVC-* chains and KUBE-SERVICES rules (or the nftables/IPVS equivalent, seed 002) and matches the "namespace/name:port cluster IP" comments against the Services in the API.',
      "Check kube-proxy's pod and log on the node (seed 003: Pending on a new node); `kubectl netdiag trace-svc SERVICE` walks one Service.",
      'Start or restart kube-proxy on the node.',
    ),
  },
  {
    code: 'node.kube-proxy-rules-unreadable',
    area: 'node',
    severity: 'info',
    title: "could not read kube-proxy's rules on this node",
    seeds: [],
    explanation: p(
      "No backend that was read holds kube-proxy rules, and at least one could not be read: the probe image lacks the tool (exit 127), the kernel refused it (the probe pod is not privileged), or its kernel interface is missing.",
      'This says nothing about the rules themselves, so it is not reported as missing kube-proxy rules. The evidence names each source (iptables nf_tables or legacy backend, the nftables kube-proxy table, IPVS) and why it could not be read.',
      "node-check reads the rules with the probe image's own iptables-nft-save, iptables-legacy-save, nft and ipvsadm inside the node's network namespace, as kube-proxy does from its container; the node's own binaries are never used (Talos, Bottlerocket and Flatcar have none).",
      'Run again with an --image that has these tools (netshoot has them) and a privileged probe pod.',
    ),
  },
  {
    code: 'node.iptables-backends-mixed',
    area: 'node',
    severity: 'warn',
    title: 'KUBE-* chains in both iptables-legacy and iptables-nft',
    seeds: [],
    explanation: p(
      'Both the legacy and the nf_tables iptables backends hold kube-proxy chains on this node.',
      'The kernel runs both; one set is stale and can shadow the other, so Services behave differently from what kube-proxy thinks it programmed.',
      "node-check reads both backends with the probe image's own iptables-legacy-save and iptables-nft-save inside the node's network namespace.",
      "Flush the backend kube-proxy does not use and make the node's iptables alternative (update-alternatives --display iptables) match kube-proxy's.",
    ),
  },
  {
    code: 'node.cni-agent-missing',
    area: 'node',
    severity: 'error',
    title: 'the CNI agent pod is not running on this node',
    seeds: [],
    explanation: p(
      'The CNI agent (calico-node, kube-flannel, cilium) has no Running and Ready pod on this node while other nodes have one.',
      "Nobody maintains this node's routes, tunnel entries, IPAM blocks and policies: existing pods may keep working for a while, new pods and new peers do not.",
      "node-check identifies the CNI from the node's interfaces and looks for the agent's pods on the node.",
      'Check why the DaemonSet pod is not there or not ready (`kubectl describe pod`, tolerations, node selectors, resources) and restart it.',
    ),
  },
  {
    code: 'node.cni-config-missing',
    area: 'node',
    severity: 'error',
    title: 'no CNI network config in any known CNI config directory',
    seeds: [],
    explanation: p(
      'The node has no *.conf, *.conflist or *.json file in /etc/cni/net.d, /var/lib/rancher/k3s/agent/etc/cni/net.d (k3s) or /var/lib/rancher/rke2/agent/etc/cni/net.d (RKE2).',
      'The container runtime cannot set up pod networking: kubelet reports NetworkPluginNotReady, the node stays NotReady, and new pods stay in ContainerCreating.',
      "node-check lists these directories in the node's mount namespace and says which one held the config; a custom containerd conf_dir elsewhere is not read.",
      'The CNI agent writes this file when it starts: check that its pod runs on the node and mounts the directory the runtime reads.',
    ),
  },
  {
    code: 'node.cni-config-several-dirs',
    area: 'node',
    severity: 'info',
    title: 'CNI config files in more than one known directory',
    seeds: [],
    explanation: p(
      'Config files exist both in /etc/cni/net.d and in a k3s/RKE2 directory; the runtime reads only its configured one.',
      'A CNI installed with the wrong host path (for example Cilium on k3s writing /etc/cni/net.d) leaves files the runtime never loads.',
      'node-check prefers the distribution\'s own directory on k3s/RKE2 nodes; check the runtime\'s conf_dir and remove the stale files.',
    ),
  },
  {
    code: 'node.kube-proxy-replaced',
    area: 'node',
    severity: 'info',
    title: 'a kube-proxy replacement steers Services on these nodes',
    seeds: [],
    explanation: p(
      'No kube-proxy rules, kube-proxy not expected (no kube-proxy pods, no half-flushed kube-proxy chains), and a replacement agent runs on the node (Cilium kube-proxy replacement, OVN-Kubernetes, Calico eBPF, AntreaProxy proxyAll, kube-router).',
      'Service rules live in that dataplane (eBPF maps, OVN load balancers, OVS flows, IPVS), not in KUBE-* chains.',
      'It is said once per report, with the command that shows the translation; docs/compatibility.md lists the evidence read for each dataplane.',
    ),
  },
  {
    code: 'node.kube-proxy-outside-pods',
    area: 'node',
    severity: 'info',
    title: 'kube-proxy runs outside pods and is judged by its rules',
    seeds: [],
    explanation: p(
      'The cluster has no kube-proxy pods but the nodes hold kube-proxy\'s rules: k3s and RKE2 run kube-proxy inside their agent process, other installs as a systemd unit.',
      'node-check then judges kube-proxy by its rules alone: present and covering every Service port is fine.',
      'Missing Service ports are still node.kube-proxy-rules-missing, and its log is the agent\'s (journalctl -u k3s) or the unit\'s.',
    ),
  },
  {
    code: 'node.service-dataplane-unknown',
    area: 'node',
    severity: 'info',
    title: 'no kube-proxy rules and no known Service dataplane on this node',
    seeds: [],
    explanation: p(
      'No kube-proxy rules, no kube-proxy pods or ConfigMap in the cluster, and no known replacement agent on the node.',
      'netdiag cannot tell what steers Services here and does not call it broken.',
      '`kubectl netdiag trace-svc SERVICE --probe` tries a ClusterIP for real.',
    ),
  },
  {
    code: 'node.cni-config-invalid',
    area: 'node',
    severity: 'error',
    title: 'a CNI network config file is not valid JSON',
    seeds: [],
    explanation: p(
      'A file in /etc/cni/net.d does not parse as JSON.',
      'The runtime uses the first file in lexical order; if that is the broken one, pods get no network, and otherwise the runtime skips it (which may silently pick an unintended config).',
      'node-check parses each file and reports the invalid ones, and which file is used.',
      'Restore the file by restarting the CNI agent, or fix the JSON by hand; remove stale configs of an earlier CNI.',
    ),
  },
  {
    code: 'node.conntrack-near-full',
    area: 'node',
    severity: 'varies',
    title: 'the conntrack table is nearly full',
    seeds: [],
    explanation: p(
      'nf_conntrack_count is above 80% of nf_conntrack_max (warn), or above 95% (error).',
      'When the table is full the kernel drops packets of new connections ("nf_conntrack: table full, dropping packet" in dmesg), which looks like random timeouts for Services and DNS.',
      'node-check reads /proc/sys/net/netfilter/nf_conntrack_count and nf_conntrack_max.',
      'Raise net.netfilter.nf_conntrack_max (kube-proxy --conntrack-max-per-core sets it), or find the connection flood with `conntrack -L | sort | uniq -c`.',
    ),
  },
  {
    code: 'node.resolv-conf-loopback',
    area: 'node',
    severity: 'info',
    title: "the node's resolv.conf names a loopback nameserver",
    seeds: ['004'],
    explanation: p(
      "The node's /etc/resolv.conf points at 127.0.0.x or ::1 (systemd-resolved's 127.0.0.53, a local dnsmasq).",
      'That is fine for the node itself, but CoreDNS pods with dnsPolicy Default and `forward . /etc/resolv.conf` inherit the file and forward to their own loopback, which is CoreDNS itself: a forwarding loop that makes CoreDNS exit (seed 004).',
      'node-check reads the node\'s resolv.conf; `kubectl netdiag dns-check POD` reads what CoreDNS really forwards to and names a real loop (dns.coredns-forward-loopback).',
      'Point kubelet --resolv-conf (resolvConf) at the real upstream list (/run/systemd/resolve/resolv.conf with systemd-resolved), or give CoreDNS an explicit upstream.',
    ),
  },

  // ------------------------------------------------------------------ arp (arp-check)
  {
    code: 'arp.netns-not-found',
    area: 'arp',
    severity: 'warn',
    title: "the pod's network namespace was not found on its node",
    seeds: [],
    explanation: p(
      "arp-check could not enter the pod's network namespace: no process on the node belongs to the pod's container, and no namespace holds its IP.",
      "Without it the pod's neighbour table and sysctls cannot be read; this is not itself a network fault.",
      'The pod may have restarted or be terminating: check `kubectl get pod -o wide` and run again.',
    ),
  },
  {
    code: 'arp.ignore-blocks-host',
    area: 'arp',
    severity: 'error',
    title: "the pod ignores its node's ARP requests (arp_ignore)",
    seeds: ['001'],
    explanation: p(
      "The pod's effective arp_ignore (max of conf/all and conf/eth0 inside the pod) makes it ignore the ARP requests its node sends for the pod IP.",
      'With arp_ignore=2 a host answers only when the sender\'s address is in the subnet of the target address; a Calico pod has a /32 and the node asks from its own address, so the pod never answers and everything sent to it fails with "Destination Host Unreachable": exactly seed 001.',
      "arp-check reads the pod's sysctls, the node's source address towards the pod (`ip route get POD_IP`), and with --probe arpings the pod from the node.",
      "New pod namespaces copy the node's conf/all at creation, so check the node's net.ipv4.conf.all.arp_ignore too.",
      "Set arp_ignore to 0 in the pod's namespace (`nsenter -t PID -n sysctl -w net.ipv4.conf.all.arp_ignore=0`) and, if inherited, on the node in /etc/sysctl.d, then recreate the pods.",
    ),
  },
  {
    code: 'arp.node-ignore-inherited',
    area: 'arp',
    severity: 'warn',
    title: 'pods created from now on will inherit a blocking arp_ignore from the node',
    seeds: ['001'],
    explanation: p(
      "The node's net.ipv4.conf.all.arp_ignore would block ARP from the node to its pods, but this pod still has a harmless value (it was created before the change).",
      "New pod namespaces copy the node's conf/all values, so the next pods on this node will ignore their node's ARP and be unreachable (seed 001 happened on a newly added node).",
      "arp-check compares the node's conf/all/arp_ignore against the pod's address and the node's source address.",
      'Set net.ipv4.conf.all.arp_ignore=0 on the node (/etc/sysctl.d, then sysctl -p) before more pods land there.',
    ),
  },
  {
    code: 'arp.ignore-blocks-pod',
    area: 'arp',
    severity: 'error',
    title: "the node ignores the pod's ARP for its gateway (arp_ignore)",
    seeds: ['001'],
    explanation: p(
      "On a bridged CNI the pod's gateway is an address on the node's bridge (cni0); the node's effective arp_ignore on that bridge makes it ignore the pod's ARP request for the gateway.",
      'The pod then cannot send anything off its own subnet; it is the mirror image of seed 001, where the pod side ignored the node.',
      "arp-check reads the node's arp_ignore for the receiving interface and where the gateway address lives.",
      'On the node set net.ipv4.conf.all.arp_ignore=0 and net.ipv4.conf.BRIDGE.arp_ignore=0, and persist it in /etc/sysctl.d.',
    ),
  },
  {
    code: 'arp.proxy-arp-off',
    area: 'arp',
    severity: 'error',
    title: "proxy_arp is off on a Calico-style pod's host veth",
    seeds: ['001'],
    explanation: p(
      "Calico-style pods use the fake gateway 169.254.1.1, which exists nowhere: the node answers the pod's ARP for it by proxy ARP on the host veth (cali*), as seed 001 explains.",
      'With proxy_arp off on that veth, nobody answers, the pod has no gateway MAC, and all traffic leaving the pod is dropped.',
      "arp-check reads the effective proxy_arp of the host veth and the pod's default route.",
      'Set `sysctl -w net.ipv4.conf.CALI_IFACE.proxy_arp=1` on the node; the CNI agent sets it when it creates the veth, so check calico-node\'s log for why it did not.',
    ),
  },
  {
    code: 'arp.no-default-route',
    area: 'arp',
    severity: 'error',
    title: "the node has no route the proxy ARP for the pod's gateway needs",
    seeds: ['001'],
    explanation: p(
      "The kernel answers by proxy ARP only for destinations it can route out of another interface; Calico's 169.254.1.1 gateway is reached through the node's default route.",
      "This node has no default route (or none usable), so proxy ARP on the host veth stays silent and the pod cannot reach its gateway, even though proxy_arp is on (seed 001 explains the proxy-ARP gateway).",
      "arp-check looks for a route from the node towards the pod's gateway address through an interface other than the host veth.",
      'Give the node its default route back (`ip route add default via GATEWAY dev NIC`) and fix the network configuration that lost it.',
    ),
  },
  {
    code: 'arp.forwarding-off',
    area: 'arp',
    severity: 'error',
    title: "forwarding is off on the pod's host-side interface",
    seeds: ['004'],
    explanation: p(
      "net.ipv4.conf.IFACE.forwarding is 0 on the interface the pod's traffic arrives on (the host veth or the bridge).",
      "The node then neither routes the pod's packets nor, for Calico-style pods, answers its ARP by proxy: the pod is isolated (the per-interface form of seed 004's ip_forward case).",
      "arp-check reads the interface's forwarding sysctl together with ip_forward.",
      'Set `sysctl -w net.ipv4.conf.IFACE.forwarding=1` (and net.ipv4.ip_forward=1 in /etc/sysctl.d).',
    ),
  },
  {
    code: 'arp.neighbor-failed',
    area: 'arp',
    severity: 'varies',
    title: "the node's neighbour entry for the pod IP is FAILED/INCOMPLETE",
    seeds: ['001'],
    explanation: p(
      "The node's neighbour table holds the pod IP in state FAILED or INCOMPLETE: the node asked for the pod's MAC and got no answer.",
      'Everything the node should deliver to the pod is dropped; this is the `ip neigh` symptom of seed 001.',
      'arp-check reads `ip -j neigh` on the node; it is an error unless --probe shows the pod answers arping now (warn: the entry is left over from an earlier failure).',
      "Check the pod's arp_ignore (arp.ignore-blocks-host) and that the pod IP is on its eth0; `tcpdump -i IFACE -nn arp` on the node shows requests without replies.",
      'After the fix, flush the entry: `ip neigh flush dev IFACE to POD_IP`.',
    ),
  },
  {
    code: 'arp.gateway-unresolved',
    area: 'arp',
    severity: 'varies',
    title: 'the pod cannot resolve its gateway MAC',
    seeds: ['001'],
    explanation: p(
      "The pod's neighbour entry for its gateway is FAILED/INCOMPLETE, or with --probe nobody answered the pod's ARP for the gateway.",
      'Without the gateway MAC the pod cannot send anything off its own address; seed 001 shows the symptom from the node side.',
      "arp-check reads the pod's neighbour table and arpings the gateway from the pod with --probe; it is a warning when the gateway answers now (the entry is stale).",
      "For Calico-style pods check proxy_arp and forwarding on the host veth and the node's default route (the other arp.* findings say which); for bridged pods check that the gateway address is up on the bridge and the node's arp_ignore.",
    ),
  },
  {
    code: 'arp.pod-no-reply',
    area: 'arp',
    severity: 'error',
    title: "the pod does not answer its node's arping",
    seeds: ['001'],
    explanation: p(
      'With --probe, arping from the node over the pod\'s host interface got no reply for the pod IP.',
      'The node cannot deliver anything to the pod: the live form of seed 001.',
      "Check the pod's arp_ignore (arp.ignore-blocks-host, if reported), that the pod IP really is on its eth0, and `tcpdump -i IFACE -nn arp` on the node.",
    ),
  },
  {
    code: 'arp.mac-conflict',
    area: 'arp',
    severity: 'error',
    title: 'an address is answered by the wrong MAC or by several MACs',
    seeds: [],
    explanation: p(
      'With --probe, ARP for the pod IP or its gateway was answered by more than one MAC, or by a MAC that is not the interface the address should live on.',
      'Two hosts hold the same address: traffic goes to whichever answered last, so connections break at random.',
      'arp-check compares the MACs arping saw with the pod\'s eth0 MAC and the expected gateway MAC.',
      'Find the other holder (`ip -br link | grep -i MAC` on the nodes and in pods) and remove the address there; IPAM handed it out twice or a stale pod kept it.',
    ),
  },
  {
    code: 'arp.neighbor-mac-mismatch',
    area: 'arp',
    severity: 'warn',
    title: "the node maps the pod IP to a MAC that is not the pod's",
    seeds: [],
    explanation: p(
      "The node's neighbour entry for the pod IP is REACHABLE/STALE but with a different MAC than the pod's eth0.",
      'Packets for the pod go to another host until the entry is refreshed; usually a previous pod with the same IP, or a duplicate address.',
      "arp-check compares the node's neighbour entry with the pod's link address.",
      'Delete the entry (`ip neigh del POD_IP dev IFACE`); if it comes back wrong, another host answers for the IP (run again with --probe).',
    ),
  },
  {
    code: 'arp.node-ip-missing',
    area: 'arp',
    severity: 'warn',
    title: 'no interface of the node holds its InternalIP',
    seeds: [],
    explanation: p(
      'The address the API lists as the node\'s InternalIP is on none of its interfaces.',
      'Peers send tunnel traffic and kubelet/API traffic to an address the node does not have; usually the NIC\'s address changed under the kubelet (DHCP).',
      "arp-check compares the node's InternalIP with its interfaces' addresses.",
      'Give the NIC its address back, or restart the kubelet with the right --node-ip.',
    ),
  },
  {
    code: 'arp.nic-multiple-ipv4',
    area: 'arp',
    severity: 'error',
    title: 'the NIC holding the InternalIP has extra IPv4 addresses',
    seeds: ['003'],
    explanation: p(
      'The interface with the node\'s InternalIP has further IPv4 addresses.',
      'The node may send, and encapsulate overlay traffic, from an extra address that other nodes do not expect, so replies never come back: the two-IPs-on-one-NIC case of seed 003 (a static IPADDR next to BOOTPROTO=dhcp).',
      "arp-check lists the NIC's addresses with their flags (secondary, dynamic, label); node-check reports the same as node.nic-multiple-ipv4 with the source address the kernel really picks.",
      'Remove the extra address (`ip addr del ADDR dev NIC`) and fix its source; a VIP (keepalived, kube-vip) on its own /32 is expected.',
    ),
  },
  {
    code: 'arp.ipvs-not-strict',
    area: 'arp',
    severity: 'error',
    title: 'IPVS mode without strictARP: the node answers ARP for every Service VIP',
    seeds: ['002'],
    explanation: p(
      'In IPVS mode kube-proxy puts every ClusterIP and LoadBalancer IP on the dummy device kube-ipvs0; without arp_ignore>=1 and arp_announce>=2 the node answers ARP for all of them on the wire.',
      'Several nodes then claim the same VIPs, which breaks MetalLB and other L2 load balancers and sends traffic to arbitrary nodes (seed 002 covers the IPVS mode).',
      'arp-check reads kube-ipvs0\'s addresses and the effective arp_ignore/arp_announce of the NIC.',
      'Set strictARP: true in the ipvs section of the kube-proxy ConfigMap and restart kube-proxy; it then sets net.ipv4.conf.all.arp_ignore=1 and arp_announce=2.',
    ),
  },
  {
    code: 'arp.node-ip-duplicate',
    area: 'arp',
    severity: 'error',
    title: "a node's InternalIP is also configured on another node",
    seeds: ['003'],
    explanation: p(
      "Node A's InternalIP is on an interface of node B.",
      'Both answer ARP for it, so traffic and tunnels meant for A reach whichever answered last: pods on A become unreachable from some nodes, intermittently.',
      'arp-check compares every node\'s interface addresses with every InternalIP in the API.',
      'Remove the address from the node that should not have it and find what put it there (DHCP plus static configuration on one NIC, seed 003; a cloned VM).',
    ),
  },

  // ------------------------------------------------------------------ mtu (mtu-probe)
  {
    code: 'mtu.veth-mismatch',
    area: 'mtu',
    severity: 'warn',
    title: 'the two ends of a pod veth have different MTUs',
    seeds: ['000'],
    explanation: p(
      "The pod's eth0 and its host-side veth (seed 000's pairing) have different MTUs.",
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
      'Full-size pod packets to other nodes are dropped (or need fragmentation that DF forbids): handshakes work, transfers stall; seed 003\'s 1440 versus 1500.',
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
      'Full-size tunnel packets do not fit the wire and are dropped, so large pod-to-pod transfers between nodes stall (seed 003: tunnel MTU versus the physical 1500).',
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
      'The nodes disagree on what fits, so packets that fit on one side are dropped on the other; typical after a node was added with different settings (seed 003).',
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
      'Packets between the two sizes are dropped; TCP recovers only if path MTU discovery works (see mtu.pmtu-black-hole), otherwise large transfers stall (seed 003).',
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
      'Path MTU discovery cannot work, so TCP keeps retransmitting full-size segments: connections open, then hang on the first large response (seed 003).',
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

  // ------------------------------------------------------------------ dns (dns-check)
  {
    code: 'dns.wrong-nameserver',
    area: 'dns',
    severity: 'varies',
    title: 'the pod does not ask the cluster DNS first',
    seeds: [],
    explanation: p(
      "The first nameserver in the pod's /etc/resolv.conf is not the kube-dns ClusterIP (or the NodeLocal DNSCache address), or there is none.",
      'Cluster names then do not resolve from the pod; with dnsPolicy ClusterFirst this is an error (kubelet\'s clusterDNS is wrong, or the image rewrites resolv.conf), with a custom dnsConfig a warning, and with dnsPolicy Default or hostNetwork it is by design (info).',
      "dns-check reads the pod's resolv.conf from inside its namespace and compares it with the DNS Service and the pod's dnsPolicy/dnsConfig.",
      "Check kubelet's clusterDNS on the node (KubeletConfiguration) against the kube-dns Service IP, and the pod spec.",
      'Fix clusterDNS and recreate the pod, or set dnsPolicy ClusterFirst (ClusterFirstWithHostNet for host-network pods).',
    ),
  },
  {
    code: 'dns.service-missing',
    area: 'dns',
    severity: 'error',
    title: 'the kube-dns Service could not be read',
    seeds: [],
    explanation: p(
      'The cluster DNS Service (kube-system/kube-dns) does not exist or could not be read.',
      "Pods' resolv.conf points at its ClusterIP, so without it no cluster name resolves.",
      'dns-check reads the Service through the API.',
      'Recreate the kube-dns Service from your CoreDNS manifests with the ClusterIP kubelet\'s clusterDNS expects; if it exists, check RBAC for reading Services in kube-system.',
    ),
  },
  {
    code: 'dns.service-no-endpoints',
    area: 'dns',
    severity: 'error',
    title: 'the DNS Service has no ready endpoint',
    seeds: ['004'],
    explanation: p(
      'The kube-dns Service has no ready endpoint in its EndpointSlices.',
      'kube-proxy has nothing to send queries to, so every lookup through the Service fails.',
      'dns-check reads the EndpointSlices of the DNS Service.',
      'Get the CoreDNS pods Ready (`kubectl -n kube-system get pods -l k8s-app=kube-dns`, describe and logs; seed 004\'s loop makes them crash) and check the Service selector.',
    ),
  },
  {
    code: 'dns.coredns-restarting',
    area: 'dns',
    severity: 'warn',
    title: 'a CoreDNS pod is restarting or in CrashLoopBackOff',
    seeds: ['004'],
    explanation: p(
      'A CoreDNS pod has restarted or is in CrashLoopBackOff.',
      'While it restarts, queries sent to it through the Service time out; a crash loop often means a forwarding loop (seed 004: "Loop (127.0.0.1:44222 -> :53) detected"), an OOM kill, or a Corefile error.',
      'dns-check reads the pods\' container status and the tail of their logs.',
      'Read why it exits: `kubectl -n kube-system logs POD --previous`.',
    ),
  },
  {
    code: 'dns.coredns-down',
    area: 'dns',
    severity: 'error',
    title: 'no CoreDNS pod works',
    seeds: ['004'],
    explanation: p(
      'There are no CoreDNS pods, none is Ready, or none answers on port 53 when asked directly at its pod IP.',
      'The DNS Service has no working backend, so no name resolves anywhere in the cluster.',
      'dns-check combines the pods\' status from the API with direct queries (`dig @POD_IP`) from the pod\'s namespace.',
      'Check `kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide` and their logs (--previous); seed 004\'s loop and an unreachable API server are common causes.',
      'Restart with `kubectl -n kube-system rollout restart deployment coredns` once the cause is fixed.',
    ),
  },
  {
    code: 'dns.service-unreachable',
    area: 'dns',
    severity: 'error',
    title: 'CoreDNS answers at its pod IP but not at the Service IP',
    seeds: ['003'],
    explanation: p(
      "Queries to the kube-dns ClusterIP get no answer from the pod while CoreDNS answers when asked at its pod IP.",
      "So DNS itself works and the pod's node does not translate the ClusterIP: kube-proxy's rules are missing there, as in seed 003 where kube-proxy stayed Pending on a new node and DNS failed only there.",
      'dns-check queries the Service and each CoreDNS pod over UDP and TCP from the pod\'s namespace and looks up kube-proxy on the pod\'s node.',
      "Check kube-proxy on the node (running? evicted?) and its rules: `kubectl netdiag trace-svc kube-dns -n kube-system`, or `iptables-save -t nat | grep CLUSTER_IP` on the node.",
      'Get kube-proxy running there (priorityClassName system-node-critical).',
    ),
  },
  {
    code: 'dns.coredns-pod-unresponsive',
    area: 'dns',
    severity: 'warn',
    title: 'one CoreDNS pod does not answer while others do',
    seeds: [],
    explanation: p(
      'Asked directly, one CoreDNS pod does not answer while the others and the Service do.',
      'The Service still sends its share of queries there, so lookups fail intermittently (a timeout, then a retry that works).',
      'dns-check queries each CoreDNS pod IP directly.',
      'Describe the pod and read its log; delete it so the Deployment replaces it, and check the path to its node (`kubectl netdiag veth-peer`, `arp-check`).',
    ),
  },
  {
    code: 'dns.upstream-failing',
    area: 'dns',
    severity: 'error',
    title: 'cluster names resolve but external names fail',
    seeds: ['003'],
    explanation: p(
      'Names inside the cluster domain resolve, but an external name fails with SERVFAIL or a timeout through CoreDNS.',
      'Either the upstream resolver CoreDNS forwards to does not answer from the pod network (firewall, security group, route), or CoreDNS\'s forward is broken although the upstream answers directly; seed 003 has the case of pods timing out on an object-storage name that the upstream resolved fine.',
      'dns-check queries the name through the cluster DNS and directly at each upstream, from the node and from the CoreDNS pod\'s view, and shows the Corefile\'s forward lines.',
      'Make the upstream reachable from the pod network, or point the forward plugin (coredns ConfigMap) at a resolver that answers; check CoreDNS logs for plugin/errors lines.',
    ),
  },
  {
    code: 'dns.name-not-found',
    area: 'dns',
    severity: 'warn',
    title: 'an external name does not exist (NXDOMAIN everywhere)',
    seeds: [],
    explanation: p(
      'Every candidate of the search list and the bare name got NXDOMAIN, at the upstream too.',
      'DNS works; the name does not exist.',
      'dns-check walks the search list the way the resolver does and asks the upstream directly.',
      'Check the spelling, or the zone at the authoritative server; pass a name your upstream serves with --external-name.',
    ),
  },
  {
    code: 'dns.short-name-other-namespace',
    area: 'dns',
    severity: 'warn',
    title: "a short Service name does not resolve from another namespace",
    seeds: ['004'],
    explanation: p(
      'A short name like "api" resolves only through the search list, whose first entry is the pod\'s own namespace (NS.svc.cluster.local): a Service in another namespace is not found.',
      'The application sees NXDOMAIN although the Service exists (seed 004: short names across namespaces).',
      "dns-check expands the name through the pod's search list, checks which namespaces have a Service of that name, and resolves the full form NAME.NAMESPACE.",
      'Use NAME.NAMESPACE (or NAME.NAMESPACE.svc.cluster.local) in the application\'s configuration.',
    ),
  },
  {
    code: 'dns.coredns-forward-loopback',
    area: 'dns',
    severity: 'error',
    title: 'CoreDNS forwards to a loopback address: a forwarding loop',
    seeds: ['004'],
    explanation: p(
      "CoreDNS forwards to a loopback address (127.0.0.53, 127.0.0.1): named by the Corefile's forward, or by CoreDNS's own container /etc/resolv.conf when the Corefile says `forward . /etc/resolv.conf`. Kubelet writes that file for dnsPolicy Default from its resolvConf setting (the node's /etc/resolv.conf unless set; kubeadm, RKE, k3s and microk8s choose /run/systemd/resolve/resolv.conf when systemd-resolved runs).",
      "Inside CoreDNS's pod, loopback is CoreDNS itself: a forwarding loop; with the loop plugin CoreDNS detects it and exits (CrashLoopBackOff, \"Loop (127.0.0.1:44222 -> :53) detected\"), exactly seed 004.",
      "dns-check reads CoreDNS's own /etc/resolv.conf through its container's process on the node and the Corefile; the node's /etc/resolv.conf (often the systemd-resolved stub 127.0.0.53) is shown for context and is never evidence on its own. A hostNetwork CoreDNS really reaches the node's stub, so it is not flagged.",
      'Point kubelet resolvConf on those nodes at a file with reachable nameservers (/run/systemd/resolve/resolv.conf with systemd-resolved) or write upstreams into the Corefile (forward . 10.0.0.2), then restart the CoreDNS pods so kubelet writes their file again.',
    ),
  },
  {
    code: 'dns.coredns-loop',
    area: 'dns',
    severity: 'error',
    title: 'CoreDNS detected a forwarding loop and exits',
    seeds: ['004'],
    explanation: p(
      'A CoreDNS pod\'s log has "Loop (...) detected": its queries come back to itself and the loop plugin makes it exit.',
      'All CoreDNS pods on affected nodes crash-loop, so cluster DNS fails (seed 004).',
      "dns-check reports this when the log shows the loop but CoreDNS's own resolv.conf and Corefile do not explain it (otherwise dns.coredns-forward-loopback).",
      'Find the resolver that forwards back to CoreDNS (a local dnsmasq or systemd-resolved on the node, an upstream that forwards cluster queries back, the Corefile forward) and point it elsewhere.',
    ),
  },
  {
    code: 'dns.corefile-no-forward',
    area: 'dns',
    severity: 'info',
    title: 'the Corefile has no forward plugin',
    seeds: [],
    explanation: p(
      "The coredns ConfigMap's Corefile has no forward plugin.",
      'Names outside the cluster domain are not resolved, which is intended only in isolated clusters.',
      'dns-check parses the Corefile.',
      'Add `forward . /etc/resolv.conf` (or explicit resolvers) to the server block if pods need external names.',
    ),
  },
  {
    code: 'dns.ndots-amplification',
    area: 'dns',
    severity: 'info',
    title: 'ndots and the search list multiply the queries per lookup',
    seeds: [],
    explanation: p(
      'With the default ndots:5 and several search domains, a name with fewer dots is tried with every search suffix first, so an external name costs several queries per record type (doubled for A plus AAAA).',
      'That adds latency and load on CoreDNS and the upstream, and makes timeouts more likely.',
      "dns-check counts the queries each name needed until one answered.",
      'Write names in full with a trailing dot (www.example.com.) or lower ndots for the pod (spec.dnsConfig.options: [{name: ndots, value: "2"}]).',
    ),
  },
  {
    code: 'dns.conntrack-insert-failed',
    area: 'dns',
    severity: 'varies',
    title: "conntrack insert failures on the pod's node (the UDP DNS race)",
    seeds: [],
    explanation: p(
      "conntrack -S on the pod's node reports insert_failed: parallel A and AAAA queries sent over UDP from one socket can race in conntrack and one of them is dropped.",
      "The resolver then waits its full timeout (5 s) before retrying: slow lookups rather than failures; a warning when UDP queries here timed out while TCP answered, info otherwise.",
      "dns-check reads conntrack statistics on the pod's node and compares UDP and TCP results of the query matrix.",
      'Add `options single-request-reopen` (glibc) to the pod\'s dnsConfig, use NodeLocal DNSCache, or upgrade the kernel (fixes since 5.0).',
    ),
  },

  // ------------------------------------------------------------------ probe (every command)
  {
    code: 'probe.node-failed',
    area: 'probe',
    severity: 'error',
    title: 'the probe pod could not collect facts from a node',
    seeds: [],
    explanation: p(
      'The probe pod on this node could not be created, scheduled, started or exec\'d into, or its node script failed.',
      'Nothing is known about this node, so its part of the diagnosis is missing; the other nodes were still diagnosed and shown.',
      'The evidence carries the error (PodSecurity rejection, image pull failure, timeout, RBAC).',
      'Check `kubectl describe node` and the probe pod\'s events; --image for air-gapped clusters, --probe-namespace for a namespace that allows privileged pods, --timeout for slow nodes.',
    ),
  },
  {
    code: 'probe.node-unprobeable',
    area: 'probe',
    severity: 'info',
    title: 'a node that cannot run the probe pod was skipped',
    seeds: [],
    explanation: p(
      'EKS Fargate nodes (label eks.amazonaws.com/compute-type=fargate) run each pod in its own micro-VM and admit no privileged, hostNetwork or hostPID pods; virtual-kubelet nodes (label type=virtual-kubelet, taint virtual-kubelet.io/provider) run pods outside any node kernel.',
      'A probe pod there could only wait until --timeout, so no pod is created on such a node: it is a row and this info finding, and the other nodes are diagnosed as usual.',
      'Nothing needs fixing; pods on these nodes cannot be diagnosed at node level.',
    ),
  },
  {
    code: 'probe.peer-node-failed',
    area: 'probe',
    severity: 'warn',
    title: "a peer node's host facts could not be collected",
    seeds: [],
    explanation: p(
      "arp-check also reads the other nodes' interfaces to find duplicate addresses; this peer node could not be read.",
      'The duplicate-address comparison is incomplete for it; the pod checks themselves are not affected.',
      "Check the node and the probe pod's events as for probe.node-failed.",
    ),
  },
  {
    code: 'probe.output-incomplete',
    area: 'probe',
    severity: 'error',
    title: "a node's script output came back cut off",
    seeds: [],
    explanation: p(
      'The node script frames every section with start and end markers; for this node some were missing, so its output is truncated.',
      'What is shown for the node is partial: a missing rule or route may only be missing from the output, so the run must not look healthy.',
      'Causes: a dropped exec stream, the probe pod killed by its memory limit while dumping a very large iptables ruleset, a truncated snapshot.',
      'Run again; if it repeats, check the probe pod events (OOMKilled) in the probe namespace.',
    ),
  },

  // ------------------------------------------------------------------ smoke
  {
    code: 'smoke.check-failed',
    area: 'smoke',
    severity: 'error',
    title: 'one of the smoke checks could not run',
    seeds: [],
    explanation: p(
      'smoke runs dns-check, trace-svc, veth-peer and mtu-probe in parallel; one of them failed before producing a report (no suitable pod, an API error, a probe failure).',
      'Its part of the cluster was not checked, so a green result would be misleading; this finding fails the run at the default --fail-on error.',
      'The evidence holds the check\'s error message.',
      'Run that check alone for details (the subject names it and its target), for example `kubectl netdiag dns-check POD -n NAMESPACE -v`.',
    ),
  },
  {
    code: 'smoke.pod-pair-failed',
    area: 'smoke',
    severity: 'error',
    title: 'smoke --matrix: a pod could not reach a pod on another node (or its own node)',
    seeds: [],
    explanation: p(
      'smoke --matrix connects from a ready pod on each node to a ready pod on every other node (and to a second pod on the same node), from inside the source pod\'s network namespace, with a TCP connect to the destination\'s first TCP containerPort (a ping when it declares none), several attempts each.',
      'This pair failed at least one attempt; the reason is what the kernel answered: timeout (the packets were dropped somewhere: a DROP rule, a missing route on the way back, ip_forward off, a down veth), refused (the packet arrived and nothing listens there, or a REJECT rule answered), no route or unreachable (a route or neighbour is missing on the way).',
      'The subject names the source pod and node and the destination pod, node, address and port; the evidence holds nc\'s or ping\'s own words.',
      'When every pair into one pod fails, look at that pod\'s node (node-check, veth-peer --node); when every pair out of one node fails, at the source node.',
    ),
  },
  {
    code: 'smoke.service-failed',
    area: 'smoke',
    severity: 'error',
    title: 'smoke --matrix: a pod could not reach the Service from its node',
    seeds: [],
    explanation: p(
      'smoke --matrix connects from a ready pod on each node to one ClusterIP Service (--service NS/NAME, or the first ClusterIP Service with ready endpoints, default namespace first), through that node\'s kube-proxy rules.',
      'This node\'s connects failed at least once: its Service rules are missing or stale, the chosen backend is unreachable from this node, or the Service has no ready endpoint (kube-proxy then rejects).',
      'Trace the Service from that node: kubectl netdiag trace-svc NAME -n NAMESPACE --from-node NODE --probe.',
    ),
  },
  {
    code: 'smoke.node-skipped',
    area: 'smoke',
    severity: 'info',
    title: 'smoke --matrix: a node has no ready pod on the pod network, so it was skipped',
    seeds: [],
    explanation: p(
      'smoke --matrix uses the pods already running on each node; a node whose pods are all hostNetwork, not ready or being deleted has none to connect from or to.',
      'The node was skipped, not failed: nothing was tested there. To cover it, run a small pod on every node (a DaemonSet).',
    ),
  },
  {
    code: 'smoke.could-not-run',
    area: 'smoke',
    severity: 'error',
    title: 'smoke stopped before any check could report (exit 2 or 3)',
    seeds: [],
    explanation: p(
      'Only in the --junit file: smoke could not start its checks at all (no kubeconfig, the API server unreachable, RBAC refusing the node or pod list) or none of them could run.',
      'The JUnit report then holds one failed case of this type whose message is the same sentence the terminal printed, so a CI test tab shows why instead of a missing report.',
      'Fix what the message names, then run smoke again; `kubectl netdiag rbac` prints the permissions the plugin needs.',
    ),
  },

  // ------------------------------------------------------------------ node-diff (node-diff GOOD BAD)
  {
    code: 'node-diff.ip-forward',
    area: 'node-diff',
    severity: 'error',
    title: 'net.ipv4.ip_forward differs between the nodes',
    seeds: ['004'],
    explanation: p(
      'node-diff compares the same facts on a healthy and a broken node after removing what is naturally per-node, and ranks differences by how likely they break pod networking; this is the top rank.',
      'A node with ip_forward=0 routes nothing to or from its pods (seed 004).',
      'Set net.ipv4.ip_forward=1 on the bad node and persist it in /etc/sysctl.d; `kubectl netdiag node-check BAD` shows the details.',
    ),
  },
  {
    code: 'node-diff.kube-proxy-service-ports',
    area: 'node-diff',
    severity: 'error',
    title: 'the nodes have kube-proxy rules for different Service ports',
    seeds: ['003'],
    explanation: p(
      'One node has rules for Service ports the other lacks (matched by the "namespace/name:port" comments kube-proxy writes).',
      'Those ClusterIPs, DNS included, fail from the node without them: seed 003\'s new node whose kube-proxy never synced.',
      "Restart kube-proxy on the node that lacks them and check its log; `kubectl netdiag node-check BAD` lists the missing ports.",
    ),
  },
  {
    code: 'node-diff.kube-proxy-mode',
    area: 'node-diff',
    severity: 'error',
    title: 'kube-proxy runs in a different mode, or not at all, on one node',
    seeds: ['002', '003'],
    explanation: p(
      'The nodes differ in kube-proxy mode (iptables, ipvs, nftables, none).',
      '"none" on one node means it has no Service rules at all (seed 003); a different mode means a different kube-proxy configuration or leftovers of an old one (seed 002 describes the iptables and IPVS layouts).',
      "Check the kube-proxy pod and ConfigMap on the bad node; clean the other mode's leftovers (kube-proxy --cleanup) if it switched.",
    ),
  },
  {
    code: 'node-diff.kube-proxy-rule-counts',
    area: 'node-diff',
    severity: 'error',
    title: 'kube-proxy programmed a different number of rules on the nodes',
    seeds: ['002'],
    explanation: p(
      'The number of KUBE-SVC-*/KUBE-SEP-* chains or KUBE-SERVICES/KUBE-NODEPORTS rules (or their nftables/IPVS counterparts) differs.',
      'Every node should have the same Service rules; a difference means one kube-proxy is behind or failed to sync, so some Services or endpoints are missing there (seed 002\'s chain layout).',
      'Restart kube-proxy on the node with fewer rules and check its log; `kubectl netdiag trace-svc SERVICE` shows one Service on both.',
    ),
  },
  {
    code: 'node-diff.pod-cidr-route',
    area: 'node-diff',
    severity: 'error',
    title: "the nodes route a peer's pod CIDR differently",
    seeds: [],
    explanation: p(
      "The route to a third node's pod CIDR differs in kind (overlay, underlay, default only, none) or shape after normalising addresses.",
      'Pods on that peer are reached differently from the bad node, or not at all.',
      'Restart the CNI agent on the bad node so it reprograms its routes; `kubectl netdiag node-check BAD` classifies each route.',
    ),
  },
  {
    code: 'node-diff.kube-proxy-pod',
    area: 'node-diff',
    severity: 'error',
    title: 'kube-proxy runs on one node but not on the other',
    seeds: ['003'],
    explanation: p(
      'The kube-proxy pod is Running on one node and missing, Pending or not ready on the other.',
      'Nothing keeps the Service rules current on that node (seed 003: kube-proxy Pending on a new node).',
      'Find why (`kubectl -n kube-system describe pod`), and give kube-proxy priorityClassName system-node-critical.',
    ),
  },
  {
    code: 'node-diff.cni-agent-pod',
    area: 'node-diff',
    severity: 'error',
    title: 'the CNI agent runs on one node but not on the other',
    seeds: [],
    explanation: p(
      'The CNI agent pod (calico-node, kube-flannel, cilium) is Running on one node and missing or not ready on the other.',
      'Nothing keeps routes, tunnel entries and policies current on that node.',
      'Check the DaemonSet pod on the bad node (tolerations, node selectors, resources) and its log.',
    ),
  },
  {
    code: 'node-diff.bridge-nf-call-iptables',
    area: 'node-diff',
    severity: 'error',
    title: 'net.bridge.bridge-nf-call-iptables differs (or br_netfilter is loaded on one node only)',
    seeds: ['004'],
    explanation: p(
      'The nodes differ in bridge-nf-call-iptables.',
      'Where pods hang on a bridge, the node with 0 lets bridged pod traffic skip iptables: Service replies between pods on one node break and policies are skipped (seed 004); without a bridge CNI the difference is reported as info only.',
      'On the bad node: `modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1`, and persist both.',
    ),
  },
  {
    code: 'node-diff.forwarding',
    area: 'node-diff',
    severity: 'error',
    title: 'per-interface forwarding differs',
    seeds: ['004'],
    explanation: p(
      'net.ipv4.conf.IFACE.forwarding differs for a comparable interface (the NIC, overlay devices, pod veths as a group).',
      'An interface that does not forward drops routed pod traffic (the per-interface form of seed 004\'s ip_forward case); differences that simply follow an ip_forward difference are folded into node-diff.ip-forward.',
      'Set the forwarding sysctl on the bad node to match and find what changed it.',
    ),
  },
  {
    code: 'node-diff.cni',
    area: 'node-diff',
    severity: 'warn',
    title: 'the nodes run different CNIs',
    seeds: [],
    explanation: p(
      "The CNI the tool recognises from each node's interfaces (calico, flannel, cilium, bridge) differs.",
      'Most other differences follow from this one, and pods on the two nodes may not be able to reach each other at all.',
      "Check /etc/cni/net.d on both nodes and which CNI DaemonSets run where; remove a second CNI's leftovers from the bad node.",
    ),
  },
  {
    code: 'node-diff.nic-ipv4-addresses',
    area: 'node-diff',
    severity: 'warn',
    title: 'the NICs have a different number of IPv4 addresses',
    seeds: ['003'],
    explanation: p(
      'One node\'s NIC holds more IPv4 addresses than the other\'s.',
      'A second address can become the source of encapsulated traffic that peers do not accept (seed 003: two IPs on one NIC).',
      'Check the extra address on the bad node with `kubectl netdiag node-check BAD` (node.nic-multiple-ipv4) and remove it.',
    ),
  },
  {
    code: 'node-diff.overlay-devices',
    area: 'node-diff',
    severity: 'warn',
    title: 'the nodes have different overlay devices or CNI bridges',
    seeds: [],
    explanation: p(
      'The set of overlay devices (vxlan.calico, flannel.1, tunl0, cilium_vxlan) or CNI bridges, or their up/down state, differs.',
      'A missing or down overlay device cannot carry pod traffic between nodes.',
      'Restart the CNI agent on the bad node so it recreates the device, and check its log for why it is missing.',
    ),
  },
  {
    code: 'node-diff.mtu',
    area: 'node-diff',
    severity: 'warn',
    title: 'NIC, overlay, bridge or pod veth MTUs differ',
    seeds: ['003'],
    explanation: p(
      'An MTU of a comparable interface (the NIC, an overlay device, a CNI bridge, the pod veths) differs between the nodes.',
      'An MTU mismatch drops large packets only: handshakes work, transfers stall (seed 003: 1440 versus 1500).',
      'Make the MTUs equal; `kubectl netdiag mtu-probe POD --to node/BAD` measures the path.',
    ),
  },
  {
    code: 'node-diff.rp-filter',
    area: 'node-diff',
    severity: 'warn',
    title: 'rp_filter differs',
    seeds: [],
    explanation: p(
      'Reverse-path filtering (conf/all or a comparable interface) differs.',
      'Strict rp_filter drops asymmetric pod traffic (return route through another interface), so some paths fail only via the bad node.',
      'Use the good node\'s value on the bad node; the effective value is max(all, interface).',
    ),
  },
  {
    code: 'node-diff.arp-ignore',
    area: 'node-diff',
    severity: 'warn',
    title: 'arp_ignore differs',
    seeds: ['001'],
    explanation: p(
      'arp_ignore (conf/all or a comparable interface) differs.',
      "arp_ignore=2 made Calico pods deaf to their node's ARP in seed 001; new pods inherit the node's conf/all value.",
      'Set the bad node\'s value to the good one\'s in /etc/sysctl.d and recreate its pods; `kubectl netdiag arp-check POD` shows one pod in detail.',
    ),
  },
  {
    code: 'node-diff.proxy-arp',
    area: 'node-diff',
    severity: 'warn',
    title: 'proxy_arp differs',
    seeds: ['001'],
    explanation: p(
      'proxy_arp on a comparable interface (the pod veths as a group) differs.',
      'Calico-style pods need proxy ARP on their host veth to reach the 169.254.1.1 gateway (seed 001).',
      'Check calico-node on the bad node; `kubectl netdiag arp-check POD` for a pod there.',
    ),
  },
  {
    code: 'node-diff.own-pod-cidr-route',
    area: 'node-diff',
    severity: 'warn',
    title: "the node's own pod CIDR is routed differently",
    seeds: [],
    explanation: p(
      "The route(s) for each node's own pod CIDR differ in shape after normalisation (for example a blackhole route for the local block on one, a bridge route on the other).",
      'Local pods may be reached differently; often harmless between CNI versions, sometimes the sign of a half-configured node.',
      'Compare with `ip route` on both nodes and restart the CNI agent on the bad one if it looks wrong.',
    ),
  },
  {
    code: 'node-diff.default-route',
    area: 'node-diff',
    severity: 'warn',
    title: 'the default route differs',
    seeds: ['001'],
    explanation: p(
      'The default route differs in shape (device role, presence), after normalising gateway addresses.',
      "A node without a default route breaks Calico's proxy ARP for 169.254.1.1 (seed 001) and pods' access to the outside (see arp.no-default-route).",
      "Fix the bad node's network configuration.",
    ),
  },
  {
    code: 'node-diff.iptables-backend',
    area: 'node-diff',
    severity: 'warn',
    title: 'kube-proxy chains are in a different iptables backend',
    seeds: ['002'],
    explanation: p(
      'The iptables backend holding the KUBE-* chains (nft, legacy, both) differs.',
      'Rules in the other backend are invisible to tools using the one in use, and "both" means one set is stale (seed 002\'s chains, in two places).',
      "Make the node's iptables alternative match kube-proxy's and flush the unused backend.",
    ),
  },
  {
    code: 'node-diff.cni-config',
    area: 'node-diff',
    severity: 'warn',
    title: 'the CNI config files differ',
    seeds: [],
    explanation: p(
      'The files in /etc/cni/net.d, or their content (compared by SHA-256), differ.',
      'The runtime sets pods up from a different network config on each node: different MTU, IPAM, plugins, or a leftover of another CNI.',
      'Diff the files on both nodes; restart the CNI agent on the bad node so it rewrites its config, and remove stale files.',
    ),
  },
  {
    code: 'node-diff.sysctl-other',
    area: 'node-diff',
    severity: 'info',
    title: 'other network sysctls differ',
    seeds: [],
    explanation: p(
      'Network sysctls outside the ranked ones (arp_announce, bridge-nf-call-ip6tables and the rest) differ.',
      'They rarely matter for pod traffic, but a difference made by hand is worth a look.',
      'Align them if in doubt.',
    ),
  },
  {
    code: 'node-diff.other-route',
    area: 'node-diff',
    severity: 'info',
    title: 'routes outside the pod network differ',
    seeds: [],
    explanation: p(
      'Routes that are neither pod CIDR routes nor the default route differ (after normalising addresses).',
      'They concern the node network rather than pods; occasionally one captures pod traffic.',
      'Compare `ip route` on both nodes.',
    ),
  },
  {
    code: 'node-diff.conntrack-max',
    area: 'node-diff',
    severity: 'info',
    title: 'nf_conntrack_max differs',
    seeds: [],
    explanation: p(
      'The conntrack table size differs.',
      'It only matters when the table fills (see node.conntrack-near-full).',
      'kube-proxy sets it from --conntrack-max-per-core and the core count, so different machine sizes give different values.',
    ),
  },
  {
    code: 'node-diff.kernel',
    area: 'node-diff',
    severity: 'info',
    title: 'the kernel versions differ',
    seeds: [],
    explanation: p(
      'The nodes run different kernels.',
      'Cosmetic unless a feature the CNI needs (a module, an eBPF helper, a conntrack fix) is missing on one of them.',
      'Check the CNI agent\'s log on the bad node for missing kernel features.',
    ),
  },
  {
    code: 'node-diff.iptables-version',
    area: 'node-diff',
    severity: 'info',
    title: 'the iptables-save versions differ',
    seeds: [],
    explanation: p(
      "The iptables-save version line of the backend with kube-proxy's chains differs.",
      'Cosmetic in itself; a backend change shows as node-diff.iptables-backend.',
      'A much older iptables on one node can still mis-read rules written by a newer kube-proxy image, so align the packages when in doubt.',
    ),
  },
  {
    code: 'node-diff.resolv-conf',
    area: 'node-diff',
    severity: 'info',
    title: "the nodes' resolv.conf nameservers differ",
    seeds: ['004'],
    explanation: p(
      "The nameservers in the nodes' /etc/resolv.conf differ.",
      'They matter for CoreDNS pods on that node, which forward to the node\'s resolvers: a loopback nameserver there makes CoreDNS loop (seed 004).',
      'Run `kubectl netdiag dns-check POD` when CoreDNS runs on the bad node.',
    ),
  },
  // ------------------------------------------------------------------ conn (conn-check)
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

export type FindingCode = (typeof FINDING_CATALOG)[number]['code'];

const BY_CODE: ReadonlyMap<string, FindingCatalogEntry> = new Map(FINDING_CATALOG.map((e) => [e.code, e]));

export function findCatalogEntry(code: string): FindingCatalogEntry | undefined {
  return BY_CODE.get(code);
}

export function isFindingArea(text: string): text is FindingArea {
  return (FINDING_AREAS as readonly string[]).includes(text);
}

/** The catalogue in area order (FINDING_AREAS), codes sorted within an area. */
export function catalogByArea(): ReadonlyArray<{ area: FindingArea; entries: FindingCatalogEntry[] }> {
  return FINDING_AREAS.map((area) => ({
    area,
    entries: FINDING_CATALOG.filter((e) => e.area === area).sort((a, b) => a.code.localeCompare(b.code)),
  }));
}

/**
 * The codes nearest to a mistyped one: codes containing it first (`loop` -> dns.coredns-loop),
 * then by edit distance, counting the part after the area as well so `node.ip-forward` finds
 * node.ip-forward-off and node-diff.ip-forward.
 */
export function closestCodes(query: string, limit = 3): string[] {
  const q = query.trim().toLowerCase();
  if (q === '') return [];
  const scored = FINDING_CATALOG.map((e) => {
    const name = e.code.slice(e.code.indexOf('.') + 1);
    const qName = q.includes('.') ? q.slice(q.indexOf('.') + 1) : q;
    const contains = e.code.includes(q) || (qName.length >= 3 && name.includes(qName));
    const distance = Math.min(editDistance(q, e.code), editDistance(qName, name) + (q.includes('.') && !q.startsWith(`${e.area}.`) ? 2 : 0));
    return { code: e.code, score: (contains ? 0 : 1000) + distance };
  });
  const maxDistance = Math.max(3, Math.floor(q.length / 2));
  return scored
    .filter((s) => s.score < 1000 + maxDistance)
    .sort((a, b) => a.score - b.score || a.code.localeCompare(b.code))
    .slice(0, limit)
    .map((s) => s.code);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
