// Issue #8: never leave a privileged pod behind; a clear answer to every bad input.
// Every case runs `kubectl netdiag ...` through the real kubectl binary against a PRIVATE simulated
// API server (its own faults, never the shared lab server's), whose probe pods still exec into the
// lab's real node namespaces. Each case asserts the exit code, the one-line `error:` (and `hint:`),
// no stack trace, and that the server holds no probe pod afterwards.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnlessLab } from '../support/lab-harness.js';
import { eventually, STACK_TRACE, startPrivateLab, type PluginResult, type PrivateLab } from '../support/private-api-server.js';

const PROBE_SELECTOR = 'app.kubernetes.io/managed-by=kubectl-netdiag';

interface Expected {
  code: number;
  error: RegExp;
  hint?: RegExp;
}

/** Exit code, exactly one `error:` line matching, the hint when given, and never a stack trace. */
function expectClearError(run: PluginResult, expected: Expected): void {
  const context = `exit ${run.code}\nstderr:\n${run.stderr}\nstdout:\n${run.stdout}`;
  expect(run.code, context).to.equal(expected.code);
  const errors = run.stderr.split('\n').filter((l) => l.startsWith('error: '));
  expect(errors, context).to.have.length(1);
  expect(errors[0], context).to.match(expected.error);
  if (expected.hint) {
    const hints = run.stderr.split('\n').filter((l) => l.startsWith('hint: '));
    expect(hints.join('\n'), context).to.match(expected.hint);
  }
  expect(run.stderr + run.stdout, context).not.to.match(STACK_TRACE);
}

