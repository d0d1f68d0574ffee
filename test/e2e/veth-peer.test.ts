// veth-peer through the real kubectl binary against the lab: every pod's host peer must be the
// interface whose ifindex equals the pod eth0's iflink, as the kernel reports it in that node's
// namespace.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { kernelLinks, labState, probePodsLeft, runPlugin, skipUnlessLab } from '../support/lab-harness.js';

interface PairJson {
  podInterface: { ifname: string; ifindex: number; iflink: number | null };
  hostPeer: { ifname: string; ifindex: number } | null;
  cni: string;
}
interface RowJson {
  kind: string;
  namespace: string;
  name: string;
  nodeName: string;
  pairs?: PairJson[];
  note?: string;
}

describe('e2e: kubectl netdiag veth-peer', function () {
  this.timeout(120_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'pending') return;
    expect(probePodsLeft(), 'probe pods left behind').to.deep.equal([]);
  });

  it('names, for every pod of every node, the host interface the kernel pairs with its eth0', async () => {
    const state = labState();
    for (const node of state.nodes) {
      const run = await runPlugin(['veth-peer', '--node', node.name, '-o', 'json']);
      expect(run.code, run.stderr).to.equal(0);
      const report = JSON.parse(run.stdout) as { kind: string; pods: RowJson[] };
      expect(report.kind).to.equal('VethPeerReport');
      const nodeLinks = kernelLinks(node.netns);
      const labPods = state.pods.filter((p) => p.nodeName === node.name);
      expect(report.pods.map((r) => `${r.namespace}/${r.name}`).sort()).to.deep.equal(labPods.map((p) => `${p.namespace}/${p.name}`).sort());
      for (const pod of labPods) {
        const row = report.pods.find((r) => r.namespace === pod.namespace && r.name === pod.name)!;
        if (pod.hostNetwork) {
          expect(row.kind).to.equal('host-network');
          continue;
        }
        const eth0 = kernelLinks(pod.netns!).find((l) => l.ifname === 'eth0')!;
        const expected = nodeLinks.find((l) => l.ifindex === eth0.link_index)!;
        const pair = row.pairs!.find((p) => p.podInterface.ifname === 'eth0')!;
        expect(pair.podInterface.iflink).to.equal(eth0.link_index);
        expect(pair.hostPeer, `${pod.name}`).to.deep.include({ ifname: expected.ifname, ifindex: expected.ifindex });
        expect(pair.cni).to.equal(node.cni === 'calico' ? 'calico' : 'flannel');
      }
    }
  });

  it('prints the table, the path line and the tcpdump line for one pod', async () => {
    const state = labState();
    const web1 = state.pods.find((p) => p.name === 'web-1')!;
    const run = await runPlugin(['veth-peer', 'web-1']);
    expect(run.code, run.stderr).to.equal(0);
    const eth0 = kernelLinks(web1.netns!).find((l) => l.ifname === 'eth0')!;
    const node = state.nodes.find((n) => n.name === web1.nodeName)!;
    const peer = kernelLinks(node.netns).find((l) => l.ifindex === eth0.link_index)!;
    expect(run.stdout).to.match(/^NAMESPACE\s+POD\s+NODE\s+IFACE/m);
    expect(run.stdout).to.contain(`tcpdump -i ${peer.ifname} -nn host ${web1.ip}`);
    expect(run.stdout).to.match(new RegExp(`eth0\\(${web1.ip.replace(/\./g, '\\.')}/32.*-> ${peer.ifname}\\(if${peer.ifindex}.*-> route ${web1.ip.replace(/\./g, '\\.')} dev ${peer.ifname}`));
    expect(run.stderr).to.match(/probe pod \S+ created on node lab-node-1/);
    expect(run.stderr).to.match(/probe pod \S+ deleted/);
  });

  it('answers a hostNetwork pod without a probe and a missing pod with exit 2 and the namespace hint', async () => {
    const kubeProxy = labState().pods.find((p) => p.hostNetwork)!;
    const host = await runPlugin(['veth-peer', kubeProxy.name, '-n', kubeProxy.namespace, '-o', 'json']);
    expect(host.code, host.stderr).to.equal(0);
    expect(JSON.parse(host.stdout).pods[0]).to.deep.include({ kind: 'host-network', note: "uses the node's network namespace; no veth" });

    const missing = await runPlugin(['veth-peer', 'api-1']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.equal('error: pod "api-1" not found in namespace "default"\nhint: it exists in namespace "team-a": add -n team-a\n');
  });
});

