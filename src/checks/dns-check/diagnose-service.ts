// The cluster DNS path up to CoreDNS: the DNS Service and its endpoints, the CoreDNS pods as the
// API sees them, which layer of the query matrix answers (Service IP, CoreDNS pods), and the UDP
// conntrack race on the pod's node.
import type { Finding } from '../finding.js';
import { conntrackInsertFailed } from '../../parse/net-counters.js';
import { gotResponse, stepEvidence } from './query-matrix.js';
import { TRANSPORT_FAILURES, logLinesThatMatter, podRefOf, type DiagnosisContext, type DnsCheckApi, type DnsServer } from './model.js';

/** Is there a DNS Service, and does it have a ready endpoint? */
export function dnsServiceFindings(api: DnsCheckApi): Finding[] {
  const findings: Finding[] = [];
  if (!api.service) {
    findings.push({
      code: 'dns.service-missing',
      severity: 'error',
      subject: 'service kube-system/kube-dns',
      message: 'the cluster DNS Service could not be read, so pods have no cluster DNS address',
      evidence: [api.serviceError ?? 'not found'],
      remedy: 'recreate the kube-dns Service (ClusterIP matching kubelet clusterDNS) from your CoreDNS deployment manifests',
    });
  } else {
    const ready = api.endpoints.filter((e) => e.ready);
    if (ready.length === 0) {
      findings.push({
        code: 'dns.service-no-endpoints',
        severity: 'error',
        subject: `service ${api.service.namespace}/${api.service.name}`,
        message: 'the DNS Service has no ready endpoint, so kube-proxy has nothing to send queries to',
        evidence: api.endpoints.length > 0 ? api.endpoints.map((e) => `endpoint ${e.address} ready=${e.ready} pod=${e.podName ?? '?'} node=${e.nodeName ?? '?'}`) : ['EndpointSlices list no endpoints'],
        remedy: 'get the CoreDNS pods Ready (kubectl -n kube-system get pods -l k8s-app=kube-dns; describe and logs) and check the Service selector',
      });
    }
  }
  return findings;
}

/** Which CoreDNS pods restart or crash-loop (the API's view, with the log lines that say why)? */
export function corednsRestartFindings(api: DnsCheckApi): Finding[] {
  const findings: Finding[] = [];
  for (const c of api.corednsPods) {
    if (c.restarts > 0 || c.state === 'CrashLoopBackOff') {
      findings.push({
        code: 'dns.coredns-restarting',
        severity: 'warn',
        subject: `pod ${c.namespace}/${c.name}`,
        message: `CoreDNS is ${c.state} with ${c.restarts} restart(s)`,
        evidence: [`state ${c.state}, restarts ${c.restarts}${c.lastTermination ? `, last termination ${c.lastTermination}` : ''}`, ...logLinesThatMatter(c.logTail).map((l) => `log: ${l}`)],
        remedy: `read why it exits: kubectl -n ${c.namespace} logs ${c.name} --previous`,
      });
    }
  }
  return findings;
}

/** Which servers of the matrix got asked and which gave any DNS response. */
export interface AnsweringLayers {
  service: DnsServer | undefined;
  serviceQueried: boolean;
  serviceDead: boolean; // asked, and no name got a response over UDP or TCP
  podsQueried: DnsServer[]; // CoreDNS pods asked directly
  podAnswering: DnsServer[]; // CoreDNS pods that gave a response to some name
  clusterDns: DnsServer | undefined; // where cluster names are judged: the Service when it answers, else a CoreDNS pod that does
}

