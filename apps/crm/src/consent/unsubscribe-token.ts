import { createHmac, timingSafeEqual } from 'node:crypto';

export interface UnsubscribeClaims {
  /** workspace */
  w: string;
  /** contact */
  c: string;
  /** channel */
  ch: string;
  /** subscription group, if any */
  g?: string;
  /** expiry, seconds since epoch */
  exp: number;
}

/** `<base64url claims>.<base64url HMAC-SHA256>`: small enough for a List-Unsubscribe URL. */
export function signUnsubscribeToken(claims: UnsubscribeClaims, secret: string): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** The claims of a valid, unexpired token; undefined for anything else. */
export function verifyUnsubscribeToken(token: string, secret: string, now = Date.now()): UnsubscribeClaims | undefined {
  const [body, mac] = token.split('.');
  if (!body || !mac) return undefined;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as UnsubscribeClaims;
    return typeof claims.exp === 'number' && claims.exp * 1000 > now && claims.w && claims.c && claims.ch ? claims : undefined;
  } catch {
    return undefined;
  }
}
