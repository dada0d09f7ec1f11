// Segmentation benchmark: seeds N contacts and 10N events (server-side generate_series, indexes built
// after the load), then measures side by side in one run:
//   1. batch computation of a typical segment (attribute AND event-count-in-30-days): the service's
//      compiled SQL vs the best hand-written SQL for the same question on the same data, plus the
//      full batch job (create via API -> status ready, with diff and outbox);
//   2. preview of an unsaved definition over HTTP (limit: 2 s);
//   3. real time: events published to JetStream at a fixed rate, latency until the matching
//      segmentation.membership.entered.v1 is seen on the bus (limit: p99 < 1 s).
//      Also printed: the latency split at the evaluation instant (the entered event's occurredAt), and
//      CPU time per event of the service process and of its Postgres backends (/proc stat), which
//      other load on a shared machine barely moves.
// Env: BENCH_CONTACTS (default 200000), BENCH_RATE (events/s, default 2000), BENCH_SECONDS (default 10),
// BENCH_ONLY=realtime (skip the batch and preview phases), BENCH_PROF=<dir> (CPU profile of the service).
// Needs built services: pnpm exec nx run-many -t build (segmentation and crm dist).
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { connect, headers as natsHeaders } from 'nats';
import pg from 'pg';
import { figure } from '../lib/figures.mjs';
import { freePort, pct } from '../lib/measure.mjs';

const require = createRequire(import.meta.url);
const ROOT = new URL('../..', import.meta.url).pathname;
const { compileMembership } = require(join(ROOT, 'apps/segmentation/dist/definition/compile-definition.js'));

// 1M contacts / 10M events, the issue's size: seeding takes ~4 min on a quiet 2-core machine (12.5 min
// at load average ~15); BENCH_CONTACTS=200000 gives a quicker run.
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const EVENTS = CONTACTS * 10;
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SERVER = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/tessera';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const WS = '00000000-0000-4000-8000-000000000001'; // the default workspace, whose admin key the bench uses
const ADMIN_KEY = 'tsk_bench_admin_key_0123456789abcdefghijkl';
const dbName = `tessera_bench_seg_${randomBytes(3).toString('hex')}`;
const ns = `benchseg${randomBytes(3).toString('hex')}`;
const url = (db) => Object.assign(new URL(SERVER), { pathname: `/${db}` }).toString();
const t = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const procs = [];
const pids = {};
const ONLY = process.env.BENCH_ONLY;

/** CPU time (user + system) a process has used so far, in microseconds (clock ticks of 10 ms). */
function cpuMicros(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
  } catch {
    return 0; // the process ended
  }
}

