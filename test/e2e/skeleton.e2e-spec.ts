import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { checkConformance, createTestDatabase, startOtlpReceiver, startServiceProcess, testBusNamespace, TEST_NATS_URL, type OtlpReceiver, type PlatformProcess, type TestDatabase } from '@tessera/testing';

// The skeleton end to end: an HTTP call on the CRM emits an event that analytics consumes and
// persists, and one trace spans both processes, down to analytics' database write.

const ADMIN_KEY = 'tsk_e2e_admin_key_0123456789abcdefghijklmn';

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('platform skeleton', () => {
  let db: TestDatabase;
  let otlp: OtlpReceiver;
  const ns = testBusNamespace('e2e');
  const services: PlatformProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    otlp = await startOtlpReceiver();
    const env = { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, BUS_NAMESPACE: ns.namespace, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, TESSERA_ADMIN_KEY: ADMIN_KEY };
    services.push(...(await Promise.all([startServiceProcess('crm', env), startServiceProcess('analytics', env)])));
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await otlp?.close();
    await db?.drop();
    await ns.cleanup();
  });

  it('carries a contact from a CRM request to an analytics fact, in one trace', async () => {
    const [crm, analytics] = services;
    const created = await fetch(`${crm!.url}/v1/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'e2e@example.com', attributes: { plan: 'pro' } }),
    });
    expect(created.status).toBe(201);
    const contact = (await created.json()) as { id: string };

    const fact = await eventually(async () => {
      const response = await fetch(`${analytics!.url}/v1/facts?contactId=${contact.id}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const facts = (await response.json()) as { subject: string; data: unknown }[];
      return facts.length ? facts[0] : undefined;
    }, 'the fact in analytics');
    expect(fact).toMatchObject({ subject: 'crm.contact.created.v1', data: { attributeNames: ['plan'] } });

    // One trace: the CRM's HTTP server span, the analytics consumer span, and analytics' INSERT.
    const spans = await eventually(async () => {
      const all = otlp.spans();
      const request = all.find((s) => s.service === 'crm' && s.kind === 2 && s.attributes['http.request.method'] === 'POST' && s.attributes['url.path'] === '/v1/contacts');
      if (!request) return undefined;
      const trace = all.filter((s) => s.traceId === request.traceId);
      const consumer = trace.find((s) => s.service === 'analytics' && s.name === 'crm.contact.created.v1 process');
      const insert = trace.find((s) => s.service === 'analytics' && /INSERT INTO (?:"analytics"\.)?"?fact"? /.test(String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? '')));
      return consumer && insert ? { request, consumer, insert, trace } : undefined;
    }, 'one trace spanning crm and analytics').catch((e: Error) => {
      throw new Error(`${e.message}; spans received: ${JSON.stringify(otlp.spans().filter((s) => !s.name.startsWith('pg')).map((s) => [s.service, s.name, s.traceId.slice(0, 6), s.kind, JSON.stringify(s.attributes).slice(0, 300)]))}`);
    });
    expect(spans.consumer.traceId).toBe(spans.request.traceId);
    expect(spans.insert.traceId).toBe(spans.request.traceId);
    expect(new Set(spans.trace.map((s) => s.service))).toEqual(new Set(['crm', 'analytics']));
    // Query strings never reach the tracing backend.
    expect(otlp.spans().some((s) => 'url.query' in s.attributes || String(s.attributes['url.full'] ?? '').includes('?'))).toBe(false);
    // Logs are JSON and carry the trace id of the request that caused them.
    const crmLogLine = crm!.output().split('\n').find((l) => l.includes(spans.request.traceId));
    expect(crmLogLine && JSON.parse(crmLogLine)).toMatchObject({ service: 'crm', trace_id: spans.request.traceId });
  });

  it('passes the contract conformance kit: the running CRM answers and publishes as its contract says', async () => {
    const [crm] = services;
    const report = await checkConformance({
      natsUrl: TEST_NATS_URL,
      namespace: ns.namespace,
      service: 'crm',
      sampleRequests: { 'rpc.crm.apikey.verify.v1': { keyHash: 'f'.repeat(64) } },
      exercise: async () => {
        for (const email of ['k1@example.com', 'k2@example.com']) {
          const r = await fetch(`${crm!.url}/v1/contacts`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
          expect(r.status).toBe(201);
        }
      },
    });
    expect(report.problems).toEqual([]);
    expect(report.requestsChecked).toContain('rpc.crm.apikey.verify.v1');
    expect(report.eventsSeen['crm.contact.created.v1']).toBeGreaterThanOrEqual(2);
  });

  it('refuses to start on bad configuration, naming each bad variable', () => {
    const run = spawnSync(process.execPath, [join(__dirname, '../../apps/crm/dist/main.js')], {
      env: { ...process.env, PORT: 'eighty', NATS_URL: 'http://nats', DATABASE_URL: 'mysql://u:secret@h/db' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/PORT=.*must be an integer/);
    expect(run.stderr).toMatch(/NATS_URL=/);
    expect(run.stderr).toMatch(/DATABASE_URL=\(hidden\)/);
    expect(run.stderr).not.toContain('secret');
  });
});
