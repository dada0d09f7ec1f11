// Bus benchmark: the CPU the shared event bus (libs/bus, as built) costs a service per message,
// beside what the raw nats.js client costs for the same work in the same run.
//   publish, direct: JetStreamBus.publishEnvelopes of prepared ~1 KB identify envelopes in batches
//                    of 500 (what batch publishers do), and bus.publish one awaited at a time
//                    (envelope built, validated and trace context injected per call).
//   publish, outbox: OutboxRelay.drain over `outbox_batch` rows of 500 events, OutboxRelay.handOff
//                    of such rows by their writer (the CRM identify and journeys paths), and
//                    OutboxRelay.drain over `outbox` rows (one per event), in a Postgres schema of its own;
//                    the CPU of the relay's Postgres backend is printed beside the process's.
//   raw publish:     nc.publish with a reply inbox, 256 acks in flight, prebuilt body and headers.
//   consume:         bus.consume single (as @OnEvent, concurrency 16) and batched (as @OnEvents,
//                    500), with a no-op handler; raw: the same durable pull consumer read with
//                    consumer.consume (1,000 pulled at once), msg.json() and msg.ack() per message.
//   memory:          heap and buffers held per unacknowledged message by a batched consumer holding
//                    20,000 (two batches of 10,000, as analytics runs), its handler parked.
// Tracing runs as in the services (SDK started, spans recorded, exported nowhere), so span creation
// counts. Figures: µs of this process's CPU per message (process.cpuUsage) and socket writes per
// message, the median of BENCH_ROUNDS (default 3) rounds of BENCH_MESSAGES (default 20,000); what a
// round needs beforehand (rows, messages in the stream) is made before its clock starts.
// Needs the built libs: pnpm exec nx run-many -t build -p @tessera/bus @tessera/observability @tessera/contracts
// Knobs: BENCH_BUS_DIST (another build of libs/bus inside libs/bus so that its imports resolve, e.g.
// libs/bus/dist-before compiled with swc from older sources, for a before/after in one session),
// BENCH_PROF (a directory: a CPU profile of each scenario's timed rounds only, without set-up),
// BENCH_ONLY (letters: p publish, o outbox, r raw consume, s single, b batched, m memory; default all).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { figure } from '../lib/figures.mjs';
import { cpuOf, pct } from '../lib/measure.mjs';

