import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, withSpan } from '@tessera/observability';
import { testSpanExporter } from '@tessera/testing';
import { ProviderError } from './errors';
import { callVendor } from './http';

describe('callVendor', () => {
  let server: http.Server;
  let base: string;
  const describeError = ({ text }: { text: string }): { reason: string } => ({ reason: `vendor said: ${text}` });

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url === '/slow') return void setTimeout(() => res.end('late'), 1000);
        if (req.url === '/down') return void res.writeHead(503).end('maintenance');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echoed: JSON.parse(body), key: req.headers['idempotency-key'], traceparent: req.headers.traceparent ?? null }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the body and headers, and parses a JSON answer', async () => {
    const answer = await callVendor({ url: `${base}/ok`, headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' }, body: '{"ü":1}', timeoutMs: 2000 }, describeError);
    expect(answer).toMatchObject({ status: 200, json: { echoed: { ü: 1 }, key: 'k1' } });
  });

  it('turns a 5xx, a timeout and a refused connection into transient errors with their reason', async () => {
    const failure = (url: string, timeoutMs = 2000): Promise<unknown> => callVendor({ url, headers: {}, body: '{}', timeoutMs }, describeError).catch((e: unknown) => e);
    expect(await failure(`${base}/down`)).toMatchObject({ kind: 'transient', reason: 'vendor said: maintenance', details: { status: 503 } });
    expect(await failure(`${base}/slow`, 100)).toMatchObject({ kind: 'transient', reason: 'timeout after 100 ms' });
    const refused = await failure('http://127.0.0.1:1/x');
    expect(refused).toBeInstanceOf(ProviderError);
    expect(refused).toMatchObject({ kind: 'transient', reason: expect.stringMatching(/^connection failed: .*ECONNREFUSED/) });
  });

  it('keeps our trace to ourselves: no traceparent to the vendor, no http client span (the send service records one span per provider)', async () => {
    const answer = await withSpan('send', SpanKind.CLIENT, {}, () => callVendor({ url: `${base}/traced`, headers: {}, body: '{}', timeoutMs: 2000 }, describeError));
    expect(answer.json).toMatchObject({ traceparent: null });
    expect(testSpanExporter.getFinishedSpans().filter((s) => s.attributes['url.full'] === `${base}/traced` || s.attributes['http.url'] === `${base}/traced`)).toEqual([]);
  });
});
