// dns-check: where name resolution breaks for a pod. The pod's resolver setup, the DNS Service and
// its endpoints, CoreDNS (pods, logs, Corefile, its own container's resolv.conf) and a query
// matrix (each name as the pod's resolver expands it x each server, over UDP and TCP) that tells
// "the Service IP does not reach CoreDNS" from "CoreDNS is down" from "upstream fails" from "the
// name needs its full form".
//
// This file assembles the report; each question has its own module: model.ts (the vocabulary),
// resolvers.ts (whose resolv.conf a query follows), query-matrix.ts (servers, chains, cells),
// diagnose-resolver.ts (the pod's resolver), diagnose-service.ts (Service, CoreDNS, which layer
// answers) and diagnose-upstream.ts (the Corefile and what lies past CoreDNS).
import type { Finding } from '../finding.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import { parseNodeScriptOutput } from '../../probe/sections.js';
import { nodeFailedFinding } from '../common/node-facts.js';
import { readCorefile, type CorefileFacts } from '../../parse/corefile.js';
import { buildQueryMatrix, queryCosts } from './query-matrix.js';
import { pidFound, podResolvConf, resolvConfFrom, upstreamsFor } from './resolvers.js';
import { ndotsAmplificationFindings, shortNameFindings, wrongNameserverFindings } from './diagnose-resolver.js';
import { answeringLayers, conntrackRaceFindings, corednsRestartFindings, dnsServiceFindings, failingLayerFindings } from './diagnose-service.js';
import { corefileFindings, upstreamFindings } from './diagnose-upstream.js';
import {
  clusterDomainOf,
  logLinesThatMatter,
  type CorednsRow,
  type DiagnosisContext,
  type DnsCheckApi,
  type DnsCheckReport,
  type DnsName,
  type DnsServer,
  type NodeView,
  type OutsideNameCheck,
  type Sections,
} from './model.js';

export * from './model.js';
export { cellOf, chainsFor, planDnsQueries, readStep, serversFor, walkChain } from './query-matrix.js';
export { podResolvConf, upstreamsFor } from './resolvers.js';

