// Entry for `npm run lab:up` / `npm run lab:down`.
//   up [--nft-node lab-node-2]... [--profile NAME]... [--scale-nodes N [--scale-exec live|replay]]
//                                   tear down leftovers, build the lab, write .lab/topology.json,
//                                   start the simulated API server if lab/api-server/main.ts exists
//   down                            stop the API server, remove everything the lab made (keeps logs)
// NDLAB_NFT_NODES=lab-node-2[,lab-node-3] does the same as --nft-node, NDLAB_PROFILES=a,b as --profile,
// NDLAB_SCALE_NODES=N as --scale-nodes N: the API server adds N simulated nodes (api-server/scale.ts)
// and then runs at most NDLAB_EXEC_SLOTS exec commands at once (default 2 per core);
// NDLAB_SCALE_EXEC=replay (or --scale-exec replay) replays repeated execs per kernel (exec-replay.ts).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildLab, defaultLabDeps, labPaths, REPO_ROOT, teardownLab, type LabPaths } from './netns-lab.js';
import { isAlive, killPids, waitFor } from './lab-process.js';
import { parseProfiles, type LabProfile } from './lab-profiles.js';
import { parseScaleNodes } from './api-server/scale.js';
import { parseScaleExecMode, type ScaleExecMode } from './api-server/exec-replay.js';
import { cpus } from 'node:os';

export interface LabCliArgs {
  command: 'up' | 'down';
  nftNodes: string[];
  profiles: LabProfile[];
  scaleNodes: number;
  execSlots: number; // 0 = no bound
  scaleExec: ScaleExecMode;
}

export function parseLabCliArgs(argv: readonly string[], env: Record<string, string | undefined>): LabCliArgs {
  const [command, ...rest] = argv;
  if (command !== 'up' && command !== 'down') throw new Error(`usage: lab-cli.ts up [--nft-node NODE]... [--profile NAME]... [--scale-nodes N [--scale-exec live|replay]] | down (got ${command ?? 'nothing'})`);
  const nftNodes = (env['NDLAB_NFT_NODES'] ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const profileNames = (env['NDLAB_PROFILES'] ?? '').split(',');
  let scaleExec = parseScaleExecMode(env['NDLAB_SCALE_EXEC']);
  let scaleNodes = env['NDLAB_SCALE_NODES'] ? parseScaleNodes(env['NDLAB_SCALE_NODES'], 'NDLAB_SCALE_NODES') : 0;
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i]!;
    if (arg === '--nft-node') {
      const value = rest[i + 1];
      if (!value) throw new Error('--nft-node needs a node name');
      nftNodes.push(value);
      i += 1;
    } else if (arg.startsWith('--nft-node=')) {
      nftNodes.push(arg.slice('--nft-node='.length));
    } else if (arg === '--profile') {
      const value = rest[i + 1];
      if (!value) throw new Error('--profile needs a profile name');
      profileNames.push(value);
      i += 1;
    } else if (arg.startsWith('--profile=')) {
      profileNames.push(arg.slice('--profile='.length));
    } else if (arg === '--scale-nodes') {
      const value = rest[i + 1];
      if (value === undefined) throw new Error('--scale-nodes needs a number of nodes');
      scaleNodes = parseScaleNodes(value, '--scale-nodes');
      i += 1;
    } else if (arg === '--scale-exec' || arg.startsWith('--scale-exec=')) {
      const value = arg === '--scale-exec' ? rest[i + 1] : arg.slice('--scale-exec='.length);
      if (value === undefined) throw new Error('--scale-exec needs live or replay');
      scaleExec = parseScaleExecMode(value);
      if (arg === '--scale-exec') i += 1;
    } else if (arg.startsWith('--scale-nodes=')) {
      scaleNodes = parseScaleNodes(arg.slice('--scale-nodes='.length), '--scale-nodes');
    } else {
      throw new Error(`unknown argument ${arg}`);
    }
  }
  const slotsText = env['NDLAB_EXEC_SLOTS'];
  const execSlots = scaleNodes === 0 ? 0 : slotsText ? Number(slotsText) : 2 * Math.max(1, cpus().length);
  if (!Number.isInteger(execSlots) || execSlots < 0) throw new Error(`NDLAB_EXEC_SLOTS must be a whole number >= 0, got "${slotsText ?? ''}"`);
  return { command, nftNodes: [...new Set(nftNodes)], profiles: parseProfiles(profileNames), scaleNodes, execSlots, scaleExec };
}

