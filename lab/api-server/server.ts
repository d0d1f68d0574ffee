// The simulated Kubernetes API server: HTTPS on 127.0.0.1, bearer-token auth, the REST and
// watch protocols for the objects built from LabState, pod create/delete with a simulated
// kubelet, websocket exec, pod logs, SelfSubjectAccessReview, and the /_lab/ faults API.

import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LabNode, LabState } from '../lab-state.js';
import { buildKubeconfig, generateCertificates, LAB_USER_NAME } from './certs.js';
import { EXEC_PROTOCOLS, prepareProbeImage, type ExecProtocol } from './exec.js';
import { ExecReplay, runScaledExec, type ScaleExecMode } from './exec-replay.js';
import { defaultFaults, FaultsError, isForbidden, parseFaults, type LabFaults } from './faults.js';
import { SimulatedKubelet } from './kubelet.js';
import { decodeSelfSubjectAccessReview } from './protobuf.js';
import { buildLabObjects, type KubeObject, type NodeHostInfo } from './objects.js';
import {
  apiVersionOf, buildApiGroup, buildApiGroupList, buildApiResourceList, buildApiVersions, findResourceType,
  SERVER_VERSION, STATE_RESOURCE_NAMES, type ResourceName, type ResourceType,
} from './resources.js';
import {
  matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError,
  type FieldRequirement, type LabelRequirement,
} from './selectors.js';
import {
  admissionForbidden, webhookDenied, alreadyExists, ApiError, badRequest, forbidden, gone, internalError, invalid,
  methodNotAllowed, notFound, pathNotFound, unauthorized,
} from './status.js';
import { buildTable, type IncludeObject } from './tables.js';
import { deliver, ObjectStore, type StoreEvent, type WatchSubscriber } from './store.js';
import { ExecSlots, expandScaleNodes } from './scale.js';
import { classifyRequest, LabStats, requestVerb } from './stats.js';
import { admitNetworkPolicy, deletedStatus, mergePatch, openApiV3Document } from './network-policies.js';
import { load as loadYaml } from 'js-yaml';

export interface ApiServerOptions {
  statePath: string;
  dir: string; // receives kubeconfig and pki/
  port?: number; // 0 (default) = any free port
  token?: string; // default: random
  now?: () => Date;
  hostInfo?: NodeHostInfo; // default: this machine's `uname -r` and /etc/os-release
  // Test hook: told of every request (exec upgrades too) as it arrives, before any apiDelayMs, so a
  // test can act at an exact moment of a client's run (signal it while its pod create is in flight).
  onRequest?: (method: string, path: string) => void;
  scaleNodes?: number; // simulated nodes added to the state's (scale.ts); default 0
  execSlots?: number; // exec commands running at once, the rest wait (scale.ts); default 0 = no bound
  scaleExec?: ScaleExecMode; // 'replay': repeated execs in one kernel replay a recording (exec-replay.ts)
  // Called after every NetworkPolicy change (and namespace label change), before the request is
  // answered, with all stored policies: lab:up's server programs the Calico nodes here.
  onNetworkPoliciesChanged?: (change: NetworkPolicyChange) => Promise<void>;
}

export interface NetworkPolicyChange {
  state: LabState;
  policies: KubeObject[];
  namespaceLabels: Record<string, Record<string, string>>;
}

export interface FaultsControl {
  get(): LabFaults;
  // Replaces the whole fault set, like PUT /_lab/faults.
  set(input: Partial<LabFaults>): LabFaults;
}

export interface ProbePodSummary {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string | null;
  phase: string;
}

export interface LabApiServer {
  url: string;
  port: number;
  kubeconfigPath: string;
  token: string;
  caCertPem: string;
  faults: FaultsControl;
  reload(): Promise<void>;
  probePods(): ProbePodSummary[];
  reprogramNetworkPolicies(): Promise<void>; // runs onNetworkPoliciesChanged with the stored policies
  close(): Promise<void>;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_BODY_BYTES = 3 * 1024 * 1024;

function readHostInfo(): NodeHostInfo {
  let osImage = 'Debian GNU/Linux 12 (bookworm)';
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) osImage = m[1];
  } catch {
    // keep the default
  }
  return { kernelVersion: release(), osImage };
}

export function parseLabState(text: string, source: string): LabState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`lab state ${source} is not JSON: ${(err as Error).message}`);
  }
  const state = parsed as Partial<LabState>;
  for (const key of ['nodes', 'pods', 'services', 'configMaps', 'namespaces'] as const) {
    if (!Array.isArray(state[key])) throw new Error(`lab state ${source} has no "${key}" list`);
  }
  if (typeof state.createdAt !== 'string') throw new Error(`lab state ${source} has no "createdAt"`);
  return {
    serviceCIDR: '', clusterCIDR: '', clusterDomain: 'cluster.local', dnsServiceIP: '', upstreamDnsIP: '',
    ...state,
  } as LabState;
}

