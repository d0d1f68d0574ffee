// pods/exec over websocket (the channel.k8s.io family of subprotocols): runs the argv in the
// node's namespaces with nsenter and streams its output as channel-prefixed binary frames, with
// backpressure so a 50 MB iptables dump never sits whole in memory.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { WebSocket } from 'ws';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'] as const;
export type ExecProtocol = (typeof EXEC_PROTOCOLS)[number];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

// Pause the child's pipes while this much is queued on the socket.
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
const LOW_WATER_BYTES = 1024 * 1024;

export interface ExecRequest {
  argv: string[];
  stdin: boolean;
  initPid: number; // node's "PID 1"; 0 = test-only path: run directly on the host
  probePath?: string; // PATH of the probe "image" (prepareProbeImage); default: the server's own
  containerEnv?: Record<string, string>; // the container's env from the pod spec
  protocol: ExecProtocol;
  dropAfterBytes: number | null;
  startDelayMs?: number; // fault execDelayMs: the command starts this late (a long-running script)
}

// The probe image is Alpine with busybox (netshoot): its shell and small tools are busybox applets
// and the rest are the real packages netshoot installs. The lab's "image" is this machine's
// filesystem with a directory of busybox applet links first on PATH; the applets that netshoot
// replaces with real packages (iproute2, util-linux, iputils, netcat-openbsd, bind-tools,
// bridge-utils) are left out, so those resolve to Debian's real tools further down PATH.
export const REAL_TOOLS_IN_PROBE_IMAGE = new Set([
  'ip', 'nsenter', 'unshare', 'setpriv', 'mount', 'umount', 'losetup', 'hexdump', 'more',
  'ping', 'ping6', 'arping', 'nc', 'nslookup', 'brctl',
]);
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Creates DIR/probe-image/bin (busybox applet links) and returns the probe's PATH. Throws when busybox is missing. */
export function prepareProbeImage(dir: string): string {
  let busybox: string;
  let applets: string[];
  try {
    busybox = execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim();
    applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').map((a) => a.trim()).filter((a) => /^[a-z0-9][a-z0-9_.+-]*$/.test(a));
  } catch {
    throw new Error('busybox is not installed: the lab runs the node script under busybox sh as the Alpine probe image does (apt-get install busybox, or bash scripts/setup.sh)');
  }
  const bin = join(dir, 'probe-image', 'bin');
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin, { recursive: true });
  for (const applet of applets) {
    if (REAL_TOOLS_IN_PROBE_IMAGE.has(applet)) continue;
    symlinkSync(busybox, join(bin, applet));
  }
  return `${bin}:${SYSTEM_PATH}`;
}

/** The busybox binary behind DIR/probe-image/bin/sh, or null (for tests and checks). */
export function probeImageShell(dir: string): string | null {
  const sh = join(dir, 'probe-image', 'bin', 'sh');
  return existsSync(sh) ? readlinkSync(sh) : null;
}

// nsenter into the node's network namespace only, as a hostNetwork/hostPID container is: its
// mount view is the probe image's (here this machine's, busybox first on PATH), not the node's.
// The probe script reads NETDIAG_HOST_PID as its stand-in for PID 1.
export function buildExecCommand(argv: readonly string[], initPid: number, probePath?: string): { file: string; args: string[]; env: Record<string, string> } {
  const [first = '', ...rest] = argv;
  const path: Record<string, string> = probePath ? { PATH: probePath } : {};
  if (initPid > 0) return { file: 'nsenter', args: ['-t', String(initPid), '-n', '--', ...argv], env: { NETDIAG_HOST_PID: String(initPid), ...path } };
  return { file: first, args: rest, env: { NETDIAG_HOST_PID: '1', ...path } };
}

