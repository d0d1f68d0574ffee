// Pod create and delete as the real API server answers them: validation, PodSecurity admission,
// the webhook and quota faults, defaulting, graceful deletion; created pods go to the simulated
// kubelet and become the probe pods that exec reaches.

import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LabCluster } from './cluster.js';
import { dryRunOf, isRecord, readBody, timestampOf } from './http-io.js';
import type { KubeObject } from './objects.js';
import { admissionForbidden, alreadyExists, badRequest, invalid, notFound, webhookDenied } from './status.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function podSecurityViolations(spec: Record<string, unknown>): string[] {
  const hostNs = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => spec[k] === true).map((k) => `${k}=true`);
  const containers = Array.isArray(spec.containers) ? (spec.containers as Record<string, unknown>[]) : [];
  const privileged = containers.filter((c) => isRecord(c.securityContext) && c.securityContext.privileged === true).map((c) => String(c.name));
  const hostPaths = (Array.isArray(spec.volumes) ? (spec.volumes as Record<string, unknown>[]) : []).filter((v) => isRecord(v.hostPath)).map((v) => String(v.name));
  const violations: string[] = [];
  if (hostNs.length > 0) violations.push(`host namespaces (${hostNs.join(', ')})`);
  if (privileged.length > 0) violations.push(`privileged (${privileged.map((c) => `container "${c}" must not set securityContext.privileged=true`).join(', ')})`);
  if (hostPaths.length > 0) violations.push(`hostPath volumes (${hostPaths.map((v) => `volume "${v}"`).join(', ')})`);
  return violations;
}

// The body's metadata and spec, and the name it asks for (generateName filled in).
function podRequestOf(body: unknown, namespace: string): { meta: Record<string, unknown>; spec: Record<string, unknown>; name: string } {
  if (!isRecord(body) || !isRecord(body.metadata) || !isRecord(body.spec)) throw badRequest('Pod in version "v1" cannot be handled as a Pod: metadata and spec are required');
  if (body.kind !== undefined && body.kind !== 'Pod') throw badRequest(`Pod in version "v1" cannot be handled as a Pod: kind "${String(body.kind)}" is not Pod`);
  const meta = body.metadata;
  if (typeof meta.namespace === 'string' && meta.namespace !== '' && meta.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  let name = typeof meta.name === 'string' ? meta.name : '';
  const generateName = typeof meta.generateName === 'string' ? meta.generateName : '';
  if (name === '' && generateName !== '') {
    name = generateName + Array.from(randomBytes(5), (b) => NAME_SUFFIX_ALPHABET[b % NAME_SUFFIX_ALPHABET.length]).join('');
  }
  return { meta, spec: { ...body.spec }, name };
}

function validatePod(name: string, spec: Record<string, unknown>): void {
  const causes: { field: string; message: string }[] = [];
  if (name === '') causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required' });
  else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')` });
  }
  const containers = Array.isArray(spec.containers) ? spec.containers : [];
  if (containers.length === 0) causes.push({ field: 'spec.containers', message: 'Required value' });
  containers.forEach((c: unknown, i: number) => {
    const container = isRecord(c) ? c : {};
    if (typeof container.name !== 'string' || container.name === '') causes.push({ field: `spec.containers[${i}].name`, message: 'Required value' });
    else if (!DNS1123_LABEL.test(container.name)) causes.push({ field: `spec.containers[${i}].name`, message: `Invalid value: "${container.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')` });
    if (typeof container.image !== 'string' || container.image === '') causes.push({ field: `spec.containers[${i}].image`, message: 'Required value' });
  });
  if (spec.activeDeadlineSeconds !== undefined && !(typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds > 0)) {
    causes.push({ field: 'spec.activeDeadlineSeconds', message: `Invalid value: ${JSON.stringify(spec.activeDeadlineSeconds)}: must be between 1 and 2147483647, inclusive` });
  }
  if (causes.length > 0) throw invalid('Pod', 'pods', name, causes);
}

// PodSecurity (the namespace's enforce label, or the rejectPodCreate fault), then the webhooks
// (one that cannot answer dry runs, one that denies), then ResourceQuota, in the real server's words.
function admitPod(cluster: LabCluster, namespace: string, name: string, spec: Record<string, unknown>, dryRun: boolean): void {
  const { faults, store } = cluster;
  const nsLabels = store.get('namespaces', null, namespace)?.metadata.labels ?? {};
  const level = nsLabels['pod-security.kubernetes.io/enforce'];
  const violations = podSecurityViolations(spec);
  if (faults.rejectPodCreate !== null) {
    const reason = faults.rejectPodCreate !== ''
      ? faults.rejectPodCreate
      : `violates PodSecurity "restricted:latest": ${violations.length > 0 ? violations.join(', ') : 'privileged (container "probe" must not set securityContext.privileged=true)'}`;
    throw admissionForbidden('pods', name, reason);
  }
  if ((level === 'baseline' || level === 'restricted') && violations.length > 0) {
    const version = nsLabels['pod-security.kubernetes.io/enforce-version'] ?? 'latest';
    throw admissionForbidden('pods', name, `violates PodSecurity "${level}:${version}": ${violations.join(', ')}`);
  }
  const webhook = faults.admissionWebhook;
  if (webhook && dryRun && webhook.noDryRun) throw badRequest(`admission webhook "${webhook.name}" does not support dry run`);
  if (webhook && !webhook.noDryRun) throw webhookDenied(webhook.name, webhook.message, webhook.code);
  if (faults.exhaustedPodQuota !== null) {
    const used = store.list('pods', namespace).length;
    throw admissionForbidden('pods', name, `exceeded quota: ${faults.exhaustedPodQuota}, requested: pods=1, used: pods=${used}, limited: pods=${used}`);
  }
}

