import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * Tracking and unsubscribe tokens, short enough for a path segment (Fastify's 100-char limit):
 * base64url( kind(1) | message id(16) | link index(2) | MAC(10) ) = 39 characters.
 * One HMAC-SHA256(MESSAGING_TRACKING_SECRET, message id) per message gives three 80-bit MACs, one
 * per kind (bytes 0-9 unsubscribe, 10-19 click, 20-29 open), so a click token cannot be turned into
 * an unsubscribe token, and signing an email's links costs one HMAC. 80 bits cannot be guessed
 * online. Tokens carry no URL: click targets are kept on the message row and looked up by index,
 * so a token cannot be made into an open redirect; the index is not covered by the MAC and can
 * only select another link of the same email.
 */
export type TokenKind = 'o' | 'c' | 'u';

export interface TokenPayload {
  kind: TokenKind;
  messageId: string;
  /** Index of the link in the message's `links` (clicks). */
  index: number;
}

const MAC_BYTES = 10;
const BODY_BYTES = 19;
const SLOT: Record<TokenKind, number> = { u: 0, c: 1, o: 2 };

export class TokenSigner {
  private last?: { id: string; digest: Buffer };
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = createSecretKey(Buffer.from(secret));
  }

  sign(kind: TokenKind, messageId: string, index = 0): string {
    const body = Buffer.allocUnsafe(BODY_BYTES + MAC_BYTES);
    body.write(kind, 0, 'latin1');
    body.write(messageId.replace(/-/g, ''), 1, 'hex');
    body.writeUInt16BE(index, 17);
    this.mac(messageId, kind).copy(body, BODY_BYTES);
    return body.toString('base64url');
  }

  /** The payload when the token is authentic and of the expected kind, else undefined. */
  verify(token: string, kind: TokenKind): TokenPayload | undefined {
    if (!/^[A-Za-z0-9_-]{30,60}$/.test(token)) return undefined;
    const raw = Buffer.from(token, 'base64url');
    // Only the canonical encoding: the last character carries unused bits, so several strings
    // decode to the same bytes, and an altered link must never work.
    if (raw.toString('base64url') !== token) return undefined;
    if (raw.length !== BODY_BYTES + MAC_BYTES || raw.toString('latin1', 0, 1) !== kind) return undefined;
    const hex = raw.subarray(1, 17).toString('hex');
    const messageId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    if (!timingSafeEqual(raw.subarray(BODY_BYTES), this.mac(messageId, kind))) return undefined;
    return { kind, messageId, index: raw.readUInt16BE(17) };
  }

  private mac(messageId: string, kind: TokenKind): Buffer {
    // The links of one email are signed one after another: keep the last digest.
    if (this.last?.id !== messageId) this.last = { id: messageId, digest: createHmac('sha256', this.key).update(`tessera-link:${messageId}`).digest() };
    const start = SLOT[kind] * MAC_BYTES;
    return this.last.digest.subarray(start, start + MAC_BYTES);
  }
}

/**
 * Rewrites http(s) links of an HTML email to click-redirects and appends the open pixel. Links
 * marked `data-no-track`, mailto:/tel: links and the unsubscribe URL are left alone. Returns the
 * HTML and the tracked URLs (index = position), which are stored with the message.
 */
export function rewriteHtml(html: string, link: (index: number) => string, pixelUrl: string, skip: ReadonlySet<string> = new Set()): { html: string; links: string[] } {
  const links: string[] = [];
  const rewritten = html.replace(/<a\b([^>]*?)\bhref\s*=\s*(["'])(https?:\/\/[^"']+)\2([^>]*)>/gi, (whole, before: string, quote: string, url: string, after: string) => {
    if (/data-no-track/i.test(before + after)) return whole;
    const decoded = url.replace(/&amp;/g, '&');
    if (skip.has(decoded) || links.length >= 65_535) return whole;
    links.push(decoded);
    return `<a${before}href=${quote}${link(links.length - 1)}${quote}${after}>`;
  });
  const pixel = `<img src="${pixelUrl}" width="1" height="1" alt="" style="display:none">`;
  return { html: /<\/body>/i.test(rewritten) ? rewritten.replace(/<\/body>/i, `${pixel}</body>`) : rewritten + pixel, links };
}
