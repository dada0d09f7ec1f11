import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_CHANGED_V1, CONTACT_CREATED_V1, CONTACT_UPDATED_V1, DELIVERY_STATUS_RECEIVED_V1, INBOUND_MESSAGE_RECEIVED_V1, MESSAGE_REQUESTED_V1 } from '@tessera/contracts';
import { SpanKind } from '@tessera/observability';
import type { FakeHttpVendor } from '@tessera/provider-core/testing';
import { SmtpSink } from '@tessera/provider-email-smtp/testing';
import { startFakeFcm } from '@tessera/provider-push-fcm/testing';
import { startFakeTwilio } from '@tessera/provider-sms-twilio/testing';
import { startFakeWebhookReceiver } from '@tessera/provider-webhook-http/testing';
import { startFakeWhatsApp } from '@tessera/provider-whatsapp-cloud/testing';
import { testSpanExporter } from '@tessera/testing';
import { PUBLIC_URL, startHarness, waitFor, WS, type Harness } from './harness';

const TWILIO = { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: 'twilio-secret-token' };
const WA = { phoneNumberId: '106540352242922', accessToken: 'EAAG-wa-secret' };
const FCM = { projectId: 'tessera-test', accessToken: 'ya29.fcm-secret' };
const HOOK_SECRET = 'whsec_0123456789abcdef';

