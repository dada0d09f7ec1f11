import { randomBytes } from 'node:crypto';
import { bearerOf, FakeHttpVendor, type VendorReply } from '@tessera/provider-core/testing';

const error = (status: number, code: number, message: string, type = 'OAuthException', details?: string): VendorReply => ({
  status,
  body: { error: { message, type, code, ...(details ? { error_data: { messaging_product: 'whatsapp', details } } : {}), fbtrace_id: randomBytes(8).toString('hex') } },
});

/** A local WhatsApp Cloud API: Bearer auth, Graph error JSON, the three message types we send. */
export async function startFakeWhatsApp(credentials: { phoneNumberId: string; accessToken: string; apiVersion?: string }): Promise<FakeHttpVendor> {
  const path = `/${credentials.apiVersion ?? 'v21.0'}/${credentials.phoneNumberId}/messages`;
  return new FakeHttpVendor({
    handle(request, accept) {
      if (request.method !== 'POST' || request.path !== path) return error(400, 100, 'Unsupported post request.', 'GraphMethodException');
      if (bearerOf(request) !== credentials.accessToken) return error(401, 190, 'Invalid OAuth access token - Cannot parse access token');
      let body: Record<string, any>;
      try {
        body = JSON.parse(request.body);
      } catch {
        return error(400, 100, 'Invalid parameter', 'OAuthException', 'body is not JSON');
      }
      if (body.messaging_product !== 'whatsapp') return error(400, 100, 'Invalid parameter', 'OAuthException', 'messaging_product must be whatsapp');
      if (!/^\d{7,15}$/.test(String(body.to))) return error(400, 131009, 'Parameter value is not valid', 'OAuthException', 'to is not a valid phone number');
      const valid =
        (body.type === 'text' && typeof body.text?.body === 'string') ||
        (body.type === 'template' && typeof body.template?.name === 'string' && typeof body.template?.language?.code === 'string') ||
        (body.type === 'interactive' && body.interactive?.type === 'button' && Array.isArray(body.interactive?.action?.buttons));
      if (!valid) return error(400, 131008, 'Required parameter is missing', 'OAuthException', `bad ${body.type} message`);
      const id = `wamid.${randomBytes(24).toString('base64url')}`;
      accept({ to: String(body.to), raw: body }, id);
      return { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id }] } };
    },
    failure(mode) {
      return mode === 'reject'
        ? error(400, 131047, 'Re-engagement message', 'OAuthException', 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.')
        : error(500, 131000, 'Something went wrong', 'OAuthException');
    },
  }).start();
}
