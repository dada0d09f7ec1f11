import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { parseJsonKeepingBigInts, valueAtPath } from './json';
import { twilioSignature, verifyMeta, verifyShopify, verifyTimestampedHmac, verifyTwilio } from './signatures';

const stripe = new Stripe('sk_test_offline');

describe('webhook signatures', () => {
  const body = Buffer.from('{"id":"evt_1","type":"invoice.paid","name":"Zoë \\u00e9"}');

  it('accepts what the stripe package signs, any of several v1 during rotation, within the window only', () => {
    const header = stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: 'whsec_a' });
    expect(verifyTimestampedHmac(body, header, 'whsec_a', 300)).toEqual({ ok: true });
    expect(verifyTimestampedHmac(body, header, 'whsec_b', 300).ok).toBe(false);
    const t = Math.floor(Date.now() / 1000);
    const sig = (secret: string): string => createHmac('sha256', secret).update(`${t}.${body.toString()}`).digest('hex');
    expect(verifyTimestampedHmac(body, `t=${t},v1=${sig('old')},v1=${sig('new')}`, 'new', 300).ok).toBe(true);
    const stale = stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: 'whsec_a', timestamp: t - 3600 });
    expect(verifyTimestampedHmac(body, stale, 'whsec_a', 300)).toEqual({ ok: false, reason: 'signature timestamp outside the tolerance window' });
    expect(verifyTimestampedHmac(Buffer.from(body.toString().replace('Zoë', 'Zoe')), header, 'whsec_a', 300).ok).toBe(false);
    expect(verifyTimestampedHmac(body, 'garbage', 'whsec_a', 300).ok).toBe(false);
    expect(verifyTimestampedHmac(body, undefined, 'whsec_a', 300).ok).toBe(false);
  });

  it('computes the same Twilio signature as the twilio package', () => {
    const url = 'https://example.com/v1/webhooks/twilio/abc?x=1';
    const params = { Body: 'Hi ✓', From: '+15551234567', To: '+15557654321', MessageSid: 'SM1', NumMedia: '0' };
    const theirs = twilio.getExpectedTwilioSignature('token', url, params);
    expect(twilioSignature('token', url, params)).toBe(theirs);
    expect(twilio.validateRequest('token', twilioSignature('token', url, params), url, params)).toBe(true);
    expect(verifyTwilio(theirs, 'token', url, params).ok).toBe(true);
    expect(verifyTwilio(theirs, 'token', url, { ...params, Body: 'Hi' }).ok).toBe(false);
  });

  it('checks Shopify base64 and Meta sha256= hex HMACs over raw bytes', () => {
    const shop = createHmac('sha256', 'shpss').update(body).digest('base64');
    expect(verifyShopify(body, shop, 'shpss').ok).toBe(true);
    expect(verifyShopify(body, shop, 'other').ok).toBe(false);
    const meta = `sha256=${createHmac('sha256', 'app').update(body).digest('hex')}`;
    expect(verifyMeta(body, meta, 'app').ok).toBe(true);
    expect(verifyMeta(body, meta.replace('sha256=', ''), 'app').ok).toBe(false);
  });
});

describe('JSON helpers', () => {
  it('keeps ids beyond 2^53 exactly, leaving strings and small numbers alone', () => {
    const parsed = parseJsonKeepingBigInts('{"id":820982911946154508,"n":12,"p":1.5e3,"s":"9999999999999999999","neg":-1234567890123456789}') as Record<string, unknown>;
    expect(parsed).toEqual({ id: '820982911946154508', n: 12, p: 1500, s: '9999999999999999999', neg: '-1234567890123456789' });
  });

  it('reads JSON pointers and dot paths', () => {
    const doc = { a: { 'b/c': [{ d: 1 }] }, x: { y: 2 } };
    expect(valueAtPath(doc, '/a/b~1c/0/d')).toBe(1);
    expect(valueAtPath(doc, 'x.y')).toBe(2);
    expect(valueAtPath(doc, 'x.z.q')).toBeUndefined();
  });
});
