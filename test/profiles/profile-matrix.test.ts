// The profile matrix (issue #14): the lab rebuilt as each kind of real cluster (lab/lab-profiles.ts),
// then every command on the healthy lab must exit 0 with no warn or error finding, and each seed
// fault made in the kernel must still be named with exit 1. It checks health and the seed faults
// per profile only; the e2e suites cover each command in depth on the default lab.
// NDLAB_MATRIX_PROFILES=crio,k3s narrows the matrix while working on one profile.
import { expect } from 'chai';
import { KUBE_PROXY_VARIANT_PROFILES, LAB_PROFILES, type LabProfile } from '../../lab/lab-profiles.js';
import { flushServiceRules, freezeProcess, setLinkMtu, setSysctl, startCorednsWithResolvConf, type RestoreFault } from '../../lab/lab-faults.js';
import type { LabPod, LabState } from '../../lab/lab-state.js';
import { kernelLinks, labBuildUnavailableReason, labState, type PluginRun, probePodsLeft, rebuildLab, runPlugin } from '../support/lab-harness.js';

interface ReportFinding {
  code: string;
  severity: 'info' | 'warn' | 'error';
  subject: string;
  message: string;
}

function matrixProfiles(): LabProfile[] {
  const wanted = (process.env['NDLAB_MATRIX_PROFILES'] ?? '').split(',').filter((s) => s !== '');
  return wanted.length === 0 ? LAB_PROFILES.filter((p) => !KUBE_PROXY_VARIANT_PROFILES.includes(p)) : LAB_PROFILES.filter((p) => wanted.includes(p));
}

/** Every command a user would run on this lab, as argument lists. */
export function healthyCommands(state: LabState): string[][] {
  const pod = (name: string) => state.pods.find((p) => p.name === name)!;
  const commands: string[][] = state.nodes.map((n) => ['veth-peer', '--node', n.name]);
  for (const svc of state.services) commands.push(['trace-svc', svc.name, '-n', svc.namespace]);
  const web1 = pod('web-1');
  const client = pod('client-1');
  commands.push(
    ['arp-check', web1.name, '-n', web1.namespace],
    ['mtu-probe', web1.name, '-n', web1.namespace],
    ['conn-check', `${web1.namespace}/${web1.name}`, 'default/web-2'], // one healthy pair across nodes
    ['dns-check', client.name, '-n', client.namespace, '--external-name', 'www.example.test'], // the lab upstream's name: no default asks one
    ['node-check', '--all'],
    ['node-diff', state.nodes[0]!.name, state.nodes[1]!.name],
    ['smoke'],
    ['smoke', '--matrix'],
  );
  return commands;
}

function findingsOf(run: PluginRun): ReportFinding[] {
  const report = JSON.parse(run.stdout) as { findings?: ReportFinding[] };
  return report.findings ?? [];
}

function describeRun(args: readonly string[], run: PluginRun, findings: ReportFinding[]): string {
  const lines = findings.map((f) => `  ${f.severity} ${f.code} (${f.subject}): ${f.message}`);
  return `kubectl netdiag ${args.join(' ')} -> exit ${run.code}\n${lines.join('\n')}\n${run.stderr.split('\n').filter((l) => /^(error|hint|warning):/.test(l)).join('\n')}`;
}

async function runJson(args: readonly string[]): Promise<{ run: PluginRun; findings: ReportFinding[] }> {
  const run = await runPlugin([...args, '-o', 'json'], 170_000);
  if (run.code !== 0 && run.code !== 1) return { run, findings: [] };
  return { run, findings: findingsOf(run) };
}

/** Runs one command under a kernel fault and expects exit 1 with the named code among its findings. */
async function expectFault(fault: () => Promise<RestoreFault>, args: readonly string[], code: string): Promise<void> {
  const restore = await fault();
  try {
    const { run, findings } = await runJson(args);
    const context = describeRun(args, run, findings);
    expect(findings.map((f) => f.code), context).to.include(code);
    expect(run.code, context).to.equal(1);
  } finally {
    await restore();
  }
}