export function answeringLayers(ctx: DiagnosisContext): AnsweringLayers {
  const { api, servers, cell } = ctx;
  const names = api.names;
  const queried = (s: DnsServer) => names.some((n) => cell(n.name, 'udp', s.id).status !== 'not-run');
  const service = servers.find((s) => s.kind === 'service');
  const corednsServers = servers.filter((s) => s.kind === 'coredns-pod');
  const podAnswering = corednsServers.filter((s) => names.some((n) => gotResponse(cell(n.name, 'udp', s.id)) || gotResponse(cell(n.name, 'tcp', s.id))));
  const podsQueried = corednsServers.filter(queried);
  const serviceQueried = service !== undefined && queried(service);
  const serviceDead = serviceQueried && names.every((n) => !gotResponse(cell(n.name, 'udp', service!.id)) && !gotResponse(cell(n.name, 'tcp', service!.id)));
  const clusterDns = service && serviceQueried && !serviceDead ? service : podAnswering[0];
  return { service, serviceQueried, serviceDead, podsQueried, podAnswering, clusterDns };
}

/**
 * Which layer fails: CoreDNS itself (no pod, none Ready, none answers when asked directly), the
 * Service IP on the pod's node (CoreDNS answers at its pod IP), or one CoreDNS pod of several.
 */
export function failingLayerFindings(ctx: DiagnosisContext, layers: AnsweringLayers): Finding[] {
  const { api } = ctx;
  const apiReady = api.corednsPods.filter((c) => c.ready && c.phase === 'Running');
  const corednsDeadByQuery = layers.podsQueried.length > 0 && layers.podAnswering.length === 0;
  if (api.corednsPods.length === 0 || corednsDeadByQuery || (api.corednsPods.length > 0 && apiReady.length === 0)) {
    return [corednsDownFinding(ctx, layers, corednsDeadByQuery)];
  }
  if (layers.serviceDead && layers.podAnswering.length > 0) return [serviceUnreachableFinding(ctx, layers)];
  if (layers.serviceQueried && !layers.serviceDead) return unresponsivePodFindings(ctx, layers);
  return [];
}

function corednsDownFinding(ctx: DiagnosisContext, layers: AnsweringLayers, corednsDeadByQuery: boolean): Finding {
  const { api, cell } = ctx;
  const { service, serviceQueried, podsQueried } = layers;
  const names = api.names;
  const corednsLogs = api.corednsPods.flatMap((c) => logLinesThatMatter(c.logTail).map((l) => `${c.name} log: ${l}`));
  const evidence: string[] = [];
  if (api.corednsPods.length === 0) evidence.push('no pod in kube-system carries the label k8s-app=kube-dns');
  for (const c of api.corednsPods) evidence.push(`pod ${c.name} on ${c.nodeName}: phase ${c.phase}, ready=${c.ready}, container ${c.state}, restarts ${c.restarts}`);
  for (const s of podsQueried) evidence.push(stepEvidence(`dig @${s.address} (${s.label})`, cell(names[0]!.name, 'udp', s.id)));
  if (service && serviceQueried) evidence.push(stepEvidence(`dig @${service.address} (Service)`, cell(names[0]!.name, 'udp', service.id)));
  evidence.push(...corednsLogs);
  return {
    code: 'dns.coredns-down',
    severity: 'error',
    subject: 'CoreDNS (kube-system, k8s-app=kube-dns)',
    message: corednsDeadByQuery
      ? 'no CoreDNS pod answers on port 53 when asked directly, so the DNS Service has no working backend'
      : api.corednsPods.length === 0 ? 'there are no CoreDNS pods' : 'no CoreDNS pod is Ready',
    evidence,
    remedy: 'kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide; kubectl -n kube-system logs -l k8s-app=kube-dns --previous; restart with kubectl -n kube-system rollout restart deployment coredns once the cause is fixed',
  };
}

