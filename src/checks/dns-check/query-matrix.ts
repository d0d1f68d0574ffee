// The query matrix: every server a node asks (the Service IP, NodeLocal DNSCache, each CoreDNS pod,
// CoreDNS's upstreams), one chain per name x server x protocol that walks the search list as the
// pod's resolver would, and the cells those chains end in.
//
// The plan is a pure function of the API facts and what the node answered so far
// (planDnsQueries), so the probe's follow-up rounds and the analysis of a saved snapshot walk the
// very same chains.
import type { RawSection } from '../../probe/sections.js';
import { actionSectionName, type NodeRequest } from '../../node-script/node-script.js';
import { parseDig, type DigResult } from '../../parse/dig.js';
import { planQueries, type ResolvConf } from '../../parse/resolv-conf.js';
import { pidFound, podResolvConf, upstreamsFor } from './resolvers.js';
import {
  CONTINUES,
  MAX_CANDIDATES,
  MAX_COREDNS_SERVERS,
  NODELOCAL_DNS_IP,
  PROTOCOLS,
  TRANSPORT_FAILURES,
  type CellLookup,
  type CellStatus,
  type DnsCheckApi,
  type DnsServer,
  type MatrixCell,
  type MatrixRow,
  type NodeView,
  type QueryChain,
  type QueryCost,
  type QueryStep,
  type Sections,
  type StepStatus,
} from './model.js';

/** Every server the node `nodeName` queries, in column order. */
export function serversFor(api: DnsCheckApi, nodeName: string, sections: Sections): DnsServer[] {
  const servers: DnsServer[] = [];
  if (nodeName === api.pod.nodeName) {
    const where = pidFound(sections, api.pod.key) ? api.pod.key : 'host';
    if (api.service?.clusterIP) {
      servers.push({ id: 'service', kind: 'service', address: api.service.clusterIP, label: `svc ${api.service.clusterIP}`, nodeName, where });
    }
    const { conf } = podResolvConf(api, sections);
    // NodeLocal DNSCache is link-local on the pod's own node: safe to ask. Other foreign
    // nameservers in the pod's file are reported, never contacted (they may be outside the cluster).
    if (conf.nameservers.includes(NODELOCAL_DNS_IP)) {
      servers.push({ id: 'nodelocal', kind: 'nodelocal', address: NODELOCAL_DNS_IP, label: `nodelocal ${NODELOCAL_DNS_IP}`, nodeName, where });
    }
    for (const c of api.corednsPods.filter((p) => p.podIP).slice(0, MAX_COREDNS_SERVERS)) {
      servers.push({ id: `pod/${c.name}`, kind: 'coredns-pod', address: c.podIP!, label: `${c.name} ${c.podIP}`, nodeName, where });
    }
  }
  // Upstreams are asked from the network namespace CoreDNS forwards from (one CoreDNS pod per node).
  const local = api.corednsPods.find((c) => c.nodeName === nodeName);
  if (local) {
    const where = pidFound(sections, local.key) ? local.key : 'host';
    for (const address of upstreamsFor(api, local, sections).addresses) {
      servers.push({ id: `upstream/${address}`, kind: 'upstream', address, label: `upstream ${address}`, nodeName, where });
    }
  }
  return servers;
}

/** The chains a node runs: pod-side names through the search list, upstream only the bare name of external names. */
export function chainsFor(api: DnsCheckApi, nodeName: string, sections: Sections): QueryChain[] {
  const { conf } = podResolvConf(api, sections);
  const chains: QueryChain[] = [];
  for (const server of serversFor(api, nodeName, sections)) {
    for (const name of api.names) {
      let candidates: string[];
      if (server.kind === 'upstream') {
        if (name.zone === 'cluster') continue;
        candidates = [`${name.name.replace(/\.$/, '')}.`];
      } else {
        candidates = planQueries(name.name, conf).candidates.slice(0, MAX_CANDIDATES);
      }
      for (const protocol of PROTOCOLS) chains.push({ name, server, protocol, candidates });
    }
  }
  return chains;
}

