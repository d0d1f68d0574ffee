// dns-check: resolve the pod, the DNS Service, its EndpointSlices, the CoreDNS pods (with their
// last log lines) and the Corefile through the API; probe the pod's node (its resolv.conf, the
// query matrix from its namespace) and each CoreDNS node (the resolv.conf CoreDNS forwards to,
// the upstream asked from CoreDNS's namespace, CoreDNS's own resolv.conf). Queries run in rounds, one search-list candidate
// per chain per round, so a chain stops where the pod's resolver would.
import type { ClusterApi, Pod } from '../../kube/cluster-api.js';
import type { CommandSpec } from '../../cli/command-runner.js';
import type { NodeRequest } from '../../node-script/node-script.js';
import type { FollowUp, ProbeTarget } from '../../probe/probe-run.js';
import {
  API_SERVER_NAME,
  MAX_CANDIDATES,
  MAX_COREDNS_SERVERS,
  MAX_NAMES,
  classifyName,
  diagnoseDnsCheck,
  planDnsQueries,
  type CorednsPodInfo,
  type DnsCheckApi,
  type DnsCheckReport,
  type DnsEndpoint,
  type DnsName,
  type DnsServiceInfo,
} from './analysis.js';
import { renderDnsCheck } from './render.js';
import { EXIT, UserError } from '../../errors.js';
import { assertDnsSubdomain } from '../../cli/global-options.js';
import { assertLinuxNode, containerIdOf, podIPsOf, resolvePod } from '../../kube/resolve.js';

export interface DnsCheckTarget {
  pod: string;
  /** --name values; empty means the defaults (kubernetes.default, and --external-name when given). */
  names: string[];
  /** --external-name: an outside name to resolve through CoreDNS and its upstream; null skips that check. */
  externalName: string | null;
}

const DNS_NAMESPACE = 'kube-system';
const DNS_SERVICE = 'kube-dns';
const LOG_TAIL_LINES = 50;