export function diagnoseDnsCheck(api: DnsCheckApi, nodes: readonly NodeCollection[]): DnsCheckReport {
  const { views, findings, problems } = readNodeViews(nodes);
  const podSections: Sections = views.get(api.pod.nodeName)?.sections ?? new Map();
  const { conf, source } = podResolvConf(api, podSections);
  problems.push(...podResolverProblems(api, views, source));
  const matrix = buildQueryMatrix(api, views);
  const queryCost = queryCosts(api, conf, matrix);
  const corefile = api.corefile === null ? null : readCorefile(api.corefile);
  const report: DnsCheckReport = {
    pod: { namespace: api.pod.namespace, name: api.pod.name, nodeName: api.pod.nodeName, dnsPolicy: api.pod.dnsPolicy, hostNetwork: api.pod.hostNetwork },
    resolver: { source, nameservers: conf.nameservers, search: conf.search, ndots: conf.ndots, options: conf.options.map((o) => o.raw), lines: conf.rawLines },
    clusterDomain: clusterDomainOf(conf, api.pod.namespace),
    service: api.service ? { ...api.service, endpoints: api.endpoints } : null,
    coredns: corednsRows(api, views, corefile, problems),
    corefile: corefile ? { forward: corefile.forwards.map((f) => f.raw.replace(/\s*\{\s*$/, '')), loopPlugin: corefile.loopPlugin, forwardsToResolvConf: corefile.forwardsToResolvConf } : null,
    outsideName: outsideNameCheck(api.names),
    nodeLocalDns: api.nodeLocalDnsPods.length > 0,
    servers: matrix.servers.map(({ where, ...s }) => ({ ...s, queriedFrom: queriedFrom(api, s, where) })),
    matrix: matrix.rows,
    queryCost,
    findings,
    problems,
  };
  findings.push(...diagnoseFindings({ api, report, conf, views, servers: matrix.servers, cell: matrix.cell, corefile }));
  return report;
}

/** Each node's sections; a node that could not be probed is a finding, a section it could not frame a problem. */
function readNodeViews(nodes: readonly NodeCollection[]): { views: Map<string, NodeView>; findings: Finding[]; problems: string[] } {
  const findings: Finding[] = [];
  const problems: string[] = [];
  const views = new Map<string, NodeView>();
  for (const node of nodes) {
    if (!node.ok) {
      findings.push(nodeFailedFinding(node.nodeName, node.error));
      continue;
    }
    const out = parseNodeScriptOutput(node.raw, node.token);
    problems.push(...out.problems.map((p) => `node ${node.nodeName}: ${p}`));
    views.set(node.nodeName, { nodeName: node.nodeName, sections: out.sections });
  }
  return { views, findings, problems };
}

/** What the queries from the pod's node had to assume: its resolv.conf, its network namespace. */
function podResolverProblems(api: DnsCheckApi, views: ReadonlyMap<string, NodeView>, source: 'pod' | 'assumed'): string[] {
  const podNode = views.get(api.pod.nodeName);
  if (!podNode) return [];
  const problems: string[] = [];
  if (source === 'assumed') {
    problems.push(`node ${api.pod.nodeName}: could not read /etc/resolv.conf of pod ${api.pod.namespace}/${api.pod.name}; queries assume the ClusterFirst default`);
  }
  if (!pidFound(podNode.sections, api.pod.key)) {
    problems.push(`node ${api.pod.nodeName}: the network namespace of pod ${api.pod.namespace}/${api.pod.name} was not found; queries were sent from the node's namespace`);
  }
  return problems;
}

/** Each CoreDNS pod with where it forwards; a resolv.conf the Corefile needs but could not be read is a problem. */
function corednsRows(api: DnsCheckApi, views: ReadonlyMap<string, NodeView>, corefile: CorefileFacts | null, problems: string[]): CorednsRow[] {
  return api.corednsPods.map((c) => {
    const sections = views.get(c.nodeName)?.sections;
    const parsed = resolvConfFrom(sections?.get('host/resolv.conf'));
    const up = sections ? upstreamsFor(api, c, sections) : null;
    if (up?.unreadable && (corefile === null || corefile.forwardsToResolvConf)) {
      problems.push(`node ${c.nodeName}: could not read /etc/resolv.conf of CoreDNS pod ${c.namespace}/${c.name}: ${up.unreadable}${up.source === 'node' ? `; upstream ${up.addresses.join(', ')} taken from the node's resolv.conf` : ''}`);
    }
    return {
      name: c.name,
      nodeName: c.nodeName,
      podIP: c.podIP,
      phase: c.phase,
      ready: c.ready,
      restarts: c.restarts,
      state: c.state,
      lastTermination: c.lastTermination,
      logLines: logLinesThatMatter(c.logTail),
      resolvConf: up?.resolvConf?.rawLines ?? null,
      nodeResolvConf: parsed ? parsed.rawLines : null,
      upstreams: up?.addresses ?? [],
      upstreamSource: up?.source ?? 'none',
    };
  });
}

function queriedFrom(api: DnsCheckApi, server: Omit<DnsServer, 'where'>, where: string): string {
  if (where === 'host') return `node ${server.nodeName}`;
  if (where === api.pod.key) return `pod ${api.pod.namespace}/${api.pod.name}`;
  return `pod ${api.corednsPods.find((c) => c.key === where)?.name ?? where}`;
}

function outsideNameCheck(names: readonly DnsName[]): OutsideNameCheck {
  const outside = names.filter((n) => n.zone === 'external').map((n) => n.name);
  return outside.length > 0
    ? { status: 'asked', names: outside, reason: null }
    : { status: 'skipped', names: [], reason: 'no outside name asked for: pass --external-name NAME (a name your upstream resolver serves) to check forwarding' };
}

/** The findings, in the order a reader follows a query: pod, Service, CoreDNS, past CoreDNS, costs. */
function diagnoseFindings(ctx: DiagnosisContext): Finding[] {
  const findings: Finding[] = [...wrongNameserverFindings(ctx), ...dnsServiceFindings(ctx.api), ...corednsRestartFindings(ctx.api)];
  const layers = answeringLayers(ctx);
  findings.push(...failingLayerFindings(ctx, layers));
  if (layers.clusterDns) findings.push(...upstreamFindings(ctx, layers.clusterDns), ...shortNameFindings(ctx, layers.clusterDns));
  findings.push(...corefileFindings(ctx), ...ndotsAmplificationFindings(ctx), ...conntrackRaceFindings(ctx));
  return findings;
}
