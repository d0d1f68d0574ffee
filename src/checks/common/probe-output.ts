// A node whose script output came back cut off (an exec stream that died, a node script killed by
// the probe pod's memory limit, a truncated snapshot) is a finding for every command: its results
// are partial, so the run must not look healthy.
import type { Finding } from '../finding.js';
import type { NodeCollection } from '../../probe/probe-run.js';
import { parseNodeScriptOutput } from '../../probe/sections.js';

export const OUTPUT_INCOMPLETE = 'probe.output-incomplete';

export function diagnoseProbeOutput(nodes: readonly NodeCollection[]): Finding[] {
  const findings: Finding[] = [];
  for (const node of nodes) {
    if (!node.ok) continue;
    const { problems } = parseNodeScriptOutput(node.raw, node.token);
    if (problems.length === 0) continue;
    findings.push({
      code: OUTPUT_INCOMPLETE,
      severity: 'error',
      subject: `node ${node.nodeName}`,
      message: 'the node script output from this node is incomplete, so what is shown for it is partial',
      evidence: problems.map((p) => `node ${node.nodeName}: ${p}`),
      remedy: 'run the command again; if it repeats, look for the probe pod hitting its memory limit or a dropped exec stream (kubectl get events -n PROBE_NAMESPACE)',
    });
  }
  return findings;
}
