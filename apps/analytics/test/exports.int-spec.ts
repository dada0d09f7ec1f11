import aws4 from 'aws4';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_STATUS_CHANGED_V1, SEGMENTATION_EVENTS, MEMBERSHIP_ENTERED_V1, type EventEnvelope } from '@tessera/contracts';
import { startHarness, waitFor, type Harness } from './harness';

const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A webhook receiver that checks the HMAC signature and fails its first `failFirst` calls. */
function webhookReceiver(secret: string, failFirst: number): { server: Server; ids: Set<string>; calls: () => number; badSignatures: () => number } {
  const ids = new Set<string>();
  let calls = 0;
  let bad = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const body = (await readBody(req)).toString();
      calls++;
      const [t, v1] = String(req.headers['x-tessera-signature']).split(',').map((p) => p.split('=')[1]);
      const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
      if (v1 !== expected) {
        bad++;
        res.writeHead(401).end('bad signature');
        return;
      }
      if (calls <= failFirst) {
        res.writeHead(503).end('try later');
        return;
      }
      for (const e of (JSON.parse(body) as { events: { id: string }[] }).events) ids.add(e.id);
      res.writeHead(200).end('ok');
    })();
  });
  return { server, ids, calls: () => calls, badSignatures: () => bad };
}

const CREDS = { accessKeyId: 'AKIATESSERATEST', secretAccessKey: 'fake-s3-secret-key-for-tests' };

/** A small S3 stand-in: checks the SigV4 Authorization (recomputed with aws4) and stores objects. */
function fakeS3(): { server: Server; objects: Map<string, string>; rejected: () => number } {
  const objects = new Map<string, string>();
  let rejected = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const auth = String(req.headers.authorization ?? '');
      const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth);
      const signed = m?.[4]?.split(';') ?? [];
      const headers = Object.fromEntries(signed.filter((h) => h !== 'host' && h !== 'content-length').map((h) => [h, String(req.headers[h])]));
      const expected = m ? aws4.sign({ host: req.headers.host, method: req.method, path: req.url, service: 's3', region: m[3], body, headers }, CREDS) : undefined;
      if (!m || m[1] !== CREDS.accessKeyId || (expected?.headers as Record<string, string> | undefined)?.['Authorization'] !== auth) {
        rejected++;
        res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>SignatureDoesNotMatch</Code></Error>');
        return;
      }
      if (req.method !== 'PUT') return void res.writeHead(405).end();
      objects.set(req.url!, body.toString());
      res.writeHead(200, { etag: '"x"' }).end();
    })();
  });
  return { server, objects, rejected: () => rejected };
}

