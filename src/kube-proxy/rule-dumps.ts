// A node's rule dumps as the node script collected them (host/iptables-*, host/nft-kube-proxy,
// host/ipvsadm): which text each tool gave, and for a tool that gave none, why, in words an
// operator can act on.
import type { RawSection } from '../probe/sections.js';
import { readIptablesSaveGenerator } from './iptables-save.js';

/** Where kube-proxy (or kubelet, or a CNI) may have written a node's packet rules. */
export type RuleSource = 'iptables-nft' | 'iptables-legacy' | 'nftables' | 'ipvs';

/**
 * The node's rule dumps as the probe image's own tools read them inside the node's network
 * namespace (netdiag-node.sh, gather_kube_proxy). A dump is its text when it was read ('' when it
 * is empty: no such table, IPVS not in the kernel), null when it was not collected or could not
 * be read; each source that could not be read is in `unreadable` with the reason, so no reader
 * mistakes a tool that did not run for a node without rules.
 */
export interface RuleDumps {
  collected: boolean; // the node was asked for its rules at all
  iptablesNft: string | null;
  iptablesLegacy: string | null;
  nftKubeProxy: string | null; // `nft list table ip kube-proxy`
  ipvsadm: string | null; // `ipvsadm -Ln`
  unreadable: Array<{ source: RuleSource; section: string; why: string }>;
}

const RULE_SOURCE_LABEL: Record<RuleSource, string> = {
  'iptables-nft': 'iptables rules (nf_tables backend)',
  'iptables-legacy': 'iptables rules (legacy backend)',
  nftables: "nftables table 'ip kube-proxy'",
  ipvs: 'IPVS virtual servers',
};

/** Why a tool gave no usable output, in words an operator can act on. */
export function describeToolFailure(tool: string, section: RawSection): string {
  const err = section.stderr.trim();
  const first = err.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  if (section.exitCode === 127 || /\bnot found\b|failed to execute|No such file or directory \(os error|can't execute/i.test(first)) {
    return `${tool} was not found (exit ${section.exitCode}${first ? `: ${first}` : ''})`;
  }
  if (/permission denied|operation not permitted|you must be root/i.test(err)) {
    return `${tool} was refused by the kernel (exit ${section.exitCode}: ${first}); is the probe pod privileged?`;
  }
  if (section.exitCode === 124 || section.exitCode === 143) return `${tool} did not finish in time (exit ${section.exitCode})`;
  if (/insmod|modprobe|protocol not supported|failed to initialize/i.test(err)) {
    return `${tool} could not reach its kernel interface (exit ${section.exitCode}: ${first}); the module may not be loaded`;
  }
  return `${tool} failed (exit ${section.exitCode}${first ? `: ${first}` : ''})`;
}

// Plain `iptables-save` stands in for a backend's own tool that could not run: its header says
// "(nf_tables)" for the nft backend and nothing for legacy.
function plainSaveBackend(text: string): 'iptables-nft' | 'iptables-legacy' | null {
  const generator = readIptablesSaveGenerator(text);
  const tool = generator === null ? null : /^(?:ip6?tables|xtables)[\w-]*-save v[\d.]+( \(nf_tables\)| \(legacy\))?/.exec(generator);
  if (!tool) return null;
  return tool[1] === ' (nf_tables)' ? 'iptables-nft' : 'iptables-legacy';
}

/** Reads the rule sections of one node (host/iptables-*, host/nft-kube-proxy, host/ipvsadm). */
export function readRuleDumps(sections: ReadonlyMap<string, RawSection>): RuleDumps {
  const names = ['host/iptables-nft', 'host/iptables-legacy', 'host/iptables', 'host/nft-kube-proxy', 'host/ipvsadm'];
  const dumps: RuleDumps = { collected: names.some((n) => sections.has(n)), iptablesNft: null, iptablesLegacy: null, nftKubeProxy: null, ipvsadm: null, unreadable: [] };
  const plain = sections.get('host/iptables');
  const plainText = plain && plain.exitCode === 0 ? plain.stdout : null;
  const plainBackend = plainText !== null ? plainSaveBackend(plainText) : null;
  const iptables = (source: 'iptables-nft' | 'iptables-legacy', name: string, tool: string): string | null => {
    const s = sections.get(name);
    if (s && s.exitCode === 0) return s.stdout;
    if (plainText !== null && plainBackend === source) return plainText;
    if (s) dumps.unreadable.push({ source, section: name, why: describeToolFailure(tool, s) });
    return null;
  };
  dumps.iptablesNft = iptables('iptables-nft', 'host/iptables-nft', 'iptables-nft-save');
  dumps.iptablesLegacy = iptables('iptables-legacy', 'host/iptables-legacy', 'iptables-legacy-save');
  // Snapshots from before both backends were read separately: plain iptables-save only.
  if (plainText !== null && !sections.has('host/iptables-nft') && !sections.has('host/iptables-legacy')) {
    if (plainBackend === 'iptables-legacy') dumps.iptablesLegacy = plainText;
    else dumps.iptablesNft = plainText;
  }
  const nft = sections.get('host/nft-kube-proxy');
  if (nft) {
    // nft exits 1 with "No such file or directory" when the table does not exist: read, empty.
    if (nft.exitCode === 0) dumps.nftKubeProxy = nft.stdout;
    else if (nft.exitCode === 1 && /No such file or directory/.test(nft.stderr)) dumps.nftKubeProxy = '';
    else dumps.unreadable.push({ source: 'nftables', section: 'host/nft-kube-proxy', why: describeToolFailure('nft', nft) });
  }
  const ipvs = sections.get('host/ipvsadm');
  if (ipvs) {
    // "Protocol not available": the kernel has no ip_vs, which kube-proxy's IPVS mode loads, so
    // there are no virtual servers; that is an answer, not a failure.
    if (ipvs.exitCode === 0) dumps.ipvsadm = ipvs.stdout;
    else if (/Can't initialize ipvs: Protocol not available/.test(ipvs.stderr + ipvs.stdout)) dumps.ipvsadm = '';
    else dumps.unreadable.push({ source: 'ipvs', section: 'host/ipvsadm', why: describeToolFailure('ipvsadm', ipvs) });
  }
  return dumps;
}

/** "could not read X on node N: why", one per source that could not be read. */
export function ruleDumpProblems(nodeName: string, dumps: RuleDumps): string[] {
  return dumps.unreadable.map((u) => `could not read ${RULE_SOURCE_LABEL[u.source]} on node ${nodeName}: ${u.why}`);
}

/** One line naming what could not be read, for the evidence of a "could not read" finding. */
export function ruleDumpEvidence(dumps: RuleDumps): string[] {
  return dumps.unreadable.map((u) => `${RULE_SOURCE_LABEL[u.source]} (section ${u.section}): ${u.why}`);
}
