// smoke --matrix as a command, against the in-memory API server on a virtual clock: one probe pod
// per source node whatever its number of pairs, --max-parallel bounding pods and exec streams,
// the exit code, and the explainFailure seam.
import { expect } from 'chai';
import { runSmokeMatrix, type SmokeMatrixTarget } from '../../../../src/checks/smoke/matrix-command.js';
import { readGlobalOptions } from '../../../../src/cli/global-options.js';
import type { ClusterApi, EndpointSlice, Pod, Service } from '../../../../src/kube/cluster-api.js';
import { FakeCluster } from '../../../support/fake-cluster.js';
import { fakeDeps } from '../../../support/fake-deps.js';

const NODES = Array.from({ length: 6 }, (_, i) => `node-${i + 1}`);
const podIP = (node: string) => `10.244.${node.slice('node-'.length)}.10`;
const BROKEN = podIP('node-4');

function appPod(node: string): Pod {
  return {
    metadata: { namespace: 'default', name: `web-${node}` },
    spec: { nodeName: node, containers: [{ name: 'web', ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: podIP(node), conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const service: Service = { metadata: { namespace: 'default', name: 'web' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] } };
const slice: EndpointSlice = { addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.10'], conditions: { ready: true } }] };

/** The node script's answer to tcp probe requests: every connect works but those to BROKEN. */
function answer(argv: string[]): string {
  const token = argv[4]!;
  const out: string[] = [];
  for (const request of argv.slice(5).filter((r) => r.startsWith('probe:'))) {
    const [, where, protocol, ip, port, count] = request.split(':');
    const name = `probe/${where}/${protocol}/${ip}/${port}`;
    const lines = Array.from({ length: Number(count) }, (_, i) => (ip === BROKEN ? `attempt ${i + 1} rc=1 nc: connect to ${ip} port ${port} (tcp) timed out: Operation now in progress` : `attempt ${i + 1} rc=0 Connection to ${ip} ${port} port [tcp/*] succeeded!`));
    out.push(`@@NETDIAG ${token} BEGIN ${name}\n${lines.join('\n')}\n\n@@NETDIAG ${token} END ${name} rc=0\n`);
  }
  return `${out.join('')}@@NETDIAG ${token} DONE\n`;
}

function setup() {
  const cluster = new FakeCluster({ nodes: NODES });
  const base = cluster.api();
  const execs = { inFlight: 0, peak: 0, total: 0 };
  const api: ClusterApi = {
    ...base,
    listPods: async (options) => (options.labelSelector ? [] : NODES.map(appPod)),
    listServices: async () => [service],
    listEndpointSlices: async () => [slice],
    exec: async (ns, pod, container, argv, signal) => {
      execs.inFlight += 1;
      execs.total += 1;
      execs.peak = Math.max(execs.peak, execs.inFlight);
      try {
        await base.exec(ns, pod, container, argv, signal);
        return { exitCode: 0, stdout: answer(argv), stderr: '', stdoutBytes: 0 };
      } finally {
        execs.inFlight -= 1;
      }
    },
  };
  const deps = { ...fakeDeps({ api }), now: cluster.clock.now, sleep: cluster.clock.sleep };
  return { cluster, deps, execs };
}

const target = (over: Partial<SmokeMatrixTarget> = {}): SmokeMatrixTarget => ({ limit: 400, attempts: 2, service: null, junit: null, ...over });

describe('smoke --matrix command', () => {
  it('creates one probe pod per source node, keeps --max-parallel pods and exec streams, and fails the pairs into the broken pod', async () => {
    const { cluster, deps, execs } = setup();
    // A 15 s --timeout fits 2 checks per call at 2 attempts: each node makes several calls to its one pod.
    const options = readGlobalOptions({ 'max-parallel': '2', timeout: '15s', output: 'json' });
    const code = await runSmokeMatrix({ deps, options }, target());
    expect(code).to.equal(1);
    expect(cluster.createdTotal).to.equal(NODES.length);
    expect(cluster.alivePeak).to.equal(2);
    expect(execs.peak).to.equal(2);
    // Per node 5 pod pairs (the same-node pair is skipped: one pod per node) and 1 Service check, 2 per call.
    expect(execs.total).to.equal(NODES.length * 3);
    expect(cluster.pods.size, 'probe pods left').to.equal(0);
    const report = JSON.parse(deps.out()) as { results: Array<{ status: string; destinationNode: string | null; kind: string }> };
    expect(report.results).to.have.length(NODES.length * NODES.length + NODES.length);
    expect(report.results.filter((r) => r.status === 'skipped')).to.have.length(NODES.length);
    expect(report.results.filter((r) => r.status === 'skipped').every((r) => r.kind === 'pod')).to.equal(true);
    const failed = report.results.filter((r) => r.status === 'failed');
    expect(failed).to.have.length(NODES.length - 1);
    expect(failed.every((r) => r.destinationNode === 'node-4')).to.equal(true);
    expect(report.results.filter((r) => r.status === 'not-run')).to.deep.equal([]);
  });

  it('prints what explainFailure says under each failed pair, and only for failures', async () => {
    const { deps } = setup();
    const asked: string[] = [];
    const options = readGlobalOptions({});
    const code = await runSmokeMatrix({ deps, options }, target({ limit: 12 }), {
      explainFailure: async (pair) => {
        asked.push(pair.id);
        return `dropped on node ${pair.destinationNode} (test)`;
      },
    });
    expect(code).to.equal(1);
    expect(asked.length).to.be.greaterThan(0);
    expect(asked.every((id) => id.endsWith(':node-4'))).to.equal(true);
    const hops = deps.out().split('\n').filter((l) => l.startsWith('        hop: '));
    expect(hops).to.have.length(asked.length);
    expect(hops[0]).to.equal('        hop: dropped on node node-4 (test)');
    expect(deps.out()).to.match(/12 pod pairs sampled of 36 \(--matrix-limit 12; every node is a source and a destination\)/);
  });
});
