// The admission layer behind a refused probe pod, read from the API's Status message. The texts
// are the shapes real clusters answer with:
//   PodSecurity: k8s.io/pod-security-admission (pods "x" is forbidden: violates PodSecurity ...)
//   webhook: k8s.io/apiserver pkg/admission/plugin/webhook/errors ToStatusErr
//   Autopilot: temporalio/helm-charts#423, lacework/helm-charts#191 (GKE Warden)
//   quota: k8s.io/apiserver ResourceQuota admission (exceeded quota: NAME, requested: ...)
import { expect } from 'chai';
import { admissionUserError, classifyPodCreateRejection, explainPodCreateFailure, isUnprobeableNodeMessage, unprobeableNodeMessage, unprobeableNodeReason } from '../../../src/probe/admission.js';
import { EXIT } from '../../../src/errors.js';

describe('classifyPodCreateRejection', () => {
  it('PodSecurity: the level and the violations', () => {
    const r = classifyPodCreateRejection('pods "netdiag-n1-abcde" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true, hostPID=true), privileged (container "probe" must not set securityContext.privileged=true)');
    expect(r).to.deep.equal({ kind: 'pod-security', level: 'baseline', violations: 'host namespaces (hostNetwork=true, hostPID=true), privileged (container "probe" must not set securityContext.privileged=true)' });
  });

  it('a webhook by name, Autopilot apart, and a webhook that cannot do dry runs', () => {
    expect(classifyPodCreateRejection('admission webhook "validate.kyverno.svc-fail" denied the request: blocked')).to.deep.equal({ kind: 'webhook', webhook: 'validate.kyverno.svc-fail', detail: 'blocked' });
    expect(classifyPodCreateRejection('admission webhook "x.example.com" denied the request without explanation')).to.include({ kind: 'webhook', detail: 'without explanation' });
    const gke = classifyPodCreateRejection('admission webhook "warden-validating.common-webhooks.networking.gke.io" denied the request: GKE Warden rejected the request because it violates one or more constraints.\nViolations details: {"[denied by autogke-disallow-privilege]":["container probe is privileged; not allowed in Autopilot"]}');
    expect(gke.kind).to.equal('autopilot');
    expect(classifyPodCreateRejection('admission webhook "sidecar.example.com" does not support dry run')).to.deep.equal({ kind: 'dry-run-unsupported', webhook: 'sidecar.example.com' });
  });

  it('SCC, quota, RBAC and anything else', () => {
    expect(classifyPodCreateRejection('pods "p" is forbidden: unable to validate against any security context constraint: [provider "anyuid": Forbidden]').kind).to.equal('scc');
    expect(classifyPodCreateRejection('pods "p" is forbidden: exceeded quota: q1, requested: pods=1, used: pods=10, limited: pods=10')).to.deep.equal({ kind: 'quota', detail: 'exceeded quota: q1, requested: pods=1, used: pods=10, limited: pods=10' });
    expect(classifyPodCreateRejection('pods is forbidden: User "alice" cannot create resource "pods" in API group "" in the namespace "default"').kind).to.equal('rbac');
    expect(classifyPodCreateRejection('Pod "p" is invalid: spec.containers: Required value').kind).to.equal('other');
  });
});

describe('admissionUserError', () => {
  it('exit 3, one sentence, and the fix for each cause', () => {
    const pss = admissionUserError({ kind: 'pod-security', level: 'restricted', violations: 'privileged (x)' }, 'team-a');
    expect(pss.exitCode).to.equal(EXIT.cannotDiagnose);
    expect(pss.message).to.equal('Pod Security "restricted" in namespace "team-a" rejects the privileged probe pod: privileged (x)');
    expect(pss.hint).to.contain('kubectl label ns team-a pod-security.kubernetes.io/enforce=privileged --overwrite');
    expect(admissionUserError({ kind: 'webhook', webhook: 'validation.gatekeeper.sh', detail: 'no' }, 'd').message).to.contain('(OPA Gatekeeper)');
    expect(admissionUserError({ kind: 'scc', detail: 'x' }, 'd').hint).to.contain('oc adm policy add-scc-to-user privileged -z default -n d');
    expect(admissionUserError({ kind: 'rbac', detail: 'x' }, 'd').hint).to.contain('kubectl netdiag rbac');
  });

  it('a real create refused by the API is mapped the same way; a network error is not', () => {
    const apiException = { code: 400, body: JSON.stringify({ kind: 'Status', message: 'admission webhook "w.example.com" denied the request: no', code: 400 }) };
    expect(explainPodCreateFailure(new Error('wrapped', { cause: apiException }), 'd')?.message).to.match(/^admission webhook "w\.example\.com" \(an admission webhook\) denied the probe pod/);
    expect(explainPodCreateFailure(new Error('ECONNRESET'), 'd')).to.equal(null);
  });
});

describe('unprobeableNodeReason', () => {
  it('EKS Fargate and virtual-kubelet nodes, nothing else', () => {
    expect(unprobeableNodeReason({ metadata: { labels: { 'eks.amazonaws.com/compute-type': 'fargate' } } })).to.match(/^EKS Fargate node/);
    expect(unprobeableNodeReason({ metadata: { labels: { type: 'virtual-kubelet' } } })).to.match(/^virtual-kubelet node/);
    expect(unprobeableNodeReason({ metadata: {}, spec: { taints: [{ key: 'virtual-kubelet.io/provider', value: 'azure', effect: 'NoSchedule' }] } })).to.contain('(provider azure)');
    expect(unprobeableNodeReason({ metadata: { labels: { 'eks.amazonaws.com/compute-type': 'ec2', 'kubernetes.io/os': 'linux' } } })).to.equal(null);
    expect(isUnprobeableNodeMessage(unprobeableNodeMessage('n1', 'why'))).to.equal(true);
    expect(isUnprobeableNodeMessage('node n1 is NotReady')).to.equal(false);
  });
});
