import { providerConformanceSuite } from '@tessera/provider-core/testing';
import { whatsappCloud } from './whatsapp.provider';
import { startFakeWhatsApp } from './testing/fake-whatsapp';

const credentials = { phoneNumberId: '106540352242922', accessToken: 'EAAG-test-token' };

providerConformanceSuite({
  definition: whatsappCloud,
  startVendor: () => startFakeWhatsApp(credentials),
  options: (vendor, o) => ({ baseUrl: vendor.url, ...credentials, accessToken: o?.wrongCredentials ? 'wrong' : credentials.accessToken, ...(o?.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }),
  invalidOptions: [
    { options: { baseUrl: 'http://127.0.0.1:1', phoneNumberId: 'abc', accessToken: 't' }, path: 'phoneNumberId' },
    { options: { baseUrl: 'http://127.0.0.1:1', phoneNumberId: '123456', accessToken: 't', apiVersion: '21' }, path: 'apiVersion' },
    { options: { baseUrl: 'http://127.0.0.1:1', phoneNumberId: '123456', accessToken: 't', blockedCallingCodes: ['+53'] }, path: 'blockedCallingCodes' },
  ],
  // Alternates the three kinds the port supports.
  message: (n, idempotencyKey) => {
    const to = `+491511234${String(n).padStart(4, '0')}`;
    if (n % 3 === 0) return { kind: 'template', to, idempotencyKey, template: { name: 'order_update', language: 'en_US', bodyParameters: ['Ann', `#${n}`] } };
    if (n % 3 === 1) return { kind: 'text', to, idempotencyKey, text: `Hello ${n}` };
    return { kind: 'interactive', to, idempotencyKey, body: 'Pick one', buttons: [{ id: 'yes', title: 'Yes' }, { id: 'no', title: 'No' }] };
  },
  recipientOf: (m) => m.to.replace(/^\+/, ''),
  carriesIdempotencyKey: false,
  rejectReason: /131047: Re-engagement message/,
});
