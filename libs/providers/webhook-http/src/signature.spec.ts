import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from './signature';

describe('webhook signatures', () => {
  it('verifies its own signature and refuses tampering, wrong secrets and stale timestamps', () => {
    const body = '{"a":1}';
    const now = 1_700_000_000;
    const header = signWebhook('secret-0123456789', body, now);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature('secret-0123456789', header, body, { now })).toBe(true);
    expect(verifyWebhookSignature('secret-0123456789', header, '{"a":2}', { now })).toBe(false);
    expect(verifyWebhookSignature('other-secret-0123', header, body, { now })).toBe(false);
    expect(verifyWebhookSignature('secret-0123456789', header, body, { now: now + 301 })).toBe(false);
  });
});
