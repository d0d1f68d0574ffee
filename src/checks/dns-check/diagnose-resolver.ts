// The pod's own resolver: does it ask the cluster DNS first, what its search list and ndots cost,
// and whether a short name fails only because its Service lives in another namespace.
import type { Finding } from '../finding.js';
import { stepEvidence } from './query-matrix.js';
import { NODELOCAL_DNS_IP, podRefOf, type DiagnosisContext, type DnsServer } from './model.js';

/** Does the pod's resolv.conf name the cluster DNS (or NodeLocal DNSCache) first, as its dnsPolicy promises? */
export function wrongNameserverFindings(ctx: DiagnosisContext): Finding[] {
  const { api, report, conf } = ctx;
  const podRef = podRefOf(api);
  const findings: Finding[] = [];
  const expected = [api.service?.clusterIP, ...(api.nodeLocalDnsPods.length > 0 ? [NODELOCAL_DNS_IP] : [])].filter((x): x is string => Boolean(x));
  const first = conf.nameservers[0];
  if (report.resolver.source === 'pod' && expected.length > 0 && (first === undefined || !expected.includes(first))) {
    const clusterFirst = api.pod.dnsPolicy === 'ClusterFirst' || (api.pod.dnsPolicy === 'ClusterFirstWithHostNet' && api.pod.hostNetwork);
    const byDesign = api.pod.dnsPolicy === 'Default' || (api.pod.dnsPolicy === 'ClusterFirst' && api.pod.hostNetwork);
    findings.push({
      code: 'dns.wrong-nameserver',
      severity: byDesign ? 'info' : clusterFirst ? 'error' : 'warn',
      subject: podRef,
      message: first === undefined
        ? 'the pod\'s /etc/resolv.conf names no nameserver, so its resolver falls back to 127.0.0.1 inside the pod'
        : `the pod asks ${first} first, not the cluster DNS ${expected.join(' or ')}, so cluster names${clusterFirst ? ' (which dnsPolicy ' + api.pod.dnsPolicy + ' promises)' : ''} do not resolve there`,
      evidence: [...report.resolver.lines.map((l) => `pod /etc/resolv.conf: ${l}`), `dnsPolicy: ${api.pod.dnsPolicy}`, ...(api.pod.dnsConfig ? [`dnsConfig.nameservers: ${api.pod.dnsConfig.nameservers.join(' ') || '<none>'}`] : []), `Service ${api.service?.namespace}/${api.service?.name} ClusterIP ${api.service?.clusterIP}`],
      remedy: byDesign
        ? `dnsPolicy ${api.pod.dnsPolicy} uses the node's resolver by design; set dnsPolicy ClusterFirst${api.pod.hostNetwork ? 'WithHostNet' : ''} if the pod needs cluster names`
        : clusterFirst
          ? `kubelet on node ${api.pod.nodeName} writes the nameserver from its clusterDNS setting: make it ${api.service?.clusterIP} (kubelet --cluster-dns / KubeletConfiguration clusterDNS) and recreate the pod; if something in the image rewrites /etc/resolv.conf, stop it`
          : `fix spec.dnsConfig.nameservers of the pod (dnsPolicy ${api.pod.dnsPolicy}) to ${expected[0]}`,
    });
  }
  return findings;
}

/** How many queries each name costs before it resolves, under the pod's ndots and search list (info). */
export function ndotsAmplificationFindings(ctx: DiagnosisContext): Finding[] {
  const { api, report, conf } = ctx;
  const podRef = podRefOf(api);
  const findings: Finding[] = [];
  const costly = report.queryCost.filter((q) => q.queriesPerRecordType !== null && q.queriesPerRecordType > 1);
  if (costly.length > 0) {
    findings.push({
      code: 'dns.ndots-amplification',
      severity: 'info',
      subject: podRef,
      message: `with ndots:${conf.ndots} and ${conf.search.length} search domains, names cost several queries before they resolve (each record type; A and AAAA double it)`,
      evidence: costly.map((q) => `${q.name}: ${q.queriesPerRecordType} queries until ${q.answeredBy} answered (${q.queriesPerRecordType! * 2} with A+AAAA)`),
      remedy: `write names in full with a trailing dot (${costly[0]!.answeredBy ?? 'NAME.NAMESPACE.svc.cluster.local.'}) or lower ndots for this pod (spec.dnsConfig.options: [{name: ndots, value: "2"}])`,
    });
  }
  return findings;
}

/** Does a short name fail from the pod's namespace while its Service lives in another one (or its full form works)? */
export function shortNameFindings(ctx: DiagnosisContext, clusterDns: DnsServer): Finding[] {
  const { api, report, cell } = ctx;
  const names = api.names;
  const findings: Finding[] = [];
  for (const n of names.filter((x) => x.origin !== 'full-form' && x.zone === 'cluster')) {
    const c = cell(n.name, 'udp', clusterDns.id);
    // Every candidate inside the cluster domain said NXDOMAIN; the bare name then went upstream
    // (NXDOMAIN or REFUSED there, depending on the upstream).
    const inCluster = c.steps.filter((s) => s.query.endsWith(`.${report.clusterDomain}.`));
    if (c.status === 'ok' || inCluster.length === 0 || !inCluster.every((s) => s.status === 'nxdomain')) continue;
    const full = names.filter((x) => x.fullFormOf === n.name);
    const working = full.filter((x) => cell(x.name, 'udp', clusterDns.id).status === 'ok');
    if (n.otherNamespaces.length === 0 && working.length === 0) continue;
    findings.push({
      code: 'dns.short-name-other-namespace',
      severity: 'warn',
      subject: `name ${n.name} from namespace ${api.pod.namespace}`,
      message: n.otherNamespaces.length > 0
        ? `"${n.name}" does not resolve from namespace ${api.pod.namespace} because the Service lives in ${n.otherNamespaces.join(', ')}: a short name only searches the pod's own namespace`
        : `"${n.name}" does not resolve from namespace ${api.pod.namespace}, but its full form does`,
      evidence: [
        ...c.steps.map((s) => s.evidence),
        ...full.map((x) => stepEvidence(`dig ${x.name}`, cell(x.name, 'udp', clusterDns.id))),
      ],
      remedy: `use the full form ${full[0]?.name ?? `${n.name}.${n.otherNamespaces[0]}`} (or ${(full[0]?.name ?? `${n.name}.${n.otherNamespaces[0]}`)}.svc.${report.clusterDomain}) in the application's configuration`,
    });
  }
  return findings;
}
