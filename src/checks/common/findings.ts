// Finding codes more than one check emits: the probe's own failures (every command) and the node conditions both node-check and trace-svc report, with what each means and what to do about it.
// ../catalog.ts assembles the full catalogue (explain, the drift test) from every check's list.
import { p, type FindingCatalogEntry } from '../catalog-entry.js';

/** How node-check and trace-svc explain kube-proxy rules they could not read (each has its own code). */
export function rulesUnreadableExplanation(command: string): string {
  return p(
    "No backend that was read holds kube-proxy rules, and at least one could not be read: the probe image lacks the tool (exit 127), the kernel refused it (the probe pod is not privileged), or its kernel interface is missing.",
    'This says nothing about the rules themselves, so it is not reported as missing kube-proxy rules. The evidence names each source (iptables nf_tables or legacy backend, the nftables kube-proxy table, IPVS) and why it could not be read.',
    `${command} reads the rules with the probe image's own iptables-nft-save, iptables-legacy-save, nft and ipvsadm inside the node's network namespace, as kube-proxy does from its container; the node's own binaries are never used (Talos, Bottlerocket and Flatcar have none).`,
    'Run again with an --image that has these tools (netshoot has them) and a privileged probe pod.',
  );
}

export const COMMON_FINDINGS = [
  {
    code: 'node.ip-forward-off',
    area: 'node',
    severity: 'error',
    title: 'net.ipv4.ip_forward is 0 on the node',
    seeds: ['004'],
    explanation: p(
      'The node does not route IPv4 packets between interfaces.',
      'Every packet a pod sends off its node, and every packet for a pod arriving from another node or from a Service DNAT, has to be forwarded, so pods can reach only their own node; operators see it as SYNs to a pod IP or Service retransmitted without an answer until net.ipv4.ip_forward is set back to 1.',
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
      "Frames between pods on the same bridge then never pass through iptables: kube-proxy's DNAT is not undone on the replies, so a pod calling a Service whose endpoint is on the same node gets replies from the wrong address and the connection hangs; network policies are skipped too.",
      'node-check and trace-svc read /proc/sys/net/bridge/bridge-nf-call-iptables on nodes that have a bridge with veth ports.',
      'Run `modprobe br_netfilter; sysctl -w net.bridge.bridge-nf-call-iptables=1`, and persist both in /etc/modules-load.d and /etc/sysctl.d.',
    ),
  },
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
] as const satisfies readonly FindingCatalogEntry[];
