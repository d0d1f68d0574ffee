// Resolving user-named objects, with the messages a user needs when they are not there.
import type { ClusterApi, Node, Pod } from './cluster-api.js';
import { EXIT, UserError } from '../errors.js';

/** A pod that exists and runs; a missing pod names the namespaces where that name does exist. */
export async function resolvePod(api: ClusterApi, namespace: string, name: string): Promise<Pod> {
  let pod: Pod;
  try {
    pod = await api.readPod(namespace, name);
  } catch (err) {
    if (err instanceof UserError && /not found/.test(err.message)) {
      const elsewhere = await api
        .listPods({ namespace: undefined, fieldSelector: `metadata.name=${name}` })
        .then((pods) => pods.map((p) => p.metadata?.namespace ?? '').filter(Boolean))
        .catch(() => [] as string[]);
      // A missing namespace is the likelier mistake when the pod is nowhere else either.
      if (elsewhere.length === 0 && (await namespaceMissing(api, namespace))) {
        throw new UserError(`namespace "${namespace}" not found`, { hint: 'kubectl get namespaces lists them', exitCode: EXIT.usage });
      }
      throw new UserError(`pod "${name}" not found in namespace "${namespace}"`, {
        hint: elsewhere.length > 0 ? `it exists in namespace ${elsewhere.map((n) => `"${n}"`).join(', ')}: add -n ${elsewhere[0]}` : 'kubectl get pods -A lists the pods',
        exitCode: EXIT.usage,
      });
    }
    throw err;
  }
  const phase = pod.status?.phase ?? 'Unknown';
  if (phase !== 'Running') {
    throw new UserError(`pod ${namespace}/${name} is ${phase}, not Running: it has no live network namespace to inspect`, { exitCode: EXIT.usage });
  }
  if (!pod.spec?.nodeName) throw new UserError(`pod ${namespace}/${name} is not scheduled on a node`, { exitCode: EXIT.usage });
  return pod;
}

async function namespaceMissing(api: ClusterApi, namespace: string): Promise<boolean> {
  try {
    await api.readNamespace(namespace);
    return false;
  } catch (err) {
    return err instanceof UserError && /not found/.test(err.message);
  }
}

/**
 * A valid target on a node the probe cannot run on is "could not diagnose" (exit 3), not bad input:
 * the user named a real pod or node. The probe run checks again per node (src/probe/probe-run.ts).
 */
export function assertLinuxNode(node: Node | undefined, name: string): void {
  // Either source saying "not Linux" is enough (the label, or what the kubelet reports).
  const os = [node?.metadata?.labels?.['kubernetes.io/os'], node?.status?.nodeInfo?.operatingSystem].find((v) => v && v !== 'linux');
  if (os) {
    throw new UserError(`node ${name} runs ${os === 'windows' ? 'Windows' : os}; the probe pod needs a Linux node (hostNetwork, nsenter, iptables)`, {
      hint: 'Windows node networking (HNS) is not covered; diagnose pods on Linux nodes',
      exitCode: EXIT.cannotDiagnose,
    });
  }
}

export function nodeInternalIP(node: Node): string | undefined {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

export function podIPsOf(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => Boolean(ip));
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips;
}

/** "containerd://abc..." -> "abc..."; only hex ids are passed on to the node script. */
export function containerIdOf(pod: Pod): string | null {
  for (const c of pod.status?.containerStatuses ?? []) {
    const id = c.containerID?.replace(/^[a-z0-9-]+:\/\//, '');
    if (id && /^[0-9a-f]{12,64}$/.test(id)) return id;
  }
  return null;
}