const N = Number(process.env.BENCH_MESSAGES ?? 20000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ONLY = process.env.BENCH_ONLY ?? 'porsbm';
const PROF = process.env.BENCH_PROF;
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const SERVER = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const root = join(new URL('.', import.meta.url).pathname, '..', '..');
const require = createRequire(join(root, 'libs/bus/package.json'));

// Tracing first, as each service's main.ts does, so pg is instrumented as in the services.
const observability = require('@tessera/observability');
const stopTracing = observability.initTracing({ serviceName: 'bench-bus' });
const bus = require(join(root, process.env.BENCH_BUS_DIST ?? 'libs/bus/dist', 'index.js'));
const { IDENTIFY_RECEIVED_V1 } = require('@tessera/contracts');
const { AckPolicy, createInbox, headers: natsHeaders } = require('nats');
const pg = require('pg');

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const ns = `benchbus${randomBytes(3).toString('hex')}`;
const SUBJECT = IDENTIFY_RECEIVED_V1.subject;
const WS = '00000000-0000-4000-8000-000000000001';
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const logger = observability.createLogger({ service: 'bench-bus', destination: { write() {} } });
const encoder = new TextEncoder();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Socket writes are counted: each is a syscall, and on loopback the sender also pays the receiving
// side's TCP work, so writes per message explain much of a client's CPU.
let socketWrites = 0;
const write = Socket.prototype.write;
Socket.prototype.write = function (...args) {
  socketWrites++;
  return write.apply(this, args);
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** A realistic identify payload (an envelope of about 1 KB). */
const payload = (i) => ({
  messageId: randomUUID(),
  userId: `user-${i}`,
  routingKey: `user-${i}`,
  timestamp: new Date().toISOString(),
  receivedAt: new Date().toISOString(),
  sourceId: '00000000-0000-4000-8000-0000000000aa',
  context: { ip: '203.0.113.7', locale: 'en-GB', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', library: { name: 'analytics-node', version: '2.1.0' }, page: { path: '/pricing', url: 'https://example.com/pricing' } },
  traits: { email: `user${i}@example.com`, firstName: 'Ann', lastName: `Lee${i}`, plan: 'pro', company: { name: 'Example Ltd', employees: 42 }, createdAt: '2026-01-02T03:04:05.000Z', tags: ['beta', 'newsletter'] },
});
/** Fresh envelopes (new ids each time, or JetStream's duplicate window would absorb repeats), with a trace context as a request would give them. */
const envelopes = (n) => Array.from({ length: n }, (_, i) => ({ ...bus.buildEnvelope('ingestion', SUBJECT, payload(i), { workspaceId: WS }), traceparent: TRACEPARENT }));

/**
 * Runs a scenario ROUNDS times (after a small warm-up) and prints the median µs of this process's
 * CPU per message. `prepare(n)` (untimed) returns the timed `run()`; `extraCpu` reads another
 * process's CPU (ms) to print per message beside it.
 */
async function measure(label, prepare, { extraCpu, messages = N } = {}) {
  await (await prepare(Math.min(2000, messages)))();
  const profiler = PROF ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
  }
  const own = [];
  const profiles = [];
  const writes = [];
  const extra = [];
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    const run = await prepare(messages);
    gc();
    await profiler?.post('Profiler.start');
    const extra0 = extraCpu?.() ?? 0;
    const c0 = cpuMs();
    const w0 = socketWrites;
    const t0 = performance.now();
    await run();
    const ms = performance.now() - t0;
    writes.push((socketWrites - w0) / messages);
    if (profiler) profiles.push((await profiler.post('Profiler.stop')).profile);
    own.push(((cpuMs() - c0) * 1000) / messages);
    if (extraCpu) extra.push(((extraCpu() - extra0) * 1000) / messages);
    rates.push(messages / (ms / 1000));
  }
  if (profiler) {
    mkdirSync(PROF, { recursive: true });
    writeFileSync(join(PROF, `${label.replace(/[^\w]+/g, '-')}.cpuprofile`), JSON.stringify(profiles.at(-1)));
    profiler.disconnect();
  }
  const result = { us: pct(own, 50), pg: extraCpu ? pct(extra, 50) : undefined, rate: pct(rates, 50), writes: pct(writes, 50) };
  console.log(
    `  ${label.padEnd(46)} ${result.us.toFixed(1).padStart(6)} µs/msg${result.pg !== undefined ? ` + Postgres ${result.pg.toFixed(1)} µs` : ''}  ${result.writes.toFixed(3)} writes/msg  ${Math.round(result.rate).toLocaleString('en').padStart(7)} msg/s  (rounds: ${own.map((x) => x.toFixed(1)).join(', ')})`,
  );
  return result;
}

const publisher = new bus.JetStreamBus({ service: 'benchbus', servers: NATS_URL, namespace: ns, logger });
await publisher.connect();
const nc = publisher.connection();
const jsm = await nc.jetstreamManager();
const js = nc.jetstream();
const stream = publisher.naming.stream(publisher.naming.streamOf(SUBJECT).name);
const wireSubject = publisher.naming.subject(SUBJECT);
const db = new pg.Pool({ connectionString: SERVER, max: 1, application_name: 'bench-bus' });
let schema;

/** Raw nats.js: publishes prebuilt bodies with 256 acks in flight, as publishEnvelopes does, without the bus. */
const rawPublish = (bodies) =>
  new Promise((resolve, reject) => {
    const prefix = createInbox();
    const n = bodies.length;
    let sent = 0;
    let acked = 0;
    const fill = () => {
      for (; sent < n && sent - acked < 256; sent++) {
        const h = natsHeaders();
        h.set('traceparent', TRACEPARENT);
        h.set('Nats-Msg-Id', randomUUID());
        nc.publish(wireSubject, bodies[sent], { reply: `${prefix}.${sent}`, headers: h });
      }
    };
    const sub = nc.subscribe(`${prefix}.*`, {
      callback: (error, msg) => {
        if (error || msg.headers?.code === 503) return reject(error ?? new Error('no stream'));
        if (++acked === n) {
          sub.unsubscribe();
          resolve();
        } else if (sent - acked <= 128) fill();
      },
    });
    fill();
  });
const bodiesOf = (n) => envelopes(n).map((e) => encoder.encode(JSON.stringify(e)));

/** An empty stream holding `n` fresh identify events, for a consumer to take. */
async function fillStream(n) {
  await jsm.streams.purge(stream);
  await rawPublish(bodiesOf(n));
}

/**
 * Times a consumer of the real bus taking `n` events from a fresh durable: a bus of its own per
 * round (connected before the clock starts), closed and its durable deleted after.
 */
const busConsume = (batch) => async (n) => {
  await fillStream(n);
  const service = `benchbus-${randomBytes(3).toString('hex')}`;
  const consumer = new bus.JetStreamBus({ service, servers: NATS_URL, namespace: ns, logger });
  await consumer.connect();
  return async () => {
    let seen = 0;
    await new Promise((resolve, reject) => {
      consumer
        .consume({
          subject: SUBJECT,
          handler: async (events) => {
            if ((seen += events.length) >= n) setImmediate(resolve);
          },
          ...(batch ? { batch: { maxSize: batch, maxWaitMs: 20 } } : { concurrency: 16 }),
        })
        .catch(reject);
    });
    await sleep(50); // lets the last acks leave
    await consumer.close();
    await jsm.consumers.delete(stream, consumer.naming.durable(service, SUBJECT));
  };
};

/** Raw nats.js consumer: the same durable pull consumer, msg.json() and msg.ack() per message. */
const rawConsume = async (n) => {
  await fillStream(n);
  const durable = `raw-${randomBytes(3).toString('hex')}`;
  await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, filter_subject: wireSubject, max_ack_pending: 10000 });
  return async () => {
    const messages = await (await js.consumers.get(stream, durable)).consume({ max_messages: 1000 });
    let seen = 0;
    for await (const msg of messages) {
      msg.json();
      msg.ack();
      if (++seen === n) break;
    }
    await nc.flush();
    await jsm.consumers.delete(stream, durable);
  };
};