// Defaulting, as the real server's defaulters do.
function defaultedPod(meta: Record<string, unknown>, spec: Record<string, unknown>, name: string, namespace: string, created: Date): KubeObject {
  const containers = Array.isArray(spec.containers) ? (spec.containers as Record<string, unknown>[]) : [];
  const defaultedContainers = containers.map((c) => {
    const image = String(c.image);
    const tagged = /:[^/]+$/.test(image) && !image.endsWith(':latest');
    return { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: tagged ? 'IfNotPresent' : 'Always', resources: {}, ...c };
  });
  const defaults = { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', serviceAccountName: 'default', serviceAccount: 'default', securityContext: {}, schedulerName: 'default-scheduler', priority: 0, enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority' };
  const metadata: KubeObject['metadata'] = {
    ...(meta as Partial<KubeObject['metadata']>),
    name,
    namespace,
    uid: randomUUID(),
    creationTimestamp: timestampOf(created),
  };
  delete metadata.resourceVersion;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: { ...defaults, ...spec, containers: defaultedContainers } };
}

export async function createPod(cluster: LabCluster, req: IncomingMessage, namespace: string, query: URLSearchParams): Promise<KubeObject> {
  const body = await readBody(req);
  const dryRun = dryRunOf(query);
  const { meta, spec, name } = podRequestOf(body, namespace);
  cluster.checkForbidden('create', 'pods', '', namespace, null);
  if (!cluster.store.get('namespaces', null, namespace)) throw notFound('namespaces', '', namespace);
  validatePod(name, spec);
  admitPod(cluster, namespace, name, spec, dryRun);
  if (cluster.store.get('pods', namespace, name)) throw alreadyExists('pods', '', name);
  const pod = defaultedPod(meta, spec, name, namespace, cluster.now());
  if (dryRun) return { ...pod, status: { phase: 'Pending', qosClass: 'Burstable' } };
  cluster.probeUids.add(pod.metadata.uid);
  cluster.stats.probePodCreated(cluster.probeUids.size);
  return cluster.store.put('pods', cluster.kubelet.admit(pod));
}

function removePod(cluster: LabCluster, pod: KubeObject): KubeObject | null {
  const { uid, namespace = null, name } = pod.metadata;
  cluster.kubelet.forget(uid);
  for (const ws of cluster.execSessions.get(uid) ?? []) ws.terminate(); // the container dies with its execs
  const removed = cluster.store.remove('pods', namespace, name);
  if (cluster.probeUids.delete(uid)) {
    cluster.stats.probePodsAlive(cluster.probeUids.size);
    return removed;
  }
  cluster.deletedLabUids.add(uid);
  cluster.rebuild(); // EndpointSlices follow the pod set
  return removed;
}

export function deletePod(cluster: LabCluster, pod: KubeObject, gracePeriodSeconds: number | null): KubeObject {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  const grace = gracePeriodSeconds ?? ((pod.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30);
  // Only a pod with a running container needs a graceful stop; the simulated container exits
  // on SIGTERM at once, so the pod disappears shortly after being marked.
  if (grace > 0 && phase === 'Running' && cluster.probeUids.has(pod.metadata.uid)) {
    if (pod.metadata.deletionTimestamp) return pod;
    const marked = cluster.store.put('pods', {
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: timestampOf(new Date(cluster.now().getTime() + grace * 1000)), deletionGracePeriodSeconds: grace },
    });
    setTimeout(() => {
      const current = cluster.store.get('pods', marked.metadata.namespace ?? null, marked.metadata.name);
      if (current?.metadata.uid === marked.metadata.uid) removePod(cluster, current);
    }, Math.min(grace * 1000, 100)).unref();
    return marked;
  }
  return removePod(cluster, pod) ?? pod;
}

export async function deleteOptionsOf(req: IncomingMessage, query: URLSearchParams): Promise<number | null> {
  const body = await readBody(req);
  const fromQuery = query.get('gracePeriodSeconds');
  if (fromQuery !== null) return Number(fromQuery);
  if (isRecord(body) && typeof body.gracePeriodSeconds === 'number') return body.gracePeriodSeconds;
  return null;
}
