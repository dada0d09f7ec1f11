import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALIAS_RECEIVED_V1, CONTACT_CREATED_V1, CONTACT_MERGED_V1, CONTACT_UPDATED_V1, IDENTIFY_RECEIVED_V1 } from '@tessera/contracts';
import { eventually, publishAs, startCrm, trackingBase, type CrmHarness } from './helpers';

describe('CRM identity resolution from ingestion events', () => {
  let h: CrmHarness;
  beforeAll(async () => {
    h = await startCrm('crm-identity');
  });
  afterAll(async () => h?.close());

  const lookup = async (q: string): Promise<any> => {
    const r = await h.call('GET', `/v1/contacts/lookup?${q}`);
    return r.status === 200 ? r.body : undefined;
  };

  it('moves an anonymous profile (ids and attributes) onto the known one and publishes the merge', async () => {
    const merged = h.collect(CONTACT_MERGED_V1.subject);
    await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ anonymousId: 'anon-1' }), traits: { color: 'red', plan: 'trial' } });
    const anonymous = await eventually(() => lookup('anonymousId=anon-1'), 8000, 'anonymous profile');
    expect(anonymous).toMatchObject({ externalId: null, attributes: { color: 'red', plan: 'trial' } });
    const known = (await h.call('POST', '/v1/contacts', { externalId: 'user-1', email: 'known@example.com', attributes: { plan: 'pro' } })).body;
    await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: 'user-1', anonymousId: 'anon-1' }), traits: { size: 'L' } });
    const after = await eventually(async () => {
      const c = await lookup('anonymousId=anon-1');
      return c?.id === known.id && c.attributes.size ? c : undefined;
    }, 8000, 'merge');
    // plan: the API write is newer than the anonymous trait, so it wins.
    expect(after.attributes).toEqual({ color: 'red', plan: 'pro', size: 'L' });
    expect((await h.call('GET', `/v1/contacts/${anonymous.id}`)).body.id).toBe(known.id);
    const event = await eventually(() => merged.events.find((e) => e.data.mergedContactId === anonymous.id), 5000, 'merged event');
    merged.stop();
    expect(event.data.contactId).toBe(known.id);
  });

  it('turns the anonymous profile into the known one when no known one exists', async () => {
    await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ anonymousId: 'anon-2' }), traits: { visits: 1 } });
    const anonymous = await eventually(() => lookup('anonymousId=anon-2'), 8000, 'anonymous profile');
    await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: 'user-2', anonymousId: 'anon-2' }), traits: { email: 'Two@Example.com', visits: 2, gone: null } });
    const known = await eventually(() => lookup('externalId=user-2'), 8000, 'known profile');
    expect(known).toMatchObject({ id: anonymous.id, email: 'two@example.com', attributes: { visits: 2 } });
  });

  it('publishes contact.created and contact.updated, with the changed attributes, for every profile of a batch', async () => {
    const created = h.collect(CONTACT_CREATED_V1.subject);
    const updated = h.collect(CONTACT_UPDATED_V1.subject);
    const users = ['batch-1', 'batch-2', 'batch-3', 'batch-4'];
    await Promise.all(users.map((u, i) => publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: u }), traits: { tier: i } })));
    const contacts: any[] = await eventually(async () => {
      const found = await Promise.all(users.map((u) => lookup(`externalId=${u}`)));
      return found.every(Boolean) ? found : undefined;
    }, 8000, 'the batch profiles');
    await Promise.all(users.map((u, i) => publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: u }), traits: { tier: i, seen: true } })));
    const ofBatch = (events: any[]): any[] => events.filter((e) => contacts.some((c) => c.id === e.data.contactId));
    const creations = await eventually(() => (ofBatch(created.events).length === users.length ? ofBatch(created.events) : undefined), 8000, 'created events');
    const updates = await eventually(() => (ofBatch(updated.events).length === users.length ? ofBatch(updated.events) : undefined), 8000, 'updated events');
    created.stop();
    updated.stop();
    expect(new Set([...creations, ...updates].map((e) => e.id)).size).toBe(users.length * 2);
    for (const [i, c] of contacts.entries()) {
      const creation = creations.find((e) => e.data.contactId === c.id);
      expect(creation).toMatchObject({ partitionKey: c.id, producer: 'crm', data: { externalId: users[i], attributes: { tier: i } } });
      expect(creation.occurredAt).toBe(creation.data.createdAt);
      const update = updates.find((e) => e.data.contactId === c.id);
      expect(update).toMatchObject({ partitionKey: c.id, producer: 'crm', data: { attributes: { seen: true }, fields: {}, unset: [], version: '2' } });
      expect(update.occurredAt).toBe(update.data.updatedAt);
    }
  });

  it('applies a redelivered event once', async () => {
    const first = await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: 'user-3' }), traits: { logins: { $inc: 1 } } });
    await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, first.data as never, first.id);
    await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: 'user-3' }), traits: { marker: true } });
    const c = await eventually(async () => ((await lookup('externalId=user-3'))?.attributes.marker ? lookup('externalId=user-3') : undefined), 8000, 'user-3');
    expect(c.attributes.logins).toBe(1);
  });

  it('merges two known profiles under concurrent identify/alias events, merge calls and PATCHes without losing an update', async () => {
    const k1 = (await h.call('POST', '/v1/contacts', { externalId: 'k1', attributes: { count: 0 } })).body;
    const k2 = (await h.call('POST', '/v1/contacts', { externalId: 'k2', email: 'k2@example.com' })).body;
    const N = 6;
    await Promise.all([
      publishAs(h, 'ingestion', ALIAS_RECEIVED_V1.subject, { ...trackingBase({ userId: 'k1' }), previousId: 'k2' }),
      h.call('POST', '/v1/contacts/merge', { contactId: k1.id, mergedContactId: k2.id }),
      h.call('POST', '/v1/contacts/merge', { contactId: k1.id, mergedContactId: k2.id }),
      ...Array.from({ length: N }, (_, i) => publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: i % 2 ? 'k1' : 'k2' }), traits: { [`bus_${i}`]: i } })),
      ...Array.from({ length: N }, (_, i) => h.call('PATCH', `/v1/contacts/${k1.id}`, { attributes: { count: { $inc: 1 } } })),
      ...Array.from({ length: N }, (_, i) => h.call('PATCH', `/v1/contacts/${k2.id}`, { attributes: { [`api_${i}`]: `v${i}` } })),
    ]);
    const expected = Object.fromEntries([...Array.from({ length: N }, (_, i) => [`bus_${i}`, i]), ...Array.from({ length: N }, (_, i) => [`api_${i}`, `v${i}`])]);
    const final = await eventually(async () => {
      const c = await lookup('externalId=k2');
      (globalThis as any).lastSeen = c;
      return c && Object.keys(expected).every((k) => k in c.attributes) ? c : undefined;
    }, 10000, 'all updates on one profile').catch((e) => {
      console.log('LAST', JSON.stringify((globalThis as any).lastSeen));
      throw e;
    });
    expect(final.id).toBe(k1.id);
    expect(final.attributes).toEqual({ ...expected, count: N });
    expect(final.email).toBe('k2@example.com');
    expect((await lookup('externalId=k1')).id).toBe(k1.id);
    expect((await h.call('GET', `/v1/contacts/${k2.id}`)).body.id).toBe(k1.id);
    const listed = (await h.call('GET', '/v1/contacts?externalId=k2')).body.items;
    expect(listed).toEqual([]);
    const again = await h.call('POST', '/v1/contacts/merge', { contactId: k1.id, mergedContactId: k2.id });
    expect(again.body.merged).toBe(false);
  });
});
