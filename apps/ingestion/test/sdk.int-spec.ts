import { Analytics } from '@segment/analytics-node';
import fc from 'fast-check';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_RECEIVED_V1, IDENTIFY_RECEIVED_V1 } from '@tessera/contracts';
import { basic, startIngestion, waitFor, WRITE_KEY, type Harness } from './helpers';

/**
 * A proxy in front of ingestion that forwards the first `failFirst` requests but answers 503, as
 * if the connection broke after the events were stored: the SDK retries them, ingestion must not
 * store them twice.
 */
async function flakyProxy(target: string, failFirst: number): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = ++count;
      void fetch(`${target}${req.url}`, { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json', authorization: req.headers.authorization ?? '', ...(req.headers['content-encoding'] ? { 'content-encoding': req.headers['content-encoding'] } : {}) }, body: Buffer.concat(chunks) }).then(
        async (upstream) => {
          const text = await upstream.text();
          res.writeHead(n <= failFirst ? 503 : upstream.status, { 'content-type': 'application/json' }).end(n <= failFirst ? '{"success":false}' : text);
        },
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests: () => count, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('Segment SDK and hostile input', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startIngestion('ingsdk');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('stores every event of @segment/analytics-node exactly once, through its retries', async () => {
    const proxy = await flakyProxy(h.ingestion.url, 2);
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: proxy.url, maxEventsInBatch: 10, flushInterval: 20, maxRetries: 5 });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));
    analytics.identify({ userId: 'sdk-user', traits: { email: 'sdk@example.com', plan: 'pro' } });
    for (let i = 0; i < 25; i++) analytics.track({ userId: 'sdk-user', event: 'Item Viewed', properties: { i, name: 'Zoë ✓' } });
    analytics.page({ anonymousId: 'sdk-anon', name: 'Pricing' });
    await analytics.closeAndFlush({ timeout: 20_000 });
    await proxy.close();
    expect(errors).toEqual([]);
    expect(proxy.requests()).toBeGreaterThan(3);
    await waitFor(async () => (await h.stored()).length >= 27);
    const stored = await h.stored();
    const ids = stored.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(stored.filter((e) => e.subject === EVENT_RECEIVED_V1.subject && (e.data as { name?: string }).name === 'Item Viewed')).toHaveLength(25);
    expect(stored.filter((e) => e.subject === IDENTIFY_RECEIVED_V1.subject)).toHaveLength(1);
    expect(stored).toHaveLength(27);
    expect((stored.find((e) => (e.data as { properties?: { i?: number } }).properties?.i === 3)!.data as { properties: unknown }).properties).toEqual({ i: 3, name: 'Zoë ✓' });
  });

  it('answers every generated request with a 2xx or a clear 4xx, never a 5xx', async () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    const valid = fc.record({ type: fc.constant('track'), userId: fc.string({ minLength: 1, maxLength: 40 }), event: fc.constantFrom('Signed Up', 'Order Completed'), properties: fc.dictionary(fc.string(), json), messageId: fc.uuid() });
    const item = fc.oneof(
      valid,
      json,
      fc.record({ type: fc.constantFrom('track', 'identify', 'page', 'screen', 'group', 'alias', 'x'), userId: fc.oneof(fc.string(), fc.integer(), json), anonymousId: fc.option(fc.string()), event: fc.option(fc.string()), messageId: fc.option(fc.string()), timestamp: fc.option(fc.oneof(fc.string(), fc.integer())), sentAt: fc.option(fc.string()), properties: json, traits: json, context: json, groupId: fc.option(fc.string()), previousId: fc.option(fc.string()) }, { requiredKeys: [] }),
    );
    const body = fc.oneof(
      valid.map((v) => JSON.stringify(v)),
      fc.record({ batch: fc.array(item, { maxLength: 8 }), sentAt: fc.option(fc.string()) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
      item.map((i) => JSON.stringify(i) ?? 'null'),
      fc.string(),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('latin1')),
    );
    const request = fc.record({
      path: fc.constantFrom('/v1/batch', '/v1/batch', '/v1/track', '/v1/b', '/v1/track', '/v1/t', '/v1/identify', '/v1/page', '/v1/group', '/v1/alias', '/v1/screen', '/v1/webhooks/stripe/00000000-0000-4000-8000-000000000002', '/v1/webhooks/x/y'),
      body,
      contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', '', 'application/json; charset=utf-8'),
      gzip: fc.boolean(),
      auth: fc.constantFrom(basic(WRITE_KEY), basic(WRITE_KEY), basic('nope-nope-nope-nope'), 'Basic !!!', 'Bearer x', ''),
    });
    let statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const payload = r.gzip ? gzipSync(Buffer.from(r.body, 'latin1')) : Buffer.from(r.body, 'latin1');
        const headers: Record<string, string> = { ...(r.contentType ? { 'content-type': r.contentType } : {}), ...(r.gzip ? { 'content-encoding': 'gzip' } : {}), ...(r.auth ? { authorization: r.auth } : {}) };
        const response = await fetch(`${h.ingestion.url}${r.path}`, { method: 'POST', headers, body: payload });
        const answer = (await response.json().catch(() => undefined)) as { success?: boolean } | undefined;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status).toBeLessThan(500);
        expect(answer).toBeDefined();
        if (response.status === 200) expect(answer!.success).toBe(true);
      }),
      { numRuns: 200 },
    );
    // The generator reaches both outcomes.
    statuses = new Map([...statuses].sort());
    expect([...statuses.keys()]).toEqual(expect.arrayContaining([200, 400, 401]));
  });
});
