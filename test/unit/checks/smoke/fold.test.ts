// smoke on many nodes: the veth-peer checks of nodes with nothing to report share one table row;
// the ones with findings or errors keep theirs; -o wide lists every node.
import { expect } from 'chai';
import { foldOkNodeChecks, type SmokeCheckResult } from '../../../../src/checks/smoke/command.js';

const check = (checkName: string, target: string, over: Partial<SmokeCheckResult> = {}): SmokeCheckResult => ({ check: checkName, target, findings: [], error: null, durationMs: 1000, ...over });
const finding = { code: 'veth.peer-down' as const, severity: 'warn' as const, subject: 'pod default/web-4 eth0', message: 'down', evidence: [], remedy: 'up' };

function results(): SmokeCheckResult[] {
  return [
    check('dns-check', 'pod default/web-1'),
    check('trace-svc', 'service default/kubernetes on every node'),
    ...Array.from({ length: 40 }, (_, i) => check('veth-peer', `node node-${i + 1}`, { durationMs: 1000 + i })),
  ];
}

describe('smoke table on many nodes', () => {
  it('folds the veth-peer checks with nothing to report into one row, keeping the others', () => {
    const all = results();
    all[5] = check('veth-peer', 'node node-4', { findings: [finding] });
    all[9] = check('veth-peer', 'node node-8', { error: 'no node could be diagnosed: timeout' });
    const folded = foldOkNodeChecks(all, false);
    expect(folded).to.have.length(5);
    expect(folded.map((r) => `${r.check} ${r.target}`)).to.deep.equal([
      'dns-check pod default/web-1',
      'trace-svc service default/kubernetes on every node',
      'veth-peer 38 nodes, each with nothing to report',
      'veth-peer node node-4',
      'veth-peer node node-8',
    ]);
    expect(folded[2]!.durationMs).to.equal(1039);
  });

  it('-o wide, or a single node, keeps every row', () => {
    expect(foldOkNodeChecks(results(), true)).to.have.length(42);
    expect(foldOkNodeChecks(results().slice(0, 3), false)).to.have.length(3);
  });
});
