// /lab/stats pieces: request classification as RBAC names it, gauges with peaks, and the
// round-trip count a benchmark reads from the request log.
import { expect } from 'chai';
import { classifyRequest, LabStats, sequentialRoundTrips, type LoggedRequest } from '../../../lab/api-server/stats.js';

const q = (text = ''): URLSearchParams => new URLSearchParams(text);

describe('api-server stats', () => {
  it('classifies requests by verb and resource', () => {
    const cases: Array<[string, string, string, string, string]> = [
      ['GET', '/api/v1/namespaces/default/pods', '', 'list', 'pods'],
      ['GET', '/api/v1/pods', 'labelSelector=a%3Db', 'list', 'pods'],
      ['GET', '/api/v1/namespaces/default/pods/web-1', '', 'get', 'pods'],
      ['GET', '/api/v1/namespaces/default/pods', 'watch=true', 'watch', 'pods'],
      ['GET', '/api/v1/namespaces/default/pods/web-1', 'watch=1', 'watch', 'pods'],
      ['POST', '/api/v1/namespaces/default/pods', '', 'create', 'pods'],
      ['GET', '/api/v1/namespaces/default/pods/p/exec', 'command=sh', 'create', 'pods/exec'],
      ['GET', '/api/v1/namespaces/default/pods/p/log', '', 'get', 'pods/log'],
      ['DELETE', '/api/v1/namespaces/default/pods/p', '', 'delete', 'pods'],
      ['DELETE', '/api/v1/namespaces/default/pods', '', 'deletecollection', 'pods'],
      ['GET', '/api/v1/namespaces/default', '', 'get', 'namespaces'],
      ['GET', '/api/v1/nodes', '', 'list', 'nodes'],
      ['GET', '/api/v1/nodes/lab-node-1/', '', 'get', 'nodes'],
      ['GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', '', 'list', 'endpointslices'],
      ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', '', 'create', 'selfsubjectaccessreviews'],
      ['GET', '/api', '', 'get', 'discovery'],
      ['GET', '/api/v1', '', 'get', 'discovery'],
      ['GET', '/apis/discovery.k8s.io', '', 'get', 'discovery'],
      ['GET', '/version', '', 'get', 'version'],
      ['GET', '/readyz', '', 'get', 'healthz'],
      ['GET', '/metrics', '', 'get', 'other'],
    ];
    for (const [method, path, query, verb, resource] of cases) {
      expect(classifyRequest(method, path, q(query)), `${method} ${path}?${query}`).to.deep.equal({ verb, resource });
    }
  });

  it('keeps current and peak gauges; a reset starts from what is alive now', () => {
    let clock = 1000;
    const stats = new LabStats(() => new Date(clock));
    stats.countRequest({ verb: 'list', resource: 'pods' });
    stats.countRequest({ verb: 'list', resource: 'pods' });
    stats.countRequest({ verb: 'create', resource: 'pods' });
    stats.probePodCreated(1);
    stats.probePodCreated(2);
    stats.probePodsAlive(1);
    stats.connectionOpened();
    stats.connectionOpened();
    stats.connectionClosed();
    stats.execOpened();
    stats.execReplayed();
    const s = stats.snapshot(50);
    expect(s.requests).to.deep.equal({ total: 3, byVerb: { create: 1, list: 2 }, byResource: { pods: 3 }, byVerbAndResource: { 'create pods': 1, 'list pods': 2 } });
    expect(s.probePods).to.deep.equal({ current: 1, peak: 2, created: 2 });
    expect(s.connections).to.deep.equal({ current: 1, peak: 2, opened: 2 });
    expect(s.execSessions).to.deep.equal({ current: 1, peak: 1, opened: 1, replayed: 1 });
    expect(s.apiDelayMs).to.equal(50);
    expect(s.since).to.equal(new Date(1000).toISOString());
    clock = 5000;
    stats.reset();
    const r = stats.snapshot(0, true);
    expect(r.requests.total).to.equal(0);
    expect(r.log).to.have.length(0);
    expect(r.probePods).to.deep.equal({ current: 1, peak: 1, created: 0 });
    expect(r.connections).to.deep.equal({ current: 1, peak: 1, opened: 0 });
    expect(r.since).to.equal(new Date(5000).toISOString());
  });

  it('counts sequential round trips: parallel requests once, open watches never', () => {
    const req = (at: number, doneAt: number | null, verb = 'get', resource = 'pods'): LoggedRequest => ({ verb, resource, at, doneAt });
    // Two in parallel (0-50, 1-51), one after both (60-110), a watch left open (61), the create at 120.
    const log = [req(0, 50), req(1, 51), req(60, 110), req(61, null, 'watch'), req(120, 170, 'create')];
    expect(sequentialRoundTrips(log, 4)).to.equal(2);
    expect(sequentialRoundTrips(log, 2)).to.equal(1);
    expect(sequentialRoundTrips(log, 0)).to.equal(0);
    // Strictly one after another: each waited for the one before.
    const chain = [req(0, 10), req(11, 20), req(21, 30), req(31, 40)];
    expect(sequentialRoundTrips(chain, 3)).to.equal(3);
    expect(sequentialRoundTrips(chain, 9)).to.equal(0);
  });
});
