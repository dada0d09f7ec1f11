import { bearerOf, FakeHttpVendor, type VendorReply } from '@tessera/provider-core/testing';

const error = (code: number, status: string, message: string, errorCode?: string): VendorReply => ({
  status: code,
  body: { error: { code, message, status, details: errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] : [] } },
});

/** A local FCM HTTP v1 API: Bearer auth, `{message:{token, notification, data}}`, Google error JSON. */
export async function startFakeFcm(credentials: { projectId: string; accessToken: string }): Promise<FakeHttpVendor> {
  const path = `/v1/projects/${credentials.projectId}/messages:send`;
  let counter = 0;
  return new FakeHttpVendor({
    handle(request, accept) {
      if (request.method !== 'POST' || request.path !== path) return error(404, 'NOT_FOUND', 'Requested entity was not found.');
      if (bearerOf(request) !== credentials.accessToken) return error(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
      let body: { message?: { token?: unknown; notification?: { title?: unknown; body?: unknown }; data?: Record<string, unknown> } };
      try {
        body = JSON.parse(request.body);
      } catch {
        return error(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
      }
      const message = body.message;
      if (typeof message?.token !== 'string' || !message.token) return error(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', 'INVALID_ARGUMENT');
      if (message.data && Object.values(message.data).some((v) => typeof v !== 'string')) return error(400, 'INVALID_ARGUMENT', 'Invalid value at message.data: values must be strings', 'INVALID_ARGUMENT');
      const name = `projects/${credentials.projectId}/messages/0:${Date.now()}${++counter}`;
      accept({ to: message.token, raw: body }, name);
      return { status: 200, body: { name } };
    },
    failure(mode) {
      return mode === 'reject' ? error(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED') : error(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE');
    },
  }).start();
}
