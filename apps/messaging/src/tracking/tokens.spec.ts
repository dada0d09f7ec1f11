import { describe, expect, it } from 'vitest';
import { rewriteHtml, TokenSigner } from './tokens';

describe('tracking tokens', () => {
  const signer = new TokenSigner('x'.repeat(32));
  const id = '0190f3a2-1c2d-7e3f-8a9b-0c1d2e3f4a5b';

  it('round-trips in under 100 characters and refuses forged, altered or wrong-kind tokens', () => {
    const token = signer.sign('c', id, 3);
    expect(token.length).toBeLessThan(100);
    expect(signer.verify(token, 'c')).toEqual({ kind: 'c', messageId: id, index: 3 });
    expect(signer.verify(token, 'u')).toBeUndefined();
    const raw = Buffer.from(token, 'base64url');
    raw[5] ^= 1; // another message id, same MAC
    expect(signer.verify(raw.toString('base64url'), 'c')).toBeUndefined();
    const kind = Buffer.from(token, 'base64url');
    kind[0] = 'u'.charCodeAt(0); // a click token turned into an unsubscribe token
    expect(signer.verify(kind.toString('base64url'), 'u')).toBeUndefined();
    expect(new TokenSigner('y'.repeat(32)).verify(token, 'c')).toBeUndefined();
    expect(signer.verify('garbage', 'c')).toBeUndefined();
  });

  it('refuses every other spelling of a token, even one that decodes to the same bytes', () => {
    const token = signer.sign('c', id, 3);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const variants = [...alphabet].filter((c) => c !== token.at(-1)).map((c) => token.slice(0, -1) + c);
    // 29 bytes in 39 characters: the last one has 2 unused bits, so 3 variants decode identically.
    expect(variants.filter((v) => Buffer.from(v, 'base64url').equals(Buffer.from(token, 'base64url')))).toHaveLength(3);
    expect(variants.filter((v) => signer.verify(v, 'c') !== undefined)).toEqual([]);
  });

  it('rewrites tracked links, keeps opted-out ones and adds the pixel before </body>', () => {
    const html = '<body><a href="https://shop.test/p?a=1&amp;b=2">Shop</a> <a data-no-track href="https://x.test">x</a> <a href="mailto:a@b.test">m</a> <a href="https://u.test">u</a></body>';
    const out = rewriteHtml(html, (i) => `T${i}`, 'P', new Set(['https://u.test']));
    expect(out.links).toEqual(['https://shop.test/p?a=1&b=2']);
    expect(out.html).toBe('<body><a href="T0">Shop</a> <a data-no-track href="https://x.test">x</a> <a href="mailto:a@b.test">m</a> <a href="https://u.test">u</a><img src="P" width="1" height="1" alt="" style="display:none"></body>');
  });
});
