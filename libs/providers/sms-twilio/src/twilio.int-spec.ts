import { providerConformanceSuite } from '@tessera/provider-core/testing';
import { twilioSms } from './twilio.provider';
import { startFakeTwilio } from './testing/fake-twilio';

const credentials = { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: 'twilio-test-token' };

providerConformanceSuite({
  definition: twilioSms,
  startVendor: () => startFakeTwilio(credentials),
  options: (vendor, o) => ({ baseUrl: vendor.url, accountSid: credentials.accountSid, authToken: o?.wrongCredentials ? 'nope' : credentials.authToken, from: '+15005550006', ...(o?.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }),
  invalidOptions: [
    { options: { baseUrl: 'http://127.0.0.1:1', accountSid: 'XX123', authToken: 't' }, path: 'accountSid' },
    { options: { baseUrl: 'not a url', accountSid: credentials.accountSid, authToken: 't' }, path: 'baseUrl' },
    { options: { accountSid: credentials.accountSid }, path: 'authToken' },
  ],
  message: (n, idempotencyKey) => ({ to: `+491511234${String(n).padStart(4, '0')}`, body: `Hello ${n}`, idempotencyKey }),
  recipientOf: (m) => m.to,
  carriesIdempotencyKey: true,
  rejectReason: /21610: Attempt to send to unsubscribed recipient/,
});