function timestampOf(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.body.code, err.body);
}

async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the request is too large', reason: 'RequestEntityTooLarge', code: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

async function readBody(req: IncomingMessage): Promise<unknown> {
  const raw = await readRawBody(req);
  if ((req.headers['content-type'] ?? '').startsWith(PROTOBUF)) {
    throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the body of the request was in an unknown format - accepted media types include: application/json`, reason: 'UnsupportedMediaType', code: 415 });
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

// Kubernetes clients ask for a Table with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
function wantsTable(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.split(',').some((part) => /;\s*as=Table/.test(part) && /g=meta\.k8s\.io/.test(part));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface ResourceRequest {
  type: ResourceType;
  namespace: string | null;
  name: string | null;
  subresource: string | null;
}

// /api/v1/..., /apis/GROUP/VERSION/... -> what is addressed; null when the path is not a resource.
function parseResourcePath(segments: string[]): { group: string; version: string; rest: string[] } | null {
  if (segments[0] === 'api' && segments[1] === 'v1') return { group: '', version: 'v1', rest: segments.slice(2) };
  if (segments[0] === 'apis' && segments.length >= 3) return { group: segments[1] ?? '', version: segments[2] ?? '', rest: segments.slice(3) };
  return null;
}

export async function startApiServer(options: ApiServerOptions): Promise<LabApiServer> {
  const now = options.now ?? (() => new Date());
  const host = options.hostInfo ?? readHostInfo();
  const token = options.token ?? randomBytes(24).toString('hex');
  const statePath = resolve(options.statePath);
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const probePath = prepareProbeImage(dir); // busybox sh and applets first, as in the Alpine probe image

  const readState = async (): Promise<LabState> => {
    let text: string;
    try {
      text = await readFile(statePath, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the lab state ${statePath} (${(err as NodeJS.ErrnoException).code ?? 'error'}); run the lab builder first or pass --state`);
    }
    return expandScaleNodes(parseLabState(text, statePath), options.scaleNodes ?? 0);
  };
  let state = await readState();
  let faults = defaultFaults();
  const store = new ObjectStore();
  const probeUids = new Set<string>();
  const deletedLabUids = new Set<string>();
  const execSessions = new Map<string, Set<WebSocket>>(); // pod uid -> open exec sockets
  const openWatches = new Set<ServerResponse>();
  const labNode = (name: string): LabNode | null => state.nodes.find((n) => n.name === name) ?? null;
  const kubelet = new SimulatedKubelet({ store, faults: () => faults, labNode, now });
  const stats = new LabStats(now);
  const execSlots = new ExecSlots(options.execSlots ?? 0);
  const execReplay = options.scaleExec === 'replay' ? new ExecReplay() : null;

  const rebuild = (): void => {
    const objects = buildLabObjects(state, faults, host, deletedLabUids);
    for (const resource of STATE_RESOURCE_NAMES) {
      store.sync(resource, objects[resource], (obj) => !(resource === 'pods' && probeUids.has(obj.metadata.uid)));
    }
  };
  rebuild();

  const reload = async (): Promise<void> => {
    state = await readState();
    rebuild();
  };

  // One reprogramming at a time, each with the store as it is when it starts.
  let programming: Promise<void> = Promise.resolve();
  const policiesChanged = (): Promise<void> => {
    const hook = options.onNetworkPoliciesChanged;
    if (!hook) return Promise.resolve();
    const run = async (): Promise<void> => {
      const namespaceLabels = Object.fromEntries(store.list('namespaces', null).map((ns) => [ns.metadata.name, { ...(ns.metadata.labels ?? {}) }]));
      await hook({ state, policies: store.list('networkpolicies', null), namespaceLabels });
    };
    programming = programming.then(run, run);
    return programming.catch((err: unknown) => {
      throw internalError(`the lab could not program NetworkPolicy into the nodes: ${(err as Error).message}`);
    });
  };

  const setFaults = (input: unknown): LabFaults => {
    faults = parseFaults(input);
    rebuild();
    // Namespace labels may have changed what a namespaceSelector selects.
    if (store.list('networkpolicies', null).length > 0) void policiesChanged().catch(() => undefined);
    return faults;
  };

  const probePods = (): ProbePodSummary[] =>
    store.list('pods', null).filter((p) => probeUids.has(p.metadata.uid)).map((p) => ({
      namespace: p.metadata.namespace ?? '',
      name: p.metadata.name,
      uid: p.metadata.uid,
      nodeName: (p.spec as { nodeName?: string }).nodeName ?? null,
      phase: (p.status as { phase?: string } | undefined)?.phase ?? 'Pending',
    }));

  const checkForbidden = (verb: string, resource: string, group: string, namespace: string | null, name: string | null): void => {
    if (isForbidden(faults, verb, resource, namespace)) throw forbidden({ user: LAB_USER_NAME, verb, resource, group, namespace, name });
  };

  // ---- pods: create / delete -------------------------------------------------------------

  const podSecurityViolations = (spec: Record<string, unknown>): string[] => {
    const hostNs = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => spec[k] === true).map((k) => `${k}=true`);
    const containers = Array.isArray(spec.containers) ? (spec.containers as Record<string, unknown>[]) : [];
    const privileged = containers.filter((c) => isRecord(c.securityContext) && c.securityContext.privileged === true).map((c) => String(c.name));
    const hostPaths = (Array.isArray(spec.volumes) ? (spec.volumes as Record<string, unknown>[]) : []).filter((v) => isRecord(v.hostPath)).map((v) => String(v.name));
    const violations: string[] = [];
    if (hostNs.length > 0) violations.push(`host namespaces (${hostNs.join(', ')})`);
    if (privileged.length > 0) violations.push(`privileged (${privileged.map((c) => `container "${c}" must not set securityContext.privileged=true`).join(', ')})`);
    if (hostPaths.length > 0) violations.push(`hostPath volumes (${hostPaths.map((v) => `volume "${v}"`).join(', ')})`);
    return violations;
  };

  const createPod = async (req: IncomingMessage, namespace: string, query: URLSearchParams): Promise<KubeObject> => {
    const body = await readBody(req);
    // dryRun=All: validated and admitted like a real create, never stored or started.
    const dryRunValues = query.getAll('dryRun');
    if (dryRunValues.some((v) => v !== 'All')) throw badRequest(`Invalid dryRun value: "${dryRunValues.join(',')}". Only "All" is supported`);
    const dryRun = dryRunValues.length > 0;
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
    checkForbidden('create', 'pods', '', namespace, null);
    if (!store.get('namespaces', null, namespace)) throw notFound('namespaces', '', namespace);

    const spec = { ...body.spec };
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

    // PodSecurity admission: the namespace's enforce label, or the rejectPodCreate fault.
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
    // After the built-in admission plugins, the webhooks (faults): one that cannot answer dry runs,
    // one that denies, then ResourceQuota, each in the real server's words.
    const webhook = faults.admissionWebhook;
    if (webhook && dryRun && webhook.noDryRun) throw badRequest(`admission webhook "${webhook.name}" does not support dry run`);
    if (webhook && !webhook.noDryRun) throw webhookDenied(webhook.name, webhook.message, webhook.code);
    if (faults.exhaustedPodQuota !== null) {
      const used = store.list('pods', namespace).length;
      throw admissionForbidden('pods', name, `exceeded quota: ${faults.exhaustedPodQuota}, requested: pods=1, used: pods=${used}, limited: pods=${used}`);
    }
    if (store.get('pods', namespace, name)) throw alreadyExists('pods', '', name);

    // Defaulting, as the real server's defaulters do.
    spec.containers = containers.map((c: Record<string, unknown>) => {
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
      creationTimestamp: timestampOf(now()),
    };
    delete metadata.resourceVersion;
    const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata, spec: { ...defaults, ...spec } };
    if (dryRun) return { ...pod, status: { phase: 'Pending', qosClass: 'Burstable' } };
    probeUids.add(metadata.uid);
    stats.probePodCreated(probeUids.size);
    return store.put('pods', kubelet.admit(pod));
  };

  const removePod = (pod: KubeObject): KubeObject | null => {
    const { uid, namespace = null, name } = pod.metadata;
    kubelet.forget(uid);
    for (const ws of execSessions.get(uid) ?? []) ws.terminate(); // the container dies with its execs
    const removed = store.remove('pods', namespace, name);
    if (probeUids.delete(uid)) {
      stats.probePodsAlive(probeUids.size);
      return removed;
    }
    deletedLabUids.add(uid);
    rebuild(); // EndpointSlices follow the pod set
    return removed;
  };

  const deletePod = (pod: KubeObject, gracePeriodSeconds: number | null): KubeObject => {
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    const grace = gracePeriodSeconds ?? ((pod.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30);
    // Only a pod with a running container needs a graceful stop; the simulated container exits
    // on SIGTERM at once, so the pod disappears shortly after being marked.
    if (grace > 0 && phase === 'Running' && probeUids.has(pod.metadata.uid)) {
      if (pod.metadata.deletionTimestamp) return pod;
      const marked = store.put('pods', {
        ...pod,
        metadata: { ...pod.metadata, deletionTimestamp: timestampOf(new Date(now().getTime() + grace * 1000)), deletionGracePeriodSeconds: grace },
      });
      setTimeout(() => {
        const current = store.get('pods', marked.metadata.namespace ?? null, marked.metadata.name);
        if (current?.metadata.uid === marked.metadata.uid) removePod(current);
      }, Math.min(grace * 1000, 100)).unref();
      return marked;
    }
    return removePod(pod) ?? pod;
  };

  const deleteOptionsOf = async (req: IncomingMessage, query: URLSearchParams): Promise<number | null> => {
    const body = await readBody(req);
    const fromQuery = query.get('gracePeriodSeconds');
    if (fromQuery !== null) return Number(fromQuery);
    if (isRecord(body) && typeof body.gracePeriodSeconds === 'number') return body.gracePeriodSeconds;
    return null;
  };

  // ---- networkpolicies: create / update / patch / delete ---------------------------------

  const dryRunOf = (query: URLSearchParams): boolean => {
    const values = query.getAll('dryRun');
    if (values.some((v) => v !== 'All')) throw badRequest(`Invalid dryRun value: "${values.join(',')}". Only "All" is supported`);
    return values.length > 0;
  };

  const policyBody = (body: unknown, namespace: string, name: string | null): Record<string, unknown> => {
    if (!isRecord(body)) throw badRequest('NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: the body is not an object');
    if (body.kind !== undefined && body.kind !== 'NetworkPolicy') throw badRequest(`NetworkPolicy in version "v1" cannot be handled as a NetworkPolicy: kind "${String(body.kind)}" is not NetworkPolicy`);
    const meta = isRecord(body.metadata) ? body.metadata : {};
    if (typeof meta.namespace === 'string' && meta.namespace !== '' && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (name !== null && typeof meta.name === 'string' && meta.name !== name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    return { ...body, metadata: { ...meta, ...(name !== null && meta.name === undefined ? { name } : {}) } };
  };

  // Stores (unless dry run) and reprograms the nodes before answering, so traffic sent after
  // `kubectl apply` returns already meets the policy.
  const storePolicy = async (obj: KubeObject, dryRun: boolean): Promise<KubeObject> => {
    if (dryRun) return obj;
    const stored = store.put('networkpolicies', obj);
    await policiesChanged();
    return stored;
  };

  const createPolicy = async (req: IncomingMessage, namespace: string, query: URLSearchParams): Promise<KubeObject> => {
    const dryRun = dryRunOf(query);
    const body = policyBody(await readBody(req), namespace, null);
    if (!store.get('namespaces', null, namespace)) throw notFound('namespaces', '', namespace);
    const obj = admitNetworkPolicy(body, namespace, timestampOf(now()), null);
    if (store.get('networkpolicies', namespace, obj.metadata.name)) throw alreadyExists('networkpolicies', 'networking.k8s.io', obj.metadata.name);
    return storePolicy(obj, dryRun);
  };

  const updatePolicy = async (req: IncomingMessage, namespace: string, name: string, query: URLSearchParams): Promise<KubeObject> => {
    const dryRun = dryRunOf(query);
    const previous = store.get('networkpolicies', namespace, name);
    if (!previous) throw notFound('networkpolicies', 'networking.k8s.io', name);
    const obj = admitNetworkPolicy(policyBody(await readBody(req), namespace, name), namespace, timestampOf(now()), previous);
    return storePolicy(obj, dryRun);
  };

  // PATCH: merge and strategic merge patches (the same for NetworkPolicy), and server-side apply
  // (application/apply-patch+yaml: the whole intended object; creates it when missing).
  const patchPolicy = async (req: IncomingMessage, namespace: string, name: string, query: URLSearchParams): Promise<{ code: number; obj: KubeObject }> => {
    const dryRun = dryRunOf(query);
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    const text = (await readRawBody(req)).toString('utf8');
    const previous = store.get('networkpolicies', namespace, name);
    if (type === 'application/apply-patch+yaml') {
      let intent: unknown;
      try {
        intent = loadYaml(text);
      } catch (err) {
        throw badRequest(`error decoding YAML: ${(err as Error).message}`);
      }
      const body = policyBody(intent, namespace, name);
      const merged = previous ? { ...previous, metadata: { ...previous.metadata, ...(body.metadata as object) }, spec: body.spec } : body;
      const obj = admitNetworkPolicy(merged, namespace, timestampOf(now()), previous);
      return { code: previous ? 200 : 201, obj: await storePolicy(obj, dryRun) };
    }
    if (type !== 'application/merge-patch+json' && type !== 'application/strategic-merge-patch+json') {
      throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the server does not support patches of type "${type}" here; use a merge or strategic merge patch`, reason: 'UnsupportedMediaType', code: 415 });
    }
    if (!previous) throw notFound('networkpolicies', 'networking.k8s.io', name);
    let patch: unknown;
    try {
      patch = JSON.parse(text);
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    const merged = policyBody(mergePatch(previous, patch), namespace, name);
    return { code: 200, obj: await storePolicy(admitNetworkPolicy(merged, namespace, timestampOf(now()), previous), dryRun) };
  };

  const deletePolicies = async (victims: KubeObject[], dryRun: boolean): Promise<void> => {
    if (dryRun || victims.length === 0) return;
    for (const v of victims) store.remove('networkpolicies', v.metadata.namespace ?? null, v.metadata.name);
    await policiesChanged();
  };

  const handlePolicyWrite = async (req: IncomingMessage, res: ServerResponse, r: ResourceRequest, verb: string, query: URLSearchParams): Promise<void> => {
    const namespace = r.namespace;
    if (namespace === null || r.subresource) throw methodNotAllowed();
    if (verb === 'create') return sendJson(res, 201, await createPolicy(req, namespace, query));
    if (verb === 'deletecollection') {
      await readBody(req);
      const victims = store.list('networkpolicies', namespace).filter(selects(selectionOf('networkpolicies', query)));
      await deletePolicies(victims, dryRunOf(query));
      return sendJson(res, 200, listObject(r, victims));
    }
    const name = r.name ?? '';
    if (verb === 'update') return sendJson(res, 200, await updatePolicy(req, namespace, name, query));
    if (verb === 'patch') {
      const { code, obj } = await patchPolicy(req, namespace, name, query);
      return sendJson(res, code, obj);
    }
    const obj = store.get('networkpolicies', namespace, name);
    if (!obj) throw notFound('networkpolicies', 'networking.k8s.io', name);
    await readBody(req);
    await deletePolicies([obj], dryRunOf(query));
    return sendJson(res, 200, deletedStatus(obj));
  };

  // ---- list / watch --------------------------------------------------------------------

  interface Selection {
    labels: LabelRequirement[];
    fields: FieldRequirement[];
  }

  const selectionOf = (resource: ResourceName, query: URLSearchParams): Selection => {
    try {
      return { labels: parseLabelSelector(query.get('labelSelector')), fields: parseFieldSelector(query.get('fieldSelector'), resource) };
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(err.message);
      throw err;
    }
  };

  const selects = (selection: Selection) => (obj: KubeObject): boolean =>
    matchesLabels(selection.labels, obj.metadata.labels) && matchesFields(selection.fields, obj);

  const includeObjectOf = (query: URLSearchParams): IncludeObject => {
    const value = query.get('includeObject');
    return value === 'None' || value === 'Object' ? value : 'Metadata';
  };

  const serveWatch = (req: IncomingMessage, res: ServerResponse, r: ResourceRequest, query: URLSearchParams): void => {
    const selection = selectionOf(r.type.name, query);
    if (r.name) selection.fields.push({ field: 'metadata.name', op: '=', value: r.name });
    const asTable = wantsTable(req);
    const includeObject = includeObjectOf(query);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders(); // a watch with nothing to replay must still answer at once
    openWatches.add(res);
    const write = (type: string, obj: unknown): void => {
      if (res.writableEnded) return;
      const object = asTable && type !== 'ERROR' ? buildTable(r.type.name, [obj as KubeObject], (obj as KubeObject).metadata.resourceVersion, now(), includeObject) : obj;
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const sub: WatchSubscriber = { resource: r.type.name, namespace: r.namespace, matches: selects(selection), send: write };
    const rv = query.get('resourceVersion');
    if (!rv || rv === '0') {
      for (const obj of store.list(r.type.name, r.namespace)) if (sub.matches(obj)) write('ADDED', obj);
    } else {
      const since = Number(rv);
      const events: StoreEvent[] | null = Number.isFinite(since) ? store.eventsSince(since) : null;
      if (events === null) {
        write('ERROR', gone(`too old resource version: ${rv} (${store.oldestReplayableVersion})`).body);
        openWatches.delete(res);
        res.end();
        return;
      }
      for (const event of events) deliver(sub, event);
    }
    const unsubscribe = store.subscribe(sub);
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '');
    const timer = Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : null;
    res.on('close', () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
      openWatches.delete(res);
    });
  };

  const listObject = (r: ResourceRequest, items: KubeObject[]): Record<string, unknown> => ({
    kind: r.type.listKind,
    apiVersion: apiVersionOf(r.type),
    metadata: { resourceVersion: store.resourceVersion },
    // Like the real server, list items carry no kind/apiVersion of their own.
    items: items.map(({ apiVersion: _v, kind: _k, ...rest }) => rest),
  });

  // ---- pods/log --------------------------------------------------------------------------

  const podLogLines = (pod: KubeObject): string[] => {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const custom = faults.podLogs[key];
    if (custom) return custom;
    if (pod.metadata.labels?.['k8s-app'] === 'kube-dns') {
      return faults.corednsLogLines ?? [
        '.:53',
        '[INFO] plugin/reload: Running configuration SHA512 = 591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908',
        'CoreDNS-1.11.1',
        'linux/amd64, go1.20.7, ae2bbc2',
      ];
    }
    if (probeUids.has(pod.metadata.uid)) return [];
    return [`${pod.metadata.creationTimestamp} lab pod ${pod.metadata.name} started`, `${pod.metadata.creationTimestamp} listening`];
  };

  const servePodLog = (res: ServerResponse, pod: KubeObject, query: URLSearchParams): void => {
    const containers = ((pod.spec as { containers?: { name: string }[] }).containers ?? []).map((c) => c.name);
    const container = query.get('container') ?? containers[0] ?? '';
    if (!containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
    const statuses = (pod.status as { containerStatuses?: { name: string; state?: { waiting?: { reason?: string } } }[] } | undefined)?.containerStatuses ?? [];
    const waiting = statuses.find((s) => s.name === container)?.state?.waiting;
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Pending' || waiting) {
      throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${waiting?.reason ?? 'ContainerCreating'}`);
    }
    let lines = podLogLines(pod);
    const tailText = query.get('tailLines');
    const tail = tailText === null ? Number.NaN : Number(tailText);
    if (Number.isInteger(tail) && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
    const text = lines.map((l) => `${l}\n`).join('');
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };

  // ---- SelfSubjectAccessReview -----------------------------------------------------------

  const reviewAccess = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    let body: unknown;
    if ((req.headers['content-type'] ?? '').startsWith(PROTOBUF)) {
      try {
        body = decodeSelfSubjectAccessReview(await readRawBody(req));
      } catch (err) {
        throw badRequest(`unable to decode SelfSubjectAccessReview: ${(err as Error).message}`);
      }
    } else {
      body = await readBody(req);
    }
    const spec = isRecord(body) && isRecord(body.spec) ? body.spec : {};
    const attrs = isRecord(spec.resourceAttributes) ? spec.resourceAttributes : null;
    let allowed = true;
    if (attrs) {
      const resource = `${String(attrs.resource ?? '')}${attrs.subresource ? `/${String(attrs.subresource)}` : ''}`;
      allowed = !isForbidden(faults, String(attrs.verb ?? ''), resource, typeof attrs.namespace === 'string' && attrs.namespace !== '' ? attrs.namespace : null);
    }
    return {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: allowed ? { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "netdiag-lab-admin" of ClusterRole "cluster-admin" to User "${LAB_USER_NAME}"` } : { allowed: false },
    };
  };

  // ---- routing ---------------------------------------------------------------------------

  const resourceRequestOf = (segments: string[]): ResourceRequest | 'discovery' | null => {
    const parsed = parseResourcePath(segments);
    if (!parsed) return null;
    const { group, version, rest } = parsed;
    if (rest.length === 0) return 'discovery';
    let namespace: string | null = null;
    let tail = rest;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1] ?? null;
      tail = rest.slice(2);
    }
    const type = findResourceType(group, version, tail[0] ?? '');
    if (!type) return null;
    if (namespace !== null && !type.namespaced) return null;
    return { type, namespace, name: tail[1] ?? null, subresource: tail[2] ?? null };
  };

  const verbOf = (method: string, r: ResourceRequest, query: URLSearchParams): string => requestVerb(method, r.name !== null, r.subresource, query);

  const handleResource = async (req: IncomingMessage, res: ServerResponse, r: ResourceRequest, query: URLSearchParams): Promise<void> => {
    const method = req.method ?? 'GET';
    const verb = verbOf(method, r, query);
    const resourceName = r.subresource ? `${r.type.name}/${r.subresource}` : r.type.name;
    checkForbidden(verb, resourceName, r.type.group, r.namespace, r.name);
    if (!r.type.verbs.includes(verb) && !(r.subresource === 'log' && verb === 'get')) throw methodNotAllowed();
    if (r.type.namespaced && r.name !== null && r.namespace === null) throw pathNotFound();

    if (verb === 'watch') return serveWatch(req, res, r, query);
    if (verb === 'list') {
      const items = store.list(r.type.name, r.namespace).filter(selects(selectionOf(r.type.name, query)));
      sendJson(res, 200, wantsTable(req) ? buildTable(r.type.name, items, store.resourceVersion, now(), includeObjectOf(query)) : listObject(r, items));
      return;
    }
    if (r.type.name === 'networkpolicies' && ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(verb)) {
      return handlePolicyWrite(req, res, r, verb, query);
    }
    if (verb === 'create') {
      if (r.type.name !== 'pods' || r.namespace === null || r.subresource) throw methodNotAllowed();
      sendJson(res, 201, await createPod(req, r.namespace, query));
      return;
    }
    if (verb === 'deletecollection') {
      const grace = await deleteOptionsOf(req, query);
      const victims = store.list('pods', r.namespace).filter(selects(selectionOf('pods', query)));
      sendJson(res, 200, listObject(r, victims.map((p) => deletePod(p, grace))));
      return;
    }
    const obj = store.get(r.type.name, r.namespace, r.name ?? '');
    if (!obj) throw notFound(r.type.name, r.type.group, r.name ?? '');
    if (verb === 'get') {
      if (r.subresource === 'log' && r.type.name === 'pods') return servePodLog(res, obj, query);
      if (r.subresource && r.subresource !== 'status') throw pathNotFound();
      sendJson(res, 200, wantsTable(req) ? buildTable(r.type.name, [obj], undefined, now(), includeObjectOf(query)) : obj);
      return;
    }
    if (verb === 'delete' && !r.subresource) {
      sendJson(res, 200, deletePod(obj, await deleteOptionsOf(req, query)));
      return;
    }
    throw methodNotAllowed();
  };

  const handleLab = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const method = req.method ?? 'GET';
    if (path === '/_lab/faults' && method === 'GET') return sendJson(res, 200, faults);
    if (path === '/_lab/faults' && method === 'PUT') {
      try {
        return sendJson(res, 200, setFaults(await readBody(req)));
      } catch (err) {
        if (err instanceof FaultsError) throw badRequest(err.message);
        throw err;
      }
    }
    if (path === '/_lab/reload' && method === 'POST') {
      try {
        await reload();
      } catch (err) {
        throw internalError((err as Error).message);
      }
      return sendJson(res, 200, { reloaded: true, resourceVersion: store.resourceVersion });
    }
    if (path === '/_lab/pods' && method === 'GET') return sendJson(res, 200, { items: probePods() });
    throw pathNotFound();
  };

  // Not counted, not delayed: reading the meter must not move it.
  const serveStats = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void => {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'DELETE') throw methodNotAllowed();
    const snapshot = stats.snapshot(faults.apiDelayMs, query.get('log') === 'true');
    if (method === 'DELETE' || query.get('reset') === 'true') stats.reset();
    sendJson(res, 200, method === 'DELETE' ? stats.snapshot(faults.apiDelayMs) : snapshot);
  };

  const authorized = (req: IncomingMessage): boolean => req.headers.authorization === `Bearer ${token}`;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (!authorized(req)) throw unauthorized();
    if (path.startsWith('/_lab/')) return handleLab(req, res, path);
    if (path === '/lab/stats') return serveStats(req, res, url.searchParams);
    const logged = stats.countRequest(classifyRequest(req.method ?? 'GET', path, url.searchParams));
    res.once('finish', () => stats.answered(logged));
    options.onRequest?.(req.method ?? 'GET', path);
    if (faults.apiDelayMs > 0) await new Promise((r) => setTimeout(r, faults.apiDelayMs));
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      if (path === '/version') return sendJson(res, 200, SERVER_VERSION);
      if (path === '/healthz' || path === '/livez' || path === '/readyz') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
        return;
      }
      if (path === '/api') return sendJson(res, 200, buildApiVersions());
      const openApi = openApiV3Document(path);
      if (openApi) return sendJson(res, 200, openApi);
      if (path === '/apis') return sendJson(res, 200, buildApiGroupList());
      const groupMatch = /^\/apis\/([^/]+)$/.exec(path);
      if (groupMatch) {
        const group = buildApiGroup(groupMatch[1] ?? '');
        if (group) return sendJson(res, 200, group);
        throw pathNotFound();
      }
    }
    const segments = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
    if (method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      return sendJson(res, 201, await reviewAccess(req));
    }
    const r = resourceRequestOf(segments);
    if (r === 'discovery') {
      const parsed = parseResourcePath(segments);
      const list = parsed && method === 'GET' ? buildApiResourceList(parsed.group === '' ? parsed.version : `${parsed.group}/${parsed.version}`) : null;
      if (list) return sendJson(res, 200, list);
      throw pathNotFound();
    }
    if (!r) throw pathNotFound();
    return handleResource(req, res, r, url.searchParams);
  };

  // ---- exec (websocket upgrade) ----------------------------------------------------------

  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => EXEC_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });

  const rejectUpgrade = (socket: Duplex, err: ApiError): void => {
    const text = JSON.stringify(err.body);
    socket.end(`HTTP/1.1 ${err.body.code} ${STATUS_CODES[err.body.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  };

  const prepareExec = (req: IncomingMessage): { pod: KubeObject; argv: string[]; stdin: boolean; initPid: number; env: Record<string, string> } => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    if (!authorized(req)) throw unauthorized();
    const segments = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
    const r = resourceRequestOf(segments);
    if (r === null || r === 'discovery' || r.type.name !== 'pods' || r.subresource !== 'exec' || !r.name || !r.namespace) throw pathNotFound();
    checkForbidden('create', 'pods/exec', '', r.namespace, r.name);
    const pod = store.get('pods', r.namespace, r.name);
    if (!pod) throw notFound('pods', '', r.name);
    const query = url.searchParams;
    const argv = query.getAll('command');
    if (argv.length === 0) throw badRequest('you must specify at least one command for the container');
    const containers = ((pod.spec as { containers?: { name: string }[] }).containers ?? []).map((c) => c.name);
    const container = query.get('container') ?? containers[0] ?? '';
    if (!containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${r.name}`);
    if (!probeUids.has(pod.metadata.uid)) throw badRequest(`exec is only simulated for pods created through this API; pod ${r.name} belongs to the lab topology`);
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') throw badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
    if (phase !== 'Running' || pod.metadata.deletionTimestamp) throw badRequest(`unable to upgrade connection: container not found ("${container}")`);
    if (faults.execFailOnce) {
      faults = { ...faults, execFailOnce: false };
      throw internalError('error dialing backend: EOF');
    }
    const nodeName = (pod.spec as { nodeName?: string }).nodeName ?? '';
    // Like a real kubelet, an exec'd process sees the container's environment (literal values only).
    const spec = ((pod.spec as { containers?: { name: string; env?: { name: string; value?: string }[] }[] }).containers ?? []).find((c) => c.name === container);
    const env = Object.fromEntries((spec?.env ?? []).filter((e) => typeof e.value === 'string').map((e) => [e.name, e.value as string]));
    return { pod, argv, stdin: query.get('stdin') === 'true' || query.get('stdin') === '1', initPid: labNode(nodeName)?.initPid ?? 0, env };
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => undefined);
    const upgradeUrl = new URL(req.url ?? '/', 'https://127.0.0.1');
    const logged = stats.countRequest(classifyRequest(req.method ?? 'GET', upgradeUrl.pathname, upgradeUrl.searchParams));
    options.onRequest?.(req.method ?? 'GET', upgradeUrl.pathname);
    // apiDelayMs holds exec upgrades too: a remote API server is as far away for them.
    if (faults.apiDelayMs > 0) setTimeout(() => upgradeExec(req, socket, head, () => stats.answered(logged)), faults.apiDelayMs);
    else upgradeExec(req, socket, head, () => stats.answered(logged));
  };

  const upgradeExec = (req: IncomingMessage, socket: Duplex, head: Buffer, answered: () => void): void => {
    answered();
    if (socket.destroyed) return;
    let prepared: ReturnType<typeof prepareExec>;
    try {
      prepared = prepareExec(req);
    } catch (err) {
      rejectUpgrade(socket, err instanceof ApiError ? err : internalError((err as Error).message));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const uid = prepared.pod.metadata.uid;
      const sessions = execSessions.get(uid) ?? new Set<WebSocket>();
      sessions.add(ws);
      execSessions.set(uid, sessions);
      stats.execOpened();
      void runScaledExec(ws, {
        argv: prepared.argv,
        stdin: prepared.stdin,
        initPid: prepared.initPid,
        probePath,
        containerEnv: prepared.env,
        protocol: ws.protocol as ExecProtocol,
        dropAfterBytes: faults.dropExecAfterBytes,
        startDelayMs: faults.execDelayMs,
      }, { slots: execSlots, replay: execReplay, onReplay: () => stats.execReplayed() }).finally(() => {
        stats.execClosed();
        sessions.delete(ws);
        if (sessions.size === 0) execSessions.delete(uid);
      });
    });
  };

  // ---- HTTPS server ----------------------------------------------------------------------

  const certs = await generateCertificates(join(dir, 'pki'));
  const server: Server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendStatus(res, err instanceof ApiError ? err : internalError((err as Error).message));
    });
  });
  server.on('upgrade', onUpgrade);
  server.on('secureConnection', (socket) => {
    stats.connectionOpened();
    socket.once('close', () => stats.connectionClosed());
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, buildKubeconfig(url, certs.caCertPem, token), { mode: 0o600 });

  return {
    url,
    port,
    kubeconfigPath,
    token,
    caCertPem: certs.caCertPem,
    faults: { get: () => faults, set: (input) => setFaults(input) },
    reload,
    probePods,
    reprogramNetworkPolicies: policiesChanged,
    close: async () => {
      kubelet.close();
      for (const res of openWatches) res.end();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
}

