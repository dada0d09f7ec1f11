import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_RECEIVED_V1, IDENTIFY_RECEIVED_V1, type EventEnvelope } from '@tessera/contracts';
import { DEDUP_HOURS } from '../src/tracking/ingest.service';
import { IngestRepository } from '../src/tracking/ingest.repository';
import { basic, startIngestion, waitFor, WRITE_KEY, type Harness } from './helpers';

describe('Segment tracking API', () => {
  let h: Harness;
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> => {
    const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const response = await fetch(`${h.ingestion.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(WRITE_KEY), ...headers }, body: raw });
    return { status: response.status, body: await response.json().catch(() => undefined), headers: response.headers };
  };

  beforeAll(async () => {
    h = await startIngestion('ingtrk');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('accepts a track call with Basic auth and stores it with clock-skew correction', async () => {
    const res = await post('/v1/track', { userId: 'u1', event: 'Signed Up', properties: { plan: 'pro' }, messageId: 'm-1', timestamp: '2026-01-01T00:00:00.000Z', sentAt: '2026-01-01T00:00:10.000Z' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true });
    const stored = await h.stored();
    const e = stored.find((x) => (x.data as { messageId: string }).messageId === 'm-1') as EventEnvelope<any>;
    expect(e.subject).toBe(EVENT_RECEIVED_V1.subject);
    expect(e.data).toMatchObject({ type: 'track', name: 'Signed Up', userId: 'u1', routingKey: 'u1', properties: { plan: 'pro' } });
    // The device clock was 10 s behind its sentAt: the event happened 10 s before it arrived.
    expect(Date.parse(e.data.receivedAt) - Date.parse(e.data.timestamp)).toBe(10_000);
  });

  it('takes the write key from the body, text/plain and gzip bodies, and short paths', async () => {
    const a = await post('/v1/i', JSON.stringify({ writeKey: WRITE_KEY, anonymousId: 'anon-1', traits: { email: 'a@b.c' }, messageId: 'm-2' }), { 'content-type': 'text/plain', authorization: '' });
    expect(a.status).toBe(200);
    const gz = gzipSync(Buffer.from(JSON.stringify({ batch: [{ type: 'page', anonymousId: 'anon-1', name: 'Home', messageId: 'm-3' }] })));
    const b = await post('/v1/b', gz, { 'content-encoding': 'gzip' });
    expect(b.status).toBe(200);
    const subjects = (await h.stored()).filter((x) => ['m-2', 'm-3'].includes((x.data as { messageId: string }).messageId)).map((x) => x.subject);
    expect(subjects.sort()).toEqual([EVENT_RECEIVED_V1.subject, IDENTIFY_RECEIVED_V1.subject].sort());
  });

  it('never stores the same messageId twice, even after JetStream forgets it', async () => {
    const body = { batch: [{ type: 'track', userId: 'u2', event: 'A', messageId: 'dup-1' }, { type: 'track', userId: 'u2', event: 'A', messageId: 'dup-1' }] };
    expect((await post('/v1/batch', body)).status).toBe(200);
    expect((await post('/v1/batch', body)).status).toBe(200);
    const copies = (await h.stored()).filter((x) => (x.data as { messageId: string }).messageId === 'dup-1');
    expect(copies).toHaveLength(1);
    // The archive (written by a consumer of the stream, off the request path) gets it once, and is the ledger.
    const archivedCount = async (): Promise<number> => (await h.query('SELECT count(*)::int AS n FROM ingestion.event_archive WHERE id = $1', [copies[0]!.id])).rows[0].n;
    await waitFor(async () => (await archivedCount()) > 0);
    expect(await archivedCount()).toBe(1);
    // Past JetStream's de-dup window only the archive stands between a retry and a second copy.
    const jsm = await h.nc.jetstreamManager();
    await jsm.streams.purge(`${h.namespace}_INGESTION`);
    expect((await post('/v1/batch', body)).status).toBe(200);
    expect(await h.stored()).toHaveLength(0);
  });

  it('looks messageIds up in the archive of the de-dup horizon only', async () => {
    const repository = h.ingestion.app.get(IngestRepository);
    await repository.ensurePartitions(3, 0);
    const [recent, old, unknown] = [randomUUID(), randomUUID(), randomUUID()];
    await h.query(
      `INSERT INTO ingestion.event_archive (id, received_at, workspace_id, source_id, subject, envelope)
       SELECT id, now() - make_interval(hours => age), $3, $3, 'ingestion.event.received.v1', '{}' FROM unnest($1::uuid[], $2::int[]) AS t(id, age)`,
      [[recent, old], [1, DEDUP_HOURS + 2], randomUUID()],
    );
    expect([...(await repository.alreadyArchived([recent, old, unknown], DEDUP_HOURS))]).toEqual([recent]);
  });

  it('keeps the good items of a mixed batch and reports each bad one', async () => {
    const big = 'x'.repeat(33 * 1024);
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 40; i++) deep = (deep.n = {}) as Record<string, unknown>;
    const res = await post('/v1/batch', {
      batch: [
        { type: 'track', userId: 'u3', event: 'Good', messageId: 'mix-ok' },
        { type: 'track', event: 'No id', messageId: 'mix-noid' },
        { type: 'track', userId: 'u3', event: 'Huge', properties: { big }, messageId: 'mix-big' },
        { type: 'track', userId: 'u3', event: 'Deep', properties: root, messageId: 'mix-deep' },
        { type: 'bogus', userId: 'u3' },
        'not an object',
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.errors.map((e: { index: number; path: string }) => [e.index, e.path])).toEqual([
      [1, 'userId'],
      [2, ''],
      [3, ''],
      [4, 'type'],
      [5, ''],
    ]);
    expect(res.body.errors[1].message).toMatch(/32768/);
    const ids = (await h.stored()).map((x) => (x.data as { messageId: string }).messageId);
    expect(ids).toContain('mix-ok');
    expect(ids.filter((m) => m.startsWith('mix-'))).toEqual(['mix-ok']);
  });

  it('answers a clear 4xx for bad requests', async () => {
    expect((await post('/v1/track', '{"userId":', {})).status).toBe(400);
    expect((await post('/v1/track', { userId: 'u', event: 'e' }, { authorization: basic('wrong-key-123456') })).status).toBe(401);
    expect((await post('/v1/track', { userId: 'u', event: 'e' }, { authorization: '' })).status).toBe(401);
    expect((await post('/v1/track', { userId: 'u', event: 'e' }, { 'content-type': 'application/xml' })).status).toBe(415);
    expect((await post('/v1/track', { event: 'e' })).status).toBe(400);
    expect((await post('/v1/batch', { batch: 'nope' })).status).toBe(400);
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect((await post('/v1/batch', bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
    expect((await post('/v1/batch', 'x'.repeat(600 * 1024))).status).toBe(413);
    expect((await post('/v1/track', { userId: 'u', event: 'e', properties: { p: 'x'.repeat(40 * 1024) } })).status).toBe(413);
    expect((await post('/v1/track', Buffer.from([0x1f, 0x8b, 0, 1, 2]), { 'content-encoding': 'gzip' })).status).toBe(400);
    expect((await post('/v1/batch', '['.repeat(200_000))).status).toBe(400);
    expect((await post('/v1/batch', `{"batch":[${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}]}`)).status).toBe(400);
    expect((await post('/v1/track', { userId: 'u', event: 'e' }, { 'content-encoding': 'br' })).status).toBe(415);
    // Still serving after all that.
    expect((await post('/v1/track', { userId: 'u', event: 'after' })).status).toBe(200);
  });

  it('answers CORS preflight and sets the allowed origin on the response', async () => {
    const pre = await fetch(`${h.ingestion.url}/v1/t`, { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const res = await post('/v1/t', { userId: 'u4', event: 'X' }, { origin: 'https://shop.example' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });
});
