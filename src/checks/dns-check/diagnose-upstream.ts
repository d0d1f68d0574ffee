// Past CoreDNS: where the Corefile forwards (a loopback target or CoreDNS's own resolv.conf naming
// one is a forwarding loop; no forward plugin at all), the loop plugin's log lines, and whether
// outside names fail at the upstream or in CoreDNS's forward.
import type { Finding } from '../finding.js';
import type { CorefileFacts } from '../../parse/corefile.js';
import { stepEvidence } from './query-matrix.js';
import { resolvConfFrom, upstreamsFor } from './resolvers.js';
import { LOOP_LOG, TRANSPORT_FAILURES, isLoopback, type DiagnosisContext, type DnsCheckApi, type DnsServer, type NodeView } from './model.js';

/** Do outside names fail through CoreDNS while cluster names resolve, and is it the upstream or the forward? */
export function upstreamFindings(ctx: DiagnosisContext, clusterDns: DnsServer): Finding[] {
  const { api, report, servers, cell } = ctx;
  const names = api.names;
  const upstreams = servers.filter((s) => s.kind === 'upstream');
  const clusterNames = names.filter((n) => n.zone === 'cluster' && n.origin !== 'full-form');
  const findings: Finding[] = [];
  const clusterOk = clusterNames.some((n) => cell(n.name, 'udp', clusterDns.id).status === 'ok');
  for (const n of names.filter((x) => x.zone === 'external')) {
    const c = cell(n.name, 'udp', clusterDns.id);
    const direct = upstreams.map((u) => ({ u, c: cell(n.name, 'udp', u.id) })).filter((x) => x.c.status !== 'not-run');
    const failing = c.status === 'servfail' || TRANSPORT_FAILURES.has(c.status);
    if (failing && (clusterOk || clusterNames.length === 0)) {
      const upstreamDown = direct.length > 0 && direct.every((x) => x.c.status !== 'ok');
      findings.push({
        code: 'dns.upstream-failing',
        severity: 'error',
        subject: `name ${n.name}`,
        message: upstreamDown
          ? `cluster names resolve but ${n.name} fails (${c.status}) because the upstream resolver ${direct.map((x) => x.u.address).join(', ')} does not answer from CoreDNS's network`
          : direct.length === 0
            ? `cluster names resolve but ${n.name} fails (${c.status}): CoreDNS has no usable upstream to forward to`
            : `cluster names resolve but ${n.name} fails (${c.status}) through CoreDNS although the upstream answers directly: CoreDNS's forward is broken`,
        evidence: [stepEvidence(`dig @${clusterDns.address} ${n.name}`, c), ...direct.map((x) => stepEvidence(`dig @${x.u.address} ${n.name} (from ${x.u.where === 'host' ? `node ${x.u.nodeName}` : 'the CoreDNS pod'})`, x.c)), ...(report.corefile?.forward ?? []).map((l) => `Corefile: ${l}`)],
        remedy: upstreamDown
          ? `make the upstream reachable from the pod network (firewall, security group, route) or point CoreDNS's forward at a resolver that answers (kubectl -n kube-system edit configmap coredns)`
          : 'check the forward plugin in the coredns ConfigMap and the CoreDNS logs (plugin/errors lines)',
      });
    } else if (c.status === 'nxdomain' && direct.every((x) => x.c.status === 'nxdomain' || x.c.status === 'not-run')) {
      findings.push({
        code: 'dns.name-not-found',
        severity: 'warn',
        subject: `name ${n.name}`,
        message: `${n.name} does not exist: every candidate of the search list is NXDOMAIN${direct.length > 0 ? ', at the upstream too' : ''}`,
        evidence: c.steps.map((s) => s.evidence),
        remedy: 'check the spelling, or the zone at the authoritative server',
      });
    }
  }
  return findings;
}

/** The Corefile's questions: forwarding loops (with their evidence), loops CoreDNS logged, no forward at all. */
export function corefileFindings(ctx: DiagnosisContext): Finding[] {
  const { api, views, corefile } = ctx;
  const loops = forwardLoopFindings(api, corefile, views);
  const loopPods = new Set(loops.map((f) => f.subject));
  return [...loops, ...loggedLoopFindings(api, loopPods), ...noForwardFindings(corefile)];
}

