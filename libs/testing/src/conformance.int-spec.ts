import { connect, headers, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE_ID } from '@tessera/contracts';
import { testBusNamespace, TEST_NATS_URL } from './bus';
import { checkConformance } from './conformance';

// The kit must catch a replacement CRM that breaks the contract. This fake one answers key
// verification with the wrong shape, ignores invalid requests, and publishes an event with an
// invalid payload and no Nats-Msg-Id. (The real CRM passes the kit in test/e2e.)
describe('conformance kit', () => {
  const ns = testBusNamespace('conf');
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connect({ servers: TEST_NATS_URL });
    nc.subscribe(`${ns.namespace}.rpc.crm.apikey.verify.v1`, {
      callback: (_e, msg) => msg.respond(new TextEncoder().encode(JSON.stringify({ ok: true, result: { valid: 'yes' } }))),
    });
  });

  afterAll(async () => {
    await nc.close();
    await ns.cleanup();
  });

  it('reports every way a broken implementation breaks the contract', async () => {
    const report = await checkConformance({
      natsUrl: TEST_NATS_URL,
      namespace: ns.namespace,
      service: 'crm',
      sampleRequests: { 'rpc.crm.apikey.verify.v1': { keyHash: 'a'.repeat(64) } },
      settleMs: 300,
      exercise: async () => {
        const h = headers();
        h.set('traceparent', 'not-a-traceparent');
        const envelope = { id: 'e1', subject: 'crm.contact.created.v1', schemaVersion: 1, workspaceId: DEFAULT_WORKSPACE_ID, occurredAt: new Date().toISOString(), producer: 'crm', data: { attributes: {} } };
        nc.publish(`${ns.namespace}.crm.contact.created.v1`, new TextEncoder().encode(JSON.stringify(envelope)), { headers: h });
        nc.publish(`${ns.namespace}.crm.contact.invented.v1`, new TextEncoder().encode('{}'));
        await nc.flush();
      },
    });
    expect(report.requestsChecked).toEqual(['rpc.crm.apikey.verify.v1']);
    expect(report.eventsSeen).toEqual({ 'crm.contact.created.v1': 1, 'crm.contact.invented.v1': 1 });
    const text = report.problems.join('\n');
    expect(text).toMatch(/an invalid request was not answered with \{ ok: false/);
    expect(text).toMatch(/reply does not match VerifyApiKeyResponseV1/);
    expect(text).toMatch(/crm.contact.created.v1: payload does not match ContactCreatedV1/);
    expect(text).toMatch(/Nats-Msg-Id header is not the envelope id/);
    expect(text).toMatch(/traceparent header is malformed/);
    expect(text).toMatch(/crm.contact.invented.v1: not a subject in libs\/contracts/);
  });
});
