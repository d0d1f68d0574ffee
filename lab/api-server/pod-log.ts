// pods/log: the fault's lines for a pod, CoreDNS's start-up banner, or two lines for a lab pod;
// refused while the container waits, as the kubelet does.

import type { ServerResponse } from 'node:http';
import type { LabCluster } from './cluster.js';
import type { KubeObject } from './objects.js';
import { badRequest } from './status.js';

function podLogLines(cluster: LabCluster, pod: KubeObject): string[] {
  const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
  const custom = cluster.faults.podLogs[key];
  if (custom) return custom;
  if (pod.metadata.labels?.['k8s-app'] === 'kube-dns') {
    return cluster.faults.corednsLogLines ?? [
      '.:53',
      '[INFO] plugin/reload: Running configuration SHA512 = 591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908',
      'CoreDNS-1.11.1',
      'linux/amd64, go1.20.7, ae2bbc2',
    ];
  }
  if (cluster.probeUids.has(pod.metadata.uid)) return [];
  return [`${pod.metadata.creationTimestamp} lab pod ${pod.metadata.name} started`, `${pod.metadata.creationTimestamp} listening`];
}

export function servePodLog(cluster: LabCluster, res: ServerResponse, pod: KubeObject, query: URLSearchParams): void {
  const containers = ((pod.spec as { containers?: { name: string }[] }).containers ?? []).map((c) => c.name);
  const container = query.get('container') ?? containers[0] ?? '';
  if (!containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
  const statuses = (pod.status as { containerStatuses?: { name: string; state?: { waiting?: { reason?: string } } }[] } | undefined)?.containerStatuses ?? [];
  const waiting = statuses.find((s) => s.name === container)?.state?.waiting;
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase === 'Pending' || waiting) {
    throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${waiting?.reason ?? 'ContainerCreating'}`);
  }
  let lines = podLogLines(cluster, pod);
  const tailText = query.get('tailLines');
  const tail = tailText === null ? Number.NaN : Number(tailText);
  if (Number.isInteger(tail) && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
  const text = lines.map((l) => `${l}\n`).join('');
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
