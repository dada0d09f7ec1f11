import { createHmac, randomUUID } from 'node:crypto';
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import Stripe from 'stripe';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE_ID, DELIVERY_STATUS_RECEIVED_V1, EVENT_RECEIVED_V1, IDENTIFY_RECEIVED_V1, INBOUND_MESSAGE_RECEIVED_V1, type EventEnvelope } from '@tessera/contracts';
import { startIngestion, waitFor, type Harness } from './helpers';

const stripe = new Stripe('sk_test_offline');

describe('Signed inbound webhooks', () => {
  let h: Harness;
  const sources: Record<string, string> = {};
  const secrets = { stripe: 'whsec_test_secret', shopify: 'shpss_test_secret', whatsapp: 'meta_app_secret', twilio: 'twilio_auth_token', generic: 'generic_hmac_key' };

  const send = async (provider: string, body: string | Buffer, headers: Record<string, string>, sourceId = sources[provider]!): Promise<{ status: number; text: string }> => {
    const response = await fetch(`${h.ingestion.url}/v1/webhooks/${provider}/${sourceId}`, { method: 'POST', headers, body });
    return { status: response.status, text: await response.text() };
  };
  const stored = async (subject: string): Promise<EventEnvelope<any>[]> => (await h.stored()).filter((e) => e.subject === subject);

  beforeAll(async () => {
    h = await startIngestion('ingwh');
    for (const [provider, secret] of Object.entries(secrets)) {
      const id = randomUUID();
      sources[provider] = id;
      const settings = provider === 'whatsapp' ? { verifyToken: 'let-me-in' } : provider === 'generic' ? { mapping: { userId: '/user/email', event: '/kind', messageId: '/id', properties: '/data', timestamp: '/at' } } : {};
      await h.query(`INSERT INTO ingestion.source (id, workspace_id, name, write_key_hash, kind, provider, signing_secret, settings) VALUES ($1, $2, $3, $4, 'webhook', $5, $6, $7)`, [id, DEFAULT_WORKSPACE_ID, provider, `hash-${id}`, provider, secret, JSON.stringify(settings)]);
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  it('Stripe: signed by the stripe package, mapped to track events keyed by metadata.userId or email, once per event id', async () => {
    const events = [
      { id: 'evt_1', type: 'checkout.session.completed', created: 1760000000, data: { object: { id: 'cs_1', amount_total: 4200, currency: 'eur', payment_status: 'paid', customer_details: { email: 'Ann@Example.com' } } } },
      { id: 'evt_2', type: 'payment_intent.payment_failed', created: 1760000001, data: { object: { id: 'pi_1', amount: 1000, currency: 'usd', metadata: { userId: 'user-7' }, last_payment_error: { message: 'Your card was declined.' } } } },
      { id: 'evt_3', type: 'customer.subscription.deleted', created: 1760000002, data: { object: { id: 'sub_1', customer: 'cus_9', status: 'canceled' } } },
    ];
    for (const event of events) {
      const payload = JSON.stringify(event);
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: secrets.stripe });
      expect((await send('stripe', payload, { 'content-type': 'application/json', 'stripe-signature': signature })).status).toBe(200);
      // Stripe retries deliver the same event id: stored once.
      expect((await send('stripe', payload, { 'content-type': 'application/json', 'stripe-signature': signature })).status).toBe(200);
    }
    const tracks = (await stored(EVENT_RECEIVED_V1.subject)).filter((e) => e.data.context.library.name === 'webhook-stripe');
    expect(tracks.map((e) => [e.data.name, e.data.userId ?? e.data.anonymousId])).toEqual([
      ['Order Completed', 'ann@example.com'],
      ['Payment Failed', 'user-7'],
      ['Subscription Cancelled', 'stripe:cus_9'],
    ]);
    expect(tracks[0]!.data.properties).toMatchObject({ revenue: 42, currency: 'EUR', orderId: 'cs_1' });
    expect(tracks[1]!.data.properties.reason).toBe('Your card was declined.');
  });

  it('refuses bad signatures with 401 and counts them; acknowledges and archives unknown types', async () => {
    const payload = JSON.stringify({ id: 'evt_x', type: 'charge.refunded', data: { object: { id: 'ch_1' } } });
    expect((await send('stripe', payload, { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_wrong' }) })).status).toBe(401);
    expect((await send('stripe', payload, {})).status).toBe(401);
    expect((await send('shopify', '{}', { 'x-shopify-hmac-sha256': 'bm9wZQ==' })).status).toBe(401);
    const metrics = await (await fetch(`${h.ingestion.url}/metrics`)).text();
    expect(metrics).toMatch(/tessera_ingestion_webhook_signature_failures_total\{provider="stripe"\} 2/);
    const ok = await send('stripe', payload, { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: secrets.stripe }) });
    expect(ok.status).toBe(200);
    const archived = await h.query(`SELECT envelope FROM ingestion.event_archive WHERE subject = 'webhook.unhandled' AND source_id = $1`, [sources.stripe]);
    expect(archived.rows[0].envelope.data).toMatchObject({ provider: 'stripe', type: 'stripe:charge.refunded' });
    expect((await send('stripe', 'not json', { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: 'not json', secret: secrets.stripe }) })).status).toBe(400);
    expect((await send('shopify', '{}', {}, randomUUID())).status).toBe(404);
    expect((await send('fax', '{}', {}, randomUUID())).status).toBe(404);
  });

  it('Shopify: verified as @shopify/shopify-api does, ids beyond 2^53 kept exactly, de-dup by webhook id', async () => {
    const shopify = shopifyApi({ apiKey: 'key', apiSecretKey: secrets.shopify, scopes: [], hostName: 'localhost', apiVersion: ApiVersion.October24, isEmbeddedApp: false, logger: { level: 0 } });
    const deliver = async (topic: string, webhookId: string, body: string): Promise<number> => {
      const headers = {
        'content-type': 'application/json',
        'x-shopify-hmac-sha256': createHmac('sha256', secrets.shopify).update(body).digest('base64'),
        'x-shopify-topic': topic,
        'x-shopify-webhook-id': webhookId,
        'x-shopify-shop-domain': 'tessera-test.myshopify.com',
        'x-shopify-api-version': '2024-10',
        'x-shopify-event-id': webhookId,
        'x-shopify-triggered-at': new Date().toISOString(),
      };
      // The official library accepts exactly this request: our signing matches Shopify's.
      expect((await shopify.webhooks.validate({ rawBody: body, rawRequest: { headers, method: 'POST', url: '/' } as never, rawResponse: {} as never })).valid).toBe(true);
      return (await send('shopify', body, headers)).status;
    };
    const order = '{"id":820982911946154508,"email":"Bob@Example.com","order_number":1001,"total_price":"19.90","currency":"EUR","line_items":[{"product_id":632910392123456789,"title":"Mug","quantity":2,"price":"9.95"}],"created_at":"2026-11-01T10:00:00Z"}';
    expect(await deliver('orders/create', 'wh-1', order)).toBe(200);
    expect(await deliver('orders/create', 'wh-1', order)).toBe(200);
    expect(await deliver('checkouts/update', 'wh-2', '{"id":982911946154508820,"token":"tok","email":"bob@example.com","abandoned_checkout_url":"https://x/recover","total_price":"5.00","currency":"EUR"}')).toBe(200);
    expect(await deliver('customers/update', 'wh-3', '{"id":115310627314723954,"email":"bob@example.com","first_name":"Bob","accepts_marketing":true}')).toBe(200);
    const tracks = (await stored(EVENT_RECEIVED_V1.subject)).filter((e) => e.data.context.library.name === 'webhook-shopify');
    expect(tracks.map((e) => e.data.name)).toEqual(['Order Placed', 'Checkout Started']);
    expect(tracks[0]!.data.properties).toMatchObject({ orderId: '820982911946154508', revenue: 19.9, products: [{ productId: '632910392123456789', quantity: 2 }] });
    expect(tracks[0]!.data.userId).toBe('bob@example.com');
    const identify = (await stored(IDENTIFY_RECEIVED_V1.subject)).find((e) => e.data.context.library.name === 'webhook-shopify');
    expect(identify?.data.traits).toMatchObject({ email: 'bob@example.com', firstName: 'Bob', shopifyCustomerId: '115310627314723954' });
  });

  it('WhatsApp: answers the verification handshake, maps messages and statuses from the raw signed bytes', async () => {
    const hs = await fetch(`${h.ingestion.url}/v1/webhooks/whatsapp/${sources.whatsapp}?hub.mode=subscribe&hub.verify_token=let-me-in&hub.challenge=1158201444`);
    expect(hs.status).toBe(200);
    expect(await hs.text()).toBe('1158201444');
    expect((await fetch(`${h.ingestion.url}/v1/webhooks/whatsapp/${sources.whatsapp}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`)).status).toBe(403);
    // Meta escapes non-ASCII as \uXXXX: the signature covers these exact bytes.
    const body =
      '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"123"},' +
      '"messages":[{"from":"4915112345678","id":"wamid.A","timestamp":"1760000000","type":"text","text":{"body":"Gr\\u00fc\\u00dfe"}},{"from":"4915112345678","id":"wamid.B","timestamp":"1760000001","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"yes-please","title":"Yes"}}},{"from":"4915112345678","id":"wamid.C","timestamp":"1760000002","type":"button","button":{"payload":"STOP","text":"Stop"}}],' +
      '"statuses":[{"id":"wamid.OUT","status":"read","timestamp":"1760000003","recipient_id":"4915112345678"},{"id":"wamid.OUT2","status":"failed","timestamp":"1760000004","recipient_id":"1","errors":[{"code":131026,"title":"Message undeliverable"}]}]}}]}]}';
    const signature = `sha256=${createHmac('sha256', secrets.whatsapp).update(body).digest('hex')}`;
    expect((await send('whatsapp', body, { 'content-type': 'application/json', 'x-hub-signature-256': signature })).status).toBe(200);
    expect((await send('whatsapp', body.replace('Gr\\u00fc\\u00dfe', 'Grüße'), { 'content-type': 'application/json', 'x-hub-signature-256': signature })).status).toBe(401);
    const inbound = (await stored(INBOUND_MESSAGE_RECEIVED_V1.subject)).filter((e) => e.data.provider === 'whatsapp_cloud');
    expect(inbound.map((e) => [e.data.providerMessageId, e.data.from, e.data.text, e.data.buttonPayload])).toEqual([
      ['wamid.A', '+4915112345678', 'Grüße', undefined],
      ['wamid.B', '+4915112345678', 'Yes', 'yes-please'],
      ['wamid.C', '+4915112345678', 'Stop', 'STOP'],
    ]);
    const statuses = (await stored(DELIVERY_STATUS_RECEIVED_V1.subject)).filter((e) => e.data.provider === 'whatsapp_cloud');
    expect(statuses.map((e) => [e.data.providerMessageId, e.data.status, e.data.reason])).toEqual([
      ['wamid.OUT', 'read', undefined],
      ['wamid.OUT2', 'failed', 'Message undeliverable'],
    ]);
  });

  it('Twilio: signed by the twilio package over URL + form params; inbound and status callbacks', async () => {
    const url = `${h.ingestion.url}/v1/webhooks/twilio/${sources.twilio}`;
    const post = async (params: Record<string, string>, token = secrets.twilio): Promise<number> =>
      (await send('twilio', new URLSearchParams(params).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, params) })).status;
    expect(await post({ MessageSid: 'SM100', SmsStatus: 'received', From: '+15551230000', To: '+15559870000', Body: 'STOP', NumMedia: '0' })).toBe(200);
    expect(await post({ MessageSid: 'SM200', MessageStatus: 'delivered', To: '+15551230000', From: '+15559870000' })).toBe(200);
    expect(await post({ MessageSid: 'SM201', MessageStatus: 'undelivered', ErrorCode: '30003', To: '+15551230000', From: '+15559870000' })).toBe(200);
    expect(await post({ MessageSid: 'SM202', MessageStatus: 'delivered' }, 'wrong-token')).toBe(401);
    const inbound = (await stored(INBOUND_MESSAGE_RECEIVED_V1.subject)).filter((e) => e.data.provider === 'twilio');
    expect(inbound.map((e) => [e.data.channel, e.data.from, e.data.text])).toEqual([['sms', '+15551230000', 'STOP']]);
    const statuses = (await stored(DELIVERY_STATUS_RECEIVED_V1.subject)).filter((e) => e.data.provider === 'twilio');
    expect(statuses.map((e) => [e.data.providerMessageId, e.data.status, e.data.reason])).toEqual([
      ['SM200', 'delivered', undefined],
      ['SM201', 'failed', 'Twilio error 30003'],
    ]);
  });

  it('generic: HMAC-SHA256 with timestamp, fields taken by the source mapping', async () => {
    const body = JSON.stringify({ id: 'g-1', kind: 'Ticket Opened', at: '2026-11-20T08:00:00Z', user: { email: 'cy@example.com' }, data: { priority: 'high' } });
    const t = Math.floor(Date.now() / 1000);
    const sig = createHmac('sha256', secrets.generic).update(`${t}.${body}`).digest('hex');
    expect((await send('generic', body, { 'content-type': 'application/json', 'x-tessera-signature': `t=${t},v1=${sig}` })).status).toBe(200);
    expect((await send('generic', body, { 'content-type': 'application/json', 'x-tessera-signature': `t=${t - 3600},v1=${sig}` })).status).toBe(401);
    await waitFor(async () => (await stored(EVENT_RECEIVED_V1.subject)).some((e) => e.data.name === 'Ticket Opened'));
    const e = (await stored(EVENT_RECEIVED_V1.subject)).find((x) => x.data.name === 'Ticket Opened')!;
    expect(e.data).toMatchObject({ userId: 'cy@example.com', properties: { priority: 'high' }, timestamp: '2026-11-20T08:00:00.000Z' });
  });

  // Runs last: everything the tests above published is in the stream.
  it('archives every published event once, statuses and inbound messages included, with its contact key', async () => {
    const published = await h.stored();
    const subjects = new Set(published.map((x) => x.subject));
    expect(subjects).toContain(DELIVERY_STATUS_RECEIVED_V1.subject);
    expect(subjects).toContain(INBOUND_MESSAGE_RECEIVED_V1.subject);
    const archived = async (): Promise<{ id: string; subject: string; user_id: string | null; envelope: EventEnvelope }[]> =>
      (await h.query(`SELECT id, subject, user_id, envelope FROM ingestion.event_archive WHERE subject <> 'webhook.unhandled' ORDER BY id`)).rows;
    await waitFor(async () => (await archived()).length >= published.length);
    const rows = await archived();
    expect(rows.map((r) => r.id)).toEqual(published.map((x) => x.id).sort());
    for (const row of rows) expect(row.envelope).toEqual(published.find((x) => x.id === row.id));
    const inbound = rows.find((r) => r.subject === INBOUND_MESSAGE_RECEIVED_V1.subject)!;
    expect(inbound.user_id).toBe((inbound.envelope.data as { from: string }).from);
    // The same events again (as a replay publishes them, past JetStream's de-dup window): no second row.
    await (await h.nc.jetstreamManager()).streams.purge(`${h.namespace}_INGESTION`);
    const js = h.nc.jetstream();
    for (const x of published) await js.publish(`${h.namespace}.${x.subject}`, JSON.stringify(x));
    const marker = { ...published[0]!, id: randomUUID() };
    await js.publish(`${h.namespace}.${marker.subject}`, JSON.stringify(marker));
    await waitFor(async () => (await h.query('SELECT 1 FROM ingestion.event_archive WHERE id = $1', [marker.id])).rowCount === 1);
    expect(await archived()).toHaveLength(published.length + 1);
  });
});
