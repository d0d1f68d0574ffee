// The probe pod, built as a plain object so tests compare it whole. Its privilege is decided here
// and only here (docs/security.md explains each field).
import type { Pod } from '../kube/cluster-api.js';
import { NODE_SCRIPT_ENV } from '../node-script/node-script.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kubectl-netdiag';
export const RUN_ID_LABEL = 'kubectl-netdiag.io/run-id';
export const NODE_ANNOTATION = 'kubectl-netdiag.io/node';
export const PROBE_CONTAINER = 'probe';
// nicolaka/netshoot carries sh, nsenter, ip, ethtool, iptables (legacy and nft), nft, ipvsadm,
// conntrack, ping, arping and dig; pinned so a run is reproducible.
export const DEFAULT_PROBE_IMAGE = 'nicolaka/netshoot:v0.13';

export interface ProbePodOptions {
  nodeName: string;
  namespace: string;
  image: string;
  runId: string;
  nameSuffix: string; // random, from the entry point's seam
  lifetimeSeconds: number; // the container's own time limit: a killed CLI leaves nothing running for long
  imagePullSecrets: readonly string[];
  priorityClassName?: string | undefined;
  command: string; // the subcommand, recorded as an annotation for whoever finds the pod
  nodeScript: string; // the gatherer's text, carried in the spec so the exec URL stays short
}

export function probePodName(nodeName: string, suffix: string): string {
  // DNS-1123 label of at most 63 characters: "netdiag-" + node (trimmed) + "-" + suffix.
  const room = 63 - 'netdiag-'.length - 1 - suffix.length;
  const node = nodeName.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, room).replace(/-+$/, '');
  return `netdiag-${node}-${suffix}`;
}

export function buildProbePod(o: ProbePodOptions): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: probePodName(o.nodeName, o.nameSuffix),
      namespace: o.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [RUN_ID_LABEL]: o.runId },
      annotations: {
        [NODE_ANNOTATION]: o.nodeName,
        'kubectl-netdiag.io/command': o.command,
        'kubectl-netdiag.io/purpose': 'short-lived network diagnostics probe; safe to delete',
      },
    },
    spec: {
      nodeName: o.nodeName, // bypasses the scheduler: the probe must land on exactly this node
      hostNetwork: true, // the node's own interfaces, routes and iptables
      hostPID: true, // to find pod PIDs and nsenter into their network namespaces
      dnsPolicy: 'ClusterFirstWithHostNet',
      restartPolicy: 'Never',
      automountServiceAccountToken: false, // the probe never talks to the API
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      activeDeadlineSeconds: o.lifetimeSeconds + 30,
      tolerations: [{ operator: 'Exists' }], // tainted nodes are often the broken ones
      ...(o.priorityClassName ? { priorityClassName: o.priorityClassName } : {}),
      ...(o.imagePullSecrets.length > 0 ? { imagePullSecrets: o.imagePullSecrets.map((name) => ({ name })) } : {}),
      containers: [
        {
          name: PROBE_CONTAINER,
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', String(o.lifetimeSeconds)],
          env: [{ name: NODE_SCRIPT_ENV, value: o.nodeScript }],
          securityContext: {
            // nsenter into other pods' namespaces needs CAP_SYS_ADMIN and CAP_SYS_PTRACE, iptables
            // needs CAP_NET_ADMIN, and /proc of other containers must be readable: privileged.
            privileged: true,
            readOnlyRootFilesystem: true,
            runAsUser: 0,
          },
          resources: {
            requests: { cpu: '10m', memory: '32Mi' },
            limits: { cpu: '500m', memory: '256Mi' },
          },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }],
    },
  };
}
