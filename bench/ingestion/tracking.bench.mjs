// Ingestion's Segment API under load: /v1/batch (100 events of ~1 KB) over several keep-alive
// connections, events/s accepted AND durably stored in JetStream (checked against the stream), printed
// beside the raw windowed JetStream publish rate of the same envelopes measured in this run; then
// single /v1/track latency at a fixed 1,000 req/s (open loop).
// Needs a build first: pnpm exec nx run-many -t build. Run: node bench/run.mjs ingestion
import { spawn } from 'node:child_process';
import os from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { connect, createInbox, headers as natsHeaders } from 'nats';
import pg from 'pg';

const ROOT = new URL('../..', import.meta.url).pathname;
const SERVER_URL = new URL(process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/tessera');
const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const WRITE_KEY = `twk_bench_${randomBytes(12).toString('hex')}`;
const CONNECTIONS = 8;
const BATCH = 100;
const BATCH_SECONDS = Number(process.env.BENCH_BATCH_SECONDS ?? 12);
const TRACK_RATE = 1000;
const TRACK_SECONDS = Number(process.env.BENCH_TRACK_SECONDS ?? 10);

const dbName = `tessera_bench_ing_${Date.now().toString(36)}`;
const namespace = `benching${randomBytes(3).toString('hex')}`;
const admin = new pg.Client(Object.assign(new URL(SERVER_URL), { pathname: '/postgres' }).toString());

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const padding = 'x'.repeat(700);
function event(i) {
  return {
    type: 'track',
    userId: `user-${i % 5000}`,
    event: 'Product Viewed',
    messageId: randomUUID(),
    timestamp: new Date().toISOString(),
    properties: { productId: `p-${i}`, price: 19.99, currency: 'EUR', category: 'shoes', note: padding },
    context: { library: { name: 'bench', version: '1' }, ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (bench)' },
  };
}

function post(agent, port, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` } },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function waitReady(port, child) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`ingestion exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => http.get({ host: '127.0.0.1', port, path: '/health/ready' }, (r) => (r.resume(), resolve(r.statusCode === 200))).on('error', () => resolve(false)));
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('ingestion did not become ready');
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main() {
  const loadBefore = os.loadavg();
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const port = await freePort();
  const child = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/ingprof'] : []), 'apps/ingestion/dist/main.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: Object.assign(new URL(SERVER_URL), { pathname: `/${dbName}` }).toString(),
      NATS_URL,
      BUS_NAMESPACE: namespace,
      TESSERA_WRITE_KEY: WRITE_KEY,
      MIGRATE_ON_START: 'true',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_SOURCE_EVENTS_PER_SECOND: '0',
      RATE_LIMIT_WORKSPACE_EVENTS_PER_SECOND: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const nc = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  const stream = `${namespace}_INGESTION`;
  try {
    await waitReady(port, child);

    // 1. The raw limit: the same ~1 KB envelopes published straight to JetStream, 256 acks in flight.
    const js = nc.jetstream();
    const RAW = Number(process.env.BENCH_RAW ?? 30_000);
    const rawPayloads = Array.from({ length: RAW }, (_, i) => JSON.stringify({ id: randomUUID(), subject: 'ingestion.event.received.v1', workspaceId: randomUUID(), occurredAt: new Date().toISOString(), producer: 'bench', data: event(i) }));
    const rawStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        while (next < RAW) {
          const i = next++;
          const h = natsHeaders();
          h.set('Tessera-Workspace', 'bench');
          await js.publish(`${namespace}.ingestion.bench.raw`, new TextEncoder().encode(rawPayloads[i]), { msgID: `raw-${i}-${namespace}`, headers: h });
        }
      }),
    );
    const rawRate = RAW / ((performance.now() - rawStart) / 1000);

    // 1b. The same publishes as plain core publishes with a shared ack inbox (what a leaner
    //     publishEnvelopes in libs/bus could do): the nats client's per-request cost is the limit above.
    const prefix = createInbox();
    const pending = new Map();
    const ackSub = nc.subscribe(`${prefix}.*`, { callback: (_e, msg) => pending.get(msg.subject)?.(msg) });
    let seq = 0;
    next = 0;
    const leanStart = performance.now();
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        while (next < RAW) {
          const i = next++;
          const h = natsHeaders();
          h.set('Nats-Msg-Id', `lean-${i}-${namespace}`);
          h.set('Tessera-Workspace', 'bench');
          const reply = `${prefix}.${seq++}`;
          const ack = await new Promise((resolve) => {
            pending.set(reply, resolve);
            nc.publish(`${namespace}.ingestion.bench.lean`, new TextEncoder().encode(rawPayloads[i]), { reply, headers: h });
          });
          pending.delete(reply);
          if (JSON.parse(new TextDecoder().decode(ack.data)).error) throw new Error('publish refused');
        }
      }),
    );
    const leanRate = RAW / ((performance.now() - leanStart) / 1000);
    ackSub.unsubscribe();
    await jsm.streams.purge(stream);

    // 2. /v1/batch through the service.
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const bodies = Array.from({ length: 64 }, (_, b) => Array.from({ length: BATCH }, (_, i) => event(b * BATCH + i)));
    const sampleBytes = Buffer.byteLength(JSON.stringify(bodies[0][0]));
    // warm-up
    await Promise.all(Array.from({ length: CONNECTIONS }, () => post(agent, port, '/v1/batch', JSON.stringify({ batch: Array.from({ length: BATCH }, (_, i) => event(i)) }))));
    await jsm.streams.purge(stream);
    let accepted = 0;
    let failures = 0;
    const stopAt = performance.now() + BATCH_SECONDS * 1000;
    const batchStart = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, c) => {
        let n = c;
        while (performance.now() < stopAt) {
          const batch = bodies[n++ % bodies.length].map((e) => ({ ...e, messageId: randomUUID() }));
          const res = await post(agent, port, '/v1/batch', JSON.stringify({ batch }));
          if (res.status === 200) accepted += BATCH;
          else failures++;
        }
      }),
    );
    const batchSeconds = (performance.now() - batchStart) / 1000;
    const storedCount = (await jsm.streams.info(stream)).state.messages;
    const archived = await (async () => {
      const c = new pg.Client(Object.assign(new URL(SERVER_URL), { pathname: `/${dbName}` }).toString());
      await c.connect();
      const { rows } = await c.query('SELECT count(*)::int AS n FROM ingestion.event_archive');
      await c.end();
      return rows[0].n;
    })();

    // 2b. The archive's share of the request path: the ledger insert alone vs ledger + archive in
    //     one statement (what ingestion runs), 100-event batches, sequential, same database.
    const sql = new pg.Client(Object.assign(new URL(SERVER_URL), { pathname: `/${dbName}` }).toString());
    await sql.connect();
    await sql.query('SET search_path = ingestion');
    const source = (await sql.query('SELECT id FROM source LIMIT 1')).rows[0].id;
    const docFor = (tag) =>
      JSON.stringify(bodies[0].map((e, i) => ({ s: source, m: `${tag}-${i}`, r: new Date(), i: randomUUID(), w: '00000000-0000-4000-8000-000000000001', j: 'ingestion.event.received.v1', u: e.userId, a: null, e: { id: randomUUID(), data: e } })));
    const ROUNDS = 40;
    let t = performance.now();
    for (let r = 0; r < ROUNDS; r++) await sql.query('INSERT INTO received_message (source_id, message_id, created_at) SELECT s, m, r FROM jsonb_to_recordset($1::jsonb) AS a(s uuid, m text, r timestamptz) ON CONFLICT DO NOTHING', [docFor(`ledger-${r}`)]);
    const ledgerMs = (performance.now() - t) / ROUNDS;
    t = performance.now();
    for (let r = 0; r < ROUNDS; r++)
      await sql.query(
        `WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS a(s uuid, m text, r timestamptz, i uuid, w uuid, j text, u text, a text, e jsonb)),
         claimed AS (INSERT INTO received_message (source_id, message_id, created_at) SELECT s, m, r FROM input ON CONFLICT DO NOTHING RETURNING source_id, message_id)
         INSERT INTO event_archive (id, received_at, workspace_id, source_id, subject, user_id, anonymous_id, envelope)
         SELECT input.i, input.r, input.w, input.s, input.j, input.u, input.a, input.e FROM input JOIN claimed ON claimed.source_id = input.s AND claimed.message_id = input.m`,
        [docFor(`both-${r}`)],
      );
    const bothMs = (performance.now() - t) / ROUNDS;
    await sql.end();

    // 3. /v1/track at a fixed rate: latency seen by the client.
    // Enough sockets that the client never queues: latency is the server's, as with many real senders.
    const trackAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const latencies = [];
    let trackErrors = 0;
    const inflight = [];
    const t0 = performance.now();
    for (let i = 0; i < TRACK_RATE * TRACK_SECONDS; i++) {
      const due = t0 + (i * 1000) / TRACK_RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const start = performance.now();
      inflight.push(
        post(trackAgent, port, '/v1/track', JSON.stringify(event(i))).then((res) => {
          latencies.push(performance.now() - start);
          if (res.status !== 200) trackErrors++;
        }),
      );
    }
    await Promise.all(inflight);
    const achieved = (TRACK_RATE * TRACK_SECONDS) / ((performance.now() - t0) / 1000);
    latencies.sort((a, b) => a - b);

    console.log(`load average before the run: ${loadBefore.map((l) => l.toFixed(1)).join(' ')} (2 cores; other work on the machine skews every figure)`);
    console.log(`event size ~${sampleBytes} B, ${CONNECTIONS} connections, batches of ${BATCH}`);
    console.log(`raw JetStream windowed publish (256 in flight), same payloads: ${rawRate.toFixed(0)} msgs/s`);
    console.log(`core publish + ack inbox, same payloads (lean bus):     ${leanRate.toFixed(0)} msgs/s`);
    console.log(`/v1/batch accepted and stored:                            ${(accepted / batchSeconds).toFixed(0)} events/s (${accepted} events in ${batchSeconds.toFixed(1)} s, ${failures} failed requests)`);
    console.log(`  in JetStream after the run: ${storedCount} (expected ${accepted}); archived rows: ${archived - BATCH * CONNECTIONS}`);
    console.log(`per 100-event batch: de-dup ledger insert ${ledgerMs.toFixed(1)} ms, ledger + archive (as served) ${bothMs.toFixed(1)} ms`);
    console.log(`/v1/track at ${achieved.toFixed(0)} req/s: p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1).toFixed(1)} ms, ${trackErrors} errors`);
    agent.destroy();
    trackAgent.destroy();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${namespace}_`)) await jsm.streams.delete(s.config.name);
    await nc.close();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