async function start(service, env) {
  const port = await freePort();
  const prof = process.env.BENCH_PROF && service === 'segmentation' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, join(ROOT, 'apps', service, 'dist', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url(dbName), NATS_URL, BUS_NAMESPACE: ns, PORT: String(port), LOG_LEVEL: 'warn', TESSERA_ADMIN_KEY: ADMIN_KEY, ...env },
    stdio: ['ignore', process.env.BENCH_LOG ? 'inherit' : 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  if (process.env.BENCH_LOG) child.stderr.pipe(process.stderr);
  procs.push(child);
  const base = `http://127.0.0.1:${port}`;
  pids[service] = child.pid;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${service} exited: ${err.slice(-2000)}`);
    if (await fetch(`${base}/health/ready`).then((r) => r.ok, () => false)) return base;
    if (i > 600) throw new Error(`${service} not ready`);
    await sleep(100);
  }
}

const api = (base) => async (method, path, body) => {
  const r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  const json = await r.json();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
};

const admin = new pg.Client({ connectionString: url('postgres') });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
let exitCode = 0;
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const p of procs) p.kill('SIGTERM');
  await sleep(1500);
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((e) => console.error(e));
  await admin.end();
  const nc = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${ns}_`)) await jsm.streams.delete(s.config.name);
  await nc.close();
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void cleanup().finally(() => process.exit(1)));
try {
  const crmUrl = await start('crm', {});
  const segUrl = await start('segmentation', { TIME_CHECK_INTERVAL_MS: '1000' });
  const call = api(segUrl);
  const db = new pg.Client({ connectionString: url(dbName) });
  db.on('error', () => undefined);
  await db.connect();

  // ---- seed
  let t0 = t();
  await db.query(`SET maintenance_work_mem = '512MB'`);
  // Contact ids: md5 of the index, shaped as a version-4 UUID (contracts validate UUIDs).
  await db.query(`CREATE FUNCTION segmentation.bench_uuid(t text) RETURNS uuid IMMUTABLE LANGUAGE sql AS $$ SELECT (substr(md5(t), 1, 12) || '4' || substr(md5(t), 14, 3) || '8' || substr(md5(t), 18))::uuid $$`);
  await db.query(`DROP INDEX segmentation.contact_event_contact_id_name_occurred_at_idx, segmentation.contact_event_workspace_id_name_occurred_at_idx, segmentation.contact_event_workspace_id_person_key_idx`);
  await db.query(`ALTER TABLE segmentation.contact_event DROP CONSTRAINT contact_event_pkey`);
  await db.query(`INSERT INTO segmentation.contact (id, workspace_id, attrs, external_id)
    SELECT segmentation.bench_uuid('c' || i), '${WS}', jsonb_build_object('country', (ARRAY['BR','US','DE','FR','IN','MX','GB','JP','ES','IT'])[1 + i % 10], 'age', i % 80, 'externalId', 'u' || i), 'u' || i
    FROM generate_series(1, ${CONTACTS}) i`);
  await db.query(`INSERT INTO segmentation.identity (workspace_id, person_key, contact_id) SELECT '${WS}', 'u:u' || i, segmentation.bench_uuid('c' || i) FROM generate_series(1, ${CONTACTS}) i`);
  const tContacts = t() - t0;
  await db.query(`INSERT INTO segmentation.contact_event (id, workspace_id, contact_id, person_key, name, occurred_at, properties)
    SELECT gen_random_uuid(), '${WS}', segmentation.bench_uuid('c' || k), 'u:u' || k, (ARRAY['purchase','page_view','page_view','page_view','page_view','page_view','page_view','email_open','email_open','email_open'])[1 + (i % 10)],
      now() - random() * interval '90 days', jsonb_build_object('amount', (random() * 200)::int)
    FROM (SELECT i, 1 + (hashint4(i) & 2147483647) % ${CONTACTS} AS k FROM generate_series(1, ${EVENTS}) i) s`);
  const tEvents = t() - t0 - tContacts;
  await db.query(`ALTER TABLE segmentation.contact_event ADD CONSTRAINT contact_event_pkey PRIMARY KEY (id)`);
  await db.query(`CREATE INDEX contact_event_contact_id_name_occurred_at_idx ON segmentation.contact_event (contact_id, name, occurred_at)`);
  await db.query(`CREATE INDEX contact_event_workspace_id_name_occurred_at_idx ON segmentation.contact_event (workspace_id, name, occurred_at)`);
  await db.query(`CREATE INDEX contact_event_workspace_id_person_key_idx ON segmentation.contact_event (workspace_id, person_key)`);
  for (const table of ['contact', 'contact_event', 'identity']) await db.query(`VACUUM ANALYZE segmentation.${table}`);
  console.log(`seed: ${CONTACTS} contacts + identities in ${(tContacts / 1000).toFixed(1)} s, ${EVENTS} events in ${(tEvents / 1000).toFixed(1)} s, total with indexes+analyze ${((t() - t0) / 1000).toFixed(1)} s`);

  if (ONLY !== 'realtime') await batchAndPreview(db, call);
  await realtime(db, call);
  await db.end();
  void crmUrl;
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);

