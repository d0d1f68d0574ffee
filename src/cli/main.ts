#!/usr/bin/env node
// Entry point: the only module that touches process.*. Builds Deps, wires signals, exits.
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { Deps } from './deps.js';
import { EXIT } from '../errors.js';
import { runCli } from './fast-path.js';

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'; // kubectl's suffix alphabet: no vowels, no look-alikes

function randomSuffix(): string {
  const bytes = randomBytes(5);
  return [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

const controller = new AbortController();
// Every concurrent probe step (watch waits, execs, each check's fan-out in smoke) listens for
// Ctrl-C on this one signal and lets go when it ends: many listeners is the design, not a leak,
// and Node's warning at 11 would land in the operator's output.
setMaxListeners(0, controller.signal);
let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals += 1;
  if (signals === 1) {
    process.stderr.write(`\n${signal}: stopping and deleting probe pods...\n`);
    controller.abort(new Error(signal));
  } else if (signals === 2) {
    // A second Ctrl-C must not strand a privileged pod: keep cleaning up.
    process.stderr.write('still deleting probe pods; press Ctrl-C once more to quit without cleanup\n');
  } else {
    process.exit(EXIT.interrupted);
  }
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// A closed terminal or a dropped ssh session (SIGHUP) must clean up too, and the writes that then
// fail (EIO/EPIPE on stderr, a closed `| head` on stdout) must not crash us before the deletes run.
process.on('SIGHUP', onSignal);
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

const deps: Deps = {
  stdout: {
    write: (t) => void process.stdout.write(t),
    isTTY: Boolean(process.stdout.isTTY),
    // Read at render time: the terminal may have been resized while the probes ran.
    get columns() {
      return process.stdout.columns;
    },
  },
  stderr: { write: (t) => void process.stderr.write(t), isTTY: Boolean(process.stderr.isTTY) },
  env: process.env,
  now: () => Date.now(),
  randomSuffix,
  randomToken: () => randomBytes(12).toString('hex'),
  signal: controller.signal,
  sleep: async (ms, signal) => {
    await sleepTimer(ms, undefined, { signal }).catch(() => undefined);
  },
  connect: async (options) => {
    // Imported lazily: client-node takes half a second to load, --help should not wait for it.
    const [{ loadKubeConfig }, { createClusterApi }] = await Promise.all([
      import('../kube/kubeconfig.js'),
      import('../kube/cluster-api.js'),
    ]);
    const kc = loadKubeConfig(options, process.env);
    return createClusterApi(kc, { requestTimeoutMs: options.requestTimeoutMs, proxyEnv: process.env });
  },
  readFile: (path) => readFile(path, 'utf8'),
  writeFile: (path, text) => writeFile(path, text),
  mkdir: async (path) => {
    await mkdir(path, { recursive: true });
  },
};

const code = await runCli(process.argv.slice(2), deps);
const finalCode = controller.signal.aborted ? EXIT.interrupted : code;
// Let stdout drain before exiting (large -o json documents into a pipe).
process.stdout.write('', () => process.exit(finalCode));