export function dnsCheckCommand(target: DnsCheckTarget): CommandSpec<DnsCheckApi, DnsCheckReport> {
  return {
    name: 'dns-check',
    plan: async (api, options) => {
      const namespace = options.namespace ?? api.defaultNamespace;
      const pod = await resolvePod(api, namespace, target.pod);
      const podIP = podIPsOf(pod).find((a) => a.includes('.')) ?? podIPsOf(pod)[0];
      if (!podIP) throw new UserError(`pod ${namespace}/${target.pod} has no IP address yet`);
      const nodeName = pod.spec!.nodeName!;

      const [service, endpoints, corednsPods, corefile, nodeLocal, kubeProxy, allServices, nodes] = await Promise.all([
        api.readService(DNS_NAMESPACE, DNS_SERVICE).then((s) => ({ ok: true as const, s }), (err: unknown) => ({ ok: false as const, error: (err as Error).message })),
        api.listEndpointSlices(DNS_NAMESPACE, DNS_SERVICE).catch(() => []),
        api.listPods({ namespace: DNS_NAMESPACE, labelSelector: 'k8s-app=kube-dns' }),
        api.readConfigMap(DNS_NAMESPACE, 'coredns').then((cm) => ({ text: cm.data?.['Corefile'] ?? null, error: cm.data?.['Corefile'] ? null : 'configmap kube-system/coredns has no Corefile key' }), (err: unknown) => ({ text: null, error: (err as Error).message })),
        api.listPods({ namespace: DNS_NAMESPACE, labelSelector: 'k8s-app=node-local-dns' }).catch(() => []),
        api.listPods({ namespace: DNS_NAMESPACE, labelSelector: 'k8s-app=kube-proxy', fieldSelector: `spec.nodeName=${nodeName}` }).catch(() => []),
        api.listServices({ namespace: undefined }).catch(() => []),
        api.listNodes(),
      ]);

      const coredns: CorednsPodInfo[] = await Promise.all(
        corednsPods
          .filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
          .map(async (p, i) => corednsInfo(api, p, `c${i}`)),
      );

      const namespaces = new Set<string>([namespace, 'default', DNS_NAMESPACE, ...allServices.map((s) => s.metadata?.namespace ?? '')]);
      const names = buildNameList(target, namespace, namespaces, allServices.map((s) => ({ name: s.metadata?.name ?? '', namespace: s.metadata?.namespace ?? '' })));

      const dnsApi: DnsCheckApi = {
        pod: {
          key: 'p0',
          namespace,
          name: target.pod,
          nodeName,
          podIP,
          containerId: containerIdOf(pod),
          hostNetwork: pod.spec?.hostNetwork === true,
          dnsPolicy: pod.spec?.dnsPolicy ?? 'ClusterFirst',
          dnsConfig: pod.spec?.dnsConfig
            ? {
                nameservers: pod.spec.dnsConfig.nameservers ?? [],
                searches: pod.spec.dnsConfig.searches ?? [],
                options: (pod.spec.dnsConfig.options ?? []).map((o) => (o.value === undefined ? o.name ?? '' : `${o.name}:${o.value}`)),
              }
            : null,
        },
        service: service.ok ? serviceInfo(service.s) : null,
        serviceError: service.ok ? null : service.error,
        endpoints: endpoints.flatMap((slice) =>
          (slice.endpoints ?? []).flatMap((e): DnsEndpoint[] =>
            e.addresses.map((address) => ({
              address,
              ready: e.conditions?.ready !== false,
              serving: e.conditions?.serving ?? e.conditions?.ready !== false,
              terminating: e.conditions?.terminating === true,
              nodeName: e.nodeName ?? null,
              podName: e.targetRef?.kind === 'Pod' ? e.targetRef.name ?? null : null,
            })),
          ),
        ),
        corednsPods: coredns,
        corefile: corefile.text,
        corefileError: corefile.error,
        nodeLocalDnsPods: nodeLocal.map((p) => ({ name: p.metadata?.name ?? '', nodeName: p.spec?.nodeName ?? '', ready: isReady(p) })),
        kubeProxyOnPodNode: kubeProxy[0] ? { name: kubeProxy[0].metadata?.name ?? '', phase: kubeProxy[0].status?.phase ?? 'Unknown', ready: isReady(kubeProxy[0]) } : null,
        names,
      };

      // One probe per node: the pod's node, and the node of each CoreDNS pod queried.
      const nodeNames = [nodeName, ...coredns.filter((c) => c.podIP).slice(0, MAX_COREDNS_SERVERS).map((c) => c.nodeName)].filter((n, i, all) => n && all.indexOf(n) === i);
      for (const n of nodeNames) assertLinuxNode(nodes.find((x) => x.metadata?.name === n), n);
      const targets: ProbeTarget[] = nodeNames.map((n) => {
        const requests: NodeRequest[] = [{ kind: 'host-files' }];
        if (n === nodeName) requests.push({ kind: 'pod', key: 'p0', containerId: dnsApi.pod.containerId, podIP });
        const local = coredns.find((c) => c.nodeName === n && c.podIP);
        // CoreDNS's own /etc/resolv.conf is what `forward . /etc/resolv.conf` reads (the pod request reads the checked pod's).
        if (local && !(n === nodeName && local.podIP === podIP)) requests.push({ kind: 'podresolv', key: local.key, containerId: local.containerId, podIP: local.podIP! });
        return { nodeName: n, requests, followUp: queryRounds(dnsApi) };
      });
      return { api: dnsApi, targets };
    },
    analyze: (collected) => diagnoseDnsCheck(collected.api, collected.nodes),
    render: (report, options, colour) => renderDnsCheck(report, options, colour),
  };
}

/** Round after round, the next candidate of every unfinished chain, until none is left. */
function queryRounds(api: DnsCheckApi): FollowUp {
  return async (ctx) => {
    for (let round = 0; round <= MAX_CANDIDATES; round += 1) {
      const requests = planDnsQueries(api, ctx.nodeName, ctx.output().sections);
      if (requests.length === 0) return;
      await ctx.run(requests);
    }
  };
}

/**
 * The names to ask: --name values, else the API server's name and the external default. A short
 * name that is a Service only in other namespaces also gets its full form "name.namespace", so
 * the matrix shows NXDOMAIN next to NOERROR (seed 004).
 */
