import { createHmac, randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import twilio from 'twilio';
import { beforeAll, expect, it } from 'vitest';
import { api, type Platform } from '../faults/harness';
import type { Secrets } from './secrets';

// Signed inbound webhooks through the running ingestion service: a correctly signed delivery is
// stored once, however often it is replayed; a bad, missing, stale or foreign signature is refused
// with 401 and stores nothing.

const stripe = new Stripe('sk_test_offline');
const now = (): number => Math.floor(Date.now() / 1000);
const hmac = (secret: string, data: string, encoding: 'hex' | 'base64'): string => createHmac('sha256', secret).update(data).digest(encoding);

export function webhookChecks(platform: () => Platform, secrets: Secrets): void {
  const sources: Record<string, string> = {};
  const url = (provider: string, sourceId = sources[provider]!): string => `${platform().url('ingestion')}/v1/webhooks/${provider}/${sourceId}`;
  const send = async (provider: string, body: string, headers: Record<string, string>, sourceId?: string): Promise<number> => {
    const response = await fetch(url(provider, sourceId), { method: 'POST', headers, body });
    await response.arrayBuffer();
    return response.status;
  };
  /** How many archived events (accepted deliveries) mention `marker`. */
  const stored = async (marker: string): Promise<number> => {
    const archive = await api(platform().url('ingestion'), secrets.adminKey)<unknown[]>('GET', '/v1/archive?limit=1000');
    expect(archive.status).toBe(200);
    return archive.body.filter((row) => JSON.stringify(row).includes(marker)).length;
  };

  beforeAll(async () => {
    const admin = api(platform().url('ingestion'), secrets.adminKey);
    for (const [provider, signingSecret] of Object.entries(secrets.webhookSecrets)) {
      const settings = provider === 'whatsapp' ? { verifyToken: 'sec-verify' } : provider === 'generic' ? { mapping: { userId: '/user', event: '/kind', messageId: '/id', properties: '/data' } } : undefined;
      const created = await admin<{ id: string }>('POST', '/v1/sources', { name: `${provider} hooks`, kind: 'webhook', provider, signingSecret, ...(settings ? { settings } : {}) });
      expect(created.status, created.text).toBe(201);
      sources[provider] = created.body.id;
    }
  });

  it('Stripe: stores a signed event once; refuses wrong, missing, tampered, stale, future and foreign signatures', async () => {
    const marker = `stripe-${randomUUID()}`;
    const event = (id: string, userId: string) => JSON.stringify({ id, type: 'payment_intent.succeeded', created: now(), data: { object: { id: `pi_${id}`, amount: 1000, currency: 'usd', metadata: { userId } } } });
    const payload = event(`evt_${marker}`, marker);
    const headers = (signature: string) => ({ 'content-type': 'application/json', 'stripe-signature': signature });
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: secrets.webhookSecrets.stripe });
    expect(await send('stripe', payload, headers(signature))).toBe(200);
    // Replays: the same request, and the same event signed again later (Stripe's own retries).
    expect(await send('stripe', payload, headers(signature))).toBe(200);
    expect(await send('stripe', payload, headers(stripe.webhooks.generateTestHeaderString({ payload, secret: secrets.webhookSecrets.stripe, timestamp: now() + 1 })))).toBe(200);
    expect(await stored(marker)).toBe(1);

    const bad = `stripe-bad-${randomUUID()}`;
    const badPayload = event(`evt_${bad}`, bad);
    const sign = (options: { secret?: string; timestamp?: number; payload?: string } = {}) =>
      stripe.webhooks.generateTestHeaderString({ payload: options.payload ?? badPayload, secret: options.secret ?? secrets.webhookSecrets.stripe, ...(options.timestamp ? { timestamp: options.timestamp } : {}) });
    expect(await send('stripe', badPayload, headers(sign({ secret: 'whsec_wrong' })))).toBe(401);
    expect(await send('stripe', badPayload, { 'content-type': 'application/json' })).toBe(401);
    expect(await send('stripe', badPayload.replace('1000', '9999'), headers(sign()))).toBe(401);
    // A captured delivery replayed after the tolerance (300 s), and one dated in the future.
    expect(await send('stripe', badPayload, headers(sign({ timestamp: now() - 3600 })))).toBe(401);
    expect(await send('stripe', badPayload, headers(sign({ timestamp: now() + 3600 })))).toBe(401);
    // Another source's secret, and a signature header with no v1 at all.
    expect(await send('stripe', badPayload, headers(sign({ secret: secrets.webhookSecrets.shopify })))).toBe(401);
    expect(await send('stripe', badPayload, headers(`t=${now()}`))).toBe(401);
    expect(await send('stripe', badPayload, headers(`t=${now()},v0=${hmac(secrets.webhookSecrets.stripe, `${now()}.${badPayload}`, 'hex')}`))).toBe(401);
    // A valid signature for a source that does not exist.
    expect(await send('stripe', badPayload, headers(sign()), randomUUID())).toBe(404);
    expect(await stored(bad)).toBe(0);
  });

  it('Shopify: stores a signed webhook once; refuses wrong, missing and tampered HMACs', async () => {
    const marker = `shopify-${randomUUID()}`;
    const body = JSON.stringify({ id: 820982911946154508, email: `${marker}@example.com`, total_price: '19.90', currency: 'EUR', line_items: [] });
    const headers = (signature: string | undefined, webhookId: string) => ({
      'content-type': 'application/json',
      ...(signature ? { 'x-shopify-hmac-sha256': signature } : {}),
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': webhookId,
      'x-shopify-shop-domain': 'tessera-sec.myshopify.com',
    });
    const webhookId = randomUUID();
    expect(await send('shopify', body, headers(hmac(secrets.webhookSecrets.shopify, body, 'base64'), webhookId))).toBe(200);
    expect(await send('shopify', body, headers(hmac(secrets.webhookSecrets.shopify, body, 'base64'), webhookId))).toBe(200);
    expect(await stored(marker)).toBe(1);

    const bad = `shopify-bad-${randomUUID()}`;
    const badBody = body.replace(marker, bad);
    expect(await send('shopify', badBody, headers(hmac('wrong-secret', badBody, 'base64'), randomUUID()))).toBe(401);
    expect(await send('shopify', badBody, headers(undefined, randomUUID()))).toBe(401);
    expect(await send('shopify', badBody, headers(hmac(secrets.webhookSecrets.shopify, body, 'base64'), randomUUID()))).toBe(401);
    // The hex digest instead of base64 is not Shopify's format.
    expect(await send('shopify', badBody, headers(hmac(secrets.webhookSecrets.shopify, badBody, 'hex'), randomUUID()))).toBe(401);
    expect(await stored(bad)).toBe(0);
  });

  it('WhatsApp: stores a signed message once; refuses wrong, missing, tampered and non-sha256 signatures', async () => {
    const payload = (text: string, wamid: string) =>
      JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: '123' }, messages: [{ from: '4915112345678', id: wamid, timestamp: String(now()), type: 'text', text: { body: text } }] } }] }] });
    const marker = `whatsapp-${randomUUID()}`;
    const body = payload(marker, `wamid.${marker}`);
    const headers = (signature?: string) => ({ 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) });
    expect(await send('whatsapp', body, headers(`sha256=${hmac(secrets.webhookSecrets.whatsapp, body, 'hex')}`))).toBe(200);
    expect(await send('whatsapp', body, headers(`sha256=${hmac(secrets.webhookSecrets.whatsapp, body, 'hex')}`))).toBe(200);
    expect(await stored(marker)).toBe(1);

    const bad = `whatsapp-bad-${randomUUID()}`;
    const badBody = payload(bad, `wamid.${bad}`);
    expect(await send('whatsapp', badBody, headers(`sha256=${hmac('wrong', badBody, 'hex')}`))).toBe(401);
    expect(await send('whatsapp', badBody, headers())).toBe(401);
    expect(await send('whatsapp', badBody, headers(`sha256=${hmac(secrets.webhookSecrets.whatsapp, body, 'hex')}`))).toBe(401);
    expect(await send('whatsapp', badBody, headers(`sha1=${createHmac('sha1', secrets.webhookSecrets.whatsapp).update(badBody).digest('hex')}`))).toBe(401);
    expect(await send('whatsapp', badBody, headers(hmac(secrets.webhookSecrets.whatsapp, badBody, 'hex')))).toBe(401);
    expect(await stored(bad)).toBe(0);
    // The subscription handshake needs the configured verify token.
    const handshake = await fetch(`${url('whatsapp')}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=42`);
    expect(handshake.status).toBe(403);
  });

  it('Twilio: stores a signed callback once; refuses wrong, missing and tampered signatures and other URLs', async () => {
    const marker = `twilio-${randomUUID()}`;
    const params = { MessageSid: `SM${marker}`, SmsStatus: 'received', From: '+15551230000', To: '+15559870000', Body: marker, NumMedia: '0' };
    const post = (p: Record<string, string>, signature?: string) =>
      send('twilio', new URLSearchParams(p).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) });
    const sign = (p: Record<string, string>, token = secrets.webhookSecrets.twilio, signedUrl = url('twilio')) => twilio.getExpectedTwilioSignature(token, signedUrl, p);
    expect(await post(params, sign(params))).toBe(200);
    expect(await post(params, sign(params))).toBe(200);
    expect(await stored(marker)).toBe(1);

    const bad = `twilio-bad-${randomUUID()}`;
    const badParams = { ...params, MessageSid: `SM${bad}`, Body: bad };
    expect(await post(badParams, sign(badParams, 'wrong-token'))).toBe(401);
    expect(await post(badParams)).toBe(401);
    expect(await post({ ...badParams, Body: `${bad} changed` }, sign(badParams))).toBe(401);
    // A signature made for another endpoint (another source's URL) does not carry over.
    expect(await post(badParams, sign(badParams, secrets.webhookSecrets.twilio, url('twilio', randomUUID())))).toBe(401);
    expect(await stored(bad)).toBe(0);
  });

  it('Generic: stores a signed event once; refuses wrong, missing, tampered, stale and future signatures', async () => {
    const marker = `generic-${randomUUID()}`;
    const body = JSON.stringify({ id: marker, user: marker, kind: 'Security Probe', data: { ok: true } });
    const signature = (b: string, t = now(), secret = secrets.webhookSecrets.generic) => `t=${t},v1=${hmac(secret, `${t}.${b}`, 'hex')}`;
    const headers = (sig?: string) => ({ 'content-type': 'application/json', ...(sig ? { 'x-tessera-signature': sig } : {}) });
    expect(await send('generic', body, headers(signature(body)))).toBe(200);
    expect(await send('generic', body, headers(signature(body)))).toBe(200);
    expect(await send('generic', body, headers(signature(body, now() + 2)))).toBe(200);
    expect(await stored(marker)).toBe(1);

    const bad = `generic-bad-${randomUUID()}`;
    const badBody = body.replaceAll(marker, bad);
    expect(await send('generic', badBody, headers(signature(badBody, now(), 'wrong-secret')))).toBe(401);
    expect(await send('generic', badBody, headers())).toBe(401);
    expect(await send('generic', badBody, headers(signature(body)))).toBe(401);
    expect(await send('generic', badBody, headers(signature(badBody, now() - 3600)))).toBe(401);
    expect(await send('generic', badBody, headers(signature(badBody, now() + 3600)))).toBe(401);
    expect(await send('generic', badBody, headers(`v1=${hmac(secrets.webhookSecrets.generic, badBody, 'hex')}`))).toBe(401);
    expect(await stored(bad)).toBe(0);
  });

  it('counts refused signatures per provider in its metrics', async () => {
    const metrics = await (await fetch(`${platform().url('ingestion')}/metrics`)).text();
    for (const provider of ['stripe', 'shopify', 'whatsapp', 'twilio', 'generic']) {
      const count = Number(new RegExp(`tessera_ingestion_webhook_signature_failures_total\\{provider="${provider}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
      expect(count, provider).toBeGreaterThanOrEqual(3);
    }
  });
}
