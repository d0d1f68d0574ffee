// How the node script found a pod's namespace (pod/KEY/pid section) becomes typed facts: a pinned
// namespace file with no process left (CRI-O, CrashLoopBackOff) still counts as found.
import { expect } from 'chai';
import { locatePodNamespace, podNsenterCommand, readNodeFacts } from '../../../../src/checks/common/node-facts.js';

const T = 'tok';
const section = (name: string, body: string, rc = 0) => `@@NETDIAG ${T} BEGIN ${name}\n${body}\n@@NETDIAG ${T} END ${name} rc=${rc}\n`;
const ADDR = '[{"ifindex":2,"ifname":"eth0","link_index":9,"mtu":1450,"operstate":"UP","address":"aa:bb:cc:dd:ee:ff","addr_info":[{"family":"inet","local":"10.244.3.2","prefixlen":24}]}]';
const facts = (pidBody: string, rc = 0) =>
  readNodeFacts({ nodeName: 'n1', ok: true, token: T, raw: section('host/addr', ADDR) + section('pod/p0/pid', pidBody, rc) + section('pod/p0/addr', ADDR), podName: 'x', durationMs: 1 });
const locator = { nodeName: 'n1', key: 'p0', hostNetwork: false, containerId: 'abc', podIPs: ['10.244.3.2'] };

describe('readNodeFacts: pod namespace discovery', () => {
  it('a container process found by its own cgroup scope', () => {
    const pod = facts('pid=4242\nmethod=container-id\nnetns=net:[4026532]\nnetnsFile=/proc/4242/ns/net').pods.get('p0')!;
    expect(pod).to.include({ pid: 4242, pidMethod: 'container-id', netnsFile: '/proc/4242/ns/net' });
    expect(podNsenterCommand(pod)).to.equal('nsenter -t 4242 -n');
  });

  it('a pinned namespace file with no process left is found, and entered by path', () => {
    const f = facts('pid=\nmethod=pinned-netns\nnetns=\nnetnsFile=/proc/1/root/run/netns/7f3e0c2a-1b2c-4d5e-8f90-0123456789ab');
    const pod = f.pods.get('p0')!;
    expect(pod).to.include({ pid: null, pidMethod: 'pinned-netns', netnsFile: '/proc/1/root/run/netns/7f3e0c2a-1b2c-4d5e-8f90-0123456789ab' });
    expect(pod.links).to.have.length(1);
    expect(locatePodNamespace(locator, new Map([['n1', f]])).kind).to.equal('found');
    expect(podNsenterCommand(pod)).to.equal('nsenter --net=/run/netns/7f3e0c2a-1b2c-4d5e-8f90-0123456789ab');
  });

  it('output of an older script without netnsFile still counts a PID', () => {
    expect(facts('pid=77\nmethod=pod-ip\nnetns=net:[1]').pods.get('p0')).to.include({ pid: 77, pidMethod: 'pod-ip', netnsFile: '/proc/77/ns/net' });
  });

  it('nothing found is netns-missing', () => {
    const f = facts('method=none', 1);
    expect(f.pods.get('p0')).to.include({ pid: null, netnsFile: null, pidMethod: 'none' });
    expect(locatePodNamespace(locator, new Map([['n1', f]])).kind).to.equal('netns-missing');
  });
});