async function freePortThatIsClosed(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('e2e: fault matrix (private API server)', function () {
  this.timeout(120_000);
  let lab: PrivateLab;

  before(async function () {
    skipUnlessLab(this);
    lab = await startPrivateLab();
  });
  after(async () => {
    await lab?.stop();
  });
  afterEach(async function () {
    if (!lab || this.currentTest?.state === 'pending') return;
    lab.setFaults({});
    const left = lab.probePods().map((p) => `${p.namespace}/${p.name} (${p.phase})`);
    // Clean up before asserting, so one failure does not cascade into the next case.
    if (left.length > 0) await lab.kubectl(['delete', 'pods', '-A', '-l', PROBE_SELECTOR, '--grace-period=0']);
    expect(left, 'probe pods left behind').to.deep.equal([]);
  });

  describe('interrupted at each phase: pods deleted, exit 130', () => {
    it('SIGINT while the probe pod create is in flight (the pod appears after the signal and is still deleted)', async () => {
      lab.setFaults({ apiDelayMs: 1500 });
      const run = lab.start(['veth-peer', 'web-1']);
      await lab.nextRequest('POST', /^\/api\/v1\/namespaces\/default\/pods$/); // the admission dry run
      await lab.nextRequest('POST', /^\/api\/v1\/namespaces\/default\/pods$/); // the real create
      run.child.kill('SIGINT');
      const result = await run.done;
      expectClearError(result, { code: 130, error: /^error: interrupted; probe pods were deleted$/ });
      expect(result.stderr).to.contain('SIGINT: stopping and deleting probe pods');
      expect(result.stderr).to.match(/probe pod default\/netdiag-lab-node-1-\w{5} deleted/);
    });

    it('SIGTERM while waiting for the pod to start', async () => {
      lab.setFaults({ podStartDelayMs: 30_000 });
      const run = lab.start(['veth-peer', 'web-1']);
      await run.waitForStderr(/created on node lab-node-1/);
      expect(lab.probePods()).to.have.length(1);
      run.child.kill('SIGTERM');
      const result = await run.done;
      expectClearError(result, { code: 130, error: /^error: interrupted; probe pods were deleted$/ });
      expect(result.stderr).to.contain('SIGTERM: stopping and deleting probe pods');
      expect(result.elapsedMs).to.be.below(15_000);
    });

    it('SIGHUP (terminal closed, ssh dropped) while waiting cleans up the same way', async () => {
      lab.setFaults({ podStartDelayMs: 30_000 });
      const run = lab.start(['veth-peer', 'web-1']);
      await run.waitForStderr(/created on node lab-node-1/);
      run.child.kill('SIGHUP');
      const result = await run.done;
      expectClearError(result, { code: 130, error: /^error: interrupted; probe pods were deleted$/ });
      expect(result.stderr).to.match(/probe pod default\/netdiag-lab-node-1-\w{5} deleted/);
    });

    it('SIGINT while the image is being pulled', async () => {
      lab.setFaults({ podStartDelayMs: 30_000, imagePullFailure: true });
      const run = lab.start(['veth-peer', 'web-2']);
      await run.waitForStderr(/created on node lab-node-2/);
      run.child.kill('SIGINT');
      const result = await run.done;
      expectClearError(result, { code: 130, error: /^error: interrupted/ });
      expect(result.stderr).to.match(/probe pod default\/netdiag-lab-node-2-\w{5} deleted/);
    });

    it('SIGINT while the node script runs (exec open, output still coming)', async () => {
      lab.setFaults({ execDelayMs: 60_000 });
      const run = lab.start(['veth-peer', 'web-3']);
      await lab.nextRequest('GET', /\/pods\/netdiag-lab-node-3-\w{5}\/exec$/);
      await sleep(300);
      run.child.kill('SIGINT');
      const result = await run.done;
      expectClearError(result, { code: 130, error: /^error: interrupted/ });
      expect(result.stderr).to.match(/probe pod default\/netdiag-lab-node-3-\w{5} deleted/);
      expect(result.elapsedMs).to.be.below(20_000);
    });

    it('a second Ctrl-C during cleanup still waits for the delete', async () => {
      lab.setFaults({ podStartDelayMs: 30_000 });
      const run = lab.start(['veth-peer', 'web-1']);
      await run.waitForStderr(/created on node lab-node-1/);
      lab.setFaults({ podStartDelayMs: 30_000, apiDelayMs: 2000 }); // a slow delete
      run.child.kill('SIGINT');
      await lab.nextRequest('DELETE', /\/pods\/netdiag-lab-node-1-\w{5}$/);
      run.child.kill('SIGINT');
      const result = await run.done;
      expectClearError(result, { code: 130, error: /^error: interrupted; probe pods were deleted$/ });
      expect(result.stderr).to.contain('still deleting probe pods; press Ctrl-C once more to quit without cleanup');
      expect(result.stderr).to.match(/probe pod default\/netdiag-lab-node-1-\w{5} deleted/);
    });

    it('a delete that fails during cleanup is said plainly, never "deleted"', async () => {
      lab.setFaults({ podStartDelayMs: 30_000 });
      const run = lab.start(['veth-peer', 'web-1']);
      await run.waitForStderr(/created on node lab-node-1/);
      lab.setFaults({ podStartDelayMs: 30_000, forbid: [{ verb: 'delete', resource: 'pods' }] });
      run.child.kill('SIGINT');
      const result = await run.done;
      expectClearError(result, { code: 130, error: /^error: interrupted; 1 probe pod\(s\) could not be deleted$/, hint: /kubectl netdiag cleanup/ });
      expect(result.stderr).to.match(/warning: could not delete probe pod default\/netdiag-lab-node-1-\w{5}: not allowed to delete pods/);
      expect(lab.probePods()).to.have.length(1);
      lab.setFaults({});
      const cleanup = await lab.run(['cleanup']);
      expect(cleanup.stderr).to.contain('deleted 1 probe pod(s)');
    });
  });

  describe('the CLI killed with SIGKILL', () => {
    it('leaves a pod that ends by itself, is named by the next run, and is removed by cleanup', async function () {
      this.timeout(150_000);
      lab.setFaults({ execDelayMs: 60_000 });
      const run = lab.start(['veth-peer', 'web-1', '--timeout', '1s']);
      await run.waitForStderr(/created on node lab-node-1/);
      run.child.kill('SIGKILL');
      const killed = await run.done;
      expect(killed.signal).to.equal('SIGKILL');
      const [left] = lab.probePods();
      expect(left, 'the SIGKILLed run leaves its pod').to.not.equal(undefined);
      lab.setFaults({});

      // The pod bounds its own life: a sleep of --timeout + 60 s and a deadline 30 s after that.
      const pod = JSON.parse(await lab.kubectl(['get', 'pod', '-n', left!.namespace, left!.name, '-o', 'json'])) as {
        spec: { activeDeadlineSeconds?: number; containers: Array<{ command?: string[] }>; priorityClassName?: string };
      };
      expect(pod.spec.activeDeadlineSeconds).to.equal(91);
      expect(pod.spec.containers[0]!.command).to.deep.equal(['sleep', '61']);
      expect(pod.spec).not.to.have.property('priorityClassName');

      // The next run says so on stderr.
      const next = await lab.run(['veth-peer', 'web-2']);
      expect(next.code, next.stderr).to.equal(0);
      expect(next.stderr).to.contain(`warning: 1 probe pod(s) from earlier runs are still in the cluster: ${left!.namespace}/${left!.name} (Running); unless another netdiag run is in progress, kubectl netdiag cleanup removes them`);

      // The simulated kubelet ends it when its sleep runs out.
      await eventually(() => ['Succeeded', 'Failed'].includes(lab.probePods()[0]?.phase ?? ''), 'the orphaned probe pod to end by itself', 75_000);
      const cleanup = await lab.run(['cleanup']);
      expect(cleanup.code, cleanup.stderr).to.equal(0);
      expect(cleanup.stdout).to.contain(left!.name);
      expect(cleanup.stderr).to.contain('deleted 1 probe pod(s)');
      expect(lab.probePods()).to.deep.equal([]);
    });
  });

  describe('the probe pod itself', () => {
    it('is least privilege that still works: no token, read-only root, bounded resources, priority class only when asked', async () => {
      const plain = await lab.run(['veth-peer', 'web-1', '--keep-pod']);
      expect(plain.code, plain.stderr).to.equal(0);
      const withPriority = await lab.run(['veth-peer', 'web-2', '--keep-pod', '--priority-class', 'system-node-critical']);
      expect(withPriority.code, withPriority.stderr).to.equal(0);
      const list = JSON.parse(await lab.kubectl(['get', 'pods', '-A', '-l', PROBE_SELECTOR, '-o', 'json'])) as {
        items: Array<{ spec: Record<string, unknown> & { nodeName: string; containers: Array<Record<string, unknown>> } }>;
      };
      const byNode = new Map(list.items.map((p) => [p.spec.nodeName, p.spec]));
      expect([...byNode.keys()].sort(), 'nodes of the kept probe pods').to.deep.equal(['lab-node-1', 'lab-node-2']);
      for (const spec of byNode.values()) {
        expect(spec).to.include({ hostNetwork: true, hostPID: true, automountServiceAccountToken: false, restartPolicy: 'Never', enableServiceLinks: false });
        const container = spec.containers[0]!;
        expect(container.securityContext).to.include({ privileged: true, readOnlyRootFilesystem: true });
        expect(container.resources).to.deep.equal({ requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
        expect(spec.hostIPC ?? false).to.equal(false);
        expect(spec.volumes).to.deep.equal([{ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }]); // no hostPath
      }
      expect(byNode.get('lab-node-1')).not.to.have.property('priorityClassName');
      expect(byNode.get('lab-node-2')).to.have.property('priorityClassName', 'system-node-critical');
      const cleanup = await lab.run(['cleanup']);
      expect(cleanup.stderr).to.contain('deleted 2 probe pod(s)');
    });
  });

  describe('image pull failure', () => {
    it('fails fast, names the image and hints at --image', async () => {
      lab.setFaults({ imagePullFailure: true });
      const run = await lab.run(['veth-peer', 'web-1', '--timeout', '60s', '--image', 'registry.example/netshoot:v9']);
      expectClearError(run, {
        code: 3,
        error: /node lab-node-1 cannot pull the probe image registry\.example\/netshoot:v9 \((ErrImagePull|ImagePullBackOff)/,
        hint: /--image REGISTRY\/IMAGE:TAG/,
      });
      expect(run.elapsedMs, 'well under --timeout').to.be.below(10_000);
      expect(run.stderr).to.match(/probe pod default\/netdiag-lab-node-1-\w{5} deleted/);
    });
  });

  describe('admission: one dry-run create names the real cause before any pod exists (issue #14 item 8)', () => {
    /** Exit 3, one sentence, no pod created or deleted, nothing left, and never the RBAC hint for a non-RBAC cause. */
    function expectRefusedUpFront(run: PluginResult, error: RegExp, hint: RegExp): void {
      expectClearError(run, { code: 3, error, hint });
      expect(run.stderr).not.to.match(/created on node|probe pod \S+ deleted/);
      expect(run.stderr).not.to.contain('kubectl netdiag rbac');
    }

    it('the simulated API server honours dryRun=All: admitted or refused as a real create, never stored', async () => {
      const before = await lab.kubectl(['get', 'pods', '-n', 'default', '-o', 'name']);
      const out = await lab.kubectl(['run', 'dry-run-check', '-n', 'default', '--image=busybox', '--dry-run=server', '-o', 'name']);
      expect(out.trim()).to.equal('pod/dry-run-check');
      expect(await lab.kubectl(['get', 'pods', '-n', 'default', '-o', 'name'])).to.equal(before);
      lab.setFaults({ exhaustedPodQuota: 'q1' });
      const refused = await lab.kubectl(['run', 'dry-run-check', '-n', 'default', '--image=busybox', '--dry-run=server']).then(() => '', (err: Error) => err.message);
      expect(refused).to.match(/pods "dry-run-check" is forbidden: exceeded quota: q1/);
    });

    it('PodSecurity baseline on the probe namespace: the level and the violations, and the label fix', async () => {
      lab.setFaults({ namespaceLabels: { default: { 'pod-security.kubernetes.io/enforce': 'baseline' } } });
      const run = await lab.run(['veth-peer', 'web-1']);
      expectRefusedUpFront(run,
        /^error: Pod Security "baseline" in namespace "default" rejects the privileged probe pod: host namespaces \(hostNetwork=true, hostPID=true\), privileged \(container "probe" must not set securityContext\.privileged=true\)/,
        /--probe-namespace.*kubectl label ns default pod-security\.kubernetes\.io\/enforce=privileged --overwrite/);
    });

    it('PodSecurity restricted from the API itself (exemptions unknown to labels): same naming', async () => {
      lab.setFaults({ rejectPodCreate: true });
      const run = await lab.run(['veth-peer', 'web-1']);
      expectRefusedUpFront(run, /^error: Pod Security "restricted" in namespace "default" rejects the privileged probe pod: /, /pod-security\.kubernetes\.io\/enforce=privileged/);
    });

    it('a policy webhook (Kyverno) is named with its own reason, not as RBAC', async () => {
      lab.setFaults({ admissionWebhook: { name: 'validate.kyverno.svc-fail', code: 400, message: 'resource Pod/default/x was blocked due to the following policies disallow-privileged-containers: privileged-containers: Privileged mode is disallowed.', noDryRun: false } });
      const run = await lab.run(['veth-peer', 'web-1']);
      expectRefusedUpFront(run,
        /^error: admission webhook "validate\.kyverno\.svc-fail" \(Kyverno\) denied the probe pod in namespace "default": resource Pod\/default\/x was blocked .*Privileged mode is disallowed\.$/,
        /policy exception for pods labelled app\.kubernetes\.io\/managed-by=kubectl-netdiag/);
    });

    it('a Gatekeeper 403 is still not RBAC', async () => {
      lab.setFaults({ admissionWebhook: { name: 'validation.gatekeeper.sh', code: 403, message: '[psp-privileged-container] Privileged container is not allowed: probe, securityContext: {"privileged": true}', noDryRun: false } });
      const run = await lab.run(['node-check', 'lab-node-1']);
      expectRefusedUpFront(run, /^error: admission webhook "validation\.gatekeeper\.sh" \(OPA Gatekeeper\) denied the probe pod/, /policy exception/);
    });

    it('GKE Autopilot (Warden webhook) is named as Autopilot', async () => {
      lab.setFaults({ admissionWebhook: { name: 'warden-validating.common-webhooks.networking.gke.io', code: 400, message: 'GKE Warden rejected the request because it violates one or more constraints.\nViolations details: {"[denied by autogke-disallow-privilege]":["container probe is privileged; not allowed in Autopilot"]}', noDryRun: false } });
      const run = await lab.run(['veth-peer', 'web-1']);
      expectRefusedUpFront(run, /^error: GKE Autopilot refuses the privileged, hostNetwork probe pod \(admission webhook "warden-validating\.common-webhooks\.networking\.gke\.io"\): GKE Warden rejected/, /GKE Standard/);
    });

    it('OpenShift SCC is named with the oc fix', async () => {
      lab.setFaults({ rejectPodCreate: 'unable to validate against any security context constraint: [provider "anyuid": Forbidden: not usable by user or serviceaccount, spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]' });
      const run = await lab.run(['veth-peer', 'web-1']);
      expectRefusedUpFront(run, /^error: OpenShift security context constraints in namespace "default" reject the privileged probe pod: unable to validate against any security context constraint: \[provider "anyuid"/, /oc adm policy add-scc-to-user privileged -z default -n default/);
    });

    it('an exhausted ResourceQuota is named with the quota', async () => {
      lab.setFaults({ exhaustedPodQuota: 'compute-resources' });
      const run = await lab.run(['veth-peer', 'web-1']);
      expectRefusedUpFront(run, /^error: a ResourceQuota in namespace "default" leaves no room for the probe pod: exceeded quota: compute-resources, requested: pods=1, used: pods=\d+, limited: pods=\d+$/, /kubectl describe resourcequota -n default/);
    });

    it('a webhook that cannot answer dry runs: said once, and the run goes on', async () => {
      lab.setFaults({ admissionWebhook: { name: 'sidecar-injector.example.com', message: '', code: 400, noDryRun: true } });
      const run = await lab.run(['veth-peer', 'web-1']);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.contain('admission could not be checked up front: webhook "sidecar-injector.example.com" does not support dry runs');
      expect(run.stdout).to.match(/web-1\s+lab-node-1\s+eth0/);
    });
  });

  describe('nodes that cannot run a privileged pod (EKS Fargate, virtual-kubelet)', () => {
    it('are a row and an info finding, with no pod created there; the others are diagnosed (exit 0)', async () => {
      lab.setFaults({ fargateNodes: ['lab-node-2'], virtualKubeletNodes: ['lab-node-3'] });
      const run = await lab.run(['node-check', '--all', '--timeout', '60s', '-o', 'json']);
      expect(run.code, run.stderr).to.equal(0);
      const report = JSON.parse(run.stdout) as { findings: Array<{ code: string; severity: string; subject: string; evidence: string[] }> };
      const skipped = report.findings.filter((f) => f.code === 'probe.node-unprobeable');
      expect(skipped).to.have.length(2);
      expect(skipped.every((f) => f.severity === 'info')).to.equal(true);
      expect(skipped.map((f) => f.subject).sort()).to.deep.equal(['node lab-node-2', 'node lab-node-3']);
      expect(skipped.find((f) => f.subject === 'node lab-node-2')!.evidence[0]).to.match(/^node lab-node-2 cannot be probed: EKS Fargate node/);
      expect(skipped.find((f) => f.subject === 'node lab-node-3')!.evidence[0]).to.match(/^node lab-node-3 cannot be probed: virtual-kubelet node \(provider azure\)/);
      expect(report.findings.some((f) => f.code === 'probe.node-failed')).to.equal(false);
      expect(run.stderr).not.to.match(/created on node lab-node-[23]/);
      expect(run.stdout).to.contain('lab-node-1');
      expect(run.elapsedMs).to.be.below(30_000);
    });
  });

  describe('RBAC', () => {
    let rbac: { items: Array<{ kind: string; metadata: { namespace?: string }; rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }> };
    const grants = (verb: string, resource: string) =>
      rbac.items.some((m) => (m.rules ?? []).some((r) => r.resources.includes(resource) && r.verbs.includes(verb)));

    before(async function () {
      const run = await lab.run(['rbac', '--probe-namespace', 'netdiag', '--subject', 'user:alice', '-o', 'json']);
      expect(run.code, run.stderr).to.equal(0);
      rbac = JSON.parse(run.stdout) as typeof rbac;
    });

    it('kubectl netdiag rbac prints a reader ClusterRole and a probe Role in the probe namespace only', async () => {
      expect(rbac.items.map((m) => m.kind)).to.deep.equal(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
      const role = rbac.items.find((m) => m.kind === 'Role')!;
      expect(role.metadata.namespace).to.equal('netdiag');
      expect(role.rules).to.deep.include({ apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'watch', 'delete'] });
      expect(role.rules!.some((r) => r.resources.includes('pods/exec') && r.verbs.includes('create'))).to.equal(true);
      const reader = rbac.items.find((m) => m.kind === 'ClusterRole')!;
      expect(reader.rules!.flatMap((r) => r.verbs)).not.to.include.members(['create', 'delete', 'update', 'patch']);
      const yaml = await lab.run(['rbac', '--subject', 'group:sre']);
      expect(yaml.stdout).to.match(/kind: Group\n\s+name: sre/);
    });

    const cases: Array<{ forbid: { verb: string; resource: string }; args: string[]; error: RegExp }> = [
      { forbid: { verb: 'create', resource: 'pods' }, args: ['veth-peer', 'web-1'], error: /not allowed to create pods in namespace "default"/ },
      { forbid: { verb: 'get', resource: 'pods' }, args: ['veth-peer', 'web-1'], error: /not allowed to get pods in namespace "default"/ },
      { forbid: { verb: 'list', resource: 'endpointslices' }, args: ['trace-svc', 'web'], error: /not allowed to list endpointslices in namespace "default"/ },
      { forbid: { verb: 'create', resource: 'pods/exec' }, args: ['veth-peer', 'web-1'], error: /not allowed to create pods\/exec in namespace "default"/ },
    ];
    for (const c of cases) {
      it(`a 403 on ${c.forbid.verb} ${c.forbid.resource} names it and points at kubectl netdiag rbac, which grants it`, async () => {
        lab.setFaults({ forbid: [c.forbid] });
        const run = await lab.run(c.args);
        expectClearError(run, { code: 3, error: c.error, hint: /kubectl netdiag rbac/ });
        expect(grants(c.forbid.verb, c.forbid.resource), `rbac grants ${c.forbid.verb} ${c.forbid.resource}`).to.equal(true);
      });
    }
  });

  describe('nodes', () => {
    it('NotReady (kubelet stopped reporting): one clear sentence at once, not at --timeout', async () => {
      lab.setFaults({ nodeNotReady: ['lab-node-1'] });
      const run = await lab.run(['veth-peer', 'web-1', '--timeout', '60s']);
      expectClearError(run, {
        code: 3,
        error: /^error: no node could be diagnosed: node lab-node-1 is NotReady \(NodeStatusUnknown: Kubelet stopped posting node status\); its kubelet is not running pods, so the probe pod cannot start$/,
        hint: /kubectl describe node lab-node-1/,
      });
      expect(run.elapsedMs).to.be.below(15_000);
    });

    it('cordoned (unschedulable): the probe still runs there (nodeName bypasses the scheduler)', async () => {
      lab.setFaults({ unschedulable: ['lab-node-1'] });
      const run = await lab.run(['veth-peer', 'web-1']);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/web-1\s+lab-node-1\s+eth0/);
    });

    it('Windows: refused before any pod is created', async () => {
      lab.setFaults({ windowsNodes: ['lab-node-1'] });
      const run = await lab.run(['veth-peer', 'web-1', '--timeout', '60s']);
      expectClearError(run, { code: 3, error: /^error: node lab-node-1 runs Windows; the probe pod needs a Linux node \(hostNetwork, nsenter, iptables\)$/, hint: /HNS/ });
      expect(run.stderr).not.to.contain('created on node');
      expect(run.elapsedMs).to.be.below(10_000);
    });

    it('Windows among several nodes: that node is a failed row, no pod is created there, the others report', async () => {
      lab.setFaults({ windowsNodes: ['lab-node-2'] });
      const run = await lab.run(['trace-svc', 'web', '-o', 'json']);
      expect(run.code, run.stderr).to.equal(1);
      const report = JSON.parse(run.stdout) as { findings: Array<{ code: string; subject: string; evidence: string[] }> };
      const failed = report.findings.filter((f) => f.code === 'probe.node-failed');
      expect(failed.map((f) => f.subject)).to.deep.equal(['node lab-node-2']);
      expect(failed[0]!.evidence).to.deep.equal(['node lab-node-2 runs Windows; the probe pod needs a Linux node (hostNetwork, nsenter, iptables)']);
      expect(run.stderr).not.to.match(/created on node lab-node-2/);
    });

    it('a node that goes NotReady while its probe pod waits fails fast', async () => {
      lab.setFaults({ podStartDelayMs: 8000 });
      const run = lab.start(['veth-peer', 'web-1', '--timeout', '60s']);
      await run.waitForStderr(/created on node lab-node-1/);
      lab.setFaults({ podStartDelayMs: 8000, nodeNotReady: ['lab-node-1'] });
      const result = await run.done;
      expectClearError(result, { code: 3, error: /node lab-node-1 is NotReady \(NodeStatusUnknown/, hint: /kubectl describe node lab-node-1/ });
      expect(result.stderr).to.match(/probe pod default\/netdiag-lab-node-1-\w{5} deleted/);
    });

    it('a node deleted from the cluster while its probe pod waits fails fast', async () => {
      const original = readFileSync(lab.statePath, 'utf8');
      try {
        lab.setFaults({ podStartDelayMs: 8000 });
        const run = lab.start(['node-check', 'lab-node-3', '--timeout', '60s']);
        await run.waitForStderr(/created on node lab-node-3/);
        const state = JSON.parse(original) as { nodes: Array<{ name: string }> };
        state.nodes = state.nodes.filter((n) => n.name !== 'lab-node-3');
        writeFileSync(lab.statePath, JSON.stringify(state));
        await lab.server.reload();
        const result = await run.done;
        expectClearError(result, { code: 3, error: /node lab-node-3 no longer exists/ });
        expect(result.elapsedMs).to.be.below(20_000);
      } finally {
        writeFileSync(lab.statePath, original);
        await lab.server.reload();
      }
    });

    it('with several nodes, a failed node is a row and a probe.node-failed finding; the others still report (exit 1)', async () => {
      lab.setFaults({ nodeNotReady: ['lab-node-2'] });
      const run = await lab.run(['node-check', 'lab-node-1', 'lab-node-2', '--timeout', '60s', '-o', 'json']);
      expect(run.code, run.stderr).to.equal(1);
      const report = JSON.parse(run.stdout) as { findings: Array<{ code: string; subject: string; evidence: string[] }> };
      const failed = report.findings.filter((f) => f.code === 'probe.node-failed');
      expect(failed.map((f) => f.subject)).to.deep.equal(['node lab-node-2']);
      expect(failed[0]!.evidence.join(' ')).to.match(/lab-node-2 is NotReady/);
      expect(report.findings.some((f) => f.subject.includes('lab-node-1') && f.code === 'probe.node-failed')).to.equal(false);
      expect(run.stdout).to.contain('lab-node-1');
      expect(run.elapsedMs).to.be.below(20_000);
      expect(run.stderr).not.to.match(/^error:/m);
    });

    it('exit 3 only when no node at all could be diagnosed', async () => {
      lab.setFaults({ nodeNotReady: ['lab-node-1', 'lab-node-2'] });
      const run = await lab.run(['node-check', 'lab-node-1', 'lab-node-2', '--timeout', '60s']);
      expectClearError(run, { code: 3, error: /^error: no node could be diagnosed: node lab-node-[12] is NotReady/ });
    });
  });

  describe('API server', () => {
    it('unreachable (kubeconfig pointing at a closed port): one sentence, exit 3', async () => {
      const port = await freePortThatIsClosed();
      const dir = mkdtempSync(join(tmpdir(), 'netdiag-closed-'));
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, readFileSync(lab.kubeconfig, 'utf8').replace(/https:\/\/127\.0\.0\.1:\d+/, `https://127.0.0.1:${port}`));
      const run = await lab.run(['veth-peer', 'web-1', '--kubeconfig', kubeconfig]);
      rmSync(dir, { recursive: true, force: true });
      expectClearError(run, { code: 3, error: new RegExp(`^error: cannot reach the API server at https://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`), hint: /--kubeconfig\/--context/ });
    });

    it('slow (apiDelayMs beyond --request-timeout 1s): one sentence, exit 3', async () => {
      lab.setFaults({ apiDelayMs: 3000 });
      const run = await lab.run(['veth-peer', 'web-1', '--request-timeout', '1s']);
      expectClearError(run, { code: 3, error: /^error: the API server at https:\/\/127\.0\.0\.1:\d+ did not answer in time \(get pods\)$/, hint: /--request-timeout/ });
      expect(run.elapsedMs).to.be.below(10_000);
    });
  });

  describe('exec stream', () => {
    it('a failed exec upgrade is retried once and the run succeeds', async () => {
      lab.setFaults({ execFailOnce: true });
      const run = await lab.run(['veth-peer', 'web-1']);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/web-1\s+lab-node-1\s+eth0/);
      expect(lab.server.faults.get().execFailOnce, 'the fault was consumed').to.equal(false);
    });

    it('a stream cut mid-way twice is a clear error after one retry', async () => {
      lab.setFaults({ dropExecAfterBytes: 2000 });
      const run = await lab.run(['veth-peer', 'web-1']);
      expectClearError(run, {
        code: 3,
        error: /running the node script on node lab-node-1 failed twice: the exec stream to pod default\/netdiag-lab-node-1-\w{5} closed before the command ended/,
        hint: /dropped mid-stream/,
      });
    });

    it('a node script that never finishes is bounded by --timeout', async () => {
      lab.setFaults({ execDelayMs: 60_000 });
      const run = await lab.run(['veth-peer', 'web-1', '--timeout', '3s']);
      expectClearError(run, { code: 3, error: /the node script on node lab-node-1 did not finish within 3s/, hint: /raise --timeout/ });
      expect(run.elapsedMs).to.be.below(15_000);
    });
  });

  describe('probe output truncated or malformed', () => {
    let snapshot: string;
    before(async function () {
      snapshot = mkdtempSync(join(tmpdir(), 'netdiag-fm-snap-'));
      const run = await lab.run(['veth-peer', 'web-1', '--save-snapshot', snapshot]);
      expect(run.code, run.stderr).to.equal(0);
    });
    after(() => rmSync(snapshot, { recursive: true, force: true }));

    const variant = (name: string, edit: (raw: string) => string): string => {
      // A copy of a real snapshot whose raw node output is edited, replayed with --from-snapshot.
      const dir = mkdtempSync(join(tmpdir(), `netdiag-fm-${name}-`));
      writeFileSync(join(dir, 'snapshot.json'), readFileSync(join(snapshot, 'snapshot.json')));
      mkdirSync(join(dir, 'nodes'));
      writeFileSync(join(dir, 'nodes', 'lab-node-1.txt'), edit(readFileSync(join(snapshot, 'nodes', 'lab-node-1.txt'), 'utf8')));
      return dir;
    };

    it('output cut inside a section names the section; a finding, not a crash', async () => {
      const dir = variant('cut', (raw) => {
        const at = raw.indexOf('BEGIN host/addr');
        return raw.slice(0, raw.indexOf('\n', at) + 40); // a few bytes into the section
      });
      const run = await lab.run(['veth-peer', '--from-snapshot', dir]);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stdout).to.contain('node lab-node-1: section host/addr has no end marker (output cut off)');
      expect(run.stdout).to.contain('probe.output-incomplete');
      expect(run.stderr + run.stdout).not.to.match(STACK_TRACE);
      rmSync(dir, { recursive: true, force: true });
    });

    it('malformed section output: "could not parse X (section S) from node N"', async () => {
      const dir = variant('bad', (raw) => {
        const lines = raw.split('\n');
        const begin = lines.findIndex((l) => l.endsWith(' BEGIN host/addr'));
        const end = lines.findIndex((l) => l.includes(' END host/addr rc='));
        lines.splice(begin + 1, end - begin - 1, '[{"ifindex": 1, "ifname": "lo", garbage');
        return lines.join('\n');
      });
      const run = await lab.run(['veth-peer', '--from-snapshot', dir]);
      expect(run.stdout).to.match(/could not parse .* \(section host\/addr\) from node lab-node-1: .*not complete JSON/);
      expect(run.stderr + run.stdout).not.to.match(STACK_TRACE);
      expect(run.code).to.be.oneOf([0, 1]);
      rmSync(dir, { recursive: true, force: true });
    });
  });

  describe('bad input', () => {
    const cases: Array<{ args: string[]; code: number; error: RegExp; hint?: RegExp }> = [
      { args: ['veth-peer', 'nosuch'], code: 2, error: /^error: pod "nosuch" not found in namespace "default"$/ },
      { args: ['veth-peer', 'api-1'], code: 2, error: /pod "api-1" not found in namespace "default"/, hint: /exists in namespace "team-a": add -n team-a/ },
      { args: ['veth-peer', 'web-1', '-n', 'nosuchns'], code: 2, error: /pod "web-1" not found in namespace "nosuchns"/, hint: /add -n default/ },
      { args: ['trace-svc', 'nosuch'], code: 2, error: /^error: service "nosuch" not found in namespace "default"$/ },
      { args: ['trace-svc', 'web', '--port', '9999'], code: 2, error: /service default\/web has no port "9999"/, hint: /its ports: http 80\/TCP/ },
      { args: ['node-check', 'nosuch'], code: 2, error: /^error: node "nosuch" not found$/, hint: /lab-node-1, lab-node-2, lab-node-3/ },
      { args: ['veth-peer', '--node', 'nosuch'], code: 2, error: /^error: node "nosuch" not found$/ },
      { args: ['veth-peer', 'Web_1'], code: 2, error: /^error: invalid pod name "Web_1": must be a lowercase RFC 1123 name/ },
      { args: ['veth-peer', 'web-1', '-n', 'Bad_NS'], code: 2, error: /^error: invalid namespace "Bad_NS"/ },
      { args: ['veth-peer', 'web-1', '-o', 'xml'], code: 2, error: /^error: unknown output format "xml"$/, hint: /table, wide, json, yaml, dot/ },
      { args: ['veth-peer', 'web-1', '--fail-on', 'sometimes'], code: 2, error: /unknown --fail-on value "sometimes"/ },
      { args: ['veth-peer', 'web-1', '--timeout', 'soon'], code: 2, error: /invalid duration "soon" for --timeout/ },
      { args: ['veth-peer', 'web-1', '--node', 'lab-node-1'], code: 2, error: /veth-peer needs exactly one of/ },
      { args: ['trace-svc', 'web', '--from', 'client-1', '--from-node', 'lab-node-1'], code: 2, error: /--from and --from-node cannot be used together/ },
      { args: ['veth-peer', 'web-1', '--save-snapshot', '/tmp/a', '--from-snapshot', '/tmp/b'], code: 2, error: /--save-snapshot and --from-snapshot cannot be used together/ },
      { args: ['veth-peer', 'web-1', '--no-such-flag'], code: 2, error: /Unknown argument/ },
      { args: ['no-such-command'], code: 2, error: /Unknown argument|Unknown command/ },
      { args: ['veth-peer', 'web-1', '--context', 'nope'], code: 2, error: /^error: context "nope" does not exist in the kubeconfig$/, hint: /known contexts: netdiag-lab/ },
      { args: ['veth-peer', 'web-1', '--kubeconfig', '/nonexistent/kubeconfig'], code: 2, error: /^error: kubeconfig file \/nonexistent\/kubeconfig does not exist$/ },
    ];
    for (const c of cases) {
      it(`${c.args.join(' ')} -> exit ${c.code}`, async () => {
        expectClearError(await lab.run(c.args), c);
      });
    }

    it('a kubeconfig that is not YAML, or has no usable context', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'netdiag-badcfg-'));
      writeFileSync(join(dir, 'broken'), 'clusters: [unclosed\n');
      writeFileSync(join(dir, 'empty'), 'hello\n');
      const broken = await lab.run(['veth-peer', 'web-1', '--kubeconfig', join(dir, 'broken')]);
      expectClearError(broken, { code: 2, error: /kubeconfig file .*broken is not valid YAML/ });
      const empty = await lab.run(['veth-peer', 'web-1', '--kubeconfig', join(dir, 'empty')]);
      expectClearError(empty, { code: 2, error: /the kubeconfig has no current context with a cluster/, hint: /--context/ });
      rmSync(dir, { recursive: true, force: true });
    });

    it('names and values that look like shell are rejected or passed inertly: nothing runs', async () => {
      const pwned = join(tmpdir(), `netdiag-pwned-${randomBytes(6).toString('hex')}`);
      const shellish = [`$(touch ${pwned})`, `\`touch ${pwned}\``, `; touch ${pwned}`, `x' ; touch ${pwned} ; '`, `x" && touch ${pwned} && "`, `x\ntouch ${pwned}`, '; rm -rf /'];
      const rejected: string[][] = [];
      for (const bad of shellish) {
        rejected.push(
          ['veth-peer', bad],
          ['veth-peer', 'web-1', '-n', bad],
          ['veth-peer', '-l', `app=${bad}`],
          ['trace-svc', bad],
          ['trace-svc', 'web', '--port', bad],
          ['trace-svc', 'web', '--from', bad],
          ['dns-check', 'web-1', '--name', bad],
          ['dns-check', 'web-1', '--external-name', bad],
          ['mtu-probe', 'web-1', '--to', bad],
          ['node-check', bad],
          ['veth-peer', 'web-1', '--probe-namespace', bad],
          ['veth-peer', 'web-1', '--priority-class', bad],
          ['veth-peer', 'web-1', '--context', bad],
          ['veth-peer', 'web-1', '--kubeconfig', bad],
        );
      }
      // In parallel batches: each is rejected before any API call, so they cannot disturb each other.
      for (let i = 0; i < rejected.length; i += 8) {
        const batch = rejected.slice(i, i + 8);
        const runs = await Promise.all(batch.map((args) => lab.run(args)));
        runs.forEach((run, j) => {
          const args = JSON.stringify(batch[j]);
          expect(run.code, `${args}\n${run.stderr}`).to.equal(2);
          expect(run.stderr.split('\n').filter((l) => l.startsWith('error: ')), args).to.have.length(1);
          // A newline in a name is shown escaped: the error stays one line.
          expect(run.stderr.split('\n').filter((l) => l.startsWith('touch ')), args).to.deep.equal([]);
          expect(run.stderr + run.stdout, args).not.to.match(STACK_TRACE);
        });
      }
      // Values that are not names reach the cluster only as data: the image is a field of the pod.
      const inert = await lab.run(['veth-peer', 'web-1', '--image', `busybox;touch ${pwned}`, '--keep-pod']);
      expect(inert.code, inert.stderr).to.equal(0);
      const pods = JSON.parse(await lab.kubectl(['get', 'pods', '-A', '-l', PROBE_SELECTOR, '-o', 'json'])) as { items: Array<{ spec: { containers: Array<{ image: string }> } }> };
      expect(pods.items.map((p) => p.spec.containers[0]!.image)).to.deep.equal([`busybox;touch ${pwned}`]);
      await lab.run(['cleanup']);
      expect(existsSync(pwned), `${pwned} must not exist`).to.equal(false);
    });
  });
});

