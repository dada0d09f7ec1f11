// Third-party webhooks delivered to ingestion as the vendors send them, signed by the vendors' own
// libraries where they can sign (stripe, twilio); Shopify and WhatsApp sign with an HMAC over the
// raw body, which the official @shopify/shopify-api validates (see the ingestion tests).
import { createHmac, randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import twilio from 'twilio';
import type { Platform } from './platform';

const stripe = new Stripe('sk_test_e2e_offline');

export interface Delivery {
  status: number;
  text: string;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<Delivery> {
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, text: await response.text() };
}

/** A Stripe event (`{ id, type, data: { object } }`), signed with `Stripe-Signature` by the stripe package. */
export async function sendStripe(p: Platform, event: { id?: string; type: string; data: { object: Record<string, unknown> }; created?: number }, headers: Record<string, string> = {}): Promise<Delivery> {
  const source = await p.webhookSource('stripe');
  const payload = JSON.stringify({ id: event.id ?? `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', created: event.created ?? Math.floor(Date.now() / 1000), livemode: false, ...event });
  const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: source.secret });
  return post(source.url, payload, { 'content-type': 'application/json', 'stripe-signature': signature, ...headers });
}

/** A Shopify webhook: `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body) and Shopify's headers. */
export async function sendShopify(p: Platform, topic: string, body: string, webhookId: string = randomUUID()): Promise<Delivery> {
  const source = await p.webhookSource('shopify');
  return post(source.url, body, {
    'content-type': 'application/json',
    'x-shopify-hmac-sha256': createHmac('sha256', source.secret).update(body).digest('base64'),
    'x-shopify-topic': topic,
    'x-shopify-webhook-id': webhookId,
    'x-shopify-event-id': webhookId,
    'x-shopify-shop-domain': 'tessera-e2e.myshopify.com',
    'x-shopify-api-version': '2024-10',
    'x-shopify-triggered-at': new Date().toISOString(),
  });
}

/** A WhatsApp Cloud API notification; `X-Hub-Signature-256` covers the exact bytes sent. */
export async function sendWhatsApp(p: Platform, value: Record<string, unknown>): Promise<Delivery> {
  const source = await p.webhookSource('whatsapp');
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: '106540352242922' }, ...value } }] }],
  });
  return post(source.url, body, { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', source.secret).update(body).digest('hex')}` });
}

/** A Twilio callback (form-encoded), signed with `X-Twilio-Signature` by the twilio package. */
export async function sendTwilio(p: Platform, params: Record<string, string>): Promise<Delivery> {
  const source = await p.webhookSource('twilio');
  const signature = twilio.getExpectedTwilioSignature(source.secret, source.url, params);
  return post(source.url, new URLSearchParams(params).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature });
}