function digRequest(chain: QueryChain, query: string): Extract<NodeRequest, { kind: 'dig' }> {
  return { kind: 'dig', where: chain.server.where, server: chain.server.address, protocol: chain.protocol, name: query };
}

export function readStep(query: string, section: RawSection): QueryStep {
  const dig: DigResult = parseDig(`${section.stdout}\n${section.stderr}`);
  const answers = dig.answers.map((a) => `${a.type} ${a.data}`).concat(dig.short);
  let status: StepStatus;
  switch (dig.outcome) {
    case 'answer':
      if (dig.rcode === 'NOERROR' || dig.rcode === null) status = answers.length > 0 ? 'answer' : 'nodata';
      else if (dig.rcode === 'NXDOMAIN') status = 'nxdomain';
      else if (dig.rcode === 'SERVFAIL') status = 'servfail';
      else if (dig.rcode === 'REFUSED') status = 'refused';
      else status = 'other-rcode';
      break;
    case 'timeout':
      status = 'timeout';
      break;
    case 'refused-connection':
      status = 'port-unreachable';
      break;
    case 'unreachable':
      status = 'unreachable';
      break;
    default:
      status = 'error';
  }
  const evidence = dig.errors[0] ?? (dig.rcode ? `${query} -> ${dig.rcode}${answers.length ? ` ${answers.join(', ')}` : ''}${dig.queryTimeMs !== null ? ` (${dig.queryTimeMs} ms)` : ''}` : (section.stdout.trim().split('\n')[0] ?? `rc=${section.exitCode}`));
  return { query, status, rcode: dig.rcode, answers, timeMs: dig.queryTimeMs, evidence };
}

/** Walks a chain over the answers so far: the steps taken, and the next query or the end. */
export function walkChain(chain: QueryChain, sections: Sections): { steps: QueryStep[]; next: string | null } {
  const steps: QueryStep[] = [];
  for (const query of chain.candidates) {
    const section = sections.get(actionSectionName(digRequest(chain, query)));
    if (!section) return { steps, next: query };
    const step = readStep(query, section);
    steps.push(step);
    if (!CONTINUES.has(step.status)) break;
  }
  return { steps, next: null };
}

/**
 * The next round of requests for a node: the pid lookups the actions need (a script call only
 * knows pods named in it) and one dig per unfinished chain. Empty when every chain has ended.
 */
export function planDnsQueries(api: DnsCheckApi, nodeName: string, sections: Sections): NodeRequest[] {
  const digs: NodeRequest[] = [];
  const places = new Set<string>();
  for (const chain of chainsFor(api, nodeName, sections)) {
    const { next } = walkChain(chain, sections);
    if (next === null) continue;
    digs.push(digRequest(chain, next));
    places.add(chain.server.where);
  }
  if (digs.length === 0) return [];
  const lookups: NodeRequest[] = [];
  if (places.has(api.pod.key)) lookups.push({ kind: 'podpid', key: api.pod.key, containerId: api.pod.containerId, podIP: api.pod.podIP });
  for (const c of api.corednsPods) {
    if (places.has(c.key) && c.podIP) lookups.push({ kind: 'podpid', key: c.key, containerId: c.containerId, podIP: c.podIP });
  }
  return [...lookups, ...digs];
}

export function cellOf(chain: QueryChain, sections: Sections): MatrixCell {
  const { steps, next } = walkChain(chain, sections);
  const base = { serverId: chain.server.id, queries: steps.length, steps };
  const last = steps[steps.length - 1];
  if (!last || next !== null) return { ...base, status: 'not-run', rcode: null, answeredBy: null, answers: [], latencyMs: null };
  if (last.status === 'answer') {
    return { ...base, status: 'ok', rcode: last.rcode ?? 'NOERROR', answeredBy: last.query, answers: last.answers, latencyMs: last.timeMs };
  }
  if (CONTINUES.has(last.status)) {
    // The whole search list failed: SERVFAIL anywhere says more than NXDOMAIN at the end.
    const status: CellStatus = steps.some((s) => s.status === 'servfail') ? 'servfail' : steps.some((s) => s.status === 'nodata') ? 'nodata' : 'nxdomain';
    return { ...base, status, rcode: last.rcode, answeredBy: null, answers: [], latencyMs: last.timeMs };
  }
  return { ...base, status: last.status as CellStatus, rcode: last.rcode, answeredBy: null, answers: [], latencyMs: last.timeMs };
}


