import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { httpRequestDuration } from '@tessera/observability';

/** What a direct route answers: status, extra headers, and a JSON body. */
export interface DirectResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface DirectPost {
  /** Largest body read, in bytes: beyond it the answer is 413 (as Fastify's bodyLimit). */
  bodyLimit: number;
  post: (req: IncomingMessage, body: Buffer | undefined) => Promise<DirectResponse>;
}

interface DirectGet {
  /** `query` is the raw query string, without the `?` ('' when there is none). */
  get: (req: IncomingMessage, query: string) => Promise<DirectResponse>;
}

/** A path served directly: POST (with its body limit), GET, or both; OPTIONS optionally. */
export type DirectRoute = (DirectPost | DirectGet) & {
  options?: (req: IncomingMessage) => DirectResponse;
};

const TOO_LARGE: DirectResponse = { status: 413, body: { success: false, statusCode: 413, message: 'the request body is too large' } };
// The routes map their own errors; reaching these is a bug, and the caller may retry.
const POST_FAILED: DirectResponse = { status: 503, headers: { 'retry-after': '1' }, body: { success: false, statusCode: 503, message: 'temporarily unable to store events; retry' } };
const GET_FAILED: DirectResponse = { status: 503, headers: { 'retry-after': '1' }, body: { statusCode: 503, error: 'Service Unavailable', message: 'Temporarily unavailable; retry shortly' } };
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Serves a few hot paths (POSTs with a body, GETs with a query string) straight from node:http,
 * ahead of Fastify: Nest's middleware and its hooks run for every Fastify route, even one
 * registered on Fastify directly, and on a single small tracking call they cost more than the
 * call's own work (profiled: ~25% of the service's CPU, plus Fastify's per-request AsyncResource
 * for body parsing). Every other request, and other methods on these paths, go to Fastify
 * unchanged. The OpenTelemetry HTTP instrumentation wraps the server's 'request' event, so these
 * requests keep their one server span.
 */
export function serveDirect(server: Server, routes: ReadonlyMap<string, DirectRoute>): void {
  const fallback = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const route = routes.get(path);
    if (route && 'post' in route && req.method === 'POST') return void handlePost(route, path, req, res);
    if (route && 'get' in route && req.method === 'GET') return void handleGet(route, path, q === -1 ? '' : url.slice(q + 1), req, res);
    if (route?.options && req.method === 'OPTIONS') return respond(req, res, path, performance.now(), route.options(req));
    for (const listener of fallback) listener.call(server, req, res);
  });
}

async function handleGet(route: DirectGet, path: string, query: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  let answer: DirectResponse;
  try {
    answer = await route.get(req, query);
  } catch {
    answer = GET_FAILED;
  }
  respond(req, res, path, started, answer);
}

async function handlePost(route: DirectPost, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const declared = req.headers['content-length'];
  // Refused before reading, like Fastify; node discards the unread body after the answer.
  if (declared !== undefined && Number(declared) > route.bodyLimit) return respond(req, res, path, started, TOO_LARGE);
  const body = await readBody(req, route.bodyLimit);
  if (body === 'aborted') return;
  if (body === 'too-large') return respond(req, res, path, started, TOO_LARGE);
  let answer: DirectResponse;
  try {
    answer = await route.post(req, body);
  } catch {
    answer = POST_FAILED;
  }
  respond(req, res, path, started, answer);
}

/** The whole body (undefined when empty), or why there is none to use. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limit) {
        req.removeListener('data', onData);
        req.removeListener('end', onEnd);
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => resolve(length === 0 ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => resolve('aborted'));
  });
}

function respond(req: IncomingMessage, res: ServerResponse, path: string, started: number, answer: DirectResponse): void {
  if (res.writableEnded || res.destroyed) return;
  const text = answer.body === undefined ? undefined : JSON.stringify(answer.body);
  const headers: Record<string, string | number> = { ...answer.headers };
  if (text !== undefined) {
    headers['content-type'] = JSON_TYPE;
    headers['content-length'] = Buffer.byteLength(text);
  }
  res.writeHead(answer.status, headers);
  res.end(text);
  httpRequestDuration.observe({ method: req.method ?? 'POST', route: path, status: String(answer.status) }, (performance.now() - started) / 1000);
}
