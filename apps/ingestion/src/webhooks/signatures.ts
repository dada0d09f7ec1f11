import { createHmac, timingSafeEqual } from 'node:crypto';

// Signature checks of each provider, over the exact bytes received (never a re-serialised body),
// compared in constant time. Each returns a reason when it refuses, for logs and metrics.

export type Verdict = { ok: true } | { ok: false; reason: string };

const ok: Verdict = { ok: true };
const refuse = (reason: string): Verdict => ({ ok: false, reason });

/** Constant-time equality of two strings (false, in constant time for equal lengths, when they differ). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function hmacHex(secret: string, ...parts: (string | Buffer)[]): string {
  const h = createHmac('sha256', secret);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/**
 * `t=<unix>,v1=<hex>[,v1=<hex>...]` over `<t>.<body>` (Stripe's scheme, also our generic one).
 * Several v1 appear while a secret is being rolled: any match passes. `t` must be within tolerance.
 */
export function verifyTimestampedHmac(raw: Buffer, header: string | undefined, secret: string, toleranceSeconds: number, nowMs = Date.now()): Verdict {
  if (!header) return refuse('signature header missing');
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.split('=', 2).map((s) => s.trim());
    if (key === 't' && value && /^\d+$/.test(value)) timestamp = Number(value);
    if (key === 'v1' && value) signatures.push(value);
  }
  if (timestamp === undefined || !signatures.length) return refuse('signature header malformed');
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return refuse('signature timestamp outside the tolerance window');
  const expected = hmacHex(secret, `${timestamp}.`, raw);
  return signatures.some((s) => safeEqual(s, expected)) ? ok : refuse('signature mismatch');
}

/** Shopify: base64 HMAC-SHA256 of the body in X-Shopify-Hmac-Sha256. */
export function verifyShopify(raw: Buffer, header: string | undefined, secret: string): Verdict {
  if (!header) return refuse('signature header missing');
  const expected = createHmac('sha256', secret).update(raw).digest('base64');
  return safeEqual(header.trim(), expected) ? ok : refuse('signature mismatch');
}

/** Meta (WhatsApp Cloud API): `sha256=<hex>` HMAC of the body with the app secret, in X-Hub-Signature-256. */
export function verifyMeta(raw: Buffer, header: string | undefined, secret: string): Verdict {
  if (!header?.startsWith('sha256=')) return refuse('signature header missing or malformed');
  return safeEqual(header.slice(7).trim().toLowerCase(), hmacHex(secret, raw)) ? ok : refuse('signature mismatch');
}

/** Twilio: base64 HMAC-SHA1 of the full URL followed by each POST parameter's name and value, sorted by name. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string | string[]>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => {
      const value = params[key]!;
      return acc + (Array.isArray(value) ? [...value].sort().map((v) => key + v).join('') : key + value);
    }, url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

export function verifyTwilio(header: string | undefined, authToken: string, url: string, params: Record<string, string | string[]>): Verdict {
  if (!header) return refuse('signature header missing');
  return safeEqual(header.trim(), twilioSignature(authToken, url, params)) ? ok : refuse('signature mismatch');
}