describe('exports', () => {
  let h: Harness;
  const servers: Server[] = [];
  const sent = (when = '2026-11-15T10:00:00.000Z'): EventEnvelope =>
    h.envelope(MESSAGE_STATUS_CHANGED_V1.subject, { messageId: randomUUID(), contactId: randomUUID(), channel: 'email', templateId: 'tpl', status: 'sent', occurredAt: when }, { occurredAt: when });
  const factCount = async (): Promise<number> => Number((await h.pool.query<{ n: string }>('SELECT count(*) AS n FROM fact')).rows[0]!.n);

  beforeAll(async () => {
    h = await startHarness('anexp', { EXPORT_RETRY_BASE_MS: '50' });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
    for (const s of servers) s.close();
  });

  it('streams raw events of a range as NDJSON, across pages', async () => {
    const batch = Array.from({ length: 1005 }, (_, i) => sent(new Date(Date.UTC(2026, 10, 15, 0, 0, i)).toISOString()));
    await h.publish(batch);
    await waitFor(async () => (await factCount()) >= 1005, 'facts');
    const r = await h.call('GET', '/v1/exports/events?from=2026-11-15T00:00:00Z&to=2026-11-15T00:10:00Z');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = r.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(600);
    expect(lines[0]).toMatchObject({ subject: MESSAGE_STATUS_CHANGED_V1.subject, occurredAt: '2026-11-15T00:00:00.000Z', data: { status: 'sent' } });
    const whole = await h.call('GET', '/v1/exports/events?from=2026-11-14T00:00:00Z&to=2026-11-16T00:00:00Z');
    expect(new Set(whole.text.trim().split('\n').map((l) => JSON.parse(l).id)).size).toBe(1005);
    expect((await h.call('GET', '/v1/exports/events?from=2026-11-16T00:00:00Z&to=2026-11-14T00:00:00Z')).status).toBe(400);
  });

  it('refuses bad destinations at save, with the reason', async () => {
    const http = await h.call('POST', '/v1/export-destinations', { name: 'x', kind: 'webhook', webhook: { url: 'http://hooks.example.com/x' } });
    expect(http.status).toBe(400);
    expect(http.body.errors).toEqual([{ path: 'webhook.url', messages: ['must use https (plain http is allowed only to localhost in dev mode)'] }]);
    const bucket = await h.call('POST', '/v1/export-destinations', { name: 'x', kind: 's3', s3: { endpoint: 'https://s3.example.com', bucket: 'Bad_Bucket', region: 'eu-west-1', accessKeyId: 'AKIA1', secretAccessKey: 'secretsecret' } });
    expect(bucket.status).toBe(400);
    expect(bucket.body.errors[0].path).toBe('s3.bucket');
    const missing = await h.call('POST', '/v1/export-destinations', { name: 'x', kind: 'webhook' });
    expect(missing.body.errors).toEqual([{ path: 'webhook', messages: ['is required for a webhook destination'] }]);
    const subject = await h.call('POST', '/v1/export-destinations', { name: 'x', kind: 'webhook', webhook: { url: 'https://hooks.example.com' }, subjects: ['nope.v1'] });
    expect(subject.body.errors[0].path).toBe('subjects');
    const region = await h.call('POST', '/v1/export-destinations', { name: 'x', kind: 's3', s3: { endpoint: 'https://s3.example.com', bucket: 'good-bucket', region: 'Mars', accessKeyId: 'AKIA1', secretAccessKey: 'secretsecret' } });
    expect(region.body.errors[0].path).toBe('s3.region');
    expect((await h.call('GET', `/v1/export-destinations/${randomUUID()}`)).status).toBe(404);
    expect((await h.call('GET', '/v1/export-destinations/nope')).status).toBe(400);
  });

  it('surfaces an unreachable destination through the API while ingestion goes on', async () => {
    const closed = createServer();
    const url = await listen(closed);
    await new Promise((r) => closed.close(r));
    const created = await h.call('POST', '/v1/export-destinations', { name: 'dead', kind: 'webhook', webhook: { url: `${url}/hook` } });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    const status = await waitFor(async () => {
      const r = await h.call('GET', `/v1/export-destinations/${created.body.id}`);
      return r.body.failures >= 2 && r.body;
    }, 'failures');
    expect(status).toMatchObject({ status: 'retrying', lastError: expect.stringContaining('ECONNREFUSED'), deliveredCount: 0 });
    expect(status.lagEvents).toBeGreaterThanOrEqual(1005);
    expect(status.settings).toEqual({ url: `${url}/hook` });
    const before = await factCount();
    await h.publish([sent(), sent()]);
    await waitFor(async () => (await factCount()) === before + 2, 'ingestion during export failures');
    expect((await h.call('PATCH', `/v1/export-destinations/${created.body.id}`, { enabled: false })).body.status).toBe('disabled');
  });

  it('delivers every event to a webhook at least once, with retries, across a restart', async () => {
    const secret = 'webhook-secret-0123456789';
    const receiver = webhookReceiver(secret, 2);
    servers.push(receiver.server);
    const url = await listen(receiver.server);
    const created = await h.call('POST', '/v1/export-destinations', { name: 'hook', kind: 'webhook', webhook: { url: `${url}/hook`, secret }, batchSize: 200 });
    expect(created.status).toBe(201);
    const all = (await h.pool.query<{ id: string }>('SELECT id FROM fact')).rows.map((r) => r.id);
    await waitFor(() => all.every((id) => receiver.ids.has(id)), 'first delivery', 15_000);
    // The checkpoint moves after the receiver has answered, so it may trail the receiver briefly.
    const afterFailures = await waitFor(async () => {
      const r = await h.call('GET', `/v1/export-destinations/${created.body.id}`);
      return r.body.lagEvents === 0 && r;
    }, 'the checkpoint after the first delivery');
    expect(afterFailures.body).toMatchObject({ status: 'ok', failures: 0, lastError: 'webhook answered 503: try later', deliveredCount: all.length, lagEvents: 0 });

    const whileDown = Array.from({ length: 50 }, () => sent());
    await h.restartAnalytics({ EXPORT_RETRY_BASE_MS: '50' }, () => h.publish(whileDown));
    await waitFor(() => whileDown.every((e) => receiver.ids.has(e.id)), 'delivery after restart', 15_000);
    expect(receiver.badSignatures()).toBe(0);
    const final = await h.call('GET', `/v1/export-destinations/${created.body.id}`);
    expect(final.body.deliveredCount).toBeGreaterThanOrEqual(all.length + 50);
  }, 45_000);

  it('writes NDJSON objects to an S3-compatible store with SigV4-signed requests', async () => {
    const s3 = fakeS3();
    servers.push(s3.server);
    const endpoint = await listen(s3.server);
    const segmentEvents = Array.from({ length: 5 }, () => h.envelope(MEMBERSHIP_ENTERED_V1.subject, { segmentId: randomUUID(), contactId: randomUUID(), at: '2026-11-15T10:00:00.000Z', segmentVersion: 1 }, { occurredAt: '2026-11-15T10:00:00.000Z' }));
    expect(Object.keys(SEGMENTATION_EVENTS)).toContain(MEMBERSHIP_ENTERED_V1.subject);
    await h.publish(segmentEvents);
    const created = await h.call('POST', '/v1/export-destinations', {
      name: 'lake',
      kind: 's3',
      s3: { endpoint, bucket: 'tessera-exports', region: 'eu-west-1', prefix: 'currents/', ...CREDS },
      subjects: [MEMBERSHIP_ENTERED_V1.subject],
    });
    expect(created.status).toBe(201);
    expect(created.body.settings.secretAccessKey).toBeUndefined();
    const lines = await waitFor(() => {
      const all = [...s3.objects.values()].flatMap((o) => o.trim().split('\n').map((l) => JSON.parse(l)));
      return all.length >= 5 && all;
    }, 's3 objects');
    expect(new Set(lines.map((l: any) => l.id))).toEqual(new Set(segmentEvents.map((e) => e.id)));
    expect([...s3.objects.keys()][0]).toMatch(/^\/tessera-exports\/currents\/[0-9a-f-]{36}\/\d{4}\/\d{2}\/\d{2}\/\d+-\d+-[0-9a-f]{32}\.ndjson$/);
    expect(s3.rejected()).toBe(0);
  });
});
