// Exec replay for scaled labs (`lab:up --scale-nodes N` with NDLAB_SCALE_EXEC=replay): a thousand
// sim nodes map onto three kernels, and running the node script a thousand times on two cores
// measures the lab's CPU, not the client. In replay mode the first exec of a command on a real
// node runs live and its frames are recorded; a later exec of the same command in the same
// kernel (same init PID, container env, protocol, argv) gets the recording back, with the one
// kind of argument that may differ rewritten in the output: a nonce (16+ hex digits, such as the
// per-run token that frames the node script's sections). Any other difference runs live.
// Replays are counted in /lab/stats (execSessions.replayed), so a benchmark says what it measured.

import { createHash } from 'node:crypto';
import type { WebSocket } from 'ws';
import { runExecSession, type ExecRequest } from './exec.js';
import type { ExecSlots } from './scale.js';

export type ScaleExecMode = 'live' | 'replay';

const NONCE = /^[0-9a-f]{16,}$/i;
const MAX_RECORDINGS_PER_KEY = 4;

export interface ExecIdentity {
  initPid: number;
  protocol: string;
  argv: readonly string[];
  env: Record<string, string>;
}

interface Recording {
  argv: string[];
  frames: Buffer[]; // channel byte + payload; consecutive frames of one channel merged
}

export function parseScaleExecMode(text: string | undefined): ScaleExecMode {
  if (text === undefined || text === '' || text === 'live') return 'live';
  if (text === 'replay') return 'replay';
  throw new Error(`NDLAB_SCALE_EXEC must be "live" or "replay", got "${text}"`);
}

function keyOf(id: ExecIdentity): string {
  const env = createHash('sha256').update(JSON.stringify(Object.entries(id.env).sort(([a], [b]) => a.localeCompare(b)))).digest('hex');
  return `${id.initPid}\u0000${id.protocol}\u0000${env}\u0000${id.argv.length}`;
}

/**
 * The rewrites that turn `recorded` into `wanted` (argv of equal length), or null when they differ
 * in anything but nonces.
 */
export function nonceRewrites(recorded: readonly string[], wanted: readonly string[]): Array<[string, string]> | null {
  if (recorded.length !== wanted.length) return null;
  const rewrites: Array<[string, string]> = [];
  for (let i = 0; i < recorded.length; i += 1) {
    const from = recorded[i] ?? '';
    const to = wanted[i] ?? '';
    if (from === to) continue;
    if (!NONCE.test(from) || !NONCE.test(to)) return null;
    rewrites.push([from, to]);
  }
  return rewrites;
}

export function rewriteFrame(frame: Buffer, rewrites: ReadonlyArray<[string, string]>): Buffer {
  if (rewrites.length === 0) return frame;
  let payload = frame.subarray(1).toString('latin1'); // byte-preserving; nonces are ASCII
  for (const [from, to] of rewrites) payload = payload.split(from).join(to);
  return Buffer.concat([frame.subarray(0, 1), Buffer.from(payload, 'latin1')]);
}

/** Appends a frame, merging it into the last one when it is on the same channel (a nonce split across chunks joins up). */
export function appendFrame(frames: Buffer[], frame: Buffer): void {
  const last = frames[frames.length - 1];
  if (last !== undefined && frame.length > 0 && last[0] === frame[0]) frames[frames.length - 1] = Buffer.concat([last, frame.subarray(1)]);
  else frames.push(Buffer.from(frame));
}

export class ExecReplay {
  private readonly recordings = new Map<string, Recording[]>();

  find(id: ExecIdentity): { frames: Buffer[]; rewrites: Array<[string, string]> } | null {
    for (const rec of this.recordings.get(keyOf(id)) ?? []) {
      const rewrites = nonceRewrites(rec.argv, id.argv);
      if (rewrites) return { frames: rec.frames, rewrites };
    }
    return null;
  }

  /** Copies every frame the server sends on `ws`; kept only when the server closed it normally. */
  record(id: ExecIdentity, ws: WebSocket): void {
    const frames: Buffer[] = [];
    const send = ws.send.bind(ws) as (data: Buffer, cb?: (err?: Error) => void) => void;
    (ws as unknown as { send: typeof send }).send = (data: Buffer, cb?: (err?: Error) => void) => {
      if (Buffer.isBuffer(data)) appendFrame(frames, data);
      send(data, cb);
    };
    const close = ws.close.bind(ws);
    (ws as unknown as { close: (code?: number) => void }).close = (code?: number) => {
      if (code === 1000) {
        const key = keyOf(id);
        const list = this.recordings.get(key) ?? [];
        if (list.length < MAX_RECORDINGS_PER_KEY) this.recordings.set(key, [...list, { argv: [...id.argv], frames }]);
      }
      close(code);
    };
  }

  /** Sends a recording as the live command would have, then closes like exec.ts does. */
  static replay(ws: WebSocket, frames: readonly Buffer[], rewrites: ReadonlyArray<[string, string]>): void {
    if (ws.readyState !== ws.OPEN) return;
    for (const frame of frames) ws.send(rewriteFrame(frame, rewrites));
    ws.close(1000);
  }
}

export interface ScaledExecContext {
  slots: ExecSlots;
  replay: ExecReplay | null; // null: live only
  onReplay: () => void;
}

/**
 * One exec session under the scale settings: a replay when one fits (no slot needed), otherwise
 * the live command once a slot is free (recorded for later replays). Faults that shape a live
 * stream (dropExecAfterBytes, execDelayMs) and stdin always run live.
 */
export async function runScaledExec(ws: WebSocket, request: ExecRequest, ctx: ScaledExecContext): Promise<void> {
  const id: ExecIdentity = { initPid: request.initPid, protocol: request.protocol, argv: request.argv, env: request.containerEnv ?? {} };
  const replay = !request.stdin && request.dropAfterBytes === null && !request.startDelayMs ? ctx.replay : null;
  const replayIfRecorded = (): boolean => {
    const hit = replay?.find(id);
    if (!hit) return false;
    ctx.onReplay();
    ExecReplay.replay(ws, hit.frames, hit.rewrites);
    return true;
  };
  if (replayIfRecorded()) return;
  const release = await ctx.slots.acquire();
  try {
    // A queued session whose client hung up never starts (nothing would kill its command).
    if (ws.readyState !== ws.OPEN || replayIfRecorded()) return;
    replay?.record(id, ws);
    await runExecSession(ws, request);
  } finally {
    release();
  }
}