/** Which CoreDNS pods logged the loop plugin's verdict (beyond those a forwarding loop already explains)? */
function loggedLoopFindings(api: DnsCheckApi, loopPods: ReadonlySet<string>): Finding[] {
  const findings: Finding[] = [];
  for (const c of api.corednsPods) {
    const loopLines = c.logTail.filter((l) => LOOP_LOG.test(l));
    if (loopLines.length === 0 || loopPods.has(`pod ${c.namespace}/${c.name}`)) continue;
    findings.push({
      code: 'dns.coredns-loop',
      severity: 'error',
      subject: `pod ${c.namespace}/${c.name}`,
      message: 'CoreDNS detected that its queries come back to itself and exits',
      evidence: loopLines.slice(-3).map((l) => `log: ${l}`),
      remedy: 'find the resolver that forwards back to CoreDNS (its own /etc/resolv.conf, a local dnsmasq/systemd-resolved, an upstream that forwards cluster queries back, the Corefile forward) and point it elsewhere',
    });
  }
  return findings;
}

/** Does the Corefile forward outside names at all? */
function noForwardFindings(corefile: CorefileFacts | null): Finding[] {
  const findings: Finding[] = [];
  if (corefile && corefile.forwards.length === 0) {
    findings.push({
      code: 'dns.corefile-no-forward',
      severity: 'info',
      subject: 'configmap kube-system/coredns',
      message: 'the Corefile has no forward plugin: names outside the cluster domain are not resolved',
      evidence: corefile.plugins.map((p) => `plugin ${p}`),
      remedy: 'add "forward . /etc/resolv.conf" (or explicit resolvers) to the server block if pods need external names',
    });
  }
  return findings;
}

/**
 * A forwarding loop with its evidence: CoreDNS (in its own network namespace) forwards to a loopback
 * address, named by the Corefile or by its own container's /etc/resolv.conf. Inside the pod that is
 * CoreDNS itself. The node's /etc/resolv.conf is not evidence: kubelet may give CoreDNS another file
 * (/run/systemd/resolve/resolv.conf), and a hostNetwork CoreDNS really reaches the node's stub.
 */
function forwardLoopFindings(api: DnsCheckApi, corefile: CorefileFacts | null, views: ReadonlyMap<string, NodeView>): Finding[] {
  const findings: Finding[] = [];
  if (!corefile) return findings;
  for (const c of api.corednsPods) {
    const sections = views.get(c.nodeName)?.sections;
    if (!sections || c.hostNetwork === true) continue;
    const up = upstreamsFor(api, c, sections);
    const emptyFile = corefile.forwardsToResolvConf && up.resolvConf !== null && up.resolvConf.nameservers.length === 0;
    if (up.loopback.length === 0 && !emptyFile) continue;
    const fromFile = up.resolvConf?.nameservers.filter(isLoopback) ?? [];
    const where = fromFile.length > 0 && corefile.forwardsToResolvConf ? `its /etc/resolv.conf names ${fromFile.join(', ')}` : `the Corefile forwards to ${up.loopback.join(', ')}`;
    const loopLogs = c.logTail.filter((l) => LOOP_LOG.test(l)).slice(-2).map((l) => `log: ${l}`);
    const nodeLines = resolvConfFrom(sections.get('host/resolv.conf'))?.rawLines ?? [];
    findings.push({
      code: 'dns.coredns-forward-loopback',
      severity: 'error',
      subject: `pod ${c.namespace}/${c.name}`,
      message: emptyFile && up.loopback.length === 0
        ? `CoreDNS on ${c.nodeName} forwards to /etc/resolv.conf, and its container's file names no nameserver: names outside the cluster cannot be forwarded`
        : `CoreDNS on ${c.nodeName} forwards to a loopback address (${where}): inside CoreDNS's pod that is CoreDNS itself, a forwarding loop${corefile.loopPlugin ? ' (with the loop plugin on, CoreDNS exits once it sees its probe come back: CrashLoopBackOff)' : ''}`,
      evidence: [
        ...(up.resolvConf?.rawLines ?? []).map((l) => `CoreDNS pod ${c.name} /etc/resolv.conf: ${l}`),
        ...corefile.forwards.map((f) => `Corefile: ${f.raw.replace(/\s*\{\s*$/, '')}`),
        ...(corefile.loopPlugin ? ['Corefile: loop'] : []),
        `CoreDNS dnsPolicy: ${c.dnsPolicy}`,
        ...nodeLines.map((l) => `node ${c.nodeName} /etc/resolv.conf (context): ${l}`),
        ...loopLogs,
      ],
      remedy: fromFile.length > 0
        ? `kubelet on ${c.nodeName} wrote CoreDNS's resolv.conf from its resolvConf file: point resolvConf at a file with reachable nameservers (systemd-resolved: /run/systemd/resolve/resolv.conf) or write upstreams into the Corefile (forward . 10.0.0.2), then restart the CoreDNS pods so kubelet writes their file again`
        : 'point the Corefile forward at reachable upstream resolvers (kubectl -n kube-system edit configmap coredns), not a loopback address',
    });
  }
  return findings;
}