async function batchAndPreview(db, call) {
  // ---- 1. batch: compiled vs hand-written, same data, alternating runs
  const definition = {
    version: 1,
    root: {
      type: 'and',
      children: [
        { type: 'attribute', attribute: 'country', valueType: 'string', operator: 'equals', value: 'BR' },
        { type: 'event', event: 'purchase', count: { operator: 'at_least', value: 2 }, window: { last: { amount: 30, unit: 'days' } } },
      ],
    },
  };
  const now = new Date();
  const compiled = compileMembership(definition, WS, now, () => undefined);
  const handSql = `SELECT c.id FROM segmentation.contact c
    JOIN (SELECT contact_id FROM segmentation.contact_event WHERE workspace_id = $1 AND name = 'purchase' AND occurred_at > $2::timestamptz - interval '30 days' AND occurred_at <= $2::timestamptz
          GROUP BY contact_id HAVING count(*) >= 2) e ON e.contact_id = c.id
    WHERE c.workspace_id = $1 AND c.attrs->>'country' = 'BR'`;
  const runs = { compiled: [], hand: [] };
  let counts = {};
  for (let i = 0; i < 4; i++) {
    let s = t();
    const a = await db.query(compiled.sql, compiled.params);
    if (i > 0) runs.compiled.push(t() - s);
    s = t();
    const b = await db.query(handSql, [WS, now.toISOString()]);
    if (i > 0) runs.hand.push(t() - s);
    counts = { compiled: a.rowCount, hand: b.rowCount };
  }
  if (counts.compiled !== counts.hand) throw new Error(`compiled and hand-written SQL disagree: ${JSON.stringify(counts)}`);
  const ratio = median(runs.compiled) / median(runs.hand);
  console.log(`batch query (country=BR AND purchase>=2 in 30 days, ${counts.hand} members): compiled median ${median(runs.compiled).toFixed(0)} ms vs hand-written ${median(runs.hand).toFixed(0)} ms -> ratio ${ratio.toFixed(2)} (limit 2.0)`);
  figure({ area: 'segmentation', name: 'batch segment query, compiled ÷ hand-written SQL', value: ratio, unit: '×', target: { op: '<=', value: 2 } });

  const t0 = t();
  const created = await call('POST', '/v1/segments', { name: 'bench typical', definition });
  for (;;) {
    const c = await call('GET', `/v1/segments/${created.id}/count`);
    if (c.status === 'ready') {
      console.log(`batch job via API (create -> ready: 16 chunks, diff, ${c.count} entries to the outbox): ${((t() - t0) / 1000).toFixed(2)} s`);
      break;
    }
    if (c.status === 'failed') throw new Error(`batch failed: ${(await call('GET', `/v1/segments/${created.id}`)).error}`);
    await sleep(100);
  }

  // ---- 2. preview over HTTP
  const previews = [];
  let previewCount = 0;
  for (let i = 0; i < 3; i++) {
    const s = t();
    const p = await call('POST', '/v1/segments/preview', { definition, sampleSize: 20 });
    previews.push(t() - s);
    previewCount = p.count;
  }
  console.log(`preview over HTTP (count ${previewCount} + sample of 20): median ${median(previews).toFixed(0)} ms, max ${Math.max(...previews).toFixed(0)} ms (limit 2000 ms)`);
  figure({ area: 'segmentation', name: `preview over HTTP (${CONTACTS.toLocaleString('en')} contacts), max`, value: Math.max(...previews), unit: 'ms', target: { op: '<=', value: 2000 } });
}

