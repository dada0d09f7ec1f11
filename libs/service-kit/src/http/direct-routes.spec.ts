import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveDirect, type DirectRoute } from './direct-routes';

describe('serveDirect', () => {
  let server: Server;
  let port: number;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  /** One request on the shared keep-alive socket; `chunks` sends the body without a content-length. */
  const call = (method: string, path: string, body?: string, chunks?: string[]): Promise<{ status: number; body: string; headers: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent, headers: body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
      });
      req.on('error', reject);
      if (chunks) {
        for (const c of chunks) req.write(c);
        req.end();
      } else req.end(body);
    });

  beforeAll(async () => {
    // The framework's listener: whatever the direct routes do not take.
    server = createServer((_req, res) => res.writeHead(404).end('fallback'));
    serveDirect(
      server,
      new Map<string, DirectRoute>([
        [
          '/v1/echo',
          {
            bodyLimit: 16,
            post: async (_req, body) => ({ status: 200, headers: { 'x-seen': String(body?.length ?? 0) }, body: { got: body?.toString() ?? null } }),
            options: () => ({ status: 204, headers: { 'access-control-allow-origin': '*' } }),
          },
        ],
        ['/v1/broken', { bodyLimit: 16, post: () => Promise.reject(new Error('bug')) }],
        ['/v1/find', { get: async (_req, query) => (query === 'fail' ? Promise.reject(new Error('bug')) : { status: query ? 200 : 404, body: { query } }) }],
      ]),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers POSTs on its paths with JSON, query strings ignored, and passes everything else on', async () => {
    const ok = await call('POST', '/v1/echo?x=1', 'hello');
    expect(ok).toMatchObject({ status: 200, body: '{"got":"hello"}' });
    expect(ok.headers).toMatchObject({ 'x-seen': '5', 'content-type': 'application/json; charset=utf-8' });
    expect(await call('POST', '/v1/echo', '')).toMatchObject({ status: 200, body: '{"got":null}' });
    expect(await call('OPTIONS', '/v1/echo')).toMatchObject({ status: 204, headers: { 'access-control-allow-origin': '*' } });
    expect(await call('GET', '/v1/echo')).toMatchObject({ status: 404, body: 'fallback' });
    expect(await call('POST', '/v1/other', 'x')).toMatchObject({ status: 404, body: 'fallback' });
  });

  it('refuses bodies over the limit, declared or streamed, and keeps serving on the same connection', async () => {
    expect(await call('POST', '/v1/echo', 'x'.repeat(17))).toMatchObject({ status: 413, body: expect.stringContaining('too large') });
    expect(await call('POST', '/v1/echo', undefined, ['x'.repeat(10), 'x'.repeat(10)])).toMatchObject({ status: 413 });
    expect(await call('POST', '/v1/echo', undefined, ['ab', 'cd'])).toMatchObject({ status: 200, body: '{"got":"abcd"}' });
  });

  it('answers GETs on their paths with the raw query string, and passes other methods on', async () => {
    expect(await call('GET', '/v1/find?email=a%40b.c&x=1')).toMatchObject({ status: 200, body: '{"query":"email=a%40b.c&x=1"}' });
    expect(await call('GET', '/v1/find')).toMatchObject({ status: 404, body: '{"query":""}' });
    expect(await call('POST', '/v1/find', 'x')).toMatchObject({ status: 404, body: 'fallback' });
    expect(await call('GET', '/v1/find?fail')).toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
  });

  it('answers 503 with Retry-After when a route fails unexpectedly, so senders retry', async () => {
    expect(await call('POST', '/v1/broken', '{}')).toMatchObject({ status: 503, headers: { 'retry-after': '1' } });
  });
});
