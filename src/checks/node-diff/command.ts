// node-diff GOOD BAD: the same plan as node-check for exactly two nodes (probed in parallel, one
// probe pod each), compared instead of judged.
import type { CommandSpec } from '../../cli/command-runner.js';
import { diagnoseNodeDiff, type NodeDiffReport } from './analysis.js';
import type { NodeFleetApi } from '../node-check/analysis.js';
import { renderNodeDiff } from './render.js';
import { EXIT, UserError } from '../../errors.js';
import { assertDnsSubdomain } from '../../cli/global-options.js';
import { planNodeFleet } from '../node-check/command.js';

export type NodeDiffTarget = { kind: 'pair'; good: string; bad: string } | { kind: 'snapshot' };

export function nodeDiffCommand(target: NodeDiffTarget): CommandSpec<NodeFleetApi, NodeDiffReport> {
  return {
    name: 'node-diff',
    plan: async (api) => {
      if (target.kind === 'snapshot') throw new UserError('node-diff needs two node names: GOOD BAD');
      return planNodeFleet(api, [target.good, target.bad], null);
    },
    analyze: (collected) => diagnoseNodeDiff(collected.api, collected.nodes),
    render: (report, options, colour) => renderNodeDiff(report, options, colour),
  };
}

export function readNodeDiffTarget(args: Record<string, unknown>): NodeDiffTarget {
  const good = args.good === undefined ? undefined : String(args.good);
  const bad = args.bad === undefined ? undefined : String(args.bad);
  if (good === undefined && bad === undefined && args['from-snapshot'] !== undefined) return { kind: 'snapshot' };
  if (good === undefined || bad === undefined) {
    throw new UserError('node-diff needs two node names: a GOOD node and a BAD one', { hint: 'kubectl netdiag node-diff worker-1 worker-3', exitCode: EXIT.usage });
  }
  assertDnsSubdomain(good, 'node name');
  assertDnsSubdomain(bad, 'node name');
  if (good === bad) throw new UserError(`node-diff compares two different nodes; both are "${good}"`, { exitCode: EXIT.usage });
  return { kind: 'pair', good, bad };
}