async function realtime(db, call) {
  // ---- 3. real time
  const rt = await call('POST', '/v1/segments', { name: 'bench realtime', definition: { version: 1, root: { type: 'event', event: 'bench_signal', window: { last: { amount: 1, unit: 'hours' } } } } });
  for (;;) {
    if ((await call('GET', `/v1/segments/${rt.id}/count`)).status === 'ready') break;
    await sleep(100);
  }
  const nc = await connect({ servers: NATS_URL });
  const js = nc.jetstream();
  const sent = new Map();
  const latencies = [];
  // Split at the evaluation instant (the entered event's occurredAt, taken in the handler's
  // transaction): before = time in the stream + handler up to evaluation; after = the rest of the
  // transaction, commit, outbox relay and JetStream delivery.
  const beforeEval = [];
  const afterEval = [];
  const sub = nc.subscribe(`${ns}.segmentation.membership.entered.v1`, {
    callback: (_e, m) => {
      const now = Date.now();
      const env = JSON.parse(new TextDecoder().decode(m.data));
      const s = sent.get(env.data.contactId);
      if (env.data.segmentId !== rt.id || s === undefined) return;
      latencies.push(t() - s.perf);
      const evaluated = Date.parse(env.occurredAt);
      beforeEval.push(evaluated - s.wall);
      afterEval.push(now - evaluated);
    },
  });
  const total = RATE * SECONDS;
  const ids = new Set();
  while (ids.size < total) ids.add(1 + Math.floor(Math.random() * CONTACTS));
  const people = [...ids];
  const contactOf = (k) => {
    const m = createHash('md5').update(`c${k}`).digest('hex');
    const h = `${m.slice(0, 12)}4${m.slice(13, 16)}8${m.slice(17)}`;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  const backendCpu = async () => {
    const { rows } = await db.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    return new Map(rows.map((r) => [r.pid, cpuMicros(r.pid)]));
  };
  const cpuBefore = { service: cpuMicros(pids.segmentation), backends: await backendCpu() };
  const started = t();
  const tick = 20;
  let i = 0;
  const inflight = [];
  let publishFailures = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((t() - started) / 1000) * RATE) + 1);
    for (; i < due; i++) {
      const k = people[i];
      const id = randomUUID();
      const at = new Date().toISOString();
      const env = { id, subject: 'ingestion.event.received.v1', schemaVersion: 1, workspaceId: WS, occurredAt: at, producer: 'ingestion', partitionKey: `u${k}`,
        data: { type: 'track', name: 'bench_signal', properties: {}, messageId: id, userId: `u${k}`, routingKey: `u${k}`, timestamp: at, receivedAt: at, sourceId: WS, context: {} } };
      const h = natsHeaders();
      h.set('Nats-Msg-Id', id);
      h.set('Tessera-Workspace', WS);
      sent.set(contactOf(k), { perf: t(), wall: Date.now() });
      inflight.push(js.publish(`${ns}.ingestion.event.received.v1`, JSON.stringify(env), { msgID: id, headers: h, timeout: 15_000 }).catch(() => void publishFailures++));
    }
    // Windowed async publishing: wait only when too many acks are outstanding.
    if (inflight.length > 4000) await Promise.all(inflight.splice(0, 2000));
    await sleep(tick);
  }
  await Promise.all(inflight);
  const sendSeconds = (t() - started) / 1000;
  const deadline = t() + 30_000;
  while (latencies.length < total && t() < deadline) await sleep(100);
  const serviceCpu = cpuMicros(pids.segmentation) - cpuBefore.service;
  let dbCpu = 0;
  for (const [pid, after] of await backendCpu()) dbCpu += after - (cpuBefore.backends.get(pid) ?? 0);
  sub.unsubscribe();
  await nc.close();
  const ms = (xs, p) => pct(xs, p)?.toFixed(0);
  console.log(
    `real time: ${total} events published at ${(total / sendSeconds).toFixed(0)}/s (target ${RATE}/s), ${latencies.length} entries seen, ${publishFailures} publish timeouts; latency event->entered p50 ${ms(latencies, 50)} ms, p99 ${ms(latencies, 99)} ms, max ${Math.max(...latencies).toFixed(0)} ms (limit p99 < 1000 ms)`,
  );
  figure({ area: 'segmentation', name: `real-time entry p99 at ${(total / sendSeconds).toFixed(0)} events/s (target rate ${RATE})`, value: pct(latencies, 99), unit: 'ms', target: { op: '<=', value: 1000 } });
  console.log(`  split at evaluation: stream+handler before evaluating p50 ${ms(beforeEval, 50)} / p99 ${ms(beforeEval, 99)} ms; evaluation+commit+relay+delivery p50 ${ms(afterEval, 50)} / p99 ${ms(afterEval, 99)} ms`);
  console.log(
    `  CPU per event: segmentation process ${(serviceCpu / total).toFixed(0)} µs, its Postgres backends ${(dbCpu / total).toFixed(0)} µs (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`,
  );
  if (latencies.length < total - publishFailures) exitCode = 1;
}
