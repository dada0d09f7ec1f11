import { randomUUID } from 'node:crypto';
import { FakeHttpVendor } from '@tessera/provider-core/testing';
import { verifyWebhookSignature } from '../signature';

/** A local webhook receiver that verifies signatures the way the docs tell receivers to. */
export async function startFakeWebhookReceiver(secret: string, path = '/hooks/tessera'): Promise<FakeHttpVendor> {
  return new FakeHttpVendor({
    handle(request, accept) {
      if (request.method !== 'POST' || request.path !== path) return { status: 404, body: { error: 'no such endpoint' } };
      if (!verifyWebhookSignature(secret, request.headers['x-tessera-signature'] as string | undefined, request.body)) return { status: 401, body: { error: 'invalid signature' } };
      const body = JSON.parse(request.body) as { id: string; to: string };
      if (request.headers['idempotency-key'] !== body.id) return { status: 400, body: { error: 'idempotency key does not match body id' } };
      const id = `rcv_${randomUUID()}`;
      accept({ to: body.to, idempotencyKey: body.id, raw: body }, id);
      return { status: 200, body: { id } };
    },
    failure(mode) {
      return mode === 'reject' ? { status: 422, body: { error: 'unknown customer' } } : { status: 502, body: { error: 'bad gateway' } };
    },
  }).start();
}