export function buildExitStatus(argv: readonly string[], exitCode: number | null, signal: NodeJS.Signals | null): Record<string, unknown> {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  const code = exitCode ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

function frame(channel: number, data: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(payload.length + 1);
  out[0] = channel;
  payload.copy(out, 1);
  return out;
}

export async function runExecSession(ws: WebSocket, request: ExecRequest): Promise<void> {
  if (request.startDelayMs && request.startDelayMs > 0) {
    // The session is open but nothing runs yet; a client that hangs up meanwhile ends it.
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        ws.off('close', onClose);
        resolve(false);
      }, request.startDelayMs);
      const onClose = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      ws.once('close', onClose);
    });
    if (closed || ws.readyState !== ws.OPEN) return;
  }
  return runExecCommand(ws, request);
}

function runExecCommand(ws: WebSocket, request: ExecRequest): Promise<void> {
  return new Promise((resolve) => {
    const { file, args, env: execEnv } = buildExecCommand(request.argv, request.initPid, request.probePath);
    const env = { ...request.containerEnv, ...execEnv };
    let child: ChildProcess;
    let queued = 0;
    let sent = 0;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      resolve();
    };
    const killChild = (): void => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL'); // the whole group: a shell's children too
        } catch {
          child.kill('SIGKILL');
        }
      }
    };
    const sendStatus = (status: Record<string, unknown>): void => {
      if (ws.readyState !== ws.OPEN) return;
      const body = request.protocol === 'channel.k8s.io' ? (status.status === 'Success' ? '' : String(status.message)) : JSON.stringify(status);
      if (body !== '') ws.send(frame(ERROR, body));
      ws.close(1000);
    };

    try {
      child = spawn(file, args, { env: { ...process.env, ...env }, stdio: [request.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      sendStatus({ metadata: {}, status: 'Failure', message: `failed to start command: ${(err as Error).message}`, reason: 'InternalError' });
      finish();
      return;
    }

    const forward = (channel: number) => (chunk: Buffer): void => {
      if (ws.readyState !== ws.OPEN) return;
      let data = chunk;
      if (request.dropAfterBytes !== null && sent + data.length > request.dropAfterBytes) {
        // Fault: the connection dies mid-stream, as when an apiserver or kubelet restarts.
        data = data.subarray(0, Math.max(0, request.dropAfterBytes - sent));
        if (data.length > 0) ws.send(frame(channel, data));
        ws.terminate();
        killChild();
        return;
      }
      sent += data.length;
      queued += data.length;
      ws.send(frame(channel, data), () => {
        queued -= data.length;
        if (queued < LOW_WATER_BYTES) {
          child.stdout?.resume();
          child.stderr?.resume();
        }
      });
      if (queued > HIGH_WATER_BYTES) {
        child.stdout?.pause();
        child.stderr?.pause();
      }
    };
    child.stdout?.on('data', forward(STDOUT));
    child.stderr?.on('data', forward(STDERR));
    child.stdin?.on('error', () => undefined); // the command may exit without reading stdin

    child.on('error', (err: NodeJS.ErrnoException) => {
      // spawn failure (ENOENT): the real kubelet reports it as a failed exec, not an exit code.
      sendStatus({
        metadata: {}, status: 'Failure', reason: 'InternalError',
        message: `Internal error occurred: error executing command in container: failed to exec in container: starting container process caused: exec: "${request.argv[0] ?? ''}": ${err.code === 'ENOENT' ? 'executable file not found in $PATH' : err.message}`,
      });
      finish();
    });
    // 'close' fires after the pipes are drained, so every output frame precedes the status.
    child.on('close', (code, signal) => {
      sendStatus(buildExitStatus(request.argv, code, signal));
      finish();
    });

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const buf = isBinary ? data : Buffer.from(data);
      if (buf.length === 0) return;
      const channel = buf[0];
      if (channel === STDIN) child.stdin?.write(buf.subarray(1));
      else if (channel === CLOSE && buf[1] === STDIN) child.stdin?.end();
      else if (channel === RESIZE) return; // no TTY in the lab
    });
    ws.on('close', () => {
      killChild();
      finish();
    });
    ws.on('error', () => killChild());
  });
}
