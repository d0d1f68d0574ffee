// Admission before the fan-out: one server-side dry-run create (dryRun=All) of a probe pod, so a
// hardened cluster's refusal is named once, with its real cause and fix, before any pod is made.
// The causes are read from the API's own Status message, in the words each admission layer uses:
//   PodSecurity  pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces (...)
//   SCC          pods "x" is forbidden: unable to validate against any security context constraint: [...]
//   webhook      admission webhook "validate.kyverno.svc-fail" denied the request: ...
//                (k8s.io/apiserver .../webhook/errors/statuserror.go ToStatusErr; Gatekeeper, Kyverno)
//   Autopilot    admission webhook "warden-validating.common-webhooks.networking.gke.io" denied the
//                request: GKE Warden rejected the request ... [denied by autogke-disallow-privilege]
//   quota        pods "x" is forbidden: exceeded quota: NAME, requested: pods=1, used: ..., limited: ...
//   RBAC         pods is forbidden: User "u" cannot create resource "pods" in API group "" in ...
// A webhook whose sideEffects do not allow dry runs answers `admission webhook "X" does not support
// dry run`: then nothing is known, and the real create speaks for itself (and is mapped the same way).
import type { ClusterApi, Node } from '../kube/cluster-api.js';
import { loadNodeScript } from '../node-script/node-script.js';
import { readApiFailure } from '../kube/api-error.js';
import { EXIT, UserError } from '../errors.js';
import type { Progress } from '../render/progress.js';
import { buildProbePod, MANAGED_BY_LABEL, MANAGED_BY_VALUE, type ProbePodOptions } from './probe-pod.js';

export type AdmissionRejection =
  | { kind: 'pod-security'; level: string; violations: string }
  | { kind: 'scc'; detail: string }
  | { kind: 'autopilot'; webhook: string; detail: string }
  | { kind: 'webhook'; webhook: string; detail: string }
  | { kind: 'quota'; detail: string }
  | { kind: 'rbac'; detail: string }
  | { kind: 'dry-run-unsupported'; webhook: string }
  | { kind: 'other'; detail: string };

/** Names the admission layer behind a refused pod create from the API's Status message. */
export function classifyPodCreateRejection(message: string): AdmissionRejection {
  const noDryRun = /admission webhook "([^"]+)" does not support dry run/.exec(message);
  if (noDryRun) return { kind: 'dry-run-unsupported', webhook: noDryRun[1]! };
  const webhook = /admission webhook "([^"]+)" denied the request(?::\s*([\s\S]*))?/.exec(message);
  if (webhook) {
    const name = webhook[1]!;
    const detail = (webhook[2] ?? 'without explanation').trim();
    if (/\.gke\.io$/.test(name) || /GKE Warden|autogke-/.test(detail)) return { kind: 'autopilot', webhook: name, detail };
    return { kind: 'webhook', webhook: name, detail };
  }
  const pss = /violates PodSecurity "([a-z]+)(?::[^"]*)?":\s*(.*)$/s.exec(message);
  if (pss) return { kind: 'pod-security', level: pss[1]!, violations: pss[2]!.trim() };
  if (/unable to validate against any security context constraint/.test(message)) return { kind: 'scc', detail: afterForbidden(message) };
  if (/exceeded quota:|failed quota:/.test(message)) return { kind: 'quota', detail: afterForbidden(message) };
  if (/cannot create resource "pods"/.test(message)) return { kind: 'rbac', detail: message };
  return { kind: 'other', detail: message };
}

