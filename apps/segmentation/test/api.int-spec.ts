import { connect, type NatsConnection, type Subscription } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_BUS, type EventBus } from '@tessera/bus';
import { CONTACT_CREATED_V1, CONTACT_ERASED_V1, DEFAULT_WORKSPACE_ID, EVENT_RECEIVED_V1, IDENTIFY_RECEIVED_V1, type EventEnvelope } from '@tessera/contracts';
import { createTestDatabase, startServiceProcess, startTestService, testBusNamespace, TEST_NATS_URL, type PlatformProcess, type TestDatabase, type TestService } from '@tessera/testing';
import { segmentationModule } from '../src/app.module';
import { SegmentationConfig } from '../src/config/segmentation.config';

const ADMIN_KEY = 'tsk_test_admin_key_0123456789abcdefghijkl';
const ANA = '0190c0de-0000-7000-8000-00000000a0a0';
const BOB = '0190c0de-0000-7000-8000-00000000b0b0';

const waitFor = async <T>(fn: () => Promise<T | undefined> | T | undefined, what: string, ms = 8000): Promise<T> => {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('segmentation service over HTTP and the bus', () => {
  let db: TestDatabase;
  // The real CRM answers API-key verification; started from its build (services never import each other's code).
  let crm: PlatformProcess;
  let seg: TestService<SegmentationConfig>;
  let bus: EventBus;
  let nc: NatsConnection;
  let sub: Subscription;
  const changes: EventEnvelope<{ segmentId: string; contactId: string; reason?: unknown }>[] = [];
  const ns = testBusNamespace('seg');

  const call = async (method: string, path: string, body?: unknown, key = ADMIN_KEY): Promise<{ status: number; body: any; text: string; type: string | null }> => {
    const response = await fetch(`${seg.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed, text, type: response.headers.get('content-type') };
  };
  const contact = async (contactId: string, externalId: string, attributes: Record<string, unknown>): Promise<void> =>
    void await bus.publish(CONTACT_CREATED_V1.subject, { contactId, externalId, attributes, createdAt: new Date().toISOString() }, { workspaceId: DEFAULT_WORKSPACE_ID });
  let n = 0;
  const track = async (userId: string, name: string, properties: Record<string, unknown> = {}, at = new Date()): Promise<void> =>
    void await bus.publish(
      EVENT_RECEIVED_V1.subject,
      { type: 'track', name, properties, messageId: `m-${++n}`, userId, routingKey: userId, timestamp: at.toISOString(), receivedAt: new Date().toISOString(), sourceId: '0190c0de-0000-7000-8000-000000000123', context: {} },
      { workspaceId: DEFAULT_WORKSPACE_ID },
    );
  const change = (subject: string, segmentId: string, contactId: string): Promise<EventEnvelope<{ segmentId: string; contactId: string; reason?: unknown }>> =>
    waitFor(() => changes.find((e) => e.subject === subject && e.data.segmentId === segmentId && e.data.contactId === contactId), `${subject} ${contactId}`);
  const ready = (id: string): Promise<unknown> => waitFor(async () => (await call('GET', `/v1/segments/${id}/count`)).body.status === 'ready', 'batch computation');

  beforeAll(async () => {
    db = await createTestDatabase();
    crm = await startServiceProcess('crm', { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, BUS_NAMESPACE: ns.namespace, TESSERA_ADMIN_KEY: ADMIN_KEY, MIGRATE_ON_START: 'false', LOG_LEVEL: 'warn' });
    seg = await startTestService({ service: 'segmentation', configClass: SegmentationConfig, appModule: segmentationModule, databaseUrl: db.url, namespace: ns.namespace, env: { TIME_CHECK_INTERVAL_MS: '200' } });
    bus = seg.app.get(EVENT_BUS);
    nc = await connect({ servers: TEST_NATS_URL });
    sub = nc.subscribe(`${ns.namespace}.segmentation.membership.>`, { callback: (_e, m) => changes.push(JSON.parse(new TextDecoder().decode(m.data))) });
    await contact(ANA, 'u-ana', { country: 'BR' });
    await contact(BOB, 'u-bob', { country: 'US' });
    await waitFor(async () => (await call('POST', '/v1/segments/preview', { definition: { version: 1, root: { type: 'attribute', attribute: 'country', valueType: 'string', operator: 'exists' } } })).body.count === 2, 'projection of contacts');
  }, 30_000);

  afterAll(async () => {
    sub?.unsubscribe();
    await nc?.close();
    await seg?.close();
    await crm?.stop();
    await db?.drop();
    await ns.cleanup();
  });

  it('answers 400 pointing at the offending node, and refuses cycles', async () => {
    const bad = await call('POST', '/v1/segments', {
      name: 'bad',
      definition: { version: 1, root: { type: 'and', children: [{ type: 'tag', tag: 'vip' }, { type: 'attribute', attribute: 'age', valueType: 'number', operator: 'contains', value: 3 }] } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: 'definition.root.children[1].operator', messages: [expect.stringMatching(/does not apply to number/)] }]);
    const a = await call('POST', '/v1/segments', { name: 'A', definition: { version: 1, root: { type: 'tag', tag: 'vip' } } });
    const b = await call('POST', '/v1/segments', { name: 'B', definition: { version: 1, root: { type: 'segment', segmentId: a.body.id } } });
    expect(b.status).toBe(201);
    const cycle = await call('PUT', `/v1/segments/${a.body.id}`, { name: 'A', definition: { version: 1, root: { type: 'not', child: { type: 'segment', segmentId: b.body.id } } } });
    expect(cycle.status).toBe(400);
    expect(cycle.body.errors[0]).toMatchObject({ path: 'definition.root.child.segmentId', messages: [expect.stringMatching(/cycle/)] });
    expect((await call('DELETE', `/v1/segments/${a.body.id}`)).status).toBe(400);
    expect((await call('DELETE', `/v1/segments/${b.body.id}`)).status).toBe(200);
    expect((await call('DELETE', `/v1/segments/${a.body.id}`)).status).toBe(200);
  });

  it('computes a segment in batch, then keeps it fresh in real time with entries, exits, counts and the why', async () => {
    const definition = {
      version: 1,
      root: {
        type: 'or',
        children: [
          { type: 'and', children: [{ type: 'attribute', attribute: 'country', valueType: 'string', operator: 'equals', value: 'BR' }, { type: 'event', event: 'purchase', count: { operator: 'at_least', value: 2 }, window: { last: { amount: 30, unit: 'days' } } }] },
          { type: 'event', event: 'purchase', where: [{ property: 'amount', valueType: 'number', operator: 'gte', value: 1000 }] },
        ],
      },
    };
    const created = await call('POST', '/v1/segments', { name: 'Repeat buyers in Brazil or big spenders', definition });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    await ready(id);
    expect((await call('GET', `/v1/segments/${id}/count`)).body.count).toBe(0);

    const t0 = Date.now();
    await track('u-ana', 'purchase', { amount: 10 });
    await track('u-ana', 'purchase', { amount: 20 });
    const entered = await change('segmentation.membership.entered.v1', id, ANA);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(entered.data).toMatchObject({ segmentVersion: 1, reason: { branch: 0 } });
    await track('u-bob', 'purchase', { amount: 5000 });
    await change('segmentation.membership.entered.v1', id, BOB);

    const members = await call('GET', `/v1/segments/${id}/members?limit=1`);
    expect(members.body.items).toHaveLength(1);
    const page2 = await call('GET', `/v1/segments/${id}/members?limit=1&cursor=${members.body.nextCursor}`);
    expect([members.body.items[0].contactId, page2.body.items[0].contactId].sort()).toEqual([ANA, BOB]);
    expect((await call('GET', `/v1/segments/${id}/count`)).body.count).toBe(2);
    const why = await call('GET', `/v1/contacts/${BOB}/segments`);
    expect(why.body).toEqual([expect.objectContaining({ segmentId: id, reason: { branch: 1, matched: definition.root.children[1] } })]);
    const csv = await call('GET', `/v1/segments/${id}/export?format=csv`);
    expect(csv.type).toMatch(/text\/csv/);
    expect(csv.text.trim().split('\n')).toHaveLength(3);
    const ndjson = await call('GET', `/v1/segments/${id}/export`);
    expect(ndjson.text.trim().split('\n').map((l) => JSON.parse(l).contactId).sort()).toEqual([ANA, BOB]);

    // Editing keeps history, recomputes in batch and emits the diff: Bob's big purchase no longer counts.
    const edited = await call('PUT', `/v1/segments/${id}`, { name: 'Repeat buyers in Brazil', definition: { version: 1, root: definition.root.children[0] } });
    expect(edited.body.version).toBe(2);
    const exited = await change('segmentation.membership.exited.v1', id, BOB);
    expect(exited.data).toMatchObject({ segmentVersion: 2 });
    await ready(id);
    expect((await call('GET', `/v1/segments/${id}/versions`)).body.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect((await call('GET', `/v1/segments/${id}/history`)).body[0].size).toBe(1);

    await bus.publish(CONTACT_ERASED_V1.subject, { contactId: ANA, erasedAt: new Date().toISOString() }, { workspaceId: DEFAULT_WORKSPACE_ID });
    await change('segmentation.membership.exited.v1', id, ANA);
    expect((await call('GET', `/v1/segments/${id}/count`)).body.count).toBe(0);
  });

  it('previews an unsaved definition with a count and a sample, and enforces scopes', async () => {
    const preview = await call('POST', '/v1/segments/preview', { definition: { version: 1, root: { type: 'attribute', attribute: 'country', valueType: 'string', operator: 'in', value: ['US', 'BR'] } }, sampleSize: 5 });
    expect(preview.status).toBe(200);
    expect(preview.body.count).toBe(1); // Ana was erased
    expect(preview.body.sample).toEqual([{ contactId: BOB, reason: { branch: 'all' } }]);
    const reader = await fetch(`${crm.url}/v1/api-keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'r', scopes: ['segmentation:read'] }) });
    const key = ((await reader.json()) as { key: string }).key;
    expect((await call('GET', '/v1/segments', undefined, key)).status).toBe(200);
    expect((await call('POST', '/v1/segments', { name: 'x', definition: { version: 1, root: { type: 'tag', tag: 'a' } } }, key)).status).toBe(403);
  });
  it("counts a visitor's anonymous events toward the contact an identify links them to", async () => {
    const viewed = (await call('POST', '/v1/segments', { name: 'viewed twice', definition: { version: 1, root: { type: 'event', event: 'Viewed', count: { operator: 'at_least', value: 2 } } } })).body.id as string;
    await ready(viewed);
    const sourceId = '0190c0de-0000-7000-8000-000000000123';
    const now = (): string => new Date().toISOString();
    const anonymous = async (anonymousId: string): Promise<void> =>
      void (await bus.publish(EVENT_RECEIVED_V1.subject, { type: 'track', name: 'Viewed', properties: {}, messageId: `m-${++n}`, anonymousId, routingKey: anonymousId, timestamp: now(), receivedAt: now(), sourceId, context: {} }, { workspaceId: DEFAULT_WORKSPACE_ID }));
    const identify = async (userId: string, anonymousId: string): Promise<void> =>
      void (await bus.publish(IDENTIFY_RECEIVED_V1.subject, { traits: {}, messageId: `m-${++n}`, userId, anonymousId, routingKey: userId, timestamp: now(), receivedAt: now(), sourceId, context: {} }, { workspaceId: DEFAULT_WORKSPACE_ID }));
    // The real CRM also consumes identify calls, so the people here are the CRM's own contacts.
    const crmContact = async (externalId: string): Promise<string> =>
      waitFor(async () => {
        const found = await fetch(`${crm.url}/v1/contacts/lookup?externalId=${externalId}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
        return found.ok ? ((await found.json()) as { id: string }).id : undefined;
      }, `the CRM contact of ${externalId}`);
    // A known contact: the anonymous views resolve at the identify (or, arriving after it, through
    // the anonymous id's identity).
    const created = await fetch(`${crm.url}/v1/contacts`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ externalId: 'u-dan' }) });
    expect(created.status).toBe(201);
    const DAN = ((await created.json()) as { id: string }).id;
    await anonymous('anon-dan');
    await anonymous('anon-dan');
    await identify('u-dan', 'anon-dan');
    await change('segmentation.membership.entered.v1', viewed, DAN);
    // A sign-up: the CRM creates the contact from the same identify, so its contact event may reach
    // segmentation before or after the link; the views follow the user either way.
    await anonymous('anon-cy');
    await anonymous('anon-cy');
    await identify('u-cy', 'anon-cy');
    const CY = await crmContact('u-cy');
    await change('segmentation.membership.entered.v1', viewed, CY);
    // Later events carrying only the anonymous id resolve to the contact too (no new member, no exit).
    await anonymous('anon-cy');
    await waitFor(async () => (await call('GET', `/v1/segments/${viewed}/count`)).body.count === 2 || undefined, 'two members');
  });
});
