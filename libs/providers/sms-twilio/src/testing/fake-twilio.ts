import { randomBytes } from 'node:crypto';
import { FakeHttpVendor, type RecordedRequest, type VendorReply } from '@tessera/provider-core/testing';

const error = (status: number, code: number, message: string): VendorReply => ({ status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } });

/** A local Twilio Messages API: Basic auth, form-encoded bodies, Twilio's error JSON. */
export async function startFakeTwilio(credentials: { accountSid: string; authToken: string }): Promise<FakeHttpVendor> {
  const path = `/2010-04-01/Accounts/${credentials.accountSid}/Messages.json`;
  const expectedAuth = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`;
  return new FakeHttpVendor({
    handle(request: RecordedRequest, accept) {
      if (request.method !== 'POST' || request.path !== path) return error(404, 20404, `The requested resource ${request.path} was not found`);
      if (request.headers.authorization !== expectedAuth) return error(401, 20003, 'Authenticate');
      if (!String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return error(400, 20001, 'Unsupported content type');
      const form = new URLSearchParams(request.body);
      const to = form.get('To') ?? '';
      if (!/^\+[1-9]\d{6,14}$/.test(to)) return error(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
      if (!form.get('Body')) return error(400, 21602, 'Message body is required.');
      if (!form.get('From') && !form.get('MessagingServiceSid')) return error(400, 21603, "A 'From' phone number is required.");
      const sid = `SM${randomBytes(16).toString('hex')}`;
      accept({ to, idempotencyKey: request.headers['i-twilio-idempotency-token'] as string | undefined, raw: Object.fromEntries(form) }, sid);
      return { status: 201, body: { sid, account_sid: credentials.accountSid, to, from: form.get('From'), body: form.get('Body'), status: 'queued', error_code: null, error_message: null } };
    },
    failure(mode) {
      return mode === 'reject' ? error(400, 21610, 'Attempt to send to unsubscribed recipient') : error(503, 20503, 'Service Unavailable');
    },
  }).start();
}
