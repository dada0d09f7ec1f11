import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTACT_UPDATE_REQUESTED_V1, CONTACT_UPDATED_V1 } from '@tessera/contracts';
import { ADMIN_KEY, eventually, publishAs, startCrm, type CrmHarness } from './helpers';

describe('CRM contacts API', () => {
  let h: CrmHarness;
  beforeAll(async () => {
    h = await startCrm('crm-contacts');
  });
  afterAll(async () => h?.close());

  it('creates, upserts by externalId/email, normalises email and phone', async () => {
    const created = await h.call('POST', '/v1/contacts', { externalId: 'u-1', email: 'Bob@Example.COM', phone: '+49 151 12345678', timezone: 'Europe/Berlin', locale: 'de-DE', attributes: { plan: 'free' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ externalId: 'u-1', email: 'bob@example.com', phone: '+4915112345678', timezone: 'Europe/Berlin', attributes: { plan: 'free' } });
    const again = await h.call('POST', '/v1/contacts', { externalId: 'u-1', attributes: { plan: 'pro' } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: created.body.id, attributes: { plan: 'pro' } });
    const byEmail = await h.call('POST', '/v1/contacts', { email: 'bob@example.com', locale: 'en-GB' });
    expect(byEmail.body).toMatchObject({ id: created.body.id, locale: 'en-GB' });
    for (const q of ['externalId=u-1', 'email=BOB%40example.com', 'phone=%2B4915112345678']) {
      const found = await h.call('GET', `/v1/contacts/lookup?${q}`);
      expect(found.status, q).toBe(200);
      expect(found.body.id).toBe(created.body.id);
    }
    expect((await h.call('GET', '/v1/contacts/lookup?externalId=nobody')).status).toBe(404);
  });

  it('answers lookups (served from node:http, ahead of Nest) with the same shape, auth and error bodies as the rest of the API', async () => {
    const created = await h.call('POST', '/v1/contacts', { externalId: 'look-1', email: 'look@example.com', attributes: { plan: 'pro' } });
    expect((await h.call('POST', `/v1/contacts/${created.body.id}/tags/vip`)).status).toBeLessThan(300);
    const byId = await h.call('GET', `/v1/contacts/${created.body.id}`);
    for (const q of ['externalId=look-1', 'email=LOOK%40example.com']) expect((await h.call('GET', `/v1/contacts/lookup?${q}`)).body, q).toEqual(byId.body);
    const anonymous = await fetch(`${h.crm.url}/v1/contacts/lookup?externalId=look-1`);
    expect({ status: anonymous.status, body: await anonymous.json() }).toEqual({ status: 401, body: { statusCode: 401, error: 'Unauthorized', message: 'Missing API key: send Authorization: Bearer <key>' } });
    expect(await h.call('GET', '/v1/contacts/lookup?externalId=look-1', undefined, 'tsk_wrong_key')).toEqual({ status: 401, body: { statusCode: 401, error: 'Unauthorized', message: 'Invalid or revoked API key' } });
    expect(await h.call('GET', '/v1/contacts/lookup?externalId=nobody')).toEqual({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'Contact not found' } });
    const unknown = await h.call('GET', '/v1/contacts/lookup?userId=look-1');
    expect(unknown).toEqual({ status: 400, body: { statusCode: 400, error: 'Bad Request', message: 'Validation failed', errors: [{ path: 'userId', messages: ['property userId should not exist'] }] } });
    expect((await h.call('GET', '/v1/contacts/lookup?externalId=a&externalId=b')).body.errors).toEqual([{ path: 'externalId', messages: ['externalId must be a string'] }]);
    expect((await h.call('GET', '/v1/contacts/lookup?externalId=look-1&email=look%40example.com')).body.errors).toEqual([{ path: 'query', messages: ['give exactly one of externalId, email, phone, anonymousId'] }]);
    expect((await h.call('GET', '/v1/contacts/lookup?email=not-an-email')).body.errors).toEqual([{ path: 'email', messages: ['email is not valid'] }]);
    // Still documented, though Nest's handler is replaced.
    const docs = (await (await fetch(`${h.crm.url}/docs-json`)).json()) as { paths: Record<string, { get: { parameters: { name: string }[] } }> };
    expect(docs.paths['/v1/contacts/lookup'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['anonymousId', 'email', 'externalId', 'phone']);
  });

  it('lists with filters and cursor pagination ordered by id', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await h.call('POST', '/v1/contacts', { externalId: `page-${i}` })).body.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.call('GET', `/v1/contacts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((c: { id: string }) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(ids));
    const one = await h.call('GET', '/v1/contacts?externalId=page-3');
    expect(one.body.items.map((c: { id: string }) => c.id)).toEqual([ids[3]]);
  });

  it('patches with set/unset/$inc/$add/$remove and publishes the changed fields', async () => {
    const updates = h.collect(CONTACT_UPDATED_V1.subject);
    const c = (await h.call('POST', '/v1/contacts', { externalId: 'ops', attributes: { logins: 1, interests: ['golf'], old: 'x' } })).body;
    const patched = await h.call('PATCH', `/v1/contacts/${c.id}`, { phone: '+14155550123', attributes: { logins: { $inc: 2 }, interests: { $add: ['chess', 'golf'] }, old: null } });
    expect(patched.status).toBe(200);
    expect(patched.body.attributes).toEqual({ logins: 3, interests: ['golf', 'chess'] });
    const removed = await h.call('PATCH', `/v1/contacts/${c.id}`, { attributes: { interests: { $remove: ['golf'] } } });
    expect(removed.body.attributes.interests).toEqual(['chess']);
    const event = await eventually(() => updates.events.find((e) => e.data.contactId === c.id && e.data.fields.phone), 5000, 'update event');
    updates.stop();
    expect(event.data).toMatchObject({ fields: { phone: '+14155550123' }, attributes: { logins: 3, interests: ['golf', 'chess'] }, unset: ['attributes.old'] });
  });

  it('answers 400 with field paths and writes nothing on a bad PATCH', async () => {
    const c = (await h.call('POST', '/v1/contacts', { externalId: 'typed', attributes: { score: 5, name: 'Ann' } })).body;
    const bad = await h.call('PATCH', `/v1/contacts/${c.id}`, { timezone: 'Mars/Olympus', attributes: { score: 'high', name: { $inc: 1 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['timezone']);
    const badAttrs = await h.call('PATCH', `/v1/contacts/${c.id}`, { email: 'new@example.com', attributes: { score: 'high', name: { $inc: 1 }, ok: 1 } });
    expect(badAttrs.status).toBe(400);
    expect(badAttrs.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['attributes.name', 'attributes.score']);
    const after = (await h.call('GET', `/v1/contacts/${c.id}`)).body;
    expect(after.email).toBeNull();
    expect(after.attributes).toEqual({ score: 5, name: 'Ann' });
    const badCreate = await h.call('POST', '/v1/contacts', { email: 'nope', phone: '12' });
    expect(badCreate.status).toBe(400);
    expect(badCreate.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['email', 'phone']);
    expect((await h.call('POST', '/v1/contacts', { phone: '+1 12' })).body.errors[0].path).toBe('phone');
  });

  it('never loses a concurrent $inc', async () => {
    const c = (await h.call('POST', '/v1/contacts', { externalId: 'counter' })).body;
    const results = await Promise.all(Array.from({ length: 25 }, () => h.call('PATCH', `/v1/contacts/${c.id}`, { attributes: { clicks: { $inc: 1 } } })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect((await h.call('GET', `/v1/contacts/${c.id}`)).body.attributes.clicks).toBe(25);
  });

  it('validates against attribute definitions and can reject unknown attributes', async () => {
    expect((await h.call('POST', '/v1/attribute-definitions', { name: 'ltv', type: 'number' })).status).toBe(201);
    expect((await h.call('POST', '/v1/attribute-definitions', { name: 'ltv', type: 'string' })).status).toBe(409);
    expect((await h.call('POST', '/v1/attribute-definitions', { name: 'x', type: 'money' })).body.errors[0].path).toBe('type');
    const c = (await h.call('POST', '/v1/contacts', { externalId: 'defs', attributes: { ltv: 10, signupAt: '2026-01-02T03:04:05Z' } })).body;
    const defs = (await h.call('GET', '/v1/attribute-definitions')).body;
    expect(defs).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'ltv', type: 'number', inferred: false }), expect.objectContaining({ name: 'signupAt', type: 'datetime', inferred: true })]));
    expect((await h.call('PATCH', `/v1/contacts/${c.id}`, { attributes: { ltv: 'ten' } })).body.errors).toEqual([{ path: 'attributes.ltv', messages: ['must be of type number'] }]);
    expect((await h.call('PATCH', '/v1/crm-settings', { unknownAttributes: 'reject' })).body).toEqual({ unknownAttributes: 'reject' });
    const rejected = await h.call('PATCH', `/v1/contacts/${c.id}`, { attributes: { ltv: 11, brandNew: 'x' } });
    expect(rejected.status).toBe(400);
    expect(rejected.body.errors[0].path).toBe('attributes.brandNew');
    expect((await h.call('GET', `/v1/contacts/${c.id}`)).body.attributes.ltv).toBe(10);
    await h.call('PATCH', '/v1/crm-settings', { unknownAttributes: 'create' });
  });

  it("applies journeys' update-contact requests once each, and refuses values the attribute rules reject", async () => {
    expect((await h.call('POST', '/v1/attribute-definitions', { name: 'visits', type: 'number' })).status).toBe(201);
    const c = (await h.call('POST', '/v1/contacts', { externalId: 'journey-update', attributes: { visits: 1, stage: 'lead' } })).body;
    const request = { requestId: 'instance-1:step-3:1', contactId: c.id, attributes: { visits: { $inc: 1 }, plan: 'trial' }, unset: ['stage'] };
    const sent = await publishAs(h, 'journeys', CONTACT_UPDATE_REQUESTED_V1.subject, request);
    await publishAs(h, 'journeys', CONTACT_UPDATE_REQUESTED_V1.subject, request, sent.id);
    // Refused by the definition of visits: dead-lettered, not applied.
    await publishAs(h, 'journeys', CONTACT_UPDATE_REQUESTED_V1.subject, { requestId: 'instance-1:step-4:1', contactId: c.id, attributes: { visits: 'many' } });
    // Per-contact order: once this one is applied, the two before it have been handled.
    await publishAs(h, 'journeys', CONTACT_UPDATE_REQUESTED_V1.subject, { requestId: 'instance-1:step-5:1', contactId: c.id, attributes: { marker: 'done' } });
    const after = await eventually(async () => {
      const body = (await h.call('GET', `/v1/contacts/${c.id}`)).body;
      return body.attributes.marker === 'done' ? body : undefined;
    }, 8000, 'journey updates');
    expect(after.attributes).toEqual({ visits: 2, plan: 'trial', marker: 'done' });
  });

  it('imports CSV and NDJSON streams, reporting bad rows by line', async () => {
    const existing = (await h.call('POST', '/v1/contacts', { externalId: 'imp-1', attributes: { ltv: 1 } })).body;
    const csv = ['externalId,email,phone,ltv,city', 'imp-1,imp1@example.com,,42,Oslo', 'imp-2,not-an-email,,5,Rome', 'imp-3,imp3@example.com,+4915112345679,x,Paris', 'imp-4,,,,', '"imp-5,broken'].join('\n');
    const res = await fetch(`${h.crm.url}/v1/imports`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/csv' }, body: csv });
    const job: any = await res.json();
    expect(res.status).toBe(201);
    expect(job).toMatchObject({ status: 'completed', rowsDone: 2, format: 'csv' });
    const report = await h.call('GET', `/v1/imports/${job.id}`);
    expect(report.body.errors.map((e: { line: number }) => e.line)).toEqual(expect.arrayContaining([3, 4]));
    expect(report.body.errors.find((e: { line: number }) => e.line === 4).reason).toMatch(/attributes.ltv/);
    const errorsCsv = await fetch(`${h.crm.url}/v1/imports/${job.id}/errors`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(errorsCsv.headers.get('content-type')).toMatch(/text\/csv/);
    expect((await errorsCsv.text()).split('\n')[0]).toBe('line,reason');
    const updated = (await h.call('GET', `/v1/contacts/${existing.id}`)).body;
    expect(updated).toMatchObject({ email: 'imp1@example.com', attributes: { ltv: 42, city: 'Oslo' } });
    expect((await h.call('GET', '/v1/contacts/lookup?externalId=imp-4')).status).toBe(200);
    const announced = h.collect('crm.contact.created.v1');
    const ndjson = ['{"externalId":"imp-6","attributes":{"ltv":7}}', '{oops', '{"email":"imp7@example.com","plan":"pro"}', ''].join('\n');
    const nd = await fetch(`${h.crm.url}/v1/imports`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/x-ndjson' }, body: ndjson });
    const ndJob: any = await nd.json();
    expect(ndJob).toMatchObject({ rowsDone: 2, rowsFailed: 1 });
    expect((await h.call('GET', '/v1/contacts/lookup?email=imp7%40example.com')).body.attributes).toEqual({ plan: 'pro' });
    // Each imported contact is announced with the envelope and payload any other write would give it.
    await eventually(() => announced.events.length >= 2, 8000, 'created events of the NDJSON import');
    announced.stop();
    const workspaceId = (await h.call('GET', '/v1/workspace')).body.id;
    for (const [q, identity] of [['externalId=imp-6', { externalId: 'imp-6' }], ['email=imp7%40example.com', { email: 'imp7@example.com' }]] as const) {
      const c = (await h.call('GET', `/v1/contacts/lookup?${q}`)).body;
      const event = announced.events.find((e) => e.data.contactId === c.id);
      expect(event, q).toMatchObject({ subject: 'crm.contact.created.v1', schemaVersion: 1, workspaceId, producer: 'crm', occurredAt: c.createdAt, partitionKey: c.id });
      expect(event!.data).toEqual({ contactId: c.id, ...identity, attributes: c.attributes, createdAt: c.createdAt });
    }
    expect(new Set(announced.events.map((e) => e.id)).size).toBe(announced.events.length);
    expect((await h.call('GET', '/v1/imports')).body.map((j: { id: string }) => j.id)).toEqual([ndJob.id, job.id]);
  });
});
