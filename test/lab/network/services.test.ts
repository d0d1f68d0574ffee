// Services through the kernel's DNAT as kube-proxy programs it: ClusterIP TCP, NodePort, a
// Service with no endpoints, and DNS through the kube-dns ClusterIP to the CoreDNS stand-in and
// on to the upstream resolver.
import { expect } from 'chai';
import { execIn } from '../../../lab/lab-exec.js';
import type { LabState } from '../../../lab/lab-state.js';
import { nftServiceChainBase, servicePortChainName } from '../../../lab/kube-proxy-rules.js';
import { appPods, dig, httpGetFrom, podByName, podNetns, requireLab } from './lab-network-helpers.js';

describe('lab network: services', function () {
  let state: LabState;
  let client: string;
  before(function () {
    state = requireLab(this);
    client = podNetns(podByName(state, 'client-1'));
  });

  it('DNS through the kube-dns ClusterIP answers cluster names over UDP and TCP (from node 3)', async function () {
    const udp = await dig(client, ['+short', '@10.96.0.10', 'web.default.svc.cluster.local']);
    expect(udp.stdout.trim()).to.equal('10.96.100.10');
    const tcp = await dig(client, ['+tcp', '+short', '@10.96.0.10', 'api.team-a.svc.cluster.local']);
    expect(tcp.stdout.trim()).to.equal('10.96.100.20');
    const apiserver = await dig(client, ['+short', '@10.96.0.10', 'kubernetes.default.svc.cluster.local']);
    expect(apiserver.stdout.trim()).to.equal('10.96.0.1');
  });

  it('unknown cluster names are NXDOMAIN; other names are forwarded upstream', async function () {
    const missing = await dig(client, ['@10.96.0.10', 'nope.default.svc.cluster.local']);
    expect(missing.stdout).to.match(/status: NXDOMAIN/);
    const upstream = await dig(client, ['+short', '@10.96.0.10', 'www.example.test']);
    expect(upstream.stdout.trim()).to.equal('192.168.77.80');
  });

  it('the pod resolv.conf search path resolves short names (dig +search)', async function () {
    const r = await dig(client, ['+search', '+short', 'api.team-a']);
    expect(r.stdout.trim()).to.equal('10.96.100.20');
  });

  it('TCP to the web ClusterIP reaches web pods from every pod, spread over endpoints', async function () {
    const webNames = new Set(['web-1', 'web-2', 'web-3']);
    for (const pod of appPods(state)) {
      const seen = new Set<string>();
      for (let i = 0; i < 12; i += 1) {
        const r = await httpGetFrom(podNetns(pod), '10.96.100.10', 80);
        expect(r.ok, `${pod.name}: ${r.body}`).to.equal(true);
        expect(webNames.has(r.body), `${pod.name} got ${r.body}`).to.equal(true);
        seen.add(r.body);
      }
      expect(seen.size, `${pod.name} saw ${[...seen].join(',')}`).to.be.greaterThan(1);
    }
  });

  it('team-a/api ClusterIP and the NodePort on every node answer', async function () {
    expect(await httpGetFrom(client, '10.96.100.20', 9090)).to.deep.equal({ ok: true, body: 'api-1' });
    for (const node of state.nodes) {
      const r = await httpGetFrom(client, node.internalIP, 30080);
      expect(r.ok, `${node.name}: ${r.body}`).to.equal(true);
      expect(r.body).to.match(/^web-[123]$/);
    }
  });

  it('a Service with no endpoints is rejected (connection refused)', async function () {
    expect(await httpGetFrom(client, '10.96.100.12', 80)).to.deep.equal({ ok: false, body: 'ERR ECONNREFUSED' });
  });

  it('each node holds kube-proxy rules under the names kube-proxy computes', async function () {
    for (const node of state.nodes) {
      if (node.kubeProxyMode === 'iptables') {
        const save = await execIn(node.netns, 'iptables-save', ['-t', 'nat']);
        expect(save.stdout).to.include(`:${servicePortChainName('default/web:http', 'tcp')} - `);
        expect(save.stdout).to.include('-A KUBE-SERVICES -d 10.96.100.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-');
        expect(save.stdout).to.match(/-m statistic --mode random --probability 0\.3333/);
      } else {
        const nft = await execIn(node.netns, 'nft', ['list', 'table', 'ip', 'kube-proxy']);
        const web = state.services.find((s) => s.name === 'web')!;
        expect(nft.stdout).to.include(`chain service-${nftServiceChainBase(web, web.ports[0]!)}`);
        expect(nft.stdout).to.include('numgen random mod 3 vmap');
      }
    }
  });
});