function afterForbidden(message: string): string {
  return message.replace(/^pods(?: "[^"]*")? is forbidden:\s*/, '');
}

function policyEngine(webhook: string): string {
  if (/kyverno/i.test(webhook)) return 'Kyverno';
  if (/gatekeeper/i.test(webhook)) return 'OPA Gatekeeper';
  if (/kubewarden/i.test(webhook)) return 'Kubewarden';
  return 'an admission webhook';
}

function clip(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** One `error:` sentence and its `hint:` for a refused probe pod (exit 3: could not diagnose). */
export function admissionUserError(rejection: AdmissionRejection, namespace: string, cause?: unknown): UserError {
  const fail = (message: string, hint: string | undefined) => new UserError(message, { hint, exitCode: EXIT.cannotDiagnose, cause });
  const privilegedNs = `use --probe-namespace with a namespace labelled pod-security.kubernetes.io/enforce=privileged, or: kubectl label ns ${namespace} pod-security.kubernetes.io/enforce=privileged --overwrite`;
  switch (rejection.kind) {
    case 'pod-security':
      return fail(`Pod Security "${rejection.level}" in namespace "${namespace}" rejects the privileged probe pod: ${clip(rejection.violations)}`, privilegedNs);
    case 'scc':
      return fail(`OpenShift security context constraints in namespace "${namespace}" reject the privileged probe pod: ${clip(rejection.detail)}`,
        `let the probe pods' service account use the privileged SCC: oc adm policy add-scc-to-user privileged -z default -n ${namespace} (or pick a --probe-namespace where it may)`);
    case 'autopilot':
      return fail(`GKE Autopilot refuses the privileged, hostNetwork probe pod (admission webhook "${rejection.webhook}"): ${clip(rejection.detail)}`,
        'Autopilot admits no privileged node-level pods; diagnose from a GKE Standard cluster or node pool, or analyse facts gathered elsewhere with --from-snapshot');
    case 'webhook':
      return fail(`admission webhook "${rejection.webhook}" (${policyEngine(rejection.webhook)}) denied the probe pod in namespace "${namespace}": ${clip(rejection.detail)}`,
        `add a policy exception for pods labelled ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE} in namespace ${namespace}, or pick a --probe-namespace the policy excludes`);
    case 'quota':
      return fail(`a ResourceQuota in namespace "${namespace}" leaves no room for the probe pod: ${clip(rejection.detail)}`,
        `the probe pod needs one pod and 500m CPU / 256Mi memory of limits per node at a time: free room (kubectl describe resourcequota -n ${namespace}) or pick another --probe-namespace`);
    case 'rbac':
      return fail(`not allowed to create pods in namespace "${namespace}": ${clip(rejection.detail)}`, 'kubectl netdiag rbac prints the least-privilege Role this plugin needs');
    case 'dry-run-unsupported':
    case 'other':
      return fail(`the API server refused the probe pod in namespace "${namespace}": ${clip(rejection.kind === 'other' ? rejection.detail : `admission webhook "${rejection.webhook}" does not support dry run`)}`, undefined);
  }
}

/** The API's Status message behind an error (client-node's ApiException, or one wrapped in a UserError), or null. */
function statusMessageOf(err: unknown): string | null {
  for (let cur: unknown = err, i = 0; cur && i < 4; cur = (cur as { cause?: unknown }).cause, i++) {
    const failure = readApiFailure(cur);
    if (failure.status !== null) return failure.message;
  }
  return null;
}

/** A refused real create named the same way as the dry run would (null: not an API refusal). */
export function explainPodCreateFailure(err: unknown, namespace: string): UserError | null {
  const message = statusMessageOf(err);
  if (message === null) return null;
  const rejection = classifyPodCreateRejection(message);
  return rejection.kind === 'other' || rejection.kind === 'dry-run-unsupported' ? null : admissionUserError(rejection, namespace, err);
}

/**
 * ONE dry-run create of a probe pod (the one the first node would get) before the fan-out. Throws
 * the named refusal; returns when the pod would be admitted or when a webhook cannot answer dry
 * runs (said on stderr).
 */
export async function preflightProbeAdmission(api: Pick<ClusterApi, 'createPod'>, options: Omit<ProbePodOptions, 'nodeScript'>, progress: Progress): Promise<void> {
  const namespace = options.namespace;
  try {
    await api.createPod(namespace, buildProbePod({ ...options, nodeScript: loadNodeScript() }), { dryRun: true });
  } catch (err) {
    const message = statusMessageOf(err);
    if (message === null) throw err; // no answer at all (unreachable, timeout): already one clear sentence
    const rejection = classifyPodCreateRejection(message);
    if (rejection.kind === 'dry-run-unsupported') {
      progress.note(`admission could not be checked up front: webhook "${rejection.webhook}" does not support dry runs`);
      return;
    }
    throw admissionUserError(rejection, namespace, err);
  }
}

/**
 * Nodes that run no privileged or hostNetwork pods at all: EKS Fargate (one pod per micro-VM) and
 * virtual-kubelet providers (ACI, ...). A probe pod there would only time out; such a node is a row
 * and an info finding instead. null for every other node.
 */
export function unprobeableNodeReason(node: Node): string | null {
  const labels = node.metadata?.labels ?? {};
  if (labels['eks.amazonaws.com/compute-type'] === 'fargate') return 'EKS Fargate node (label eks.amazonaws.com/compute-type=fargate): Fargate runs no privileged or hostNetwork pods';
  const vkTaint = node.spec?.taints?.find((t) => t.key === 'virtual-kubelet.io/provider');
  if (labels['type'] === 'virtual-kubelet' || vkTaint) {
    const provider = vkTaint?.value ? ` (provider ${vkTaint.value})` : '';
    return `virtual-kubelet node${provider}: its pods run outside any node kernel, so there is nothing to probe`;
  }
  return null;
}

/** The error text of a skipped node; node-facts turns it into an info finding, not a failure. */
export function unprobeableNodeMessage(nodeName: string, reason: string): string {
  return `node ${nodeName} cannot be probed: ${reason}`;
}

export function isUnprobeableNodeMessage(error: string): boolean {
  return /^node \S+ cannot be probed: /.test(error);
}
