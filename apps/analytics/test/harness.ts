// Shared set-up of the analytics integration tests: real Postgres, real NATS, the built CRM as a
// process (it answers API-key verification and publishes workspaces), analytics in-process.
import { randomUUID } from 'node:crypto';
import { headers as natsHeaders } from 'nats';
import pg from 'pg';
import { buildEnvelope, JetStreamBus } from '@tessera/bus';
import { DEFAULT_WORKSPACE_ID, type EventEnvelope, type EventMap, type EventSubject } from '@tessera/contracts';
import { createLogger } from '@tessera/observability';
import { createTestDatabase, startServiceProcess, startTestService, testBusNamespace, TEST_NATS_URL, type PlatformProcess, type TestDatabase, type TestService } from '@tessera/testing';
import { analyticsModule } from '../src/app.module';
import { AnalyticsConfig } from '../src/config/analytics.config';

export const ADMIN_KEY = 'tsk_test_admin_key_analytics_0123456789';
export const WS = DEFAULT_WORKSPACE_ID;

export interface Harness {
  db: TestDatabase;
  crm: PlatformProcess;
  analytics: TestService<AnalyticsConfig>;
  namespace: string;
  pool: pg.Pool;
  call: (method: string, path: string, body?: unknown, opts?: { key?: string; accept?: string }) => Promise<{ status: number; body: any; text: string; headers: Headers }>;
  envelope: <S extends EventSubject>(subject: S, data: EventMap[S], meta?: { workspaceId?: string; occurredAt?: string; id?: string }) => EventEnvelope;
  /** Publishes through the real bus, as the producing service would. */
  publish: (envelopes: EventEnvelope[]) => Promise<void>;
  /** Publishes the same envelope again under another message id (a redelivery the server cannot de-duplicate). */
  redeliver: (envelopes: EventEnvelope[]) => Promise<void>;
  /** Closes analytics, runs `whileDown`, and starts it again on the same database and namespace. */
  restartAnalytics: (env?: Record<string, string>, whileDown?: () => Promise<void>) => Promise<void>;
  /** Resolves once analytics' consumers have nothing pending or unacknowledged (redeliveries included). */
  drained: () => Promise<void>;
  close: () => Promise<void>;
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startHarness(label: string, env: Record<string, string> = {}): Promise<Harness> {
  const db = await createTestDatabase();
  const ns = testBusNamespace(label);
  const crm = await startServiceProcess('crm', { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, BUS_NAMESPACE: ns.namespace, TESSERA_ADMIN_KEY: ADMIN_KEY, MIGRATE_ON_START: 'false', LOG_LEVEL: 'warn' });
  const start = (): Promise<TestService<AnalyticsConfig>> =>
    startTestService({ service: 'analytics', configClass: AnalyticsConfig, appModule: analyticsModule, databaseUrl: db.url, namespace: ns.namespace, env: { EXPORT_POLL_MS: '50', EXPORT_ALLOW_LOCAL_HTTP: 'true', ...env } });
  let analytics = await start();
  const bus = new JetStreamBus({ service: 'test', servers: TEST_NATS_URL, namespace: ns.namespace, logger: createLogger({ service: 'test', level: 'silent' }) });
  await bus.connect();
  const raw = await (await import('nats')).connect({ servers: TEST_NATS_URL });
  const js = raw.jetstream();
  const pool = new pg.Pool({ connectionString: db.url, max: 2, options: '-c search_path=analytics' });
  const harness: Harness = {
    db,
    crm,
    get analytics() {
      return analytics;
    },
    namespace: ns.namespace,
    pool,
    call: async (method, path, body, opts = {}) => {
      const response = await fetch(`${analytics.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${opts.key ?? ADMIN_KEY}`, ...(opts.accept ? { accept: opts.accept } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: response.status, body: parsed, text, headers: response.headers };
    },
    envelope: (subject, data, meta = {}) =>
      buildEnvelope(subject.split('.')[0]!, subject, data, { workspaceId: meta.workspaceId ?? WS, id: meta.id ?? randomUUID(), occurredAt: meta.occurredAt }),
    publish: (envelopes) => bus.publishEnvelopes(envelopes),
    redeliver: async (envelopes) => {
      for (const e of envelopes) {
        const h = natsHeaders();
        h.set('Tessera-Workspace', e.workspaceId);
        await js.publish(bus.naming.subject(e.subject), new TextEncoder().encode(JSON.stringify(e)), { msgID: `${e.id}-again-${randomUUID()}`, headers: h });
      }
    },
    drained: async () => {
      const jsm = await raw.jetstreamManager();
      await waitFor(async () => {
        for await (const stream of jsm.streams.list()) {
          if (!stream.config.name.startsWith(`${ns.namespace}_`)) continue;
          for await (const c of jsm.consumers.list(stream.config.name)) {
            if (c.name.startsWith('analytics-') && (c.num_pending > 0 || c.num_ack_pending > 0)) return false;
          }
        }
        return true;
      }, 'analytics consumers drained');
    },
    restartAnalytics: async (extra = {}, whileDown) => {
      await analytics.close();
      await whileDown?.();
      analytics = await startTestService({ service: 'analytics', configClass: AnalyticsConfig, appModule: analyticsModule, databaseUrl: db.url, namespace: ns.namespace, env: { EXPORT_POLL_MS: '50', EXPORT_ALLOW_LOCAL_HTTP: 'true', ...env, ...extra } });
    },
    close: async () => {
      await bus.close();
      await raw.close();
      await analytics?.close();
      await crm?.stop();
      await pool.end();
      await db?.drop();
      await ns.cleanup();
    },
  };
  return harness;
}