describe('messaging: providers, templates and the send pipeline', () => {
  let h: Harness;
  let sink: SmtpSink;
  let twilio: FakeHttpVendor;
  let twilioBackup: FakeHttpVendor;
  let whatsapp: FakeHttpVendor;
  let fcm: FakeHttpVendor;
  let hook: FakeHttpVendor;
  const ann = randomUUID(); // subscribed everywhere
  const bob = randomUUID(); // unsubscribed everywhere

  const contact = async (id: string, n: number, attributes: Record<string, unknown> = {}): Promise<void> => {
    await h.publish('crm', CONTACT_CREATED_V1.subject, { contactId: id, email: `person${n}@example.test`, phone: `+4915100000${n}0`, attributes: { pushToken: `device-${n}`, firstName: `P${n}`, ...attributes }, createdAt: new Date().toISOString() });
    await waitFor(async () => (await h.pool.query('SELECT 1 FROM contact WHERE id = $1', [id])).rowCount, `contact ${id} in the projection`);
  };
  const template = async (body: object): Promise<string> => {
    const created = await h.call('POST', '/v1/templates', body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await h.call('POST', `/v1/templates/${created.body.id}/publish`)).status).toBe(201);
    return created.body.id;
  };
  const send = (contactId: string, channel: string, templateId: string, data: object = {}, key: string = randomUUID()): Promise<{ status: number; body: any }> =>
    h.call('POST', '/v1/messages', { idempotencyKey: key, contactId, channel, templateId, data });

  beforeAll(async () => {
    [h, sink, twilio, twilioBackup, whatsapp, fcm, hook] = await Promise.all([
      startHarness('msgsend'),
      new SmtpSink().start(),
      startFakeTwilio(TWILIO),
      startFakeTwilio(TWILIO),
      startFakeWhatsApp(WA),
      startFakeFcm(FCM),
      startFakeWebhookReceiver(HOOK_SECRET, '/hooks/tessera'),
    ]);
    const providers = [
      { name: 'smtp', channel: 'email', providerId: 'smtp', isDefault: true, options: { host: '127.0.0.1', port: sink.port, requireTls: false, from: 'news@tessera.test' } },
      { name: 'twilio main', channel: 'sms', providerId: 'twilio', isDefault: true, options: { baseUrl: twilio.url, ...TWILIO, from: '+15005550006' } },
      { name: 'twilio backup', channel: 'sms', providerId: 'twilio', priority: 200, options: { baseUrl: twilioBackup.url, ...TWILIO, from: '+15005550007' } },
      { name: 'whatsapp', channel: 'whatsapp', providerId: 'whatsapp_cloud', isDefault: true, options: { baseUrl: whatsapp.url, ...WA } },
      { name: 'fcm', channel: 'push', providerId: 'fcm', isDefault: true, options: { baseUrl: fcm.url, ...FCM } },
      { name: 'hook', channel: 'webhook', providerId: 'webhook', isDefault: true, options: { baseUrl: hook.url, path: '/hooks/tessera', secret: HOOK_SECRET } },
    ];
    for (const p of providers) expect((await h.call('POST', '/v1/providers', p)).status).toBe(201);
    await Promise.all([contact(ann, 1), contact(bob, 2)]);
  }, 90_000);

  afterAll(async () => {
    await h?.close();
    await Promise.all([sink?.close(), twilio?.close(), twilioBackup?.close(), whatsapp?.close(), fcm?.close(), hook?.close()]);
  });

  it('keeps its contact projection from thin updates: changed fields and attributes, removals, a contact it has not seen yet, and updates in order', async () => {
    const carl = randomUUID();
    await contact(carl, 3, { plan: 'free', score: 1, city: 'Porto' });
    const updatedAt = new Date().toISOString();
    await h.publish('crm', CONTACT_UPDATED_V1.subject, { contactId: carl, fields: { email: 'Carl@Example.TEST', locale: 'pt-PT' }, attributes: { plan: 'pro', score: 2 }, unset: ['city', 'phone'], updatedAt });
    const row = async (id: string): Promise<Record<string, unknown> | undefined> => (await h.pool.query('SELECT email, phone, timezone, locale, attributes FROM contact WHERE id = $1', [id])).rows[0];
    const updated = await waitFor(async () => ((await row(carl))?.locale === 'pt-PT' ? row(carl) : undefined), 'the update in the projection');
    // Named fields change (email lower-cased), unset ones clear, the others keep their value.
    expect(updated).toEqual({ email: 'carl@example.test', phone: null, timezone: null, locale: 'pt-PT', attributes: { pushToken: 'device-3', firstName: 'P3', plan: 'pro', score: 2 } });

    // An update that overtakes its contact's creation still lands (the creation then fills the rest).
    const dora = randomUUID();
    await h.publish('crm', CONTACT_UPDATED_V1.subject, { contactId: dora, fields: { timezone: 'Europe/Lisbon' }, attributes: { vip: true }, unset: ['gone'], updatedAt });
    expect(await waitFor(() => row(dora), 'an update for an unseen contact')).toEqual({ email: null, phone: null, timezone: 'Europe/Lisbon', locale: null, attributes: { vip: true } });
    // The late creation fills what the row lacks and undoes nothing of the newer update.
    await h.publish('crm', CONTACT_CREATED_V1.subject, { contactId: dora, email: 'dora@example.test', attributes: { vip: false, timezone: 'UTC', firstName: 'Dora' }, createdAt: updatedAt });
    expect(await waitFor(async () => ((await row(dora))?.email ? row(dora) : undefined), 'the late creation')).toEqual({
      email: 'dora@example.test', phone: null, timezone: 'Europe/Lisbon', locale: null, attributes: { vip: true, timezone: 'UTC', firstName: 'Dora' },
    });

    // What an update removed (an unset attribute, a cleared field) stays removed when the creation comes late.
    const finn = randomUUID();
    await h.publish('crm', CONTACT_UPDATED_V1.subject, { contactId: finn, fields: { phone: null, locale: 'fi-FI' }, attributes: { plan: 'pro' }, unset: ['coupon'], updatedAt });
    await waitFor(async () => ((await row(finn))?.locale ? row(finn) : undefined), 'the update of finn');
    await h.publish('crm', CONTACT_CREATED_V1.subject, { contactId: finn, email: 'finn@example.test', phone: '+358401234567', attributes: { plan: 'free', coupon: 'WELCOME10', firstName: 'Finn' }, createdAt: updatedAt });
    expect(await waitFor(async () => ((await row(finn))?.email ? row(finn) : undefined), 'the late creation of finn')).toEqual({
      email: 'finn@example.test', phone: null, timezone: null, locale: 'fi-FI', attributes: { plan: 'pro', firstName: 'Finn' },
    });

    // Updates of one contact published back to back (one bus batch, folded) apply in their order.
    const erin = randomUUID();
    const updates = [
      { fields: {}, attributes: { a: 1, b: 1 }, unset: [] },
      { fields: {}, attributes: { b: 2 }, unset: ['a'] },
      { fields: { email: 'Erin@Example.TEST' }, attributes: { a: 3 }, unset: [] },
      { fields: { locale: 'en-GB' }, attributes: {}, unset: ['b'] },
    ];
    for (const u of updates) await h.publish('crm', CONTACT_UPDATED_V1.subject, { contactId: erin, ...u, updatedAt });
    expect(await waitFor(async () => ((await row(erin))?.locale ? row(erin) : undefined), 'the last of the updates')).toEqual({ email: 'erin@example.test', phone: null, timezone: null, locale: 'en-GB', attributes: { a: 3 } });
  });

  it('refuses an invalid provider configuration at save, and never returns credentials', async () => {
    const bad = await h.call('POST', '/v1/providers', { name: 'bad', channel: 'sms', providerId: 'twilio', options: { baseUrl: 'nope', accountSid: 'XX', authToken: 't', extra: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['options.accountSid', 'options.baseUrl', 'options.extra']);
    expect((await h.call('POST', '/v1/providers', { name: 'x', channel: 'sms', providerId: 'carrier-pigeon', options: {} })).status).toBe(400);
    expect((await h.call('POST', '/v1/providers', { name: 'y', channel: 'email', providerId: 'twilio', options: {} })).body.errors[0].path).toBe('channel');
    const list = await h.call('GET', '/v1/providers');
    expect(JSON.stringify(list.body)).not.toContain(TWILIO.authToken);
    expect(list.body.find((p: { name: string }) => p.name === 'twilio main').options.authToken).toBe('(stored)');
  });

  it('sends real email through SMTP with layout, escaping, tracked links and one-click unsubscribe, then honours it', async () => {
    expect((await h.call('PUT', '/v1/partials/layout', { body: '<html><body>{{> @partial-block}}<p><a href="{{unsubscribeUrl}}">Unsubscribe</a></p></body></html>' })).status).toBe(200);
    const id = await template({
      name: 'order-shipped',
      channel: 'email',
      requiredVariables: ['order.id'],
      content: { locales: { default: { subject: 'Order {{order.id}} shipped, {{contact.attributes.firstName}}', html: '{{#> layout}}<h1>Hi {{order.note}}</h1><a href="https://shop.test/o/{{order.id}}">Track</a>{{/layout}}', text: 'Order {{order.id}}' } } },
    });
    const sent = await send(ann, 'email', id, { order: { id: 'A-1', note: '<b>you</b>' } });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ status: 'sent', templateVersion: 1, recipient: 'person1@example.test' });
    const mail = await waitFor(() => sink.received.find((m) => m.providerMessageId === sent.body.providerMessageId), 'the email in the SMTP sink');
    expect(mail.mail.subject).toBe('Order A-1 shipped, P1');
    expect(mail.mail.html).toContain('<h1>Hi &lt;b&gt;you&lt;/b&gt;</h1>');
    expect(mail.mail.html).not.toContain('https://shop.test/o/A-1'); // rewritten to a click link
    const unsubscribe = mail.mail.headerLines.find((l) => l.key === 'list-unsubscribe')!.line.match(/<(.+)>/)![1]!;
    expect(unsubscribe.startsWith(`${PUBLIC_URL}/v1/t/u/`)).toBe(true);
    expect(mail.mail.headerLines.find((l) => l.key === 'list-unsubscribe-post')?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');

    const local = (url: string): string => url.replace(PUBLIC_URL, h.messaging.url);
    const click = String(mail.mail.html).match(/href="([^"]+\/v1\/t\/c\/[^"]+)"/)![1]!;
    const redirect = await fetch(local(click), { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('https://shop.test/o/A-1');
    const forged = await fetch(local(click.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))), { redirect: 'manual' });
    expect(forged.status).toBe(404);
    const pixel = String(mail.mail.html).match(/src="([^"]+\/v1\/t\/o\/[^"]+)"/)![1]!;
    expect((await fetch(local(pixel))).headers.get('content-type')).toBe('image/gif');

    const oneClick = await fetch(local(unsubscribe), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(200);
    const requested = await waitFor(() => h.seen('messaging.unsubscribe.requested.v1').find((e) => e.data.contactId === ann), 'messaging.unsubscribe.requested.v1');
    expect(requested.data).toMatchObject({ channel: 'email', source: 'one_click', messageId: sent.body.id });
    const history = (await h.call('GET', `/v1/messages/${sent.body.id}`)).body.statusEvents.map((e: { status: string }) => e.status);
    expect(history).toEqual(['queued', 'sent', 'clicked', 'opened', 'unsubscribed']);
    await waitFor(() => h.seen('messaging.message.status_changed.v1').filter((e) => e.data.messageId === sent.body.id).length >= 5, 'five status events on the bus');
    const published = h.seen('messaging.message.status_changed.v1').filter((e) => e.data.messageId === sent.body.id);
    expect(published.map((e) => e.data.status).sort()).toEqual(['clicked', 'opened', 'queued', 'sent', 'unsubscribed']);
    expect(published[0].data).toMatchObject({ contactId: ann, channel: 'email', templateId: id });

    const again = await send(ann, 'email', id, { order: { id: 'A-2' } });
    expect(again.body).toMatchObject({ status: 'suppressed', failureReason: 'unsubscribed: contact opted out of email' });
    await h.publish('crm', CONSENT_CHANGED_V1.subject, { contactId: ann, channel: 'email', state: 'subscribed', source: 'api', changedAt: new Date().toISOString() });
    await waitFor(async () => (await send(ann, 'email', id, { order: { id: 'A-3' } })).body.status === 'sent', 'email allowed again after the CRM re-subscribed');
  });

  it('sends once for a repeated request, even concurrently and over both the API and the bus', async () => {
    const id = await template({ name: 'otp', channel: 'sms', content: { locales: { default: { body: 'Code {{code}}' } } } });
    const key = `otp-${randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 6 }, () => send(ann, 'sms', id, { code: '1234' }, key)));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const requestId = `journey-step-${randomUUID()}`;
    const request = { requestId, contactId: ann, channel: 'sms' as const, templateId: 'otp', data: { code: '999' } };
    await h.publish('journeys', MESSAGE_REQUESTED_V1.subject, request);
    await h.publish('journeys', MESSAGE_REQUESTED_V1.subject, request);
    await waitFor(async () => (await h.call('GET', `/v1/contacts/${ann}/messages`)).body.some((m: any) => m.idempotencyKey === requestId && m.status === 'sent'), 'the bus-requested sms');
    await new Promise((r) => setTimeout(r, 300)); // give a (wrong) second send the time it would need
    const all = [...twilio.received, ...twilioBackup.received];
    expect(all.filter((m) => (m.raw as { Body: string }).Body === 'Code 1234')).toHaveLength(1);
    expect(all.filter((m) => (m.raw as { Body: string }).Body === 'Code 999')).toHaveLength(1);
  });

  it('sends a burst of bus requests as batches: each once, with its history and status events, and one whose contact arrives late', async () => {
    await template({ name: 'burst', channel: 'webhook', content: { locales: { default: { payload: '{"n": {{n}} }' } } } });
    const late = randomUUID(); // not in the projection yet: its send waits for a redelivery
    const requests = Array.from({ length: 40 }, (_, n) => ({ requestId: `burst-${randomUUID()}`, contactId: n === 7 ? late : ann, channel: 'webhook' as const, templateId: 'burst', data: { n } }));
    requests.push({ ...requests[3]! }); // a repeat inside the same burst
    await Promise.all(requests.map((r) => h.publish('journeys', MESSAGE_REQUESTED_V1.subject, r)));
    const sent = (count: number) => async (): Promise<{ id: string }[] | undefined> => {
      const { rows } = await h.pool.query(`SELECT id FROM message WHERE idempotency_key = ANY($1::text[]) AND status = 'sent'`, [requests.map((r) => r.requestId)]);
      return rows.length === count ? rows : undefined;
    };
    await waitFor(sent(39), 'every burst request but the late one sent', 15_000);
    await contact(late, 4);
    const rows = await waitFor(sent(40), 'the late request sent once its contact arrived', 15_000);
    await new Promise((r) => setTimeout(r, 300)); // give a (wrong) second send the time it would need
    const burst = hook.received.filter((m) => rows.some((r) => r.id === (m.raw as { id: string }).id));
    expect(burst.map((m) => (m.raw as { payload: { n: number } }).payload.n).sort((a, b) => a - b)).toEqual(requests.slice(0, 40).map((_, n) => n));
    const history = await h.pool.query(`SELECT array_agg(status ORDER BY occurred_at, id) AS statuses FROM message_status_event WHERE message_id = ANY($1::uuid[]) GROUP BY message_id`, [rows.map((r) => r.id)]);
    expect(history.rows.map((r) => r.statuses)).toEqual(rows.map(() => ['queued', 'sent']));
    await waitFor(() => h.seen('messaging.message.status_changed.v1').filter((e) => rows.some((r) => r.id === e.data.messageId)).length >= 80, 'a queued and a sent event per message on the bus');
  });

  it("applies a bus request's overrides: a replaced part and a preferred provider; refuses one the channel lacks", async () => {
    await template({ name: 'promo', channel: 'sms', content: { locales: { default: { body: 'Promo {{code}}' } } } });
    const backup = ((await h.call('GET', '/v1/providers')).body as { id: string; name: string }[]).find((p) => p.name === 'twilio backup')!;
    const requestId = `promo-${randomUUID()}`;
    await h.publish('journeys', MESSAGE_REQUESTED_V1.subject, { requestId, contactId: ann, channel: 'sms', templateId: 'promo', data: { code: 'A' }, overrides: { body: 'Flash sale today', provider: backup.id } });
    await waitFor(async () => (await h.call('GET', `/v1/contacts/${ann}/messages`)).body.some((m: any) => m.idempotencyKey === requestId && m.status === 'sent'), 'the overridden sms');
    expect(twilioBackup.received.filter((m) => (m.raw as { Body: string }).Body === 'Flash sale today')).toHaveLength(1);
    expect(twilio.received.some((m) => (m.raw as { Body: string }).Body === 'Flash sale today')).toBe(false);

    const badId = `promo-${randomUUID()}`;
    await h.publish('journeys', MESSAGE_REQUESTED_V1.subject, { requestId: badId, contactId: ann, channel: 'sms', templateId: 'promo', data: { code: 'B' }, overrides: { subject: 'Not on SMS' } });
    const failed = await waitFor(async () => (await h.call('GET', `/v1/contacts/${ann}/messages`)).body.find((m: any) => m.idempotencyKey === badId && m.status === 'failed'), 'the refused override');
    expect(failed.failureReason).toBe('invalid_overrides: subject cannot be overridden on sms (allowed: body, provider)');
    expect([...twilio.received, ...twilioBackup.received].some((m) => (m.raw as { Body: string }).Body === 'Promo B')).toBe(false);
  });

  it('fails a send whose template was deleted and tells the journey that asked, once per message', async () => {
    const id = await template({ name: 'doomed', channel: 'webhook', content: { locales: { default: { payload: '{"v": 1}' } } } });
    const journeyId = randomUUID();
    const before = `doomed-${randomUUID()}`;
    await h.publish('journeys', MESSAGE_REQUESTED_V1.subject, { requestId: before, contactId: ann, channel: 'webhook', templateId: 'doomed', data: {}, journeyId });
    await waitFor(async () => (await h.call('GET', `/v1/contacts/${ann}/messages`)).body.some((m: any) => m.idempotencyKey === before && m.status === 'sent'), 'the send before the deletion');

    expect((await h.call('DELETE', `/v1/templates/${id}`)).status).toBe(204);
    expect((await h.call('GET', `/v1/templates/${id}`)).status).toBe(404);
    expect((await h.call('DELETE', `/v1/templates/${id}`)).status).toBe(404);

    const after = `doomed-${randomUUID()}`;
    const request = { requestId: after, contactId: ann, channel: 'webhook' as const, templateId: 'doomed', data: {}, journeyId };
    await h.publish('journeys', MESSAGE_REQUESTED_V1.subject, request);
    await h.publish('journeys', MESSAGE_REQUESTED_V1.subject, request); // a redelivery
    const failed = await waitFor(async () => (await h.call('GET', `/v1/contacts/${ann}/messages`)).body.find((m: any) => m.idempotencyKey === after && m.status === 'failed'), 'the send after the deletion');
    expect(failed.failureReason).toBe('unknown_template: no published template doomed');
    const missing = await waitFor(() => {
      const found = h.seen('messaging.template.missing.v1').filter((e) => e.data.messageId === failed.id);
      return found.length ? found : undefined;
    }, 'messaging.template.missing.v1 for the failed send');
    await new Promise((r) => setTimeout(r, 300)); // the time a (wrong) second announcement would need
    expect(h.seen('messaging.template.missing.v1').filter((e) => e.data.messageId === failed.id)).toHaveLength(1);
    expect(missing[0].data).toMatchObject({ templateId: 'doomed', journeyId, contactId: ann, channel: 'webhook' });
    // Nothing is announced for a send whose template exists.
    expect(h.seen('messaging.template.missing.v1').some((e) => e.data.templateId === 'burst')).toBe(false);
  });

  it('resumes a message whose sender crashed after recording it, once its lease lapsed, and leaves a live lease alone', async () => {
    const id = await template({ name: 'crash', channel: 'sms', content: { locales: { default: { body: 'Resumed {{n}}' } } } });
    const crashed = randomUUID();
    const busy = randomUUID();
    // What a replica leaves behind when it dies between the queued insert and the provider call.
    await h.pool.query(`INSERT INTO message (id, workspace_id, idempotency_key, contact_id, channel, template_id, status, claimed_until) VALUES (gen_random_uuid(), $1, $2, $3, 'sms', 'crash', 'queued', now() - interval '1 second'), (gen_random_uuid(), $1, $4, $3, 'sms', 'crash', 'queued', now() + interval '1 minute')`, [WS, crashed, ann, busy]);
    expect((await send(ann, 'sms', id, { n: 1 }, crashed)).body).toMatchObject({ status: 'sent' });
    expect((await send(ann, 'sms', id, { n: 1 }, crashed)).body).toMatchObject({ status: 'sent' });
    expect((await send(ann, 'sms', id, { n: 2 }, busy)).body).toMatchObject({ status: 'queued' });
    const bodies = [...twilio.received, ...twilioBackup.received].map((m) => (m.raw as { Body: string }).Body);
    expect(bodies.filter((b) => b === 'Resumed 1')).toHaveLength(1);
    expect(bodies).not.toContain('Resumed 2');
  });

  it('sends on sms, whatsapp, push and webhook, and sends nothing to an unsubscribed contact on any channel', async () => {
    const t = {
      sms: await template({ name: 'sms-hello', channel: 'sms', content: { locales: { default: { body: 'Hello {{contact.attributes.firstName}}' } } } }),
      whatsapp: await template({ name: 'wa-hello', channel: 'whatsapp', content: { locales: { default: { templateName: 'hello_world', language: 'en_US', parameters: ['{{contact.attributes.firstName}}'] } } } }),
      push: await template({ name: 'push-hello', channel: 'push', content: { locales: { default: { title: 'Hi', body: 'Hello {{contact.attributes.firstName}}', data: { deepLink: 'app://home' } } } } }),
      webhook: await template({ name: 'hook-hello', channel: 'webhook', content: { locales: { default: { payload: '{"contact":"{{contact.id}}","kind":"hello"}' } } } }),
      email: await template({ name: 'email-hello', channel: 'email', content: { locales: { default: { subject: 'Hello', text: 'Hello' } } } }),
    };
    for (const channel of ['sms', 'whatsapp', 'push', 'webhook'] as const) expect((await send(ann, channel, t[channel])).body, channel).toMatchObject({ status: 'sent' });
    expect(whatsapp.received.at(-1)?.raw).toMatchObject({ type: 'template', template: { name: 'hello_world', components: [{ parameters: [{ text: 'P1' }] }] } });
    expect(fcm.received.at(-1)).toMatchObject({ to: 'device-1', raw: { message: { data: { deepLink: 'app://home' } } } });
    expect(hook.received.at(-1)?.raw).toMatchObject({ to: ann, payload: { contact: ann, kind: 'hello' } });
    // One client span per provider call (the vendor HTTP call itself records none: see callVendor).
    expect(testSpanExporter.getFinishedSpans().find((s) => s.name === 'send webhook')).toMatchObject({ kind: SpanKind.CLIENT, attributes: { 'messaging.provider': 'webhook', 'messaging.channel': 'webhook' } });

    for (const channel of ['email', 'sms', 'whatsapp', 'push'] as const) await h.publish('crm', CONSENT_CHANGED_V1.subject, { contactId: bob, channel, state: 'unsubscribed', source: 'api', changedAt: new Date().toISOString() });
    expect((await h.call('POST', '/v1/suppressions', { channel: 'webhook', address: bob, reason: 'manual' })).status).toBe(201);
    await waitFor(async () => Object.keys((await h.pool.query('SELECT consent FROM contact WHERE id = $1', [bob])).rows[0].consent).length === 4, 'consent in the projection');
    const counts = (): number[] => [sink, twilio, twilioBackup, whatsapp, fcm, hook].map((v) => v.received.length);
    const before = counts();
    for (const channel of ['email', 'sms', 'whatsapp', 'push', 'webhook'] as const) {
      expect((await send(bob, channel, t[channel])).body, channel).toMatchObject({ status: 'suppressed' });
    }
    await h.publish('journeys', MESSAGE_REQUESTED_V1.subject, { requestId: randomUUID(), contactId: bob, channel: 'sms', templateId: 'sms-hello', data: {} });
    await waitFor(async () => (await h.call('GET', `/v1/contacts/${bob}/messages`)).body.length === 6, 'the bus request recorded');
    expect(counts()).toEqual(before);
  });

  it('falls back on vendor outage, does not retry a vendor 4xx, fails clearly on render errors, and tracks delivery callbacks', async () => {
    const id = await template({ name: 'sms-order', channel: 'sms', requiredVariables: ['order.id'], content: { locales: { default: { body: 'Order {{order.id}}' }, 'pt': { body: 'Pedido {{order.id}}' } } } });
    twilio.failNext('unavailable', 3);
    const fallback = await send(ann, 'sms', id, { order: { id: 'F-1' } });
    expect(fallback.body).toMatchObject({ status: 'sent', attempts: 4 });
    expect(twilioBackup.received.at(-1)?.raw).toMatchObject({ Body: 'Order F-1', From: '+15005550007' });

    twilio.failNext('reject');
    const before = twilio.attempts;
    const rejected = await send(ann, 'sms', id, { order: { id: 'F-2' } });
    expect(rejected.body).toMatchObject({ status: 'failed', failureReason: 'twilio: 21610: Attempt to send to unsubscribed recipient' });
    expect(twilio.attempts - before).toBe(1);

    const broken = await send(ann, 'sms', id, {});
    expect(broken.body).toMatchObject({ status: 'failed', failureReason: 'render_error: Missing required variables: order.id' });
    expect((await send(ann, 'sms', 'no-such-template')).status).toBe(404);
    expect((await send(ann, 'email', id, { order: { id: 1 } })).status).toBe(400);
    expect((await h.call('POST', '/v1/messages', { idempotencyKey: '', contactId: 'x', channel: 'fax', templateId: id })).body.errors.map((e: any) => e.path).sort()).toEqual(['channel', 'contactId', 'idempotencyKey']);

    const ok = await send(ann, 'sms', id, { order: { id: 'F-3' } });
    await h.publish('ingestion', DELIVERY_STATUS_RECEIVED_V1.subject, { channel: 'sms', provider: 'twilio', providerMessageId: ok.body.providerMessageId, status: 'delivered', occurredAt: new Date().toISOString(), sourceId: randomUUID(), raw: {} });
    await waitFor(async () => (await h.call('GET', `/v1/messages/${ok.body.id}`)).body.status === 'delivered', 'delivered status');
  });

  it('keeps WhatsApp free-form messages inside the 24-hour window and previews templates per locale', async () => {
    const id = await template({ name: 'wa-text', channel: 'whatsapp', content: { locales: { default: { text: 'Thanks {{contact.attributes.firstName}}' } } } });
    expect((await send(ann, 'whatsapp', id)).body).toMatchObject({ status: 'suppressed', failureReason: expect.stringMatching(/^outside_customer_service_window/) });
    await h.publish('ingestion', INBOUND_MESSAGE_RECEIVED_V1.subject, { channel: 'whatsapp', provider: 'whatsapp_cloud', providerMessageId: 'wamid.in1', from: '+491510000010', to: '106540352242922', text: 'hello', receivedAt: new Date().toISOString(), sourceId: randomUUID(), raw: {} });
    await waitFor(async () => (await send(ann, 'whatsapp', id)).body.status === 'sent', 'free-form WhatsApp inside the window');

    const preview = await h.call('POST', '/v1/templates/sms-order/preview', { contactId: ann, data: { order: { id: 'P-1' } }, locale: 'pt-BR' });
    expect(preview.body).toMatchObject({ body: 'Pedido P-1', locale: 'pt' });
    expect((await h.call('POST', '/v1/templates/sms-order/preview', { data: {} })).status).toBe(422);
    expect((await h.call('POST', '/v1/templates', { name: 'broken', channel: 'sms', content: { locales: { default: { body: '{{#if x}}' } } } })).status).toBe(400);
  });
});
