// The simulated kubelet for pods created through the API (probe pods): moves them through
// Pending -> Running (or image-pull failure), and ends them on activeDeadlineSeconds or when
// their command is a bounded sleep. It only changes API objects; exec is in exec.ts.

import type { LabNode } from '../lab-state.js';
import type { LabFaults } from './faults.js';
import type { KubeObject } from './objects.js';
import type { ObjectStore } from './store.js';

export interface KubeletDeps {
  store: ObjectStore;
  faults: () => LabFaults;
  labNode: (name: string) => LabNode | null;
  now: () => Date;
}

interface PodSpecView {
  nodeName?: string;
  hostNetwork?: boolean;
  activeDeadlineSeconds?: number;
  containers: { name: string; image: string; command?: string[]; args?: string[] }[];
}

// `sleep N`, `/bin/sleep N`, `sh -c "sleep N"` -> N seconds; anything else -> null (runs forever).
export function boundedSleepSeconds(command: readonly string[]): number | null {
  const [first, ...rest] = command;
  if (first === undefined) return null;
  const base = first.split('/').pop();
  if (base === 'sleep' && rest.length === 1 && /^\d+(\.\d+)?s?$/.test(rest[0] ?? '')) return Number.parseFloat(rest[0] ?? '');
  if ((base === 'sh' || base === 'bash') && rest[0] === '-c' && rest.length === 2) {
    const m = /^\s*(?:exec\s+)?sleep\s+(\d+(?:\.\d+)?)s?\s*$/.exec(rest[1] ?? '');
    if (m) return Number.parseFloat(m[1] ?? '');
  }
  return null;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export class SimulatedKubelet {
  private readonly timers = new Map<string, NodeJS.Timeout[]>();
  private nextPodIpOffset = 200;

  constructor(private readonly deps: KubeletDeps) {}

  private timestamp(): string {
    return this.deps.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private later(uid: string, ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      const list = this.timers.get(uid);
      if (list) this.timers.set(uid, list.filter((t) => t !== timer));
      action();
    }, ms);
    timer.unref();
    this.timers.set(uid, [...(this.timers.get(uid) ?? []), timer]);
  }

  // Applies `change` to the pod if it still exists with this uid.
  private update(namespace: string, name: string, uid: string, change: (pod: KubeObject) => KubeObject): void {
    const current = this.deps.store.get('pods', namespace, name);
    if (!current || current.metadata.uid !== uid || current.metadata.deletionTimestamp) return;
    this.deps.store.put('pods', change(current));
  }

  // Initial status for a pod just created; schedules what happens next.
  admit(pod: KubeObject): KubeObject {
    const spec = pod.spec as PodSpecView;
    const at = this.timestamp();
    const node = spec.nodeName ? this.deps.labNode(spec.nodeName) : null;
    const faults = this.deps.faults();
    if (!spec.nodeName || !node) {
      const message = spec.nodeName
        ? `0/1 nodes are available: node "${spec.nodeName}" not found in the lab.`
        : '0/1 nodes are available: the lab has no scheduler; set spec.nodeName.';
      return { ...pod, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: at, reason: 'Unschedulable', message }], qosClass: 'BestEffort' } };
    }
    const hostIP = node.internalIP;
    const scheduled = {
      phase: 'Pending',
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'False', lastProbeTime: null, lastTransitionTime: at },
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: at },
        { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: at, reason: 'ContainersNotReady', message: `containers with unready status: [${spec.containers.map((c) => c.name).join(' ')}]` },
        { type: 'ContainersReady', status: 'False', lastProbeTime: null, lastTransitionTime: at, reason: 'ContainersNotReady', message: `containers with unready status: [${spec.containers.map((c) => c.name).join(' ')}]` },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: at },
      ],
      hostIP,
      hostIPs: [{ ip: hostIP }],
      startTime: at,
      containerStatuses: spec.containers.map((c) => ({
        name: c.name, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, image: c.image, imageID: '', started: false,
      })),
      qosClass: 'BestEffort',
    };
    const admitted = { ...pod, status: scheduled };
    if (faults.nodeNotReady.includes(node.name)) return admitted; // kubelet "down": stays Pending
    const { namespace = '', name, uid } = pod.metadata;
    const delay = faults.podStartDelayMs;
    if (faults.imagePullFailure) {
      this.later(uid, delay, () => this.update(namespace, name, uid, (p) => this.withWaiting(p, 'ErrImagePull')));
      this.later(uid, delay * 2 + 50, () => this.update(namespace, name, uid, (p) => this.withWaiting(p, 'ImagePullBackOff')));
    } else {
      this.later(uid, delay, () => this.update(namespace, name, uid, (p) => this.running(p, node)));
      const sleepSeconds = boundedSleepSeconds([...(spec.containers[0]?.command ?? []), ...(spec.containers[0]?.args ?? [])]);
      if (sleepSeconds !== null) this.later(uid, delay + sleepSeconds * 1000, () => this.update(namespace, name, uid, (p) => this.finished(p, 'Succeeded', 0, 'Completed')));
    }
    if (spec.activeDeadlineSeconds !== undefined) {
      this.later(uid, spec.activeDeadlineSeconds * 1000, () => this.update(namespace, name, uid, (p) => this.deadlineExceeded(p)));
    }
    return admitted;
  }

  private withWaiting(pod: KubeObject, reason: 'ErrImagePull' | 'ImagePullBackOff'): KubeObject {
    const spec = pod.spec as PodSpecView;
    const status = pod.status as Record<string, unknown>;
    return {
      ...pod,
      status: {
        ...status,
        containerStatuses: spec.containers.map((c) => ({
          name: c.name,
          state: {
            waiting: reason === 'ErrImagePull'
              ? { reason, message: `failed to pull and unpack image "${c.image}": failed to resolve reference "${c.image}": failed to do request: Head "https://registry.invalid/v2/": dial tcp: lookup registry.invalid: no such host` }
              : { reason, message: `Back-off pulling image "${c.image}"` },
          },
          lastState: {}, ready: false, restartCount: 0, image: c.image, imageID: '', started: false,
        })),
      },
    };
  }

  private running(pod: KubeObject, node: LabNode): KubeObject {
    const spec = pod.spec as PodSpecView;
    const status = pod.status as { conditions: { type: string }[] } & Record<string, unknown>;
    const at = this.timestamp();
    const podIP = spec.hostNetwork ? node.internalIP : this.allocatePodIP(node.podCIDR);
    return {
      ...pod,
      status: {
        ...status,
        phase: 'Running',
        conditions: status.conditions.map((c) => ({ type: c.type, status: 'True', lastProbeTime: null, lastTransitionTime: at })),
        podIP,
        podIPs: [{ ip: podIP }],
        containerStatuses: spec.containers.map((c, i) => ({
          name: c.name,
          state: { running: { startedAt: at } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image: c.image,
          imageID: `${c.image.split(':')[0] ?? c.image}@sha256:${'0'.repeat(63)}${i}`,
          containerID: `containerd://${pod.metadata.uid.replace(/-/g, '')}${'0'.repeat(32)}`.slice(0, 'containerd://'.length + 64),
          started: true,
        })),
      },
    };
  }

  private allocatePodIP(podCIDR: string): string {
    const [base] = podCIDR.split('/');
    return intToIpv4(ipv4ToInt(base || '10.244.0.0') + this.nextPodIpOffset++); // '': a sim node (scale.ts)
  }

  private finished(pod: KubeObject, phase: 'Succeeded' | 'Failed', exitCode: number, reason: string): KubeObject {
    const spec = pod.spec as PodSpecView;
    const status = pod.status as { conditions?: { type: string }[]; containerStatuses?: Record<string, unknown>[] } & Record<string, unknown>;
    const at = this.timestamp();
    return {
      ...pod,
      status: {
        ...status,
        phase,
        conditions: (status.conditions ?? []).map((c) => (c.type === 'Ready' || c.type === 'ContainersReady'
          ? { type: c.type, status: 'False', lastProbeTime: null, lastTransitionTime: at, reason: 'PodCompleted' }
          : c)),
        containerStatuses: spec.containers.map((c, i) => {
          const previous = status.containerStatuses?.[i] ?? {};
          return { ...previous, name: c.name, ready: false, started: false, state: { terminated: { exitCode, reason, startedAt: at, finishedAt: at, containerID: previous.containerID } } };
        }),
      },
    };
  }

  private deadlineExceeded(pod: KubeObject): KubeObject {
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return pod;
    const ended = this.finished(pod, 'Failed', 137, 'Error');
    return {
      ...ended,
      status: { ...(ended.status as Record<string, unknown>), reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' },
    };
  }

  forget(uid: string): void {
    for (const timer of this.timers.get(uid) ?? []) clearTimeout(timer);
    this.timers.delete(uid);
  }

  close(): void {
    for (const uid of [...this.timers.keys()]) this.forget(uid);
  }
}
