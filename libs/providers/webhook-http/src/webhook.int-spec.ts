import { providerConformanceSuite } from '@tessera/provider-core/testing';
import { httpWebhook } from './webhook.provider';
import { startFakeWebhookReceiver } from './testing/fake-receiver';

const secret = 'whsec_test_0123456789abcdef';

providerConformanceSuite({
  definition: httpWebhook,
  startVendor: () => startFakeWebhookReceiver(secret),
  options: (vendor, o) => ({ baseUrl: vendor.url, path: '/hooks/tessera', secret: o?.wrongCredentials ? 'whsec_wrong_0123456789abcdef' : secret, ...(o?.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }),
  invalidOptions: [
    { options: { baseUrl: 'http://127.0.0.1:1', secret: 'short' }, path: 'secret' },
    { options: { baseUrl: 'ftp://x', secret }, path: 'baseUrl' },
  ],
  message: (n, idempotencyKey) => ({ to: `contact-${n}`, payload: { n, text: 'hello' }, idempotencyKey }),
  recipientOf: (m) => m.to,
  carriesIdempotencyKey: true,
  rejectReason: /422: unknown customer/,
});