/** Any DNS response (even NXDOMAIN or SERVFAIL): the server is there. */
export function gotResponse(c: MatrixCell): boolean {
  return c.status !== 'not-run' && !TRANSPORT_FAILURES.has(c.status);
}

/** The dig line that decided a cell, labelled. */
export function stepEvidence(label: string, c: MatrixCell): string {
  const last = c.steps[c.steps.length - 1];
  return `${label}: ${last ? last.evidence : c.status}`;
}

export interface QueryMatrix {
  servers: DnsServer[]; // columns: Service, NodeLocal DNSCache, CoreDNS pods, upstreams
  cell: CellLookup; // a cell no chain reached reads as not-run
  rows: MatrixRow[];
}

const SERVER_ORDER: readonly DnsServer['kind'][] = ['service', 'nodelocal', 'coredns-pod', 'upstream'];

/** Every node's chains walked over its sections, the pod's node first so its cells win. */
export function buildQueryMatrix(api: DnsCheckApi, views: ReadonlyMap<string, NodeView>): QueryMatrix {
  const podNode = views.get(api.pod.nodeName);
  const allServers: DnsServer[] = [];
  const cells = new Map<string, MatrixCell>(); // name|protocol|serverId
  for (const view of [podNode, ...[...views.values()].filter((v) => v !== podNode)]) {
    if (!view) continue;
    for (const chain of chainsFor(api, view.nodeName, view.sections)) {
      if (!allServers.some((s) => s.id === chain.server.id)) allServers.push(chain.server);
      const key = `${chain.name.name}|${chain.protocol}|${chain.server.id}`;
      if (!cells.has(key)) cells.set(key, cellOf(chain, view.sections));
    }
  }
  // An upstream with no chain (only cluster names asked) is still a column, so the table shows it.
  for (const view of views.values()) {
    for (const s of serversFor(api, view.nodeName, view.sections)) if (!allServers.some((x) => x.id === s.id)) allServers.push(s);
  }
  const servers = SERVER_ORDER.flatMap((kind) => allServers.filter((s) => s.kind === kind));
  const notRun = (serverId: string): MatrixCell => ({ serverId, status: 'not-run', rcode: null, answeredBy: null, answers: [], queries: 0, latencyMs: null, steps: [] });
  const cell: CellLookup = (name, protocol, serverId) => cells.get(`${name}|${protocol}|${serverId}`) ?? notRun(serverId);
  const rows: MatrixRow[] = api.names.flatMap((n) =>
    PROTOCOLS.map((protocol) => ({ name: n.name, zone: n.zone, origin: n.origin, protocol, cells: servers.map((s) => cell(n.name, protocol, s.id)) })),
  );
  return { servers, cell, rows };
}

/** What each name costs at the pod's first path (Service IP or NodeLocal DNSCache, else a CoreDNS pod). */
export function queryCosts(api: DnsCheckApi, conf: ResolvConf, matrix: QueryMatrix): QueryCost[] {
  const { servers, cell } = matrix;
  return api.names.map((n) => {
    const plan = planQueries(n.name, conf);
    const via = servers.find((s) => s.kind === 'service' || s.kind === 'nodelocal') ?? servers.find((s) => s.kind === 'coredns-pod');
    const c = via ? cell(n.name, 'udp', via.id) : null;
    return {
      name: n.name,
      candidates: plan.candidates,
      answeredBy: c?.answeredBy ?? null,
      queriesPerRecordType: c && c.status === 'ok' ? c.queries : null,
      worstCase: plan.worstCaseQueries,
    };
  });
}