// ------------------------------------------------- the one coupling with lab/api-server/

const API_SERVER_READY = /listening (https:\/\/127\.0\.0\.1:\d+)/;

/** Starts lab/api-server/main.ts detached if it exists; resolves with its URL, or null when absent. */
async function startApiServer(paths: LabPaths, scale: Pick<LabCliArgs, 'scaleNodes' | 'execSlots' | 'scaleExec'>, log: (line: string) => void): Promise<string | null> {
  const main = join(REPO_ROOT, 'lab', 'api-server', 'main.ts');
  if (!existsSync(main)) {
    log('no lab/api-server/main.ts: API server not started');
    return null;
  }
  const logFile = join(paths.labDir, 'api-server.log');
  rmSync(logFile, { force: true });
  const fd = openSync(logFile, 'a');
  const scaleArgs = scale.scaleNodes > 0 ? ['--scale-nodes', String(scale.scaleNodes), '--exec-slots', String(scale.execSlots), '--scale-exec', scale.scaleExec] : [];
  const child = spawn(process.execPath, ['--import', './test/ts-node-register.mjs', 'lab/api-server/main.ts', '--state', '.lab/topology.json', '--dir', '.lab', ...scaleArgs], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error('could not start the API server');
  writeFileSync(join(paths.labDir, 'api-server.pid'), `${child.pid}\n`);
  let url: string | null = null;
  const ready = await waitFor(() => {
    const m = API_SERVER_READY.exec(readFileSync(logFile, 'utf8'));
    if (m) url = m[1] ?? null;
    return url !== null || !isAlive(child.pid!);
  }, 20_000, 100);
  if (!ready || url === null) throw new Error(`API server did not print "listening https://127.0.0.1:PORT" within 20 s (see ${logFile})`);
  log(`API server ${url} (pid ${child.pid}, kubeconfig .lab/kubeconfig)${scale.scaleNodes > 0 ? `, ${scale.scaleNodes} simulated nodes, exec slots ${scale.execSlots || 'unbounded'}, exec ${scale.scaleExec}` : ''}`);
  return url;
}

/** Guards against a stale pid file whose PID now belongs to someone else. */
function isApiServerProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('api-server/main.ts');
  } catch {
    return false;
  }
}

async function stopApiServer(paths: LabPaths, log: (line: string) => void): Promise<void> {
  const pidFile = join(paths.labDir, 'api-server.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
  if (pid > 0 && isAlive(pid) && isApiServerProcess(pid)) {
    log(`stopping API server (pid ${pid})`);
    await killPids([pid]);
  }
  rmSync(pidFile, { force: true });
  rmSync(join(paths.labDir, 'kubeconfig'), { force: true });
}

// -------------------------------------------------

async function main(): Promise<number> {
  const deps = defaultLabDeps;
  const paths = labPaths();
  let args: LabCliArgs;
  try {
    args = parseLabCliArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('error: the lab needs root (network namespaces, iptables, cgroups)\n');
    return 2;
  }
  const started = Date.now();
  try {
    await stopApiServer(paths, deps.log);
    await teardownLab(deps, paths);
    if (args.command === 'down') {
      deps.log(`down in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }
    await buildLab({ nftNodes: args.nftNodes, profiles: args.profiles }, deps, paths);
    await startApiServer(paths, args, deps.log);
    deps.log(`up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    if (process.env['NDLAB_DEBUG']) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return 1;
  }
}

// Run only as the entry point, so tests can import parseLabCliArgs.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then((code) => {
    process.exitCode = code;
  });
}
