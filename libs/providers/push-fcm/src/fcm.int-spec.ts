import { providerConformanceSuite } from '@tessera/provider-core/testing';
import { fcmPush } from './fcm.provider';
import { startFakeFcm } from './testing/fake-fcm';

const credentials = { projectId: 'tessera-test', accessToken: 'ya29.test-token' };

providerConformanceSuite({
  definition: fcmPush,
  startVendor: () => startFakeFcm(credentials),
  options: (vendor, o) => ({ baseUrl: vendor.url, ...credentials, accessToken: o?.wrongCredentials ? 'expired' : credentials.accessToken, ...(o?.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }),
  invalidOptions: [
    { options: { baseUrl: 'http://127.0.0.1:1', projectId: 'Bad Project', accessToken: 't' }, path: 'projectId' },
    { options: { baseUrl: 'http://127.0.0.1:1', projectId: 'tessera-test', accessToken: 't', timeoutMs: 5 }, path: 'timeoutMs' },
  ],
  message: (n, idempotencyKey) => ({ to: `device-token-${n}`, title: 'Hi', body: `Body ${n}`, data: { n: String(n) }, idempotencyKey }),
  recipientOf: (m) => m.to,
  carriesIdempotencyKey: false,
  rejectReason: /UNREGISTERED: Requested entity was not found/,
});
