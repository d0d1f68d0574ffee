// Real kernel reachability in the running lab: every pod reaches every other pod (same node,
// Calico VXLAN between nodes 1-2, direct underlay routes to/from the flannel node 3) and every
// node IP.
import { expect } from 'chai';
import type { LabState } from '../../../lab/lab-state.js';
import { appPods, ping, podNetns, requireLab } from './lab-network-helpers.js';

describe('lab network: connectivity', function () {
  let state: LabState;
  before(function () {
    state = requireLab(this);
  });

  it('every pod pings every other pod, across all node pairs', async function () {
    const pods = appPods(state);
    const failures: string[] = [];
    await Promise.all(
      pods.map(async (src) => {
        for (const dst of pods) {
          if (dst === src) continue;
          if (!(await ping(podNetns(src), dst.ip))) failures.push(`${src.name}(${src.nodeName}) -> ${dst.name}(${dst.nodeName}) ${dst.ip}`);
        }
      }),
    );
    expect(failures).to.deep.equal([]);
    const nodePairs = new Set(pods.flatMap((a) => pods.map((b) => `${a.nodeName}>${b.nodeName}`)));
    expect(nodePairs.size, 'pods cover every ordered node pair').to.equal(state.nodes.length ** 2);
  });

  it('every pod pings every node IP', async function () {
    const failures: string[] = [];
    await Promise.all(
      appPods(state).map(async (src) => {
        for (const node of state.nodes) if (!(await ping(podNetns(src), node.internalIP))) failures.push(`${src.name} -> ${node.name} ${node.internalIP}`);
      }),
    );
    expect(failures).to.deep.equal([]);
  });

  it('a full-size packet fits the pod MTU (1450) end to end between nodes, one byte more does not', async function () {
    const web1 = appPods(state).find((p) => p.name === 'web-1')!;
    const web3 = appPods(state).find((p) => p.name === 'web-3')!;
    const web2 = appPods(state).find((p) => p.name === 'web-2')!;
    // 1422 payload + 8 ICMP + 20 IP = 1450.
    expect(await ping(podNetns(web1), web2.ip, ['-M', 'do', '-s', '1422'])).to.equal(true);
    expect(await ping(podNetns(web3), web1.ip, ['-M', 'do', '-s', '1422'])).to.equal(true);
    expect(await ping(podNetns(web1), web2.ip, ['-M', 'do', '-s', '1423'])).to.equal(false);
  });
});