export function buildNameList(
  target: DnsCheckTarget,
  podNamespace: string,
  namespaces: ReadonlySet<string>,
  services: ReadonlyArray<{ name: string; namespace: string }>,
): DnsName[] {
  const given: Array<{ name: string; origin: DnsName['origin'] }> = target.names.length > 0
    ? target.names.map((name) => ({ name, origin: 'flag' as const }))
    : [{ name: API_SERVER_NAME, origin: 'default' }, ...(target.externalName ? [{ name: target.externalName, origin: 'default' as const }] : [])];
  const names: DnsName[] = [];
  for (const { name, origin } of given) {
    if (names.some((n) => n.name === name)) continue;
    const zone = classifyName(name, namespaces);
    const bare = name.replace(/\.$/, '');
    const short = zone === 'cluster' && !bare.includes('.');
    const here = services.some((s) => s.name === bare && s.namespace === podNamespace);
    const otherNamespaces = short && !here ? [...new Set(services.filter((s) => s.name === bare && s.namespace !== podNamespace).map((s) => s.namespace))].sort() : [];
    names.push({ name, origin, zone, fullFormOf: null, otherNamespaces });
    for (const ns of otherNamespaces.slice(0, 2)) {
      names.push({ name: `${bare}.${ns}`, origin: 'full-form', zone: 'cluster', fullFormOf: name, otherNamespaces: [] });
    }
  }
  return names.slice(0, MAX_NAMES);
}

async function corednsInfo(api: ClusterApi, p: Pod, key: string): Promise<CorednsPodInfo> {
  const status = p.status?.containerStatuses?.[0];
  const state = status?.state?.waiting?.reason ?? (status?.state?.running ? 'Running' : status?.state?.terminated?.reason ?? p.status?.phase ?? 'Unknown');
  const last = status?.lastState?.terminated;
  const namespace = p.metadata?.namespace ?? DNS_NAMESPACE;
  const name = p.metadata?.name ?? '';
  let logTail: string[] = [];
  let logError: string | null = null;
  try {
    // --previous would say why a crashing container exited; the current log is what exists for a running one.
    const text = await api.readPodLog(namespace, name, { tailLines: LOG_TAIL_LINES });
    logTail = text.split('\n').filter((l) => l.trim() !== '');
  } catch (err) {
    logError = (err as Error).message;
  }
  return {
    key,
    namespace,
    name,
    nodeName: p.spec?.nodeName ?? '',
    podIP: podIPsOf(p).find((a) => a.includes('.')) ?? null,
    containerId: containerIdOf(p),
    phase: p.status?.phase ?? 'Unknown',
    ready: isReady(p),
    restarts: status?.restartCount ?? 0,
    state,
    lastTermination: last ? `${last.reason ?? 'Terminated'} (exit ${last.exitCode})` : null,
    dnsPolicy: p.spec?.dnsPolicy ?? 'ClusterFirst',
    hostNetwork: p.spec?.hostNetwork === true,
    logTail,
    logError,
  };
}

function serviceInfo(s: { metadata?: { name?: string; namespace?: string }; spec?: { clusterIP?: string; ports?: Array<{ name?: string; port: number; protocol?: string }> } }): DnsServiceInfo {
  const ip = s.spec?.clusterIP;
  return {
    namespace: s.metadata?.namespace ?? DNS_NAMESPACE,
    name: s.metadata?.name ?? DNS_SERVICE,
    clusterIP: ip && ip !== 'None' ? ip : null,
    ports: (s.spec?.ports ?? []).map((p) => `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol ?? 'TCP'}`),
  };
}

function isReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Flags -> target, checked before any I/O: names go to dig as arguments, so they must be DNS names. */
export function readDnsCheckTarget(args: Record<string, unknown>): DnsCheckTarget {
  const pod = String(args.pod ?? '');
  assertDnsSubdomain(pod, 'pod name');
  if (args.output === 'dot') {
    throw new UserError('dns-check has no picture (-o dot)', { hint: 'use -o table, wide, json or yaml', exitCode: EXIT.usage });
  }
  const raw = ((args.name as unknown[] | undefined) ?? []).map(String);
  const names = raw.map((n) => checkName(n, '--name'));
  if (names.length > MAX_NAMES) throw new UserError(`at most ${MAX_NAMES} --name values`, { exitCode: EXIT.usage });
  const given = args['external-name'];
  const externalName = given === undefined || given === null || given === '' ? null : checkName(String(given), '--external-name');
  return { pod, names, externalName };
}

function checkName(value: string, flag: string): string {
  const name = value.trim().toLowerCase();
  // A trailing dot (absolute name) is kept: the resolver then skips the search list.
  assertDnsSubdomain(name.replace(/\.$/, ''), `${flag} value`);
  return name;
}
