// Every Kubernetes API call the plugin makes goes through ClusterApi. Commands and the probe
// lifecycle see only this interface, so they never touch client-node or raw HTTP.
import { Writable } from 'node:stream';
import type { Agent } from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { toApiUserError, type ApiCallSite } from './api-error.js';
import { proxyForServer, type ProxyEnv } from './proxy-env.js';
import { UserError, EXIT } from '../errors.js';

export type Pod = k8s.V1Pod;
export type Node = k8s.V1Node;
export type Service = k8s.V1Service;
export type EndpointSlice = k8s.V1EndpointSlice;
export type ConfigMap = k8s.V1ConfigMap;
export type Namespace = k8s.V1Namespace;
export type NetworkPolicy = k8s.V1NetworkPolicy;

export interface ListOptions {
  namespace?: string | undefined; // undefined = all namespaces
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface PodWatch {
  /** Ends the watch; no event is delivered after it returns. */
  stop(): void;
}

export interface PodWatchHandlers {
  event(type: WatchEventType, pod: Pod): void;
  /** The stream ended (server timeout, dropped connection, refused): null when it just closed. */
  ended(err: unknown): void;
}

export interface ClusterApi {
  readonly server: string;
  readonly contextName: string;
  readonly defaultNamespace: string;
  readPod(namespace: string, name: string): Promise<Pod>;
  listPods(options: ListOptions): Promise<Pod[]>;
  readNode(name: string): Promise<Node>;
  listNodes(labelSelector?: string): Promise<Node[]>;
  readService(namespace: string, name: string): Promise<Service>;
  listServices(options: ListOptions): Promise<Service[]>;
  listEndpointSlices(namespace: string, serviceName: string): Promise<EndpointSlice[]>;
  readConfigMap(namespace: string, name: string): Promise<ConfigMap>;
  /** The last `tailLines` lines of a pod's (first or named) container log. */
  readPodLog(namespace: string, name: string, options: { container?: string | undefined; tailLines: number }): Promise<string>;
  readNamespace(name: string): Promise<Namespace>;
  /** Every namespace (their labels are what NetworkPolicy namespaceSelectors match). */
  listNamespaces(labelSelector?: string): Promise<Namespace[]>;
  /** networking.k8s.io/v1 NetworkPolicies in one namespace, or in all when namespace is undefined. */
  listNetworkPolicies(namespace?: string): Promise<NetworkPolicy[]>;
  /** dryRun: the server validates and admits it (PodSecurity, webhooks, quota) but stores nothing. */
  createPod(namespace: string, pod: Pod, options?: { dryRun?: boolean }): Promise<Pod>;
  deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void>;
  /**
   * Streams changes to the pods matching labelSelector in namespace (one long request). With a
   * resourceVersion the stream starts after it; without, it starts with an ADDED per current pod.
   */
  watchPods(namespace: string, labelSelector: string, resourceVersion: string | undefined, handlers: PodWatchHandlers): PodWatch;
  /** Runs argv in the pod's container; resolves when the command has ended and the stream closed. */
  exec(namespace: string, pod: string, container: string, argv: string[], signal?: AbortSignal): Promise<ExecResult>;
}

export interface ClusterApiOptions {
  requestTimeoutMs: number | null; // --request-timeout; null = no limit
  /** HTTPS_PROXY/NO_PROXY, used as kubectl does when the kubeconfig sets no proxy-url. */
  proxyEnv?: ProxyEnv;
}

export function createClusterApi(kc: k8s.KubeConfig, options: ClusterApiOptions): ClusterApi {
  shareOneAgent(kc, options.proxyEnv ?? {});
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  const networking = kc.makeApiClient(k8s.NetworkingV1Api);
  const server = kc.getCurrentCluster()?.server ?? '(unknown server)';
  const contextName = kc.getCurrentContext();
  const defaultNamespace = kc.getContextObject(contextName)?.namespace ?? 'default';

  // client-node has no request timeout of its own: a per-call middleware sets an abort signal.
  const callOptions = (): k8s.ConfigurationOptions | undefined => {
    const ms = options.requestTimeoutMs;
    if (ms === null) return undefined;
    return {
      middleware: [
        {
          pre: (ctx) => {
            ctx.setSignal(AbortSignal.timeout(ms));
            return new k8s.Observable(Promise.resolve(ctx));
          },
          post: (res) => new k8s.Observable(Promise.resolve(res)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  };

  async function call<T>(site: ApiCallSite, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw toApiUserError(err, site, server);
    }
  }

  return {
    server,
    contextName,
    defaultNamespace,
    readPod: (namespace, name) =>
      call({ verb: 'get', resource: 'pods', namespace, name }, () =>
        core.readNamespacedPod({ name, namespace }, callOptions()),
      ),
    listPods: async ({ namespace, labelSelector, fieldSelector }) => {
      const site: ApiCallSite = { verb: 'list', resource: 'pods', namespace };
      const list = await call(site, () =>
        namespace === undefined
          ? core.listPodForAllNamespaces({ labelSelector, fieldSelector }, callOptions())
          : core.listNamespacedPod({ namespace, labelSelector, fieldSelector }, callOptions()),
      );
      return list.items;
    },
    readNode: (name) => call({ verb: 'get', resource: 'nodes', name }, () => core.readNode({ name }, callOptions())),
    listNodes: async (labelSelector) =>
      (await call({ verb: 'list', resource: 'nodes' }, () => core.listNode({ labelSelector }, callOptions()))).items,
    readService: (namespace, name) =>
      call({ verb: 'get', resource: 'services', namespace, name }, () =>
        core.readNamespacedService({ name, namespace }, callOptions()),
      ),
    listServices: async ({ namespace, labelSelector }) => {
      const site: ApiCallSite = { verb: 'list', resource: 'services', namespace };
      const list = await call(site, () =>
        namespace === undefined
          ? core.listServiceForAllNamespaces({ labelSelector }, callOptions())
          : core.listNamespacedService({ namespace, labelSelector }, callOptions()),
      );
      return list.items;
    },
    listEndpointSlices: async (namespace, serviceName) => {
      const site: ApiCallSite = { verb: 'list', resource: 'endpointslices', namespace };
      const list = await call(site, () =>
        discovery.listNamespacedEndpointSlice(
          { namespace, labelSelector: `kubernetes.io/service-name=${serviceName}` },
          callOptions(),
        ),
      );
      return list.items;
    },
    readConfigMap: (namespace, name) =>
      call({ verb: 'get', resource: 'configmaps', namespace, name }, () =>
        core.readNamespacedConfigMap({ name, namespace }, callOptions()),
      ),
    readPodLog: async (namespace, name, { container, tailLines }) =>
      call({ verb: 'get', resource: 'pods/log', namespace, name }, () =>
        core.readNamespacedPodLog({ name, namespace, container, tailLines }, callOptions()),
      ),
    readNamespace: (name) =>
      call({ verb: 'get', resource: 'namespaces', name }, () => core.readNamespace({ name }, callOptions())),
    listNamespaces: async (labelSelector) =>
      (await call({ verb: 'list', resource: 'namespaces' }, () => core.listNamespace({ labelSelector }, callOptions()))).items,
    listNetworkPolicies: async (namespace) => {
      const site: ApiCallSite = { verb: 'list', resource: 'networkpolicies', namespace };
      const list = await call(site, () =>
        namespace === undefined
          ? networking.listNetworkPolicyForAllNamespaces({}, callOptions())
          : networking.listNamespacedNetworkPolicy({ namespace }, callOptions()),
      );
      return list.items;
    },
    createPod: (namespace, pod, opts) =>
      call({ verb: 'create', resource: 'pods', namespace }, () =>
        core.createNamespacedPod({ namespace, body: pod, ...(opts?.dryRun ? { dryRun: 'All' } : {}) }, callOptions()),
      ),
    deletePod: async (namespace, name, gracePeriodSeconds) => {
      try {
        await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds }, callOptions());
      } catch (err) {
        // Already gone is what we wanted.
        if ((err as { code?: unknown }).code === 404) return;
        throw toApiUserError(err, { verb: 'delete', resource: 'pods', namespace, name }, server);
      }
    },
    watchPods: (namespace, labelSelector, resourceVersion, handlers) => watchPods(kc, namespace, labelSelector, resourceVersion, handlers),
    exec: (namespace, pod, container, argv, signal) => execInPod(kc, server, { namespace, pod, container, argv, signal }),
  };
}

type AgentFactory = (cluster: k8s.Cluster | null, agentOptions: Record<string, unknown>) => Agent;

/**
 * client-node 1.4 builds a new https.Agent for every request (KubeConfig.createAgent, called from
 * applySecurityAuthentication and applyToHTTPSOptions), so each call opened its own TLS connection.
 * Here every request with the same TLS material gets one keep-alive agent: one connection reused
 * for sequential calls, a small pool for parallel ones, and TLS sessions resumed for the exec
 * websockets (an upgraded socket leaves the pool, so each exec still has its own connection).
 * createAgent is private in client-node's typings; its behaviour (proxy-url, skip-tls) is kept by
 * calling the original with keepAlive added.
 */
function shareOneAgent(kc: k8s.KubeConfig, proxyEnv: ProxyEnv): void {
  const target = kc as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, agentOptions) => {
    // kubectl's order: the kubeconfig's proxy-url, else HTTPS_PROXY/NO_PROXY from the environment.
    const proxyUrl = cluster?.proxyUrl ?? (cluster ? proxyForServer(cluster.server, proxyEnv) : undefined);
    const key = JSON.stringify([cluster?.server, proxyUrl, ...TLS_KEYS.map((k) => String(agentOptions[k] ?? ''))]);
    let agent = agents.get(key);
    if (!agent) {
      const effective = cluster && proxyUrl !== cluster.proxyUrl ? { ...cluster, proxyUrl } : cluster;
      agent = original(effective, { ...pickTls(agentOptions), keepAlive: true, keepAliveMsecs: 30_000, scheduling: 'lifo' });
      agents.set(key, agent);
    }
    return agent;
  };
}

// What makes two agents different; the rest (timeouts, undefined cipher settings) is the same per run.
const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

function pickTls(agentOptions: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of TLS_KEYS) if (agentOptions[k] !== undefined) out[k] = agentOptions[k];
  return out;
}

