import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, basic, startIngestion, waitFor, WRITE_KEY, type Harness } from './helpers';

// One ingestion + CRM (for management keys) for the file: starting the CRM process is the slow part.
let h: Harness;
beforeAll(async () => {
  h = await startIngestion('ingsrc', {}, { withCrm: true });
});
afterAll(async () => {
  await h?.close();
});

describe('Sources admin API', () => {
  const track = async (key: string, origin?: string): Promise<number> =>
    (
      await fetch(`${h.ingestion.url}/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basic(key), ...(origin ? { origin } : {}) },
        body: JSON.stringify({ userId: 'u', event: 'E' }),
      })
    ).status;

  it('needs a management key with the ingestion scope', async () => {
    expect((await api(h, 'GET', '/v1/sources', undefined, 'tsk_wrong_key_000000000000000000')).status).toBe(401);
    const list = await api(h, 'GET', '/v1/sources');
    expect(list.status).toBe(200);
    expect(list.body.map((s: { name: string }) => s.name)).toContain('Default source');
  });

  it('creates a tracking source whose key works, restricted to its origins', async () => {
    const created = await api(h, 'POST', '/v1/sources', { name: 'Shop', kind: 'tracking', allowedOrigins: ['https://shop.example'] });
    expect(created.status).toBe(201);
    expect(created.body.writeKey).toMatch(/^twk_/);
    expect(await track(created.body.writeKey, 'https://shop.example')).toBe(200);
    expect(await track(created.body.writeKey, 'https://evil.example')).toBe(403);
    expect(await track(created.body.writeKey)).toBe(200);
  });

  it('rotates a write key with an overlap, and revokes at once with overlap 0', async () => {
    const created = await api(h, 'POST', '/v1/sources', { name: 'App', kind: 'tracking' });
    const oldKey: string = created.body.writeKey;
    const rotated = await api(h, 'POST', `/v1/sources/${created.body.id}/rotate-write-key`, { overlapSeconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(await track(oldKey)).toBe(200);
    expect(await track(rotated.body.writeKey)).toBe(200);
    const again = await api(h, 'POST', `/v1/sources/${created.body.id}/rotate-write-key`, { overlapSeconds: 0 });
    expect(await track(rotated.body.writeKey)).toBe(401);
    expect(await track(oldKey)).toBe(401);
    expect(await track(again.body.writeKey)).toBe(200);
  });

  it('returns a webhook signing secret once, masked afterwards, and validates input', async () => {
    const created = await api(h, 'POST', '/v1/sources', { name: 'Stripe', kind: 'webhook', provider: 'stripe', signingSecret: 'whsec_supersecretvalue123' });
    expect(created.status).toBe(201);
    expect(created.body.signingSecretValue).toBe('whsec_supersecretvalue123');
    expect(created.body.webhookPath).toBe(`/v1/webhooks/stripe/${created.body.id}`);
    const got = await api(h, 'GET', `/v1/sources/${created.body.id}`);
    expect(got.body.signingSecret).toBe('whse…e123');
    expect(JSON.stringify(got.body)).not.toContain('supersecret');
    const bad = await api(h, 'POST', '/v1/sources', { name: '', kind: 'webhook', provider: 'fax', allowedOrigins: ['not a url'] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['allowedOrigins', 'name', 'provider']);
    expect((await api(h, 'GET', '/v1/sources/00000000-0000-4000-8000-0000000000ff')).status).toBe(404);
  });
});

describe('Raw event archive', () => {
  it('is partitioned by day, queryable by identity and time, and replays with the same ids', async () => {
    const partitions = await h.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'ingestion.event_archive'::regclass`);
    expect(partitions.rows[0].n).toBeGreaterThanOrEqual(8);
    const start = new Date();
    const send = async (body: unknown): Promise<number> =>
      (await fetch(`${h.ingestion.url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(WRITE_KEY) }, body: JSON.stringify(body) })).status;
    expect(await send({ batch: [{ type: 'track', userId: 'ann', event: 'A', messageId: 'a1' }, { type: 'identify', userId: 'ann', anonymousId: 'anon-9', traits: { plan: 'pro' }, messageId: 'a2' }, { type: 'page', anonymousId: 'anon-9', name: 'Home', messageId: 'a3' }, { type: 'track', userId: 'bob', event: 'B', messageId: 'b1' }] })).toBe(200);
    // Written just after the answer by a consumer of the stream; the archive API waits for it to catch up.
    const byUser = await api(h, 'GET', '/v1/archive?userId=ann');
    expect(byUser.status).toBe(200);
    expect(byUser.body.map((e: { envelope: { data: { messageId: string } } }) => e.envelope.data.messageId).sort()).toEqual(['a1', 'a2']);
    const byAnon = await api(h, 'GET', `/v1/archive?anonymousId=anon-9&from=${new Date(Date.now() - 60_000).toISOString()}`);
    expect(byAnon.body.map((e: { envelope: { data: { messageId: string } } }) => e.envelope.data.messageId).sort()).toEqual(['a2', 'a3']);
    expect((await api(h, 'GET', '/v1/archive?from=yesterday')).status).toBe(400);
    expect((await api(h, 'GET', `/v1/archive?from=${new Date().toISOString()}&to=${new Date(Date.now() - 1000).toISOString()}`)).status).toBe(400);

    const before = (await h.stored()).filter((e) => ['a1', 'a2', 'a3', 'b1'].includes((e.data as { messageId: string }).messageId));
    expect(before).toHaveLength(4);
    // Watch the subjects as consumers would (core subscription: sees every publish, duplicate or not).
    const seen: string[] = [];
    const sub = h.nc.subscribe(`${h.namespace}.ingestion.>`, { callback: (_e, msg) => seen.push((JSON.parse(new TextDecoder().decode(msg.data)) as { id: string }).id) });
    await (await h.nc.jetstreamManager()).streams.purge(`${h.namespace}_INGESTION`);
    const replay = await api(h, 'POST', '/v1/archive/replay', { from: start.toISOString(), to: new Date(Date.now() + 1000).toISOString() });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ republished: 4, skipped: 0 });
    await waitFor(() => seen.length >= 4);
    sub.unsubscribe();
    expect(seen.sort()).toEqual(before.map((e) => e.id).sort());
    // Replayed within JetStream's de-dup window, the stream itself does not store them again.
    expect(await h.stored()).toHaveLength(0);
  });
});