// The matrix builds its own labs, so it needs root, not a lab that is already up.
const labReason = labBuildUnavailableReason();

describe('profile matrix: no false alarm on other kinds of cluster, seed faults still named', function () {
  this.timeout(600_000);
  before(function () {
    if (labReason) this.skip();
  });
  after(function () {
    if (labReason) return;
    this.timeout(180_000);
    rebuildLab([]); // the default lab again, for whatever runs next
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  for (const profile of matrixProfiles()) {
    describe(`profile ${profile}`, function () {
      let state: LabState;
      before(function () {
        if (labReason) this.skip();
        this.timeout(180_000);
        rebuildLab([profile]);
        state = labState();
        expect(state.profiles).to.deep.equal([profile]);
      });

      it('every command on the healthy lab exits 0 with no warn or error finding', async function () {
        const problems: string[] = [];
        const commands = healthyCommands(state);
        expect(commands.length).to.be.greaterThan(10);
        for (const args of commands) {
          const { run, findings } = await runJson(args);
          const loud = findings.filter((f) => f.severity !== 'info');
          if (run.code !== 0 || loud.length > 0) problems.push(describeRun(args, run, loud));
        }
        expect(problems, problems.join('\n\n')).to.deep.equal([]);
      });

      it('seed 001: arp_ignore=2 in a pod is named', async function () {
        await expectFault(() => setSysctl('default/web-1', 'net.ipv4.conf.all.arp_ignore', 2), ['arp-check', 'web-1'], 'arp.ignore-blocks-host');
      });

      it('seed 001: proxy_arp off on the host veth is named', async function () {
        const web1 = state.pods.find((p) => p.name === 'web-1')!;
        const cali = hostVethOf(web1, state);
        await expectFault(() => setSysctl(web1.nodeName, `net.ipv4.conf.${cali}.proxy_arp`, 0), ['arp-check', 'web-1'], 'arp.proxy-arp-off');
      });

      it('seed 004: ip_forward=0 on a node is named', async function () {
        await expectFault(() => setSysctl('lab-node-3', 'net.ipv4.ip_forward', 0), ['node-check', 'lab-node-3'], 'node.ip-forward-off');
      });

      it('seed 002: a flushed KUBE-SVC chain is named where kube-proxy runs', async function () {
        if (state.nodes.every((n) => n.kubeProxyMode === 'none')) this.skip(); // no kube-proxy to have lost its rules
        await expectFault(() => flushServiceRules('lab-node-2', 'default/web'), ['trace-svc', 'web', '--from-node', 'lab-node-2'], 'svc.rules-missing');
      });

      it('seed 004: a frozen CoreDNS is named', async function () {
        await expectFault(() => freezeProcess(), ['dns-check', 'client-1', '-n', 'team-b'], 'dns.coredns-down');
      });

      it('seed 004: CoreDNS forwarding to its own loopback (127.0.0.53 in its resolv.conf) is named', async function () {
        await expectFault(() => startCorednsWithResolvConf('nameserver 127.0.0.53\n'), ['dns-check', 'client-1', '-n', 'team-b'], 'dns.coredns-forward-loopback');
      });

      it('seed 003: a pod MTU above the overlay is named', async function () {
        await expectFault(() => setLinkMtu('default/web-1', 'eth0', 1500), ['veth-peer', 'web-1'], 'veth.mtu-exceeds-overlay');
      });
    });
  }
});

/** The host end of a pod's eth0, from the kernel: eth0's link_index is the host veth's ifindex. */
function hostVethOf(pod: LabPod, state: LabState): string {
  const eth0 = kernelLinks(pod.netns!).find((l) => l.ifname === 'eth0')!;
  const node = state.nodes.find((n) => n.name === pod.nodeName)!;
  return kernelLinks(node.netns).find((l) => l.ifindex === eth0.link_index)!.ifname;
}
