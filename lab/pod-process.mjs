#!/usr/bin/env node
// A lab pod's "container": a tiny HTTP server that answers every request with its pod name, or
// (with no ports) a process that only waits. Runs inside the pod's network namespace, started by
// lab:up via `ip netns exec`. Usage: pod-process.mjs --pod NS/NAME [--port N]...
import { createServer } from 'node:http';

const args = process.argv.slice(2);
let podName = 'unknown';
const ports = [];
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--pod') podName = args[++i] ?? podName;
  else if (args[i] === '--port') ports.push(Number.parseInt(args[++i] ?? '', 10));
}

process.title = `pod-process ${podName}`;
for (const port of ports) {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-pod-name': podName });
    res.end(`${podName}\n`);
  });
  server.on('error', (err) => {
    process.stderr.write(`${podName}: cannot listen on ${port}: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(port, '0.0.0.0', () => process.stdout.write(`${podName} listening on :${port}\n`));
}
// Keep the event loop alive even with no listener ("sleep"-like pods).
setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
