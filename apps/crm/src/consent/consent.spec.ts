import { describe, expect, it } from 'vitest';
import { consentKeyword } from './consent-keywords';
import { signUnsubscribeToken, verifyUnsubscribeToken } from './unsubscribe-token';

describe('consent keywords', () => {
  it('maps STOP-style and START-style words, ignoring case and punctuation', () => {
    expect(['stop', ' STOPALL ', 'Unsubscribe!', 'cancel', 'end', 'quit'].map(consentKeyword)).toEqual(Array(6).fill('unsubscribed'));
    expect(['start', 'UNSTOP', 'yes'].map(consentKeyword)).toEqual(Array(3).fill('subscribed'));
    expect([consentKeyword('please stop'), consentKeyword(undefined)]).toEqual([undefined, undefined]);
  });
});

describe('unsubscribe tokens', () => {
  const secret = 'x'.repeat(32);
  const claims = { w: 'w', c: 'c', ch: 'email', exp: Math.floor(Date.now() / 1000) + 60 };
  it('verifies its own tokens and refuses tampered, foreign or expired ones', () => {
    const token = signUnsubscribeToken(claims, secret);
    expect(verifyUnsubscribeToken(token, secret)).toEqual(claims);
    expect(verifyUnsubscribeToken(token, 'y'.repeat(32))).toBeUndefined();
    const [body, mac] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, c: 'other' })).toString('base64url');
    expect(verifyUnsubscribeToken(`${forged}.${mac}`, secret)).toBeUndefined();
    expect(verifyUnsubscribeToken(`${body}.${mac}`, secret, (claims.exp + 1) * 1000)).toBeUndefined();
  });
});
