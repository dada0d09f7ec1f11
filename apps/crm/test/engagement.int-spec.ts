import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_CHANGED_V1, CONTACT_ERASED_V1, CONTACT_ERASED_V2, CONTACT_TAGGED_V1, IDENTIFY_RECEIVED_V1, INBOUND_MESSAGE_RECEIVED_V1, LIST_MEMBERSHIP_CHANGED_V1, OBJECT_RECORD_CHANGED_V1, UNSUBSCRIBE_REQUESTED_V1 } from '@tessera/contracts';
import { eventually, publishAs, startCrm, trackingBase, type CrmHarness } from './helpers';

describe('CRM tags, lists, consent and erasure', () => {
  let h: CrmHarness;
  beforeAll(async () => {
    h = await startCrm('crm-engage', { CRM_UNSUBSCRIBE_SECRET: 'test-unsubscribe-secret-0123456789abcdef' });
  });
  afterAll(async () => h?.close());

  it('tags contacts and keeps static lists, announcing only real changes', async () => {
    const tagged = h.collect(CONTACT_TAGGED_V1.subject);
    const membership = h.collect(LIST_MEMBERSHIP_CHANGED_V1.subject);
    const a = (await h.call('POST', '/v1/contacts', { externalId: 'tag-a' })).body;
    const b = (await h.call('POST', '/v1/contacts', { externalId: 'tag-b' })).body;
    expect((await h.call('POST', `/v1/contacts/${a.id}/tags/vip`)).body.changed).toBe(true);
    expect((await h.call('POST', `/v1/contacts/${a.id}/tags/vip`)).body.changed).toBe(false);
    expect((await h.call('POST', `/v1/contacts/${a.id}/tags/bad%20tag`)).status).toBe(400);
    expect((await h.call('GET', '/v1/contacts?tag=vip')).body.items.map((c: { id: string }) => c.id)).toEqual([a.id]);
    const list = (await h.call('POST', '/v1/lists', { name: 'Beta testers' })).body;
    const unknown = '01900000-0000-7000-8000-000000000000';
    const added = await h.call('POST', `/v1/lists/${list.id}/members`, { contactIds: [a.id, b.id, unknown] });
    expect(added.body).toEqual({ added: 2, alreadyMembers: 0, notFound: [unknown] });
    expect((await h.call('POST', `/v1/lists/${list.id}/members`, { contactIds: ['nope'] })).body.errors[0].path).toMatch(/^contactIds/);
    expect((await h.call('DELETE', `/v1/lists/${list.id}/members/${b.id}`)).body.removed).toBe(true);
    expect((await h.call('GET', `/v1/contacts?list=${list.id}`)).body.items.map((c: { id: string }) => c.id)).toEqual([a.id]);
    expect((await h.call('GET', `/v1/lists/${list.id}`)).body.memberCount).toBe(1);
    await eventually(() => membership.events.some((e) => e.data.change === 'removed' && e.data.contactIds[0] === b.id), 5000, 'membership events');
    expect(tagged.events.filter((e) => e.data.contactId === a.id)).toHaveLength(1);
    tagged.stop();
    membership.stop();
  });

  it('changes consent from the API, an inbound SMS STOP and an unsubscribe link, with history', async () => {
    const changes = h.collect(CONSENT_CHANGED_V1.subject);
    const c = (await h.call('POST', '/v1/contacts', { externalId: 'consent-1', email: 'c1@example.com', phone: '+14155550199' })).body;
    const subscribed = await h.call('PUT', `/v1/contacts/${c.id}/consent/sms`, { state: 'subscribed' });
    expect(subscribed.status).toBe(200);
    await h.call('PUT', `/v1/contacts/${c.id}/consent/email`, { state: 'subscribed', group: 'newsletter' });
    expect((await h.call('PUT', `/v1/contacts/${c.id}/consent/fax`, { state: 'subscribed' })).body.errors[0].path).toBe('channel');
    await publishAs(h, 'ingestion', INBOUND_MESSAGE_RECEIVED_V1.subject, {
      channel: 'sms', provider: 'twilio', providerMessageId: 'SM1', from: '+14155550199', to: '+15005550006', text: ' Stop ', receivedAt: new Date().toISOString(), sourceId: '0193a1b2-0000-7000-8000-000000000002', raw: {},
    });
    await eventually(async () => (await h.call('GET', `/v1/contacts/${c.id}/consent`)).body.current.find((x: any) => x.channel === 'sms' && x.state === 'unsubscribed'), 8000, 'sms stop');
    // An older subscribe arriving late never overrides the newer unsubscribe.
    await h.call('PUT', `/v1/contacts/${c.id}/consent/sms`, { state: 'subscribed', changedAt: new Date(Date.now() - 3_600_000).toISOString(), source: 'import' });
    const token = (await h.call('POST', '/v1/consent/unsubscribe-tokens', { contactId: c.id, channel: 'email', group: 'newsletter' })).body.token;
    expect((await h.call('POST', '/v1/consent/unsubscribe', { token: `${token}x` }, 'none')).status).toBe(401);
    const unsub = await h.call('POST', '/v1/consent/unsubscribe', { token }, 'none');
    expect(unsub.status).toBe(200);
    const view = (await h.call('GET', `/v1/contacts/${c.id}/consent`)).body;
    expect(view.current).toEqual([
      expect.objectContaining({ channel: 'email', group: 'newsletter', state: 'unsubscribed', source: 'unsubscribe_link' }),
      expect.objectContaining({ channel: 'sms', group: null, state: 'unsubscribed', source: 'sms_stop' }),
    ]);
    expect(view.history.map((x: any) => x.source).sort()).toEqual(['api', 'api', 'import', 'sms_stop', 'unsubscribe_link']);
    await eventually(() => changes.events.filter((e) => e.data.contactId === c.id).length >= 4, 5000, 'consent events');
    changes.stop();
    expect(changes.events.filter((e) => e.data.contactId === c.id).map((e) => e.data.source).sort()).toEqual(['api', 'api', 'sms_stop', 'unsubscribe_link']);
  });

  it("applies messaging's one-click unsubscribe requests once, even when redelivered", async () => {
    const changes = h.collect(CONSENT_CHANGED_V1.subject);
    const c = (await h.call('POST', '/v1/contacts', { email: 'oneclick@example.com' })).body;
    await h.call('PUT', `/v1/contacts/${c.id}/consent/email`, { state: 'subscribed' });
    const request = { contactId: c.id, channel: 'email' as const, source: 'one_click', requestedAt: new Date().toISOString() };
    const sent = await publishAs(h, 'messaging', UNSUBSCRIBE_REQUESTED_V1.subject, request);
    await publishAs(h, 'messaging', UNSUBSCRIBE_REQUESTED_V1.subject, request, sent.id);
    const view = await eventually(async () => {
      const body = (await h.call('GET', `/v1/contacts/${c.id}/consent`)).body;
      return body.current.find((x: any) => x.channel === 'email' && x.state === 'unsubscribed') ? body : undefined;
    }, 8000, 'one-click unsubscribe');
    expect(view.current).toEqual([expect.objectContaining({ channel: 'email', group: null, state: 'unsubscribed', source: 'one_click' })]);
    expect(view.history.filter((x: any) => x.source === 'one_click')).toHaveLength(1);
    await eventually(() => changes.events.some((e) => e.data.contactId === c.id && e.data.source === 'one_click'), 5000, 'consent event');
    changes.stop();
  });

  it('answers the consent view from one snapshot: the current state is always in its history', async () => {
    const c = (await h.call('POST', '/v1/contacts', { email: 'snapshot@example.com' })).body;
    const views: any[] = [];
    const read = async () => {
      for (let i = 0; i < 60; i++) views.push((await h.call('GET', `/v1/contacts/${c.id}/consent`)).body);
    };
    const write = async () => {
      for (let i = 0; i < 60; i++) await h.call('PUT', `/v1/contacts/${c.id}/consent/email`, { state: i % 2 ? 'subscribed' : 'unsubscribed', source: `round-${i}` });
    };
    await Promise.all([read(), read(), write()]);
    const seen = (x: any) => `${x.channel}/${x.group}/${x.state}/${x.source}/${x.changedAt}`;
    const inconsistent = views.filter((v) => v.current.some((x: any) => !v.history.map(seen).includes(seen(x))));
    expect(views.filter((v) => v.current.length)).not.toHaveLength(0);
    expect(inconsistent).toEqual([]);
  });

  it('erases personal data, keeps a tombstone and ignores late events for the person', async () => {
    const erased = h.collect(CONTACT_ERASED_V1.subject);
    const before = new Date(Date.now() - 1000).toISOString();
    await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: 'gdpr-1', anonymousId: 'gdpr-anon' }), traits: { email: 'gdpr@example.com', city: 'Oslo' } });
    const c = await eventually(async () => (await h.call('GET', '/v1/contacts/lookup?externalId=gdpr-1')).body?.id, 8000, 'profile');
    await h.call('POST', `/v1/contacts/${c}/tags/vip`);
    await h.call('PUT', `/v1/contacts/${c}/consent/email`, { state: 'subscribed' });
    const del = await h.call('DELETE', `/v1/contacts/${c}`);
    expect(del.status).toBe(200);
    expect((await h.call('DELETE', `/v1/contacts/${c}`)).status).toBe(200);
    expect((await h.call('GET', `/v1/contacts/${c}`)).status).toBe(404);
    for (const q of ['externalId=gdpr-1', 'email=gdpr%40example.com', 'anonymousId=gdpr-anon']) expect((await h.call('GET', `/v1/contacts/lookup?${q}`)).status).toBe(404);
    expect((await h.call('PATCH', `/v1/contacts/${c}`, { attributes: { city: 'Rome' } })).status).toBe(404);
    // A late identify (timestamp before the erasure) must not bring the person back.
    await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: 'gdpr-1' }), timestamp: before, traits: { city: 'Late' } });
    await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: 'after-erasure' }), traits: { marker: 1 } });
    await eventually(async () => (await h.call('GET', '/v1/contacts/lookup?externalId=after-erasure')).status === 200, 8000, 'later event processed');
    expect((await h.call('GET', '/v1/contacts/lookup?externalId=gdpr-1')).status).toBe(404);
    await eventually(() => erased.events.find((e) => e.data.contactId === c), 5000, 'erased event');
    erased.stop();
  });

  it('publishes crm.contact.erased.v2 beside v1 with sha256 hex of every identity, and no identity in clear', async () => {
    const v1 = h.collect(CONTACT_ERASED_V1.subject);
    const v2 = h.collect(CONTACT_ERASED_V2.subject);
    await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: 'gdpr-2', anonymousId: 'gdpr2-anon-a' }), traits: { email: 'GDPR2@Example.com', phone: '+4915144440002' } });
    const c = await eventually(async () => (await h.call('GET', '/v1/contacts/lookup?externalId=gdpr-2')).body?.id, 8000, 'profile');
    await publishAs(h, 'ingestion', IDENTIFY_RECEIVED_V1.subject, { ...trackingBase({ userId: 'gdpr-2', anonymousId: 'gdpr2-anon-b' }), traits: {} });
    await eventually(async () => (await h.call('GET', '/v1/contacts/lookup?anonymousId=gdpr2-anon-b')).status === 200, 8000, 'second anonymous id linked');
    expect((await h.call('DELETE', `/v1/contacts/${c}`)).status).toBe(200);
    const sha = (v: string): string => createHash('sha256').update(v, 'utf8').digest('hex');
    const event = await eventually(() => v2.events.find((e) => e.data.contactId === c), 5000, 'erased v2 event');
    expect(event.data).toEqual({
      contactId: c,
      erasedAt: expect.any(String),
      externalIdHashes: [sha('gdpr-2')],
      anonymousIdHashes: [sha('gdpr2-anon-a'), sha('gdpr2-anon-b')].sort(),
      emailHashes: [sha('gdpr2@example.com')],
      phoneHashes: [sha('+4915144440002')],
    });
    expect(JSON.stringify(event)).not.toMatch(/gdpr-2|gdpr2-anon|example\.com|4915144440002/i);
    // Both versions, from the same transaction: same erasure time, same workspace.
    const old = await eventually(() => v1.events.find((e) => e.data.contactId === c), 5000, 'erased v1 event');
    expect(old.data.erasedAt).toBe(event.data.erasedAt);
    // Erasing again changes nothing and publishes nothing more.
    expect((await h.call('DELETE', `/v1/contacts/${c}`)).status).toBe(200);
    v1.stop();
    v2.stop();
    expect(v2.events.filter((e) => e.data.contactId === c)).toHaveLength(1);
  });

  it('keeps custom object records related to contacts, validated against their type', async () => {
    const changed = h.collect(OBJECT_RECORD_CHANGED_V1.subject);
    const type = await h.call('POST', '/v1/object-types', { name: 'order', fields: { orderNo: { type: 'string', required: true }, total: { type: 'number' }, placedAt: { type: 'datetime' }, items: { type: 'list' } } });
    expect(type.status).toBe(201);
    const badType = await h.call('POST', '/v1/object-types', { name: 'bad', fields: { 'x y': { type: 'string' }, n: { type: 'money' } } });
    expect(badType.body.errors.map((e: any) => e.path).sort()).toEqual(['fields.n.type', 'fields.x y']);
    const c = (await h.call('POST', '/v1/contacts', { externalId: 'buyer-1' })).body;
    const created = await h.call('POST', '/v1/object-types/order/records', { contactId: c.id, data: { orderNo: 'A-1', total: 99.5, placedAt: '2026-11-01T10:00:00Z' } });
    expect(created.status).toBe(201);
    const invalid = await h.call('POST', '/v1/object-types/order/records', { contactId: c.id, data: { total: 'lots', colour: 'red' } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((e: any) => e.path).sort()).toEqual(['data.colour', 'data.orderNo', 'data.total']);
    expect((await h.call('POST', '/v1/object-types/nothing/records', { data: {} })).status).toBe(404);
    const patched = await h.call('PATCH', `/v1/object-types/order/records/${created.body.id}`, { data: { total: 120, items: ['sku-1'] } });
    expect(patched.body.data).toEqual({ orderNo: 'A-1', total: 120, placedAt: '2026-11-01T10:00:00Z', items: ['sku-1'] });
    expect((await h.call('PATCH', `/v1/object-types/order/records/${created.body.id}`, { data: { orderNo: null } })).body.errors[0].path).toBe('data.orderNo');
    const second = (await h.call('POST', '/v1/object-types/order/records', { contactId: c.id, data: { orderNo: 'A-2' } })).body;
    const ofContact = await h.call('GET', `/v1/contacts/${c.id}/objects`);
    expect(ofContact.body.items.map((r: any) => r.id)).toEqual([created.body.id, second.id]);
    expect((await h.call('DELETE', `/v1/object-types/order/records/${second.id}`)).status).toBe(200);
    expect((await h.call('GET', `/v1/object-types/order/records/${second.id}`)).status).toBe(404);
    await eventually(() => changed.events.filter((e) => e.data.objectType === 'order').length === 4, 5000, 'record events');
    changed.stop();
    expect(changed.events.map((e) => e.data.change)).toEqual(['created', 'updated', 'created', 'deleted']);
  });
});
