import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type NatsConnection, type Subscription } from 'nats';
import pg from 'pg';
import { v4 as uuidv4 } from 'uuid';
import { EVENT_BUS, type JetStreamBus } from '@tessera/bus';
import { DEFAULT_WORKSPACE_ID, eventDefinition, validateContract, type EventEnvelope, type EventMap, type EventSubject } from '@tessera/contracts';
import { createTestDatabase, startServiceProcess, startTestService, testBusNamespace, TEST_NATS_URL, type PlatformProcess, type TestDatabase, type TestService } from '@tessera/testing';
import { journeysModule } from '../src/app.module';
import { JourneysConfig } from '../src/config/journeys.config';
import { TimerPoller } from '../src/runtime/timer-poller.service';

export const ADMIN_KEY = 'tsk_test_admin_key_0123456789abcdefghijkl';
export const WS = DEFAULT_WORKSPACE_ID;

/** Polls `probe` until it returns a truthy value or the deadline passes (no fixed sleeps). */
export async function waitFor<T>(probe: () => Promise<T> | T, timeoutMs = 8000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Harness {
  db: TestDatabase;
  namespace: string;
  journeys: TestService<JourneysConfig>;
  crm: PlatformProcess;
  nc: NatsConnection;
  /** Every journeys.* event published in the namespace, in arrival order. */
  seen: EventEnvelope[];
  query: (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;
  call: (method: string, path: string, body?: unknown, key?: string) => Promise<{ status: number; body: any }>;
  publish: <S extends EventSubject>(subject: S, data: EventMap[S], id?: string) => Promise<void>;
  /** Restarts the journeys app on the same database and namespace (a crash-and-restart). */
  restart: () => Promise<void>;
  stop: () => Promise<void>;
  close: () => Promise<void>;
  of: (subject: string, filter?: (d: any) => boolean) => EventEnvelope<any>[];
  contact: (attributes?: Record<string, unknown>, timezone?: string) => Promise<string>;
  track: (contactId: string, name: string, properties?: Record<string, unknown>) => Promise<void>;
  fireTimers: () => Promise<number>;
}

/** Journeys (in-process, as main.ts boots it) plus the real CRM (built, as a process) for API keys, on one database copy and bus namespace. */
export async function startJourneys(label: string): Promise<Harness> {
  const db = await createTestDatabase();
  const ns = testBusNamespace(label);
  const boot = (): Promise<TestService<JourneysConfig>> => startTestService({ service: 'journeys', configClass: JourneysConfig, appModule: journeysModule, databaseUrl: db.url, namespace: ns.namespace, env: { TESSERA_ADMIN_KEY: ADMIN_KEY } });
  let journeys = await boot();
  const crm = await startServiceProcess('crm', { DATABASE_URL: db.url, NATS_URL: TEST_NATS_URL, BUS_NAMESPACE: ns.namespace, TESSERA_ADMIN_KEY: ADMIN_KEY, MIGRATE_ON_START: 'false', LOG_LEVEL: 'warn' });
  const nc = await connect({ servers: TEST_NATS_URL });
  const seen: EventEnvelope[] = [];
  const sub: Subscription = nc.subscribe(`${ns.namespace}.journeys.>`);
  void (async () => {
    for await (const m of sub) seen.push(JSON.parse(new TextDecoder().decode(m.data)) as EventEnvelope);
  })();
  const pool = new pg.Pool({ connectionString: db.url, max: 3 });
  const bus = (): JetStreamBus => journeys.app.get(EVENT_BUS);
  const h: Harness = {
    db,
    namespace: ns.namespace,
    get journeys() {
      return journeys;
    },
    crm,
    nc,
    seen,
    query: (sql, params) => pool.query(sql, params as unknown[]),
    call: async (method, path, body, key = ADMIN_KEY) => {
      const t0 = Date.now();
    const response = await fetch(`${journeys.url}${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      const out = { status: response.status, body: await response.json().catch(() => undefined) };
      if (process.env.JT) console.log(method, path, out.status, Date.now() - t0);
      return out;
    },
    publish: async (subject, data, id) => {
      await bus().publish(subject, data, { workspaceId: WS, ...(id ? { id } : {}) });
    },
    restart: async () => {
      journeys = await boot();
    },
    stop: async () => {
      await journeys.close();
    },
    close: async () => {
      sub.unsubscribe();
      await journeys.close().catch(() => undefined);
      await crm.stop();
      await nc.close();
      await pool.end();
      await db.drop();
      await ns.cleanup();
    },
    of: (subject, filter) => seen.filter((e) => e.subject === subject && (!filter || filter(e.data))),
    contact: async (attributes = {}, timezone) => {
      const contactId = uuidv4();
      await h.publish('crm.contact.created.v1', { contactId, attributes: { ...attributes, ...(timezone ? { timezone } : {}) }, createdAt: new Date().toISOString() });
      await waitFor(async () => (await pool.query(`SELECT 1 FROM journeys.contact WHERE contact_id = $1`, [contactId])).rowCount, 5000, 'contact projection');
      return contactId;
    },
    track: async (contactId, name, properties = {}) => {
      const now = new Date().toISOString();
      await h.publish('ingestion.event.received.v1', { type: 'track', name, properties, messageId: uuidv4(), userId: contactId, routingKey: contactId, timestamp: now, receivedAt: now, sourceId: uuidv4(), context: {} });
    },
    fireTimers: () => journeys.app.get(TimerPoller).runDue(),
  };
  return h;
}

/** Contract problems of envelopes journeys published (it builds hot-path envelopes without re-validating). */
export function contractViolations(seen: EventEnvelope[]): string[] {
  const problems: string[] = [];
  for (const e of seen) {
    const def = eventDefinition(e.subject);
    if (!def) {
      problems.push(`${e.subject}: no contract`);
      continue;
    }
    const checked = validateContract(def.payload, e.data as object);
    if (!checked.ok) problems.push(`${e.subject}: ${JSON.stringify(checked.errors)}`);
    if (def.partitionKey && e.partitionKey !== String((e.data as Record<string, unknown>)[def.partitionKey])) problems.push(`${e.subject}: partitionKey`);
  }
  return problems;
}

/** Creates and publishes a journey over the API; returns its id. */
export async function publishJourney(h: Harness, name: string, definition: object): Promise<string> {
  const created = await h.call('POST', '/v1/journeys', { name, definition });
  if (created.status !== 201) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
  const published = await h.call('POST', `/v1/journeys/${created.body.id}/publish`);
  if (published.status !== 201) throw new Error(`publish failed: ${JSON.stringify(published.body)}`);
  return created.body.id as string;
}

/** A local HTTP server standing in for a user's webhook endpoint. */
export async function startWebhookSink(answer: (req: IncomingMessage, body: string, n: number) => { status: number; body: unknown }): Promise<{ url: string; calls: { headers: IncomingMessage['headers']; body: string }[]; close: () => Promise<void> }> {
  const calls: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls.push({ headers: req.headers, body });
      const a = answer(req, body, calls.length);
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, close: () => new Promise((r) => server.close(() => r())) };
}
