// Whose resolv.conf a query follows: the pod's own (or what its dnsPolicy implies), CoreDNS's own
// container file (what `forward . /etc/resolv.conf` reads) and, only to choose whom to ask when
// that file cannot be read, the node's files (skipping the systemd-resolved stub 127.0.0.53).
import type { RawSection } from '../../probe/sections.js';
import { parseResolvConf, type ResolvConf } from '../../parse/resolv-conf.js';
import { readCorefile } from '../../parse/corefile.js';
import { parseKeyValues } from '../../parse/key-values.js';
import { DEFAULT_CLUSTER_DOMAIN, isLoopback, type CorednsPodInfo, type CorednsUpstreams, type DnsCheckApi, type Sections, type UpstreamSource } from './model.js';

export function pidFound(sections: Sections, key: string): boolean {
  const s = sections.get(`pod/${key}/pid`);
  return s !== undefined && s.exitCode === 0 && /^\d+$/.test(parseKeyValues(s.stdout).get('pid') ?? '');
}

export function resolvConfFrom(section: RawSection | undefined): ResolvConf | null {
  if (!section || section.exitCode !== 0) return null;
  const r = parseResolvConf(section.stdout);
  return r.ok ? r.value : null;
}

/** The resolver config the pod's queries follow: its real file, else what its dnsPolicy implies. */
export function podResolvConf(api: DnsCheckApi, sections: Sections): { conf: ResolvConf; source: 'pod' | 'assumed' } {
  const conf = resolvConfFrom(sections.get(`pod/${api.pod.key}/resolv.conf`));
  if (conf) return { conf, source: 'pod' };
  const ns = api.pod.namespace;
  const d = DEFAULT_CLUSTER_DOMAIN;
  const assumed = parseResolvConf(`search ${ns}.svc.${d} svc.${d} ${d}\nnameserver ${api.service?.clusterIP ?? '0.0.0.0'}\noptions ndots:5\n`);
  return { conf: (assumed as { ok: true; value: ResolvConf }).value, source: 'assumed' };
}

/** The node script's key for CoreDNS's container: the checked pod's, when it is that CoreDNS pod. */
function corednsKey(api: DnsCheckApi, c: CorednsPodInfo): string {
  const same = c.nodeName === api.pod.nodeName && c.podIP !== null && c.podIP === api.pod.podIP;
  return same ? api.pod.key : c.key;
}

/** The section holding CoreDNS's own /etc/resolv.conf. */
function corednsResolvSection(api: DnsCheckApi, c: CorednsPodInfo, sections: Sections): RawSection | undefined {
  return sections.get(`pod/${corednsKey(api, c)}/resolv.conf`);
}

/**
 * The node's resolvers, when CoreDNS's own file could not be read: only whom to ask, never evidence
 * of a loop. The stub 127.0.0.53 of systemd-resolved is skipped, so its uplink file
 * (/run/systemd/resolve/resolv.conf) names the servers then.
 */
export function nodeUpstreams(sections: Sections): string[] {
  const nodeConf = resolvConfFrom(sections.get('host/resolv.conf'));
  const uplink = resolvConfFrom(sections.get('host/resolved-resolv.conf'));
  const fromNode = (nodeConf?.nameservers ?? []).filter((a) => !isLoopback(a));
  return fromNode.length > 0 ? fromNode : (uplink?.nameservers ?? []).filter((a) => !isLoopback(a));
}

/**
 * Where CoreDNS `c` forwards: literal addresses in the Corefile, and for `forward . /etc/resolv.conf`
 * (or no Corefile read) the nameservers of its own container's file, else the node's (see
 * UpstreamSource in model.ts).
 */
export function upstreamsFor(api: DnsCheckApi, c: CorednsPodInfo, sections: Sections): CorednsUpstreams {
  const corefile = api.corefile === null ? null : readCorefile(api.corefile);
  const literal = [...(corefile?.forwardAddresses ?? [])];
  const own = resolvConfFrom(corednsResolvSection(api, c, sections));
  let fromFile: string[] = [];
  let source: UpstreamSource = literal.length > 0 ? 'corefile' : 'none';
  let unreadable: string | null = null;
  let loopback = literal.filter(isLoopback);
  if (corefile === null || corefile.forwardsToResolvConf) {
    if (own) {
      fromFile = own.nameservers;
      loopback = [...loopback, ...own.nameservers.filter(isLoopback)];
      source = 'coredns';
    } else {
      unreadable = whyUnreadable(api, c, sections);
      fromFile = nodeUpstreams(sections);
      if (fromFile.length > 0) source = 'node';
    }
  }
  const unique = [...new Set([...literal, ...fromFile])];
  return { addresses: unique.filter((a) => !isLoopback(a)), loopback: [...new Set(loopback)], source, resolvConf: own, unreadable };
}

function whyUnreadable(api: DnsCheckApi, c: CorednsPodInfo, sections: Sections): string {
  const key = corednsKey(api, c);
  const section = sections.get(`pod/${key}/resolv.conf`);
  if (section) return section.stderr.trim().split('\n')[0] || `cat exited ${section.exitCode}`;
  if (sections.has(`pod/${key}/pid`) && !pidFound(sections, key)) return 'no process of its container was found';
  return 'not read by this probe';
}
