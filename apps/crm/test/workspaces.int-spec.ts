import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTACT_CREATED_V1, DEFAULT_WORKSPACE_ID, type EventEnvelope } from '@tessera/contracts';
import { createTestDatabase, startTestService, testBusNamespace, TEST_NATS_URL, type TestDatabase, type TestService } from '@tessera/testing';
import { crmModule } from '../src/app.module';
import { CrmConfig } from '../src/config/crm.config';

const ADMIN_KEY = 'tsk_test_admin_key_0123456789abcdefghijkl';

describe('CRM workspaces, keys and auth', () => {
  let db: TestDatabase;
  let crm: TestService<CrmConfig>;
  let nc: NatsConnection;
  const ns = testBusNamespace('crm');

  const call = async (method: string, path: string, key?: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${crm.url}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: await response.json().catch(() => undefined) };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    crm = await startTestService({ service: 'crm', configClass: CrmConfig, appModule: crmModule, databaseUrl: db.url, namespace: ns.namespace, env: { TESSERA_ADMIN_KEY: ADMIN_KEY } });
    nc = await connect({ servers: TEST_NATS_URL });
  });

  afterAll(async () => {
    await crm?.close();
    await nc?.close();
    await db?.drop();
    await ns.cleanup();
  });

  it('is ready and creates the default workspace with the configured admin key', async () => {
    expect((await call('GET', '/health/live')).status).toBe(200);
    const ready = await call('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info).toMatchObject({ postgres: { status: 'up' }, nats: { status: 'up' }, migrations: { status: 'up' } });
    const me = await call('GET', '/v1/workspace', ADMIN_KEY);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: DEFAULT_WORKSPACE_ID, name: 'Default', isDefault: true });
  });

  it('answers 401 without a key or with a wrong one, and 403 without the scope', async () => {
    expect((await call('GET', '/v1/workspace')).status).toBe(401);
    expect((await call('GET', '/v1/workspace', 'tsk_wrong')).status).toBe(401);
    const readOnly = await call('POST', '/v1/api-keys', ADMIN_KEY, { name: 'reader', scopes: ['crm:read'] });
    expect(readOnly.status).toBe(201);
    expect(readOnly.body.key).toMatch(/^tsk_/);
    expect(readOnly.body.keyHash).toBeUndefined();
    const denied = await call('POST', '/v1/contacts', readOnly.body.key, { email: 'a@example.com' });
    expect(denied.status).toBe(403);
    expect(denied.body.message).toMatch(/crm:write/);
  });

  it('answers 400 with the path of every bad field', async () => {
    const bad = await call('POST', '/v1/api-keys', ADMIN_KEY, { name: '', scopes: ['crm:delete'], extra: 1 });
    expect(bad.status).toBe(400);
    const paths = bad.body.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(['extra', 'name', 'scopes']);
    const notJson = await fetch(`${crm.url}/v1/contacts`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: '{"email":' });
    expect(notJson.status).toBe(400);
  });

  it("never lets a key of one workspace read or change another's data", async () => {
    const other = await call('POST', '/v1/workspaces', ADMIN_KEY, { name: 'Other', timezone: 'Europe/Berlin' });
    expect(other.status).toBe(201);
    const otherKey: string = other.body.adminKey.key;
    const created = await call('POST', '/v1/contacts', ADMIN_KEY, { email: 'Ann@Example.com', attributes: { plan: 'pro' } });
    expect(created.status).toBe(201);
    expect(created.body.email).toBe('ann@example.com');
    expect((await call('GET', `/v1/contacts/${created.body.id}`, ADMIN_KEY)).status).toBe(200);
    expect((await call('GET', `/v1/contacts/${created.body.id}`, otherKey)).status).toBe(404);
    const defaultKeys = (await call('GET', '/v1/api-keys', ADMIN_KEY)).body as { id: string }[];
    expect((await call('DELETE', `/v1/api-keys/${defaultKeys[0]!.id}`, otherKey)).status).toBe(404);
    expect((await call('GET', '/v1/workspace', otherKey)).body.name).toBe('Other');
  });

  it('stops accepting a revoked key at once', async () => {
    const created = await call('POST', '/v1/api-keys', ADMIN_KEY, { name: 'temp', scopes: ['keys:read'] });
    expect((await call('GET', '/v1/workspace', created.body.key)).status).toBe(200);
    expect((await call('DELETE', `/v1/api-keys/${created.body.id}`, ADMIN_KEY)).status).toBe(200);
    const start = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - start < 5000) {
      status = (await call('GET', '/v1/workspace', created.body.key)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(401);
  });

  it('publishes crm.contact.created.v1 through the outbox', async () => {
    const received: EventEnvelope[] = [];
    const sub = nc.subscribe(`${ns.namespace}.${CONTACT_CREATED_V1.subject}`, { callback: (_e, m) => received.push(JSON.parse(new TextDecoder().decode(m.data))) });
    const created = await call('POST', '/v1/contacts', ADMIN_KEY, { externalId: 'user-42', phone: '+4915112345678' });
    const start = Date.now();
    while (!received.some((e) => (e.data as { contactId: string }).contactId === created.body.id) && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
    sub.unsubscribe();
    const event = received.find((e) => (e.data as { contactId: string }).contactId === created.body.id);
    expect(event).toMatchObject({ subject: 'crm.contact.created.v1', workspaceId: DEFAULT_WORKSPACE_ID, producer: 'crm', data: { externalId: 'user-42', phone: '+4915112345678' } });
  });
});
