import { describe, expect, it } from 'vitest';
import { ProviderError } from '@tessera/provider-core';
import { blockedPrefix, DEFAULT_BLOCKED_CALLING_CODES, toGraphBody, WhatsAppCloudOptions, WhatsAppCloudProvider } from './whatsapp.provider';

describe('WhatsApp Cloud provider', () => {
  it('refuses numbers in blocked regions before calling the vendor', async () => {
    expect(blockedPrefix('+5355512345', DEFAULT_BLOCKED_CALLING_CODES)).toBe('53');
    expect(blockedPrefix('+4915112345678', DEFAULT_BLOCKED_CALLING_CODES)).toBeUndefined();
    const provider = new WhatsAppCloudProvider(Object.assign(new WhatsAppCloudOptions(), { baseUrl: 'http://127.0.0.1:9', phoneNumberId: '12345', accessToken: 't' }));
    const error = await provider.send({ kind: 'text', to: '+98912345678', text: 'hi', idempotencyKey: 'k' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('permanent');
    expect((error as ProviderError).reason).toMatch(/region_not_allowed.*\+98/);
  });

  it('builds template messages with ordered body parameters', () => {
    expect(toGraphBody({ kind: 'template', to: '+4915112345678', idempotencyKey: 'k', template: { name: 'hello', language: 'de', bodyParameters: ['Ann', '3'] } })).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '4915112345678',
      type: 'template',
      template: { name: 'hello', language: { code: 'de' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ann' }, { type: 'text', text: '3' }] }] },
    });
  });
});
