// Faults the tests inject through /_lab/faults. PUT replaces the whole set (missing keys take
// their defaults), so a test can always return to a clean server with `PUT {}`.

export interface ForbidRule {
  verb: string; // "create", "get", "list", "watch", "delete", "*"
  resource: string; // "pods", "pods/exec", "nodes", "*"
  namespace?: string;
}

/** A validating admission webhook on pod create: denies every pod, or (noDryRun) rejects dry runs only. */
export interface AdmissionWebhookFault {
  name: string; // "validate.kyverno.svc-fail", "validation.gatekeeper.sh", ...
  message: string; // the webhook's own reason
  code: number; // the status code the webhook returned (400 when it gave none)
  noDryRun: boolean; // sideEffects Unknown/Some: the API server refuses dry runs for it
}

export interface LabFaults {
  podStartDelayMs: number;
  imagePullFailure: boolean;
  rejectPodCreate: string | null; // reason after `pods "x" is forbidden: `; "" = default PSA text
  forbid: ForbidRule[];
  nodeNotReady: string[];
  unschedulable: string[];
  windowsNodes: string[];
  dropExecAfterBytes: number | null;
  execFailOnce: boolean;
  apiDelayMs: number;
  execDelayMs: number; // exec sessions wait this long before the command starts (a slow node script)
  namespaceLabels: Record<string, Record<string, string>>;
  admissionWebhook: AdmissionWebhookFault | null;
  exhaustedPodQuota: string | null; // a ResourceQuota of this name with no pods left, in every namespace
  fargateNodes: string[]; // EKS Fargate nodes (label eks.amazonaws.com/compute-type=fargate)
  virtualKubeletNodes: string[]; // virtual-kubelet nodes (label type=virtual-kubelet, its taint)
  podLogs: Record<string, string[]>; // "namespace/pod" -> log lines
  corednsLogLines: string[] | null; // log lines of every pod labelled k8s-app=kube-dns
}

export function defaultFaults(): LabFaults {
  return {
    podStartDelayMs: 200,
    imagePullFailure: false,
    rejectPodCreate: null,
    forbid: [],
    nodeNotReady: [],
    unschedulable: [],
    windowsNodes: [],
    dropExecAfterBytes: null,
    execFailOnce: false,
    apiDelayMs: 0,
    execDelayMs: 0,
    namespaceLabels: {},
    admissionWebhook: null,
    exhaustedPodQuota: null,
    fargateNodes: [],
    virtualKubeletNodes: [],
    podLogs: {},
    corednsLogLines: null,
  };
}

export class FaultsError extends Error {}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new FaultsError(`${key} must be a list of strings`);
  return value;
}

function nonNegative(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new FaultsError(`${key} must be a number >= 0`);
  return value;
}

function stringMap(value: unknown, key: string): Record<string, string> {
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) throw new FaultsError(`${key} must map strings to strings`);
  return value as Record<string, string>;
}

function parseWebhookFault(value: unknown): AdmissionWebhookFault {
  if (!isRecord(value) || typeof value.name !== 'string' || value.name === '') throw new FaultsError('admissionWebhook needs a name');
  if (value.message !== undefined && typeof value.message !== 'string') throw new FaultsError('admissionWebhook.message must be a string');
  return {
    name: value.name,
    message: typeof value.message === 'string' ? value.message : '',
    code: value.code === undefined ? 400 : nonNegative(value.code, 'admissionWebhook.code'),
    noDryRun: value.noDryRun === true,
  };
}

export function parseFaults(input: unknown): LabFaults {
  if (!isRecord(input)) throw new FaultsError('faults must be a JSON object');
  const faults = defaultFaults();
  for (const [key, value] of Object.entries(input)) {
    if (value === null && !['rejectPodCreate', 'dropExecAfterBytes', 'corednsLogLines', 'admissionWebhook', 'exhaustedPodQuota'].includes(key)) continue;
    switch (key) {
      case 'podStartDelayMs':
      case 'apiDelayMs':
      case 'execDelayMs':
        faults[key] = nonNegative(value, key);
        break;
      case 'imagePullFailure':
      case 'execFailOnce':
        if (typeof value !== 'boolean') throw new FaultsError(`${key} must be a boolean`);
        faults[key] = value;
        break;
      case 'rejectPodCreate':
        if (value === true) faults.rejectPodCreate = '';
        else if (value === null || value === false) faults.rejectPodCreate = null;
        else if (typeof value === 'string') faults.rejectPodCreate = value;
        else throw new FaultsError('rejectPodCreate must be a string, true or null');
        break;
      case 'dropExecAfterBytes':
        faults.dropExecAfterBytes = value === null ? null : nonNegative(value, key);
        break;
      case 'admissionWebhook':
        faults.admissionWebhook = value === null ? null : parseWebhookFault(value);
        break;
      case 'exhaustedPodQuota':
        if (value !== null && typeof value !== 'string') throw new FaultsError('exhaustedPodQuota must be a quota name or null');
        faults.exhaustedPodQuota = value;
        break;
      case 'nodeNotReady':
      case 'unschedulable':
      case 'windowsNodes':
      case 'fargateNodes':
      case 'virtualKubeletNodes':
        faults[key] = stringList(value, key);
        break;
      case 'corednsLogLines':
        faults.corednsLogLines = value === null ? null : stringList(value, key);
        break;
      case 'forbid':
        if (!Array.isArray(value)) throw new FaultsError('forbid must be a list');
        faults.forbid = value.map((rule, i) => {
          if (!isRecord(rule) || typeof rule.verb !== 'string' || typeof rule.resource !== 'string') {
            throw new FaultsError(`forbid[${i}] needs string verb and resource`);
          }
          const parsed: ForbidRule = { verb: rule.verb, resource: rule.resource };
          if (typeof rule.namespace === 'string') parsed.namespace = rule.namespace;
          return parsed;
        });
        break;
      case 'namespaceLabels':
        if (!isRecord(value)) throw new FaultsError('namespaceLabels must be an object');
        faults.namespaceLabels = Object.fromEntries(Object.entries(value).map(([ns, labels]) => [ns, stringMap(labels, `namespaceLabels.${ns}`)]));
        break;
      case 'podLogs':
        if (!isRecord(value)) throw new FaultsError('podLogs must be an object');
        faults.podLogs = Object.fromEntries(Object.entries(value).map(([k, lines]) => [k, stringList(lines, `podLogs.${k}`)]));
        break;
      default:
        throw new FaultsError(`unknown fault "${key}"`);
    }
  }
  return faults;
}

export function isForbidden(faults: LabFaults, verb: string, resource: string, namespace: string | null): boolean {
  return faults.forbid.some(
    (rule) =>
      (rule.verb === '*' || rule.verb === verb) &&
      (rule.resource === '*' || rule.resource === resource) &&
      (rule.namespace === undefined || rule.namespace === namespace),
  );
}
