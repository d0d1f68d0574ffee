// Profile minimal-host (lab/minimal-host.ts): each node's own mount view, the one its "init"
// process (PID 1 stand-in) lives in, has no iptables/nft/ipvsadm binaries, as on Talos, Bottlerocket
// or Flatcar, while kube-proxy's rules are still in the node's kernel and the probe image's tools
// still read them from the node's network namespace. Builds a minimal-host lab for itself and
// leaves the default lab behind.
import { expect } from 'chai';
import { runCommand } from '../../lab/lab-exec.js';
import type { LabState } from '../../lab/lab-state.js';
import { labBuildUnavailableReason, labState, rebuildLab } from '../support/lab-harness.js';

const labReason = labBuildUnavailableReason();

const HIDDEN_TOOLS = ['iptables', 'iptables-save', 'iptables-legacy-save', 'iptables-nft-save', 'ip6tables-save', 'xtables-nft-multi', 'nft', 'ipvsadm'];

describe('lab profile minimal-host: no iptables/nft/ipvsadm in the node\'s own view', function () {
  let state: LabState;
  this.timeout(240_000);
  before(function () {
    if (labReason) this.skip();
    rebuildLab(['minimal-host']);
    state = labState();
    expect(state.profiles).to.deep.equal(['minimal-host']);
  });
  after(function () {
    if (!labReason) rebuildLab([]); // the default lab again, for whatever runs next
  });

  it('every node\'s mount view lacks each tool: nsenter -m exits 127, not found', async () => {
    expect(state.nodes).to.have.length(3);
    for (const node of state.nodes) {
      for (const tool of HIDDEN_TOOLS) {
        const r = await runCommand('nsenter', ['-t', String(node.initPid), '-m', '--', tool, '--version'], { allowFailure: true });
        expect(r.exitCode, `${node.name}: ${tool}`).to.equal(127);
        expect(r.stderr, `${node.name}: ${tool}`).to.contain(`failed to execute ${tool}: No such file or directory`);
      }
      // The rest of the node's view still works (ip is iproute2's, not hidden).
      const ip = await runCommand('nsenter', ['-t', String(node.initPid), '-m', '-n', '--', 'ip', '-o', 'link', 'show', 'eth0']);
      expect(ip.stdout).to.match(/^\d+: eth0@if\d+:/);
    }
  });

  it('the kernel still holds kube-proxy\'s rules, read with this machine\'s (the probe\'s) tools in the node\'s netns', async () => {
    for (const node of state.nodes) {
      if (node.kubeProxyMode === 'nftables') {
        const r = await runCommand('nsenter', ['-t', String(node.initPid), '-n', '--', 'nft', 'list', 'table', 'ip', 'kube-proxy']);
        expect(r.stdout, node.name).to.contain('map service-ips');
      } else {
        const r = await runCommand('nsenter', ['-t', String(node.initPid), '-n', '--', 'iptables-nft-save', '-t', 'nat']);
        expect(r.stdout.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES ')).length, node.name).to.be.greaterThan(5);
      }
    }
  });

  it('hides the tools from the node only: the machine (probe image) view and pods keep them', async () => {
    const root = await runCommand('iptables-nft-save', ['--version']);
    expect(root.stdout).to.match(/^iptables-nft-save v1\.8/);
    const pod = state.pods.find((p) => p.pid > 0 && !p.hostNetwork)!;
    const inPod = await runCommand('nsenter', ['-t', String(pod.pid), '-m', '--', 'nft', '--version'], { allowFailure: true });
    expect(inPod.exitCode, inPod.stderr).to.equal(0);
  });
});