try {
  const figures = [];
  const fig = (name, r, raw) => figures.push({ area: 'bus', name, value: Number(r.us.toFixed(1)), unit: 'µs CPU/msg', ...(raw ? { raw: { name: raw.name, value: Number(raw.r.us.toFixed(1)), unit: 'µs CPU/msg' } } : {}) });

  if (ONLY.includes('p') || ONLY.includes('o')) {
    console.log('\npublish: µs of this process\'s CPU per event published and acknowledged by JetStream');
    const raw = await measure('raw nats.js, 256 in flight, prebuilt bytes', async (n) => {
      const bodies = bodiesOf(n);
      return () => rawPublish(bodies);
    });
    const rawRef = { name: 'raw nats.js windowed publish', r: raw };
    if (ONLY.includes('p')) {
      const batched = await measure('bus.publishEnvelopes, batches of 500', async (n) => {
        const envs = envelopes(n);
        return async () => {
          for (let i = 0; i < n; i += 500) await publisher.publishEnvelopes(envs.slice(i, i + 500));
        };
      });
      fig('publish direct, publishEnvelopes (500)', batched, rawRef);
      const single = await measure('bus.publish, one awaited at a time', async (n) => async () => {
        for (let i = 0; i < n; i++) await publisher.publish(SUBJECT, payload(i), { workspaceId: WS });
      }, { messages: Math.min(N, 5000) });
      fig('publish direct, bus.publish one at a time', single, rawRef);
    }
    if (ONLY.includes('o')) {
      schema = ns;
      await db.query(`CREATE SCHEMA "${schema}"`);
      await db.query(`CREATE TABLE "${schema}".outbox_batch (id BIGSERIAL PRIMARY KEY, events TEXT NOT NULL, count INTEGER NOT NULL, created_at TIMESTAMPTZ(6) NOT NULL DEFAULT now(), direct BOOLEAN NOT NULL DEFAULT false)`);
      await db.query(`ALTER TABLE "${schema}".outbox_batch ALTER COLUMN events SET STORAGE EXTERNAL`);
      await db.query(`CREATE TABLE "${schema}".outbox (id UUID PRIMARY KEY, subject TEXT NOT NULL, envelope JSONB NOT NULL, headers JSONB NOT NULL DEFAULT '{}', created_at TIMESTAMPTZ(6) NOT NULL DEFAULT now())`);
      await db.query(`CREATE INDEX ON "${schema}".outbox (created_at)`);
      const backend = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const rows = (n) => envelopes(n).map((e) => bus.outboxRow('ingestion', SUBJECT, e.data, { workspaceId: WS, id: e.id }));
      const relayOf = (layout) => new bus.OutboxRelay({ pool: db, schema, bus: publisher, logger, layouts: [layout] });
      // A drain that relayed fewer events than the round wrote measured nothing: stop rather than print it.
      const drained = (relay, n) => async () => {
        const relayed = await relay.drain();
        if (relayed !== n) throw new Error(`the relay published ${relayed} of ${n} events`);
      };
      const relayBatch = await measure('OutboxRelay, outbox_batch rows of 500 events', async (n) => {
        const all = rows(n);
        for (let i = 0; i < n; i += 500) {
          const chunk = all.slice(i, i + 500);
          await db.query(`INSERT INTO "${schema}".outbox_batch (events, count) VALUES ($1, $2)`, [bus.outboxBatchText(chunk.map((r) => ({ ...r, headers: { traceparent: TRACEPARENT } }))), chunk.length]);
        }
        return drained(relayOf('batch-rows'), n);
      }, { extraCpu: () => cpuOf(backend) });
      fig('publish via outbox relay, outbox_batch (500/row)', relayBatch, rawRef);
      // The same rows written `direct` and handed off by their writer, who holds their text already.
      const handOff = await measure('OutboxRelay.handOff, the same rows, direct', async (n) => {
        const all = rows(n);
        const batches = [];
        for (let i = 0; i < n; i += 500) {
          const text = bus.outboxBatchText(all.slice(i, i + 500).map((r) => ({ ...r, headers: { traceparent: TRACEPARENT } })));
          const { rows: inserted } = await db.query(`INSERT INTO "${schema}".outbox_batch (events, count, direct) VALUES ($1, $2, true) RETURNING id::text AS id`, [text, Math.min(500, n - i)]);
          batches.push({ key: inserted[0].id, text });
        }
        const relay = relayOf('batch-rows');
        return async () => {
          for (const b of batches) await relay.handOff([{ key: b.key, events: bus.parseOutboxBatch(b.text) }]);
          const left = (await db.query(`SELECT count(*)::int AS n FROM "${schema}".outbox_batch`)).rows[0].n;
          if (left) throw new Error(`${left} rows were not handed off`);
        };
      }, { extraCpu: () => cpuOf(backend) });
      fig('publish via hand-off, outbox_batch (500/row)', handOff, rawRef);
      const relayRows = await measure('OutboxRelay, outbox rows (one per event)', async (n) => {
        const all = rows(n);
        for (let i = 0; i < n; i += 1000) {
          const chunk = all.slice(i, i + 1000);
          await db.query(`INSERT INTO "${schema}".outbox (id, subject, envelope, headers) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::jsonb[])`, [
            chunk.map((r) => r.id),
            chunk.map((r) => r.subject),
            chunk.map((r) => JSON.stringify(r.envelope)),
            chunk.map(() => JSON.stringify({ traceparent: TRACEPARENT })),
          ]);
        }
        const relay = relayOf('event-rows');
        return () => relay.drain();
      }, { extraCpu: () => cpuOf(backend) });
      fig('publish via outbox relay, outbox rows', relayRows, rawRef);
    }
  }

  if (/[rsb]/.test(ONLY)) {
    console.log('\nconsume: µs of this process\'s CPU per event delivered, decoded, validated, handled and acked');
    const raw = ONLY.includes('r') ? await measure('raw nats.js pull consumer, json() + ack()', rawConsume) : undefined;
    const rawRef = raw && { name: 'raw nats.js pull consume + ack', r: raw };
    if (ONLY.includes('s')) fig('consume single (@OnEvent, concurrency 16)', await measure('bus.consume single, concurrency 16', busConsume(0)), rawRef);
    if (ONLY.includes('b')) fig('consume batched (@OnEvents, 500)', await measure('bus.consume batched, 500 per batch', busConsume(500)), rawRef);
  }

  if (ONLY.includes('m')) {
    console.log('\nmemory: held per unacknowledged event by a batched consumer (10,000 per batch, 20,000 held)');
    const held = 20000;
    await fillStream(held);
    const service = `benchbus-${randomBytes(3).toString('hex')}`;
    const consumer = new bus.JetStreamBus({ service, servers: NATS_URL, namespace: ns, logger });
    await consumer.connect();
    await sleep(500);
    gc();
    const before = process.memoryUsage();
    let release;
    let parkedOnce;
    const parked = new Promise((r) => (release = r));
    const firstParked = new Promise((r) => (parkedOnce = r));
    let seen = 0;
    let done;
    const finished = new Promise((r) => (done = r));
    // The first full batch parks in the handler; the second is decoded and buffered behind it.
    await consumer.consume({
      subject: SUBJECT,
      batch: { maxSize: held / 2, maxWaitMs: 60_000 },
      handler: async (events) => {
        parkedOnce();
        await parked;
        if ((seen += events.length) >= held) done();
      },
    });
    await firstParked;
    // The second batch is decoded once memory stops growing.
    let holding = process.memoryUsage();
    for (let i = 0; i < 50; i++) {
      await sleep(300);
      gc();
      const now = process.memoryUsage();
      const grew = now.heapUsed - holding.heapUsed;
      holding = now;
      if (Math.abs(grew) < 200_000) break;
    }
    const heap = (holding.heapUsed - before.heapUsed) / held;
    const buffers = (holding.arrayBuffers - before.arrayBuffers) / held;
    console.log(`  per event: ${Math.round(heap).toLocaleString('en')} bytes of heap + ${Math.round(buffers).toLocaleString('en')} of buffers (its envelope is ${bodiesOf(1)[0].length} bytes of JSON)`);
    figures.push({ area: 'bus', name: 'memory per unacknowledged event (batched consumer)', value: Math.round(heap + buffers), unit: 'bytes' });
    release();
    await finished;
    await sleep(50);
    await consumer.close();
    await jsm.consumers.delete(stream, consumer.naming.durable(service, SUBJECT));
  }
  for (const f of figures) figure(f);
} finally {
  // Everything this run made: the namespace's streams, the schema.
  for await (const s of jsm.streams.names()) if (s.startsWith(`${ns}_`)) await jsm.streams.delete(s);
  if (schema) await db.query(`DROP SCHEMA "${schema}" CASCADE`);
  await db.end();
  await publisher.close();
  await stopTracing();
}
