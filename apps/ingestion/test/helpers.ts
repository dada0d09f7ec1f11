import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import type { EventEnvelope } from '@tessera/contracts';
import { createTestDatabase, startServiceProcess, startTestService, testBusNamespace, TEST_NATS_URL, type TestDatabase, type TestService } from '@tessera/testing';
import { ingestionModule } from '../src/app.module';
import { IngestionConfig } from '../src/config/ingestion.config';

export const WRITE_KEY = 'twk_test_write_key_0123456789abcdef';
export const ADMIN_KEY = 'tsk_test_admin_key_0123456789abcdefghijkl';

export interface Harness {
  db: TestDatabase;
  ingestion: TestService<IngestionConfig>;
  nc: NatsConnection;
  /** SQL on the test database (schema-qualify: ingestion.table). */
  query: (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;
  namespace: string;
  /** Every envelope stored in the namespace's INGESTION stream, in order. */
  stored: () => Promise<EventEnvelope[]>;
  close: () => Promise<void>;
}

/** Ingestion on its own database copy and bus namespace, plus a NATS connection to read the stream. */
export async function startIngestion(label: string, env: Record<string, string> = {}, options: { withCrm?: boolean } = {}): Promise<Harness> {
  const db = await createTestDatabase();
  const ns = testBusNamespace(label);
  // The CRM (its built dist) answers management-key verification for the guard.
  const crm = options.withCrm ? await startServiceProcess('crm', { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, BUS_NAMESPACE: ns.namespace, TESSERA_ADMIN_KEY: ADMIN_KEY, MIGRATE_ON_START: 'false', LOG_LEVEL: 'warn' }) : undefined;
  const ingestion = await startTestService({ service: 'ingestion', configClass: IngestionConfig, appModule: ingestionModule, databaseUrl: db.url, namespace: ns.namespace, env: { TESSERA_WRITE_KEY: WRITE_KEY, ...env } });
  const nc = await connect({ servers: TEST_NATS_URL });
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const stored = async (): Promise<EventEnvelope[]> => {
    const jsm = await nc.jetstreamManager();
    const stream = `${ns.namespace}_INGESTION`;
    const info = await jsm.streams.info(stream);
    const out: EventEnvelope[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
      if (msg) out.push(JSON.parse(new TextDecoder().decode(msg.data)) as EventEnvelope);
    }
    return out;
  };
  return {
    db,
    ingestion,
    nc,
    query: (sql, params) => pool.query(sql, params),
    namespace: ns.namespace,
    stored,
    close: async () => {
      await ingestion.close();
      await crm?.stop();
      await nc.close();
      await pool.end();
      await db.drop();
      await ns.cleanup();
    },
  };
}

/** Polls `probe` until it returns true or the deadline passes (no fixed sleeps). */
export async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function basic(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

/** JSON call with a management key (Bearer). */
export async function api(h: Harness, method: string, path: string, body?: unknown, key = ADMIN_KEY): Promise<{ status: number; body: any }> {
  const response = await fetch(`${h.ingestion.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}