function serviceUnreachableFinding(ctx: DiagnosisContext, layers: AnsweringLayers): Finding {
  const { api, cell } = ctx;
  const { service, podAnswering } = layers;
  const names = api.names;
  const podRef = podRefOf(api);
  const kp = api.kubeProxyOnPodNode;
  return {
    code: 'dns.service-unreachable',
    severity: 'error',
    subject: `service ${api.service?.namespace}/${api.service?.name} from node ${api.pod.nodeName}`,
    message: `queries to the Service IP ${service!.address} get no answer from ${podRef} while CoreDNS answers at its pod IP, so the node does not translate the ClusterIP (${kp ? 'kube-proxy rules' : 'the Service dataplane, kube-proxy or its replacement,'} missing on ${api.pod.nodeName})`,
    evidence: [
      ...names.slice(0, 2).map((n) => stepEvidence(`dig @${service!.address} ${n.name} (udp)`, cell(n.name, 'udp', service!.id))),
      ...names.slice(0, 1).map((n) => stepEvidence(`dig @${service!.address} ${n.name} (tcp)`, cell(n.name, 'tcp', service!.id))),
      ...podAnswering.slice(0, 2).map((s) => stepEvidence(`dig @${s.address} ${names[0]!.name} (CoreDNS pod, udp)`, cell(names[0]!.name, 'udp', s.id))),
      kp ? `kube-proxy on ${api.pod.nodeName}: pod ${kp.name} ${kp.phase}, ready=${kp.ready}` : `kube-proxy on ${api.pod.nodeName}: no pod labelled k8s-app=kube-proxy on this node`,
    ],
    remedy: `check kube-proxy on node ${api.pod.nodeName} (running? evicted? give it priorityClassName system-node-critical) and its rules, or the replacement that steers Services there: kubectl netdiag trace-svc kube-dns -n kube-system; on the node: iptables-save -t nat | grep ${service!.address}`,
  };
}

function unresponsivePodFindings(ctx: DiagnosisContext, layers: AnsweringLayers): Finding[] {
  const { api, cell } = ctx;
  const names = api.names;
  // Some names lost at the Service but answered at a pod: intermittent loss (the conntrack race).
  return layers.podsQueried
    .filter((s) => !layers.podAnswering.includes(s))
    .map((s) => ({
      code: 'dns.coredns-pod-unresponsive',
      severity: 'warn',
      subject: `pod ${s.label}`,
      message: `CoreDNS pod ${s.address} does not answer while others do; the Service sends part of the queries there`,
      evidence: [stepEvidence(`dig @${s.address}`, cell(names[0]!.name, 'udp', s.id))],
      remedy: `look at the pod: kubectl -n kube-system describe pod ${s.id.slice('pod/'.length)}; delete it so the Deployment replaces it`,
    }));
}

/** Does conntrack on the pod's node drop UDP inserts (parallel A and AAAA from one socket racing)? */
export function conntrackRaceFindings(ctx: DiagnosisContext): Finding[] {
  const { api, views, servers, cell } = ctx;
  const names = api.names;
  const findings: Finding[] = [];
  const conntrack = conntrackInsertFailed(views.get(api.pod.nodeName)?.sections.get('host/conntrack')?.stdout ?? '');
  if (conntrack && conntrack.total > 0) {
    const udpLost = servers.some((s) => s.kind !== 'upstream' && names.some((n) => TRANSPORT_FAILURES.has(cell(n.name, 'udp', s.id).status) && cell(n.name, 'tcp', s.id).status === 'ok'));
    findings.push({
      code: 'dns.conntrack-insert-failed',
      severity: udpLost ? 'warn' : 'info',
      subject: `node ${api.pod.nodeName}`,
      message: `conntrack reports ${conntrack.total} failed inserts: parallel A and AAAA queries over UDP from one socket can race and one is dropped, a 5 s resolver timeout${udpLost ? '; some UDP queries here timed out while TCP answered' : ''}`,
      evidence: conntrack.lines.slice(0, 4).map((l) => `conntrack -S: ${l}`),
      remedy: 'add options single-request-reopen (glibc) to the pod dnsConfig, use NodeLocal DNSCache, or upgrade the kernel (fixes in 5.0+)',
    });
  }
  return findings;
}
