// Shared set-up of the messaging integration tests: real Postgres, real NATS, the real CRM (it
// answers API-key verification), messaging itself, and local fakes of every vendor.
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { JetStreamBus } from '@tessera/bus';
import { DEFAULT_WORKSPACE_ID, type EventMap, type EventSubject } from '@tessera/contracts';
import { createLogger } from '@tessera/observability';
import { createTestDatabase, startServiceProcess, startTestService, testBusNamespace, TEST_NATS_URL, type PlatformProcess, type TestDatabase, type TestService } from '@tessera/testing';
import { messagingModule } from '../src/app.module';
import { MessagingConfig } from '../src/config/messaging.config';

export const ADMIN_KEY = 'tsk_test_admin_key_messaging_0123456789';
export const WS = DEFAULT_WORKSPACE_ID;
export const PUBLIC_URL = 'http://links.tessera.test';

export interface Harness {
  db: TestDatabase;
  /** The built CRM as a process: it answers API-key verification for our guard. */
  crm: PlatformProcess;
  messaging: TestService<MessagingConfig>;
  nc: NatsConnection;
  namespace: string;
  pool: pg.Pool;
  call: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;
  publish: <S extends EventSubject>(producer: string, subject: S, data: EventMap[S]) => Promise<string>;
  /** Events seen on a subject of our namespace since start. */
  seen: (subject: string) => any[];
  close: () => Promise<void>;
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 8000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startHarness(label: string): Promise<Harness> {
  const db = await createTestDatabase();
  const ns = testBusNamespace(label);
  const crm = await startServiceProcess('crm', { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, BUS_NAMESPACE: ns.namespace, TESSERA_ADMIN_KEY: ADMIN_KEY, MIGRATE_ON_START: 'false', LOG_LEVEL: 'warn' });
  const messaging = await startTestService({
    service: 'messaging',
    configClass: MessagingConfig,
    appModule: messagingModule,
    databaseUrl: db.url,
    namespace: ns.namespace,
    env: { MESSAGING_TRACKING_SECRET: 'tracking-secret-for-tests-0123456789abcdef', MESSAGING_PUBLIC_URL: PUBLIC_URL, MESSAGING_RETRY_BASE_MS: '5' },
  });
  const nc = await connect({ servers: TEST_NATS_URL });
  const events = new Map<string, any[]>();
  nc.subscribe(`${ns.namespace}.messaging.>`, {
    callback: (_e, m) => {
      const subject = m.subject.slice(ns.namespace.length + 1);
      events.set(subject, [...(events.get(subject) ?? []), JSON.parse(new TextDecoder().decode(m.data))]);
    },
  });
  const buses = new Map<string, JetStreamBus>();
  const pool = new pg.Pool({ connectionString: db.url, max: 2, options: '-c search_path=messaging' });
  return {
    db,
    crm,
    messaging,
    nc,
    namespace: ns.namespace,
    pool,
    call: async (method, path, body) => {
      const response = await fetch(`${messaging.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: response.status, body: await response.json().catch(() => undefined) };
    },
    // Stands in for the producing service (crm, ingestion, journeys) on the real bus.
    publish: async (producer, subject, data) => {
      let bus = buses.get(producer);
      if (!bus) {
        bus = new JetStreamBus({ service: producer, servers: TEST_NATS_URL, namespace: ns.namespace, logger: createLogger({ service: producer, level: 'silent' }) });
        await bus.connect();
        buses.set(producer, bus);
      }
      return (await bus.publish(subject, data, { workspaceId: WS })).id;
    },
    seen: (subject) => events.get(subject) ?? [],
    close: async () => {
      for (const bus of buses.values()) await bus.close();
      await messaging?.close();
      await crm?.stop();
      await nc?.close();
      await pool.end();
      await db?.drop();
      await ns.cleanup();
    },
  };
}