describe('e2e: kubectl netdiag veth-peer, selectors and second interfaces', function () {
  this.timeout(120_000);
  beforeEach(function () {
    skipUnlessLab(this);
  });

  it('answers -l SELECTOR in a namespace', async () => {
    const run = await runPlugin(['veth-peer', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'json']);
    expect(run.code, run.stderr).to.equal(0);
    const rows = (JSON.parse(run.stdout) as { pods: RowJson[] }).pods;
    expect(rows.map((r) => `${r.namespace}/${r.name}`)).to.deep.equal(['kube-system/coredns-6d4b75cb6d-lab01']);
    expect(rows[0]!.pairs![0]!.hostPeer!.ifname).to.match(/^cali/);
  });

  it('on two nodes prints one line per node and lists only the interface that is not ok (a host veth set down)', async () => {
    const state = labState();
    const [a, b] = state.nodes.filter((n) => state.pods.some((p) => p.nodeName === n.name && p.netns !== null));
    expect(b, 'two lab nodes with pod-network pods').to.not.equal(undefined);
    const nodeArgs = ['--node', a!.name, '--node', b!.name];
    const json = await runPlugin(['veth-peer', ...nodeArgs, '-o', 'json']);
    expect(json.code, json.stderr).to.equal(0);
    const rows = (JSON.parse(json.stdout) as { pods: RowJson[] }).pods;
    expect([...new Set(rows.map((r) => r.nodeName))].sort()).to.deep.equal([a!.name, b!.name].sort());
    const pairs = rows.flatMap((r) => (r.pairs ?? []).map((p) => ({ row: r, pair: p })));
    const victim = pairs.find((x) => x.row.nodeName === b!.name && x.pair.hostPeer !== null)!;
    expect(victim, 'a pod on the second node with a host-side veth').to.not.equal(undefined);
    const dataLines = (text: string) => text.split('\n').filter((l) => rows.some((r) => l.startsWith(`${r.namespace} `) && l.includes(` ${r.name} `)));
    // The fault is made in the kernel: the victim's host-side veth goes down. The kernel drops the
    // routes through it then; they are put back after.
    const peer = victim.pair.hostPeer!.ifname;
    const routes = execFileSync('ip', ['-n', b!.netns, 'route', 'show', 'dev', peer], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() !== '');
    execFileSync('ip', ['-n', b!.netns, 'link', 'set', peer, 'down'], { stdio: 'pipe' });
    try {
      const table = await runPlugin(['veth-peer', ...nodeArgs]);
      expect(table.code, table.stderr).to.be.oneOf([0, 1]);
      const nodeLine = (name: string) => table.stdout.split('\n').filter((l) => l.startsWith(`${name} `));
      expect(nodeLine(a!.name)).to.have.length(1);
      expect(nodeLine(b!.name)).to.have.length(1);
      expect(nodeLine(b!.name)[0]).to.match(/^\S+\s+\d+\s+\d+\s+[1-9]\d*\s+(WARN|ERROR)$/);
      const shown = dataLines(table.stdout);
      expect(shown.length).to.be.greaterThan(0);
      expect(shown.length).to.be.lessThan(pairs.length);
      expect(shown.some((l) => l.includes(` ${victim.row.name} `) && l.includes(peer))).to.equal(true);
      // -o wide: every interface of both nodes.
      const wide = await runPlugin(['veth-peer', ...nodeArgs, '-o', 'wide']);
      expect(dataLines(wide.stdout)).to.have.length(rows.reduce((n, r) => n + Math.max(1, r.pairs?.length ?? 0), 0));
    } finally {
      execFileSync('ip', ['-n', b!.netns, 'link', 'set', peer, 'up'], { stdio: 'pipe' });
      for (const r of routes) execFileSync('ip', ['-n', b!.netns, 'route', 'replace', ...r.trim().split(/\s+/), 'dev', peer], { stdio: 'pipe' });
      expect(execFileSync('ip', ['-n', b!.netns, 'route', 'show', 'dev', peer], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() !== '')).to.deep.equal(routes);
    }
  });

  it('gives a Multus-style second interface its own row, paired by the kernel link index', async () => {
    const web2 = labState().pods.find((p) => p.name === 'web-2')!;
    const node = labState().nodes.find((n) => n.name === web2.nodeName)!;
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    ip('-n', node.netns, 'link', 'add', 'mlt0web2', 'type', 'veth', 'peer', 'name', 'net1', 'netns', web2.netns!);
    try {
      ip('-n', web2.netns!, 'addr', 'add', '10.99.0.2/24', 'dev', 'net1');
      ip('-n', web2.netns!, 'link', 'set', 'net1', 'up');
      ip('-n', node.netns, 'link', 'set', 'mlt0web2', 'up');
      const run = await runPlugin(['veth-peer', 'web-2', '-o', 'json']);
      expect(run.code, run.stderr).to.equal(0);
      const pairs = (JSON.parse(run.stdout) as { pods: RowJson[] }).pods[0]!.pairs!;
      expect(pairs.map((p) => p.podInterface.ifname).sort()).to.deep.equal(['eth0', 'net1']);
      const net1 = kernelLinks(web2.netns!).find((l) => l.ifname === 'net1')!;
      const hostSide = kernelLinks(node.netns).find((l) => l.ifindex === net1.link_index)!;
      expect(hostSide.ifname).to.equal('mlt0web2');
      expect(pairs.find((p) => p.podInterface.ifname === 'net1')!.hostPeer).to.deep.include({ ifname: 'mlt0web2', ifindex: hostSide.ifindex });
    } finally {
      ip('-n', node.netns, 'link', 'del', 'mlt0web2');
    }
  });
});
