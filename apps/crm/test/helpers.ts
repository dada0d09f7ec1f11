import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { buildEnvelope } from '@tessera/bus';
import { DEFAULT_WORKSPACE_ID, type EventEnvelope, type EventMap, type EventSubject } from '@tessera/contracts';
import { createTestDatabase, databaseUrl, startTestService, testBusNamespace, TEST_NATS_URL, type TestDatabase, type TestService } from '@tessera/testing';
import { crmModule } from '../src/app.module';
import { CrmConfig } from '../src/config/crm.config';

export const ADMIN_KEY = 'tsk_test_admin_key_0123456789abcdefghijkl';

export interface CrmHarness {
  crm: TestService<CrmConfig>;
  db: TestDatabase;
  nc: NatsConnection;
  namespace: string;
  call: (method: string, path: string, body?: unknown, key?: string) => Promise<{ status: number; body: any }>;
  /** Collects envelopes published on a subject (namespaced) from now on. */
  collect: (subject: string) => { events: EventEnvelope<any>[]; stop: () => void };
  close: () => Promise<void>;
}

export async function startCrm(label: string, env: Record<string, string> = {}): Promise<CrmHarness> {
  const ns = testBusNamespace(label);
  const db = await createTestDatabase();
  const crm = await startTestService({ service: 'crm', configClass: CrmConfig, appModule: crmModule, databaseUrl: db.url, namespace: ns.namespace, env: { TESSERA_ADMIN_KEY: ADMIN_KEY, ...env } });
  const nc = await connect({ servers: TEST_NATS_URL });
  const call: CrmHarness['call'] = async (method, path, body, key = ADMIN_KEY) => {
    const response = await fetch(`${crm.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: response.status, body: parsed };
  };
  const collect: CrmHarness['collect'] = (subject) => {
    const events: EventEnvelope<any>[] = [];
    const sub = nc.subscribe(`${ns.namespace}.${subject}`, { callback: (_e, m) => events.push(JSON.parse(new TextDecoder().decode(m.data))) });
    return { events, stop: () => sub.unsubscribe() };
  };
  return {
    crm,
    db,
    nc,
    namespace: ns.namespace,
    call,
    collect,
    close: async () => {
      await crm.close();
      await nc.close();
      // pg's Pool.end() resolves before its sockets close; a forced DROP would kill them mid-close.
      await eventually(async () => {
        const admin = new pg.Client({ connectionString: databaseUrl() });
        await admin.connect();
        const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [new URL(db.url).pathname.slice(1)]);
        await admin.end();
        return rows[0].n === 0;
      }, 5000, 'pool sockets to close').catch(() => undefined);
      await db.drop();
      await ns.cleanup();
    },
  };
}

/** Polls until `check` returns a value (not undefined/false), or fails after the deadline. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 8000, what = 'condition'): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Publishes an event as another service would (JetStream, namespaced, real envelope). */
export async function publishAs<S extends EventSubject>(h: CrmHarness, producer: string, subject: S, data: EventMap[S], id?: string): Promise<EventEnvelope> {
  const envelope = buildEnvelope(producer, subject, data, { workspaceId: DEFAULT_WORKSPACE_ID, ...(id ? { id } : {}) }) as EventEnvelope;
  await h.nc.jetstream().publish(`${h.namespace}.${subject}`, JSON.stringify(envelope), { msgID: `${envelope.id}-${Math.random()}` });
  return envelope;
}

let seq = 0;
/** The fields every ingestion tracking call carries. */
export function trackingBase(ids: { userId?: string; anonymousId?: string }): { messageId: string; routingKey: string; timestamp: string; receivedAt: string; sourceId: string; context: Record<string, unknown>; userId?: string; anonymousId?: string } {
  const now = new Date(Date.now() + seq++).toISOString();
  return { ...ids, messageId: `m-${Date.now()}-${seq}`, routingKey: ids.userId ?? ids.anonymousId!, timestamp: now, receivedAt: now, sourceId: '0193a1b2-0000-7000-8000-000000000001', context: {} };
}
