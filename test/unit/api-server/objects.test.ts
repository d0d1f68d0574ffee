import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { LabState } from '../../../lab/lab-state.js';
import { boundedSleepSeconds } from '../../../lab/api-server/kubelet.js';
import { buildLabObjects } from '../../../lab/api-server/objects.js';
import { buildTable, formatAge } from '../../../lab/api-server/tables.js';
import { defaultFaults, parseFaults, FaultsError } from '../../../lab/api-server/faults.js';
import { SAMPLE_STATE } from './lab-api-helpers.js';

const state = JSON.parse(readFileSync(SAMPLE_STATE, 'utf8')) as LabState;
const host = { kernelVersion: '6.1.0-test', osImage: 'Debian GNU/Linux 12 (bookworm)' };

describe('api-server objects from LabState', () => {
  const objects = buildLabObjects(state, defaultFaults(), host, new Set());

  it('derives EndpointSlices from service selectors, resolving named target ports', () => {
    const web = objects.endpointslices.find((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'web');
    expect(web?.ports).to.deep.equal([{ name: 'http', protocol: 'TCP', port: 8080 }]);
    expect(web?.endpoints).to.deep.equal([
      { addresses: ['10.244.1.10'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: 'default', name: 'web-0', uid: '8d0f6c2e-1b7a-4c1e-9a51-0c7e3f1d2a01' }, nodeName: 'lab-node-1' },
      { addresses: ['10.244.2.10'], conditions: { ready: false, serving: false, terminating: false }, targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: '8d0f6c2e-1b7a-4c1e-9a51-0c7e3f1d2a02' }, nodeName: 'lab-node-2' },
    ]);
    // A Service without a selector gets no controller-managed slice.
    expect(objects.endpointslices.some((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'external-db')).to.equal(false);
  });

  it('copies the node zone into endpoints; PreferClose hints each for its zone; publishNotReadyAddresses marks not-ready pods ready', () => {
    const zoned: LabState = JSON.parse(JSON.stringify(state)) as LabState;
    zoned.nodes.forEach((n, i) => (n.labels = { ...n.labels, 'topology.kubernetes.io/zone': `zone-${i}` }));
    const web = zoned.services.find((x) => x.name === 'web')!;
    web.trafficDistribution = 'PreferClose';
    web.publishNotReadyAddresses = true;
    const slice = buildLabObjects(zoned, defaultFaults(), host, new Set()).endpointslices.find((x) => x.metadata.labels?.['kubernetes.io/service-name'] === 'web')!;
    const endpoints = slice.endpoints as Array<{ conditions: Record<string, boolean>; zone?: string; hints?: { forZones: Array<{ name: string }> } }>;
    expect(endpoints).to.have.length(2);
    expect(endpoints.map((e) => [e.zone, e.hints?.forZones.map((z) => z.name)])).to.deep.equal([['zone-0', ['zone-0']], ['zone-1', ['zone-1']]]);
    // web-1 fails readiness: ready because the Service publishes not-ready addresses, not serving
    expect(endpoints[1]!.conditions).to.deep.equal({ ready: true, serving: false, terminating: false });
  });

  it('adds a default coredns Corefile and the system namespaces', () => {
    const coredns = objects.configmaps.find((c) => c.metadata.name === 'coredns');
    expect((coredns?.data as Record<string, string>).Corefile).to.contain('kubernetes cluster.local in-addr.arpa ip6.arpa').and.contain('forward . /etc/resolv.conf');
    expect(objects.namespaces.map((n) => n.metadata.name)).to.deep.equal(['default', 'kube-node-lease', 'kube-public', 'kube-system', 'team-a']);
  });

  it('applies node faults: NotReady, cordoned, windows', () => {
    const faults = parseFaults({ nodeNotReady: ['lab-node-1'], unschedulable: ['lab-node-2'], windowsNodes: ['lab-node-2'] });
    const [n1, n2] = buildLabObjects(state, faults, host, new Set()).nodes;
    const ready = (n: typeof n1) => (n?.status as { conditions: { type: string; status: string }[] }).conditions.find((c) => c.type === 'Ready')?.status;
    expect(ready(n1)).to.equal('Unknown');
    expect((n2?.spec as { unschedulable?: boolean }).unschedulable).to.equal(true);
    expect(n2?.metadata.labels?.['kubernetes.io/os']).to.equal('windows');
    const table = buildTable('nodes', [n1!, n2!], '1', new Date('2025-01-15T10:05:00Z'), 'Metadata');
    expect((table.rows as { cells: unknown[] }[]).map((r) => r.cells.slice(0, 5))).to.deep.equal([
      ['lab-node-1', 'NotReady', 'control-plane', '5m', 'v1.30.6'],
      ['lab-node-2', 'Ready,SchedulingDisabled', '<none>', '5m', 'v1.30.6'],
    ]);
  });

  it('formats ages like kubectl', () => {
    expect([5, 119, 130, 600, 3 * 3600 + 60, 9 * 3600, 3 * 86400 + 3600, 400 * 86400].map(formatAge)).to.deep.equal(['5s', '119s', '2m10s', '10m', '3h1m', '9h', '3d1h', '400d']);
  });

  it('recognises bounded sleeps', () => {
    expect(boundedSleepSeconds(['sleep', '2'])).to.equal(2);
    expect(boundedSleepSeconds(['/bin/sh', '-c', 'exec sleep 30'])).to.equal(30);
    expect(boundedSleepSeconds(['sleep', 'infinity'])).to.equal(null);
    expect(boundedSleepSeconds([])).to.equal(null);
  });

  it('rejects unknown or malformed faults', () => {
    expect(() => parseFaults({ nope: 1 })).to.throw(FaultsError, 'unknown fault "nope"');
    expect(() => parseFaults({ podStartDelayMs: -1 })).to.throw(FaultsError);
    expect(parseFaults({ rejectPodCreate: true }).rejectPodCreate).to.equal('');
  });
});
