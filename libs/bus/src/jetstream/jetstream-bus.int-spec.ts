import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { CONTACT_CREATED_V1, DEFAULT_WORKSPACE_ID, VERIFY_API_KEY_V1, deadLetterSubject, HEADERS, type EventEnvelope } from '@tessera/contracts';
import { createLogger } from '@tessera/observability';
import { deleteNamespaceStreams, spansOfTrace, testBusNamespace, TEST_NATS_URL } from '@tessera/testing';
import { buildEnvelope } from '../envelope';
import { PermanentError, RequestError } from '../errors';
import type { RawDelivered } from './consumer';
import { JetStreamBus } from './jetstream-bus';

const logger = createLogger({ service: 'bus-test', level: 'silent' });
// Each test gets its own namespace: a new durable consumer would otherwise replay earlier tests' events.
let ns = testBusNamespace('bus');
const cleanups: (() => Promise<void>)[] = [];
const contact = (n: number): { contactId: string; attributes: Record<string, unknown>; createdAt: string } => ({
  contactId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  attributes: { n },
  createdAt: new Date().toISOString(),
});

/** Collects dead letters of a consumer from the DLQ stream of this namespace. */
async function deadLetters(nc: NatsConnection, consumer: string): Promise<{ reason: string; envelope: EventEnvelope }[]> {
  const out: { reason: string; envelope: EventEnvelope }[] = [];
  const sub = nc.subscribe(`${ns.namespace}.${deadLetterSubject(consumer, CONTACT_CREATED_V1.subject)}`);
  void (async () => {
    for await (const m of sub) {
      const text = new TextDecoder().decode(m.data);
      out.push({ reason: m.headers?.get(HEADERS.dlqReason) ?? '', envelope: text.startsWith('{"') ? JSON.parse(text) : text });
    }
  })();
  return out;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('JetStreamBus', () => {
  let nc: NatsConnection;
  const buses: JetStreamBus[] = [];
  const newBus = async (service: string): Promise<JetStreamBus> => {
    const bus = new JetStreamBus({ service, servers: TEST_NATS_URL, namespace: ns.namespace, logger });
    await bus.connect();
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    nc = await connect({ servers: TEST_NATS_URL });
  });
  beforeEach(() => {
    ns = testBusNamespace('bus');
    cleanups.push(ns.cleanup);
  });
  afterAll(async () => {
    for (const bus of buses) await bus.close();
    await nc.close();
    for (const cleanup of cleanups) await cleanup();
  });

  it('delivers a published event once, de-duplicating a re-publish with the same id', async () => {
    const producer = await newBus('crm');
    const consumer = await newBus('dedupe');
    const received: RawDelivered[] = [];
    await consumer.consume({ subject: CONTACT_CREATED_V1.subject, handler: async ([e]) => void received.push(e!) });
    const env = await producer.publish(CONTACT_CREATED_V1.subject, contact(1), { workspaceId: DEFAULT_WORKSPACE_ID });
    await producer.publishEnvelopes([env]);
    await until(() => received.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toHaveLength(1);
    expect(received[0]!.envelope).toMatchObject({ id: env.id, subject: 'crm.contact.created.v1', workspaceId: DEFAULT_WORKSPACE_ID, producer: 'crm', schemaVersion: 1, partitionKey: contact(1).contactId });
    expect(received[0]!.data).toMatchObject({ contactId: contact(1).contactId, attributes: { n: 1 } });
  });

  it('refuses to publish a payload that breaks its contract', async () => {
    const producer = await newBus('crm');
    await expect(producer.publish(CONTACT_CREATED_V1.subject, { ...contact(2), contactId: 'not-a-uuid' }, { workspaceId: DEFAULT_WORKSPACE_ID })).rejects.toThrow(/contactId/);
  });

  it('retries a failing handler with backoff and acks once it succeeds', async () => {
    const producer = await newBus('crm');
    const consumer = await newBus('retry');
    const attempts: number[] = [];
    await consumer.consume({
      subject: CONTACT_CREATED_V1.subject,
      backoffMs: () => 50,
      handler: async ([e]) => {
        attempts.push(e!.attempt);
        if (e!.attempt < 3) throw new Error('database briefly unavailable');
      },
    });
    await producer.publish(CONTACT_CREATED_V1.subject, contact(3), { workspaceId: DEFAULT_WORKSPACE_ID });
    await until(() => attempts.length >= 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('acks every handled event, even when the bus closes right after the handlers return', async () => {
    const producer = await newBus('crm');
    const consumer = new JetStreamBus({ service: 'acks', servers: TEST_NATS_URL, namespace: ns.namespace, logger });
    await consumer.connect();
    let handled = 0;
    await consumer.consume({ subject: CONTACT_CREATED_V1.subject, concurrency: 4, handler: async () => void handled++ });
    await producer.publishEnvelopes(Array.from({ length: 50 }, (_, n) => buildEnvelope('crm', CONTACT_CREATED_V1.subject, contact(200 + n), { workspaceId: DEFAULT_WORKSPACE_ID })));
    await until(() => handled >= 50);
    // Acks leave together at the end of the event loop's turn; closing must not lose the last ones.
    await consumer.close();
    const jsm = await nc.jetstreamManager();
    const info = await jsm.consumers.info(consumer.naming.stream('CRM'), consumer.naming.durable('acks', CONTACT_CREATED_V1.subject));
    expect(info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBe(info.delivered.stream_seq);
    expect(info.num_redelivered).toBe(0);
  });

  it('dead-letters an invalid payload, a permanent error and an event out of attempts, with reasons', async () => {
    const consumer = await newBus('dlq');
    const letters = await deadLetters(nc, 'dlq-crm_contact_created_v1');
    const handled: string[] = [];
    await consumer.consume({
      subject: CONTACT_CREATED_V1.subject,
      maxAttempts: 2,
      backoffMs: () => 20,
      handler: async ([e]) => {
        const n = (e!.data as { attributes: { n: number } }).attributes.n;
        if (n === 5) throw new PermanentError('contact belongs to an unknown workspace');
        if (n === 6) throw new Error('always failing');
        handled.push(e!.envelope.id);
      },
    });
    const js = nc.jetstream();
    const subject = `${ns.namespace}.${CONTACT_CREATED_V1.subject}`;
    const bad = { id: 'bad-1', subject: CONTACT_CREATED_V1.subject, workspaceId: DEFAULT_WORKSPACE_ID, data: { contactId: 'nope' } };
    await js.publish(subject, new TextEncoder().encode(JSON.stringify(bad)));
    await js.publish(subject, new TextEncoder().encode('{not json'));
    const producer = await newBus('crm');
    await producer.publish(CONTACT_CREATED_V1.subject, contact(5), { workspaceId: DEFAULT_WORKSPACE_ID });
    await producer.publish(CONTACT_CREATED_V1.subject, contact(6), { workspaceId: DEFAULT_WORKSPACE_ID });
    const good = await producer.publish(CONTACT_CREATED_V1.subject, contact(7), { workspaceId: DEFAULT_WORKSPACE_ID });
    await until(() => letters.length >= 4 && handled.includes(good.id));
    const reasons = letters.map((l) => l.reason);
    expect(reasons).toHaveLength(4);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'contact belongs to an unknown workspace',
        'gave up after 2 attempts: always failing',
        expect.stringMatching(/^invalid payload: contactId: contactId must be a UUID/),
        'message is not valid JSON',
      ]),
    );
  });

  it('keeps per-key order for an ordered consumer while running other keys concurrently', async () => {
    const producer = await newBus('crm');
    const consumer = await newBus('ordered');
    const seen = new Map<string, number[]>();
    let active = 0;
    let maxActive = 0;
    await consumer.consume({
      subject: CONTACT_CREATED_V1.subject,
      ordered: true,
      concurrency: 8,
      handler: async ([e]) => {
        active++;
        maxActive = Math.max(maxActive, active);
        const data = e!.data as { contactId: string; attributes: { seq: number } };
        await new Promise((r) => setTimeout(r, Math.random() * 10));
        seen.set(data.contactId, [...(seen.get(data.contactId) ?? []), data.attributes.seq]);
        active--;
      },
    });
    const envelopes = [];
    for (let seq = 0; seq < 20; seq++) {
      for (const key of [1, 2, 3, 4]) {
        envelopes.push(await producer.publish(CONTACT_CREATED_V1.subject, { ...contact(key), attributes: { seq } }, { workspaceId: DEFAULT_WORKSPACE_ID }));
      }
    }
    await until(() => [...seen.values()].reduce((n, l) => n + l.length, 0) >= 80);
    for (const list of seen.values()) expect(list).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(maxActive).toBeGreaterThan(1);
  });

  it('hands batches to a batch handler and, when a batch fails, isolates the bad event', async () => {
    const producer = await newBus('crm');
    const consumer = await newBus('batch');
    const letters = await deadLetters(nc, 'batch-crm_contact_created_v1');
    const sizes: number[] = [];
    const stored = new Set<number>();
    await consumer.consume({
      subject: CONTACT_CREATED_V1.subject,
      batch: { maxSize: 50, maxWaitMs: 50 },
      maxAttempts: 1,
      handler: async (events) => {
        sizes.push(events.length);
        const ns = events.map((e) => (e.data as { attributes: { n: number } }).attributes.n);
        if (ns.includes(13)) throw new Error('row 13 violates a constraint');
        for (const n of ns) stored.add(n);
      },
    });
    await producer.publishEnvelopes(
      Array.from({ length: 100 }, (_, n) => buildEnvelope('crm', CONTACT_CREATED_V1.subject, contact(n), { workspaceId: DEFAULT_WORKSPACE_ID })),
    );
    await until(() => stored.size >= 99 && letters.length >= 1);
    expect(stored.has(13)).toBe(false);
    expect(letters[0]!.reason).toMatch(/row 13/);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
  });

  it('runs one batch at a time by default, and up to `concurrency` full batches at once when asked', async () => {
    const producer = await newBus('crm');
    // A backlog first, so that full batches are waiting when the consumers start.
    await producer.publishEnvelopes(
      Array.from({ length: 200 }, (_, n) => buildEnvelope('crm', CONTACT_CREATED_V1.subject, contact(n), { workspaceId: DEFAULT_WORKSPACE_ID })),
    );
    /** A slow batch handler that records what it saw and how many of its calls overlapped. */
    const watch = (): { seen: number[]; maxActive: number; handler: (events: RawDelivered[]) => Promise<void> } => {
      let active = 0;
      const state = {
        seen: [] as number[],
        maxActive: 0,
        handler: async (events: RawDelivered[]): Promise<void> => {
          state.maxActive = Math.max(state.maxActive, ++active);
          await new Promise((r) => setTimeout(r, 30));
          state.seen.push(...events.map((e) => (e.data as { attributes: { n: number } }).attributes.n));
          active--;
        },
      };
      return state;
    };
    const serial = watch();
    const overlapped = watch();
    await (await newBus('serial')).consume({ subject: CONTACT_CREATED_V1.subject, batch: { maxSize: 20, maxWaitMs: 10 }, handler: serial.handler });
    await (await newBus('overlap')).consume({ subject: CONTACT_CREATED_V1.subject, batch: { maxSize: 20, maxWaitMs: 10 }, concurrency: 2, handler: overlapped.handler });
    await until(() => serial.seen.length >= 200 && overlapped.seen.length >= 200);
    await new Promise((r) => setTimeout(r, 200));
    for (const { seen } of [serial, overlapped]) {
      expect(seen).toHaveLength(200);
      expect(new Set(seen).size).toBe(200);
    }
    expect(serial.maxActive).toBe(1);
    expect(overlapped.maxActive).toBe(2);
  });

  it('with `ordered`, overlaps batches of different partition keys and keeps each key in stream order', async () => {
    const producer = await newBus('crm');
    // 8 contacts (partition keys), 30 events each, interleaved; n grows along the stream.
    await producer.publishEnvelopes(
      Array.from({ length: 240 }, (_, n) => buildEnvelope('crm', CONTACT_CREATED_V1.subject, { ...contact(n % 8), attributes: { n } }, { workspaceId: DEFAULT_WORKSPACE_ID })),
    );
    const seenByKey = new Map<string, number[]>();
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    await (
      await newBus('lanes')
    ).consume({
      subject: CONTACT_CREATED_V1.subject,
      batch: { maxSize: 20, maxWaitMs: 10 },
      concurrency: 2,
      ordered: true,
      handler: async (events) => {
        maxActive = Math.max(maxActive, ++active);
        // Early batches take longest: were one key's events in two running batches, the later would finish first.
        await new Promise((r) => setTimeout(r, Math.max(5, 80 - 10 * calls++)));
        for (const e of events) {
          const { contactId, attributes } = e.data as { contactId: string; attributes: { n: number } };
          seenByKey.set(contactId, [...(seenByKey.get(contactId) ?? []), attributes.n]);
        }
        active--;
      },
    });
    await until(() => [...seenByKey.values()].reduce((sum, ns) => sum + ns.length, 0) >= 240);
    expect(maxActive).toBe(2);
    expect(seenByKey.size).toBe(8);
    for (const ns of seenByKey.values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
  });

  it('answers request/reply, with typed errors for bad requests and for no responder', async () => {
    const crm = await newBus('crm');
    const caller = await newBus('caller');
    await crm.serve(VERIFY_API_KEY_V1.subject, async (req) => ({ valid: (req as { keyHash: string }).keyHash === 'a'.repeat(64), scopes: ['*'] }));
    await expect(caller.request(VERIFY_API_KEY_V1.subject, { keyHash: 'a'.repeat(64) })).resolves.toEqual({ valid: true, scopes: ['*'] });
    await expect(caller.request(VERIFY_API_KEY_V1.subject, { keyHash: 'short' })).rejects.toMatchObject({ code: 'invalid_request' });
    const lonely = new JetStreamBus({ service: 'lonely', servers: TEST_NATS_URL, namespace: `${ns.namespace}x`, logger });
    await lonely.connect();
    buses.push(lonely);
    const error = await lonely.request(VERIFY_API_KEY_V1.subject, { keyHash: 'a'.repeat(64) }, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe('unavailable');
    await deleteNamespaceStreams(`${ns.namespace}x`);
  });

  it('carries the trace context from publisher to consumer span', async () => {
    const producer = await newBus('crm');
    const consumer = await newBus('traced');
    let consumerTraceId = '';
    await consumer.consume({ subject: CONTACT_CREATED_V1.subject, handler: async () => void (consumerTraceId = trace.getActiveSpan()?.spanContext().traceId ?? '') });
    const tracer = trace.getTracer('test');
    const producerTraceId = await tracer.startActiveSpan('http request', async (span) => {
      await producer.publish(CONTACT_CREATED_V1.subject, contact(9), { workspaceId: DEFAULT_WORKSPACE_ID });
      span.end();
      return span.spanContext().traceId;
    });
    await until(() => consumerTraceId !== '');
    expect(consumerTraceId).toBe(producerTraceId);
    await until(() => spansOfTrace(producerTraceId).some((s) => s.name === 'crm.contact.created.v1 process'));
  });
});