function watchPods(
  kc: k8s.KubeConfig,
  namespace: string,
  labelSelector: string,
  resourceVersion: string | undefined,
  handlers: PodWatchHandlers,
): PodWatch {
  let stopped = false;
  let controller: AbortController | null = null;
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  // allowWatchBookmarks keeps resourceVersion fresh so a restarted watch resumes without a gap.
  const query = { labelSelector, allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) };
  void new k8s.Watch(kc)
    .watch(
      path,
      query,
      (type: string, obj: Pod) => {
        if (!stopped) handlers.event(type as WatchEventType, obj);
      },
      (err: unknown) => {
        if (!stopped) handlers.ended(err ?? null);
      },
    )
    .then((c) => {
      controller = c;
      if (stopped) c.abort();
    })
    .catch((err: unknown) => {
      if (!stopped) handlers.ended(err);
    });
  return {
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}

interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  argv: string[];
  signal?: AbortSignal | undefined;
}

/**
 * client-node's Exec resolves when the websocket opens, not when the command ends: wait for the
 * status frame (the exit code) and for the socket to close, whichever order they come in.
 */
async function execInPod(kc: k8s.KubeConfig, server: string, req: ExecRequest): Promise<ExecResult> {
  const site: ApiCallSite = { verb: 'create', resource: 'pods/exec', namespace: req.namespace, name: req.pod };
  const stdoutChunks: Buffer[] = [];
  const stderrChunks: Buffer[] = [];
  let stdoutBytes = 0;
  const sink = (chunks: Buffer[], count: boolean) =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk);
        if (count) stdoutBytes += chunk.length;
        done();
      },
    });
  let status: k8s.V1Status | null = null;
  const exec = new k8s.Exec(kc);
  let socket: Awaited<ReturnType<k8s.Exec['exec']>>;
  try {
    socket = await exec.exec(
      req.namespace,
      req.pod,
      req.container,
      req.argv,
      sink(stdoutChunks, true),
      sink(stderrChunks, false),
      null,
      false,
      (s) => {
        status = s;
      },
    );
  } catch (err) {
    // The websocket library reports a refused upgrade as "Unexpected server response: 403": keep
    // the status, so a 403 on pods/exec reads as RBAC and not as an unreachable server.
    const refused = /Unexpected server response: (\d{3})/.exec((err as Error)?.message ?? '');
    throw toApiUserError(refused ? { code: Number(refused[1]), body: `HTTP ${refused[1]}`, cause: err } : err, site, server);
  }
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      socket.close();
      reject(req.signal?.reason ?? new Error('aborted'));
    };
    if (req.signal?.aborted) return onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('close', () => {
      req.signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    socket.on('error', (err: Error) => reject(err));
  });
  const result = {
    stdout: Buffer.concat(stdoutChunks).toString('utf8'),
    stderr: Buffer.concat(stderrChunks).toString('utf8'),
    stdoutBytes,
  };
  const finalStatus = status as k8s.V1Status | null;
  if (finalStatus === null) {
    throw new UserError(`the exec stream to pod ${req.namespace}/${req.pod} closed before the command ended`, {
      exitCode: EXIT.cannotDiagnose,
    });
  }
  if (finalStatus.status === 'Success') return { exitCode: 0, ...result };
  const code = finalStatus.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
  if (code !== undefined) return { exitCode: Number.parseInt(code, 10), ...result };
  throw new UserError(`exec in pod ${req.namespace}/${req.pod} failed: ${finalStatus.message ?? 'unknown error'}`, {
    exitCode: EXIT.cannotDiagnose,
  });
}
