import { describe, expect, it } from 'vitest';
import { applyOverrides } from './overrides';

describe('applyOverrides', () => {
  const email = { channel: 'email' as const, subject: 'Hi {{name}}', html: '<p>Hi</p>', text: 'Hi' };

  it('replaces named parts and passes the preferred provider on', () => {
    expect(applyOverrides(email, { subject: 'Last chance', provider: 'cfg-2' })).toEqual({ ok: true, content: { ...email, subject: 'Last chance' }, provider: 'cfg-2' });
    expect(applyOverrides({ channel: 'sms', body: 'Code 1' }, { body: 'Code 2' })).toEqual({ ok: true, content: { channel: 'sms', body: 'Code 2' } });
  });

  it('leaves the content alone without overrides', () => {
    expect(applyOverrides(email, undefined)).toEqual({ ok: true, content: email });
  });

  it('refuses parts the channel does not have, non-strings, and the channel itself', () => {
    expect(applyOverrides({ channel: 'sms', body: 'x' }, { subject: 'y' })).toEqual({ ok: false, reason: 'subject cannot be overridden on sms (allowed: body, provider)' });
    expect(applyOverrides(email, { subject: 42 })).toEqual({ ok: false, reason: 'subject must be a string' });
    expect(applyOverrides(email, { channel: 'sms' })).toMatchObject({ ok: false });
    expect(applyOverrides(email, { provider: 7 })).toEqual({ ok: false, reason: 'provider must be a provider configuration id' });
  });
});
