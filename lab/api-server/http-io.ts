// Reading requests and writing answers the way the real API server does: JSON bodies with a size
// cap, protobuf refused where only JSON is understood, Status objects for errors.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest } from './status.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function timestampOf(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendStatus(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.body.code, err.body);
}

export async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the request is too large', reason: 'RequestEntityTooLarge', code: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function readBody(req: IncomingMessage): Promise<unknown> {
  const raw = await readRawBody(req);
  if ((req.headers['content-type'] ?? '').startsWith(PROTOBUF)) {
    throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the body of the request was in an unknown format - accepted media types include: application/json`, reason: 'UnsupportedMediaType', code: 415 });
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

// Kubernetes clients ask for a Table with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
export function wantsTable(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.split(',').some((part) => /;\s*as=Table/.test(part) && /g=meta\.k8s\.io/.test(part));
}

// dryRun=All: validated and admitted like a real write, never stored.
export function dryRunOf(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  if (values.some((v) => v !== 'All')) throw badRequest(`Invalid dryRun value: "${values.join(',')}". Only "All" is supported`);
  return values.length > 0;
}
