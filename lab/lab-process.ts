// The lab's long-lived processes: pod "containers", node "init" processes and DNS servers. Each is
// started detached (its own session, survives lab-cli) through `ip netns exec`, which also binds
// /etc/netns/<netns>/* over /etc in the process's own mount view. Pod processes are then moved into
// the cgroup containerd + systemd would give them, so `grep -l <containerId> /proc/*/cgroup`
// finds exactly that process.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QosClass } from './lab-topology.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
export const KUBEPODS_SLICE = 'kubepods.slice';

/** Start `FILE ARGS` inside NETNS, detached, output appended to logPath. Resolves with its PID. */
export function spawnDetachedIn(netns: string, file: string, args: readonly string[], logPath: string): number {
  const fd = openSync(logPath, 'a');
  try {
    // `ip netns exec` execs the program in place, so the PID we get is the program's own.
    const child = spawn('ip', ['netns', 'exec', netns, file, ...args], { detached: true, stdio: ['ignore', fd, fd] });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${file} in ${netns}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** The cgroup hierarchies to place processes in: pids + name=systemd + unified on v1 hybrid, or the v2 root. */
export function cgroupHierarchies(): string[] {
  const v1 = ['pids', 'systemd', 'unified'].map((h) => join(CGROUP_ROOT, h)).filter((dir) => existsSync(join(dir, 'cgroup.procs')));
  if (v1.length > 0) return v1;
  return existsSync(join(CGROUP_ROOT, 'cgroup.procs')) ? [CGROUP_ROOT] : [];
}

/** The container runtime whose cgroup naming the lab copies (the crio profile switches it). */
export type LabRuntime = 'containerd' | 'crio';

/** kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid with _>.slice: the systemd driver's pod slice. */
export function podSlicePath(qosClass: QosClass, podUid: string): string {
  const uid = podUid.replaceAll('-', '_');
  return join(KUBEPODS_SLICE, `kubepods-${qosClass}.slice`, `kubepods-${qosClass}-pod${uid}.slice`);
}

/**
 * The systemd-driver cgroup of a container, relative to a hierarchy root: <pod slice>/
 * cri-containerd-<id>.scope (containerd) or crio-<id>.scope (CRI-O: cri-o/cri-o
 * internal/config/cgmgr/systemd_linux.go, "crio" prefix + ":" + id -> crio-<id>.scope).
 */
export function containerCgroupPath(qosClass: QosClass, podUid: string, containerId: string, runtime: LabRuntime = 'containerd'): string {
  const prefix = runtime === 'crio' ? 'crio' : 'cri-containerd';
  return join(podSlicePath(qosClass, podUid), `${prefix}-${containerId}.scope`);
}

/**
 * CRI-O's container monitor: conmon runs in crio-conmon-<id>.scope under the pod slice
 * (conmon_cgroup = "pod"; MoveConmonToCgroup in cri-o internal/config/cgmgr/systemd_linux.go),
 * in the node's network namespace.
 */
export function conmonCgroupPath(qosClass: QosClass, podUid: string, containerId: string): string {
  return join(podSlicePath(qosClass, podUid), `crio-conmon-${containerId}.scope`);
}

export function placeInCgroup(pid: number, relativePath: string): void {
  for (const hierarchy of cgroupHierarchies()) {
    const dir = join(hierarchy, relativePath);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`);
  }
}

function cgroupTreeDirs(dir: string): string[] {
  // Depth-first, children before parents, so rmdir can go in order.
  const out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const child = join(dir, name);
    try {
      if (statSync(child).isDirectory()) out.push(...cgroupTreeDirs(child));
    } catch {
      /* vanished */
    }
  }
  out.push(dir);
  return out;
}

/** PIDs still inside the lab's kubepods.slice in any hierarchy (leftovers of a crashed run). */
export function pidsInLabCgroups(): number[] {
  const pids = new Set<number>();
  for (const hierarchy of cgroupHierarchies()) {
    for (const dir of cgroupTreeDirs(join(hierarchy, KUBEPODS_SLICE))) {
      try {
        for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
          const pid = Number.parseInt(line, 10);
          if (pid > 0) pids.add(pid);
        }
      } catch {
        /* not a cgroup dir or gone */
      }
    }
  }
  return [...pids];
}

/** Removes the lab's cgroup trees (they must be empty: kill the processes first). Returns failures. */
export function removeLabCgroups(): string[] {
  const failures: string[] = [];
  for (const hierarchy of cgroupHierarchies()) {
    const root = join(hierarchy, KUBEPODS_SLICE);
    if (!existsSync(root)) continue;
    for (const dir of cgroupTreeDirs(root)) {
      try {
        rmdirSync(dir);
      } catch (err) {
        failures.push(`${dir}: ${(err as Error).message}`);
      }
    }
  }
  return failures;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** SIGTERM, then SIGKILL whatever is still there after graceMs. */
export async function killPids(pids: readonly number[], graceMs = 1500): Promise<void> {
  const own = process.pid;
  const targets = pids.filter((p) => p > 1 && p !== own);
  for (const pid of targets) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && targets.some(isAlive)) await sleep(50);
  for (const pid of targets.filter(isAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const hardDeadline = Date.now() + 2000;
  while (Date.now() < hardDeadline && targets.some(isAlive)) await sleep(20);
}

/** True when the process (in its own netns) has a listening socket on port: read from /proc/PID/net. */
export function isListening(pid: number, port: number, protocol: 'TCP' | 'UDP'): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const file = protocol === 'TCP' ? 'tcp' : 'udp';
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
  } catch {
    return false;
  }
  // Columns: sl local_address rem_address st ...; TCP LISTEN is st 0A, a bound UDP socket is 07.
  const wantState = protocol === 'TCP' ? '0A' : '07';
  return text
    .split('\n')
    .slice(1)
    .some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols[1]?.endsWith(`:${hexPort}`) === true && cols[3] === wantState;
    });
}

export async function waitFor(check: () => boolean, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}
