// Journeys benchmark, three figures beside raw limits measured in the same run:
//   1. event -> provider: POST /v1/track calls to ingestion at BENCH_RATE/s (default 500) for
//      BENCH_SECONDS (default 10), after an unmeasured warm-up of BENCH_WARM_SECONDS (default 5) at
//      the same rate; each for its own contact, into a published journey whose first step sends on
//      the webhook channel; latency from the call until messaging's webhook provider POSTs the
//      message to a local HTTP server here (limit p99 < 500 ms). Ingestion, journeys and
//      messaging run as built; contacts, the provider and the template are seeded into messaging with
//      SQL. Also shown: how much of it is the call, journeys' commit and journeys.message.requested.v1
//      on the bus. Raw: JetStream publish -> core subscriber round trip, same connection.
//   2. timers: BENCH_WAITING (default 1,000,000) contacts waiting in a journey, BENCH_TIMERS (default
//      50,000) of them due at 5,000 wake-ups/s and the rest later; lateness of each wake-up (engine
//      step time - due time) and end to end (message seen on the bus - due time), and the journeys
//      process's RSS over the window. Limit: p99 < 1 s.
//   3. broadcast: a campaign to a segment of BENCH_SEGMENT (default 20000) members, unthrottled:
//      messages requested per second as seen on the bus. Raw: windowed JetStream publishes/s.
// Each figure comes with the CPU time per unit of work of the journeys process and of its Postgres
// backends (from /proc), which a busy machine changes far less than wall-clock figures (for 1, also
// of ingestion and messaging, whose Postgres backends are counted with journeys' as "Postgres").
// Knobs: BENCH_JOURNEYS_DIST (another build of journeys, e.g. a copy of the previous one for a
// before/after), BENCH_<SERVICE>_NODE_FLAGS (node flags for one service,
// e.g. BENCH_MESSAGING_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"), BENCH_LOG_DIR
// (keep the services' logs there).
// Instances, timers, contacts and memberships for 2 and 3 are seeded with SQL (the projections are
// normally fed by CRM/segmentation events); everything measured runs through the real service.
// Needs built services: pnpm exec nx run-many -t build (crm, ingestion, journeys and messaging dist).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { connect, headers as natsHeaders } from 'nats';
import pg from 'pg';
import { figure } from '../lib/figures.mjs';
import { cpuOf, freePort, pct } from '../lib/measure.mjs';
import { cpuReading, cpuShares, describeShares } from '../lib/platform.mjs';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const ONLY = process.env.BENCH_ONLY ?? '123';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARM_SECONDS = Number(process.env.BENCH_WARM_SECONDS ?? 5);
const TIMER_RATE = 5000;
// Timers due in the measured window (at TIMER_RATE/s) and contacts waiting in all.
const TIMERS = Number(process.env.BENCH_TIMERS ?? TIMER_RATE * 10);
const WAITING = Number(process.env.BENCH_WAITING ?? 1_000_000);
const SEGMENT = Number(process.env.BENCH_SEGMENT ?? 20000);
const ROOT = new URL('../..', import.meta.url).pathname;
const SERVER = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/tessera';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const WS = '00000000-0000-4000-8000-000000000001';
const ADMIN_KEY = 'tsk_bench_admin_key_0123456789abcdefghijkl';
const dbName = `tessera_bench_jrn_${randomBytes(3).toString('hex')}`;
const ns = `benchjrn${randomBytes(3).toString('hex')}`;
const url = (db) => Object.assign(new URL(SERVER), { pathname: `/${db}` }).toString();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const procs = [];
const services = {};
// Postgres backends serving the bench database (their process title names it). A backend that
// ended (a pool closing an idle connection) keeps the CPU time last read, so it is not subtracted.
// Each is charged to the service whose pool opened it (its application_name: `journeys`,
// `journeys-runtime`, `messaging`...), read from pg_stat_activity by sampleCpu below.
const pgSeen = new Map();
const pgApp = new Map();
const pgCpu = () => {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(dbName)) pgSeen.set(d, Math.max(pgSeen.get(d) ?? 0, cpuOf(d)));
    } catch {
      // the process ended
    }
  }
};
const pgCpuOf = (service) => {
  let total = 0;
  for (const [pid, ms] of pgSeen) if (pgApp.get(pid) === service || pgApp.get(pid)?.startsWith(`${service}-`)) total += ms;
  return total;
};
/** Reads backend CPU times and owners; also every second, to catch backends that end between two marks. */
const sampleCpu = async () => {
  pgCpu();
  for (const r of (await admin.query(`SELECT pid::text AS pid, application_name FROM pg_stat_activity WHERE datname = $1`, [dbName])).rows) pgApp.set(r.pid, r.application_name);
  pgCpu();
};
const MEASURED = ['journeys', 'ingestion', 'messaging'];
const cpuMark = async () => {
  await sampleCpu();
  return Object.fromEntries(MEASURED.filter((s) => services[s] && services[s].exitCode === null && services[s].signalCode === null).map((s) => [s, { proc: cpuOf(services[s].pid), pg: pgCpuOf(s) }]));
};
const cpuReport = async (label, mark, units) => {
  const now = await cpuMark();
  const per = (ms) => ((ms * 1000) / units).toFixed(0);
  const used = (s) => ({ proc: now[s].proc - mark[s].proc, pg: now[s].pg - mark[s].pg });
  const others = Object.keys(mark).filter((s) => s !== 'journeys' && now[s]);
  const j = used('journeys');
  console.log(`   CPU per ${label}: journeys process ${per(j.proc)} µs, its Postgres backends ${per(j.pg)} µs (${units} ${label}s; journeys ${j.proc / 1000} s CPU)`);
  for (const s of others) console.log(`   CPU per ${label}: ${s} process ${per(used(s).proc)} µs, its Postgres backends ${per(used(s).pg)} µs`);
  if (others.length) {
    const total = Object.keys(mark).filter((s) => now[s]).reduce((sum, s) => sum + used(s).proc + used(s).pg, 0);
    console.log(`   CPU per ${label}, all of them: ${per(total)} µs, i.e. ${((total * RATE) / units / 1000).toFixed(2)} cores at ${RATE}/s`);
  }
};
const enc = new TextEncoder();
const dec = new TextDecoder();

async function start(service, env = {}) {
  const port = await freePort();
  // BENCH_<SERVICE>_NODE_FLAGS (e.g. BENCH_JOURNEYS_NODE_FLAGS="--prof --logfile=/tmp/j.log") profiles that service's process.
  const flags = process.env[`BENCH_${service.toUpperCase()}_NODE_FLAGS`]?.split(' ') ?? [];
  // BENCH_JOURNEYS_DIST runs another build of journeys (e.g. a copy of the previous one, for a before/after).
  const dist = (service === 'journeys' && process.env.BENCH_JOURNEYS_DIST) || 'dist';
  const child = spawn(process.execPath, [...flags, join(ROOT, 'apps', service, dist, 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url(dbName), NATS_URL, BUS_NAMESPACE: ns, PORT: String(port), LOG_LEVEL: 'warn', TESSERA_ADMIN_KEY: ADMIN_KEY, ...env },
    stdio: ['ignore', process.env.BENCH_LOG_DIR ? 'pipe' : 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  if (process.env.BENCH_LOG_DIR) {
    const log = createWriteStream(join(process.env.BENCH_LOG_DIR, `${service}.log`));
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  }
  procs.push(child);
  services[service] = child;
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${service} exited: ${err.slice(-2000)}`);
    if (await fetch(`${base}/health/ready`).then((r) => r.ok, () => false)) return base;
    if (i > 600) throw new Error(`${service} not ready`);
    await sleep(100);
  }
}

const api = (base) => async (method, path, body) => {
  const r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const json = await r.json();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
};

const report = (label, xs, limit) => console.log(`${label}: n=${xs.length} p50=${pct(xs, 50).toFixed(1)} ms p95=${pct(xs, 95).toFixed(1)} ms p99=${pct(xs, 99).toFixed(1)} ms max=${pct(xs, 100).toFixed(1)} ms${limit ? `  (limit p99 < ${limit} ms: ${pct(xs, 99) < limit ? 'PASS' : 'FAIL'})` : ''}`);

const admin = new pg.Client({ connectionString: url('postgres') });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
let exitCode = 0;
const nc = await connect({ servers: NATS_URL });
try {
  await start('crm');
  const base = await start('journeys');
  const call = api(base);
  const db = new pg.Client({ connectionString: url(dbName) });
  db.on('error', () => undefined);
  await db.connect();
  const js = nc.jetstream();
  const seen = new Map(); // contactId -> receipt time
  const seenTimes = [];
  const sub = nc.subscribe(`${ns}.journeys.message.requested.v1`);
  void (async () => {
    for await (const m of sub) {
      const e = JSON.parse(dec.decode(m.data));
      const now = performance.now() + performance.timeOrigin;
      seen.set(e.data.contactId, now);
      seenTimes.push(now);
    }
  })();
  const publishEnvelope = (subject, data) => {
    const id = randomUUID();
    const envelope = { id, subject, schemaVersion: 1, workspaceId: WS, occurredAt: new Date().toISOString(), producer: 'bench', partitionKey: data.routingKey ?? data.contactId, data };
    const h = natsHeaders();
    h.set('Nats-Msg-Id', id);
    return js.publish(`${ns}.${subject}`, enc.encode(JSON.stringify(envelope)), { headers: h });
  };

  // ---- raw: JetStream publish -> core subscriber round trip
  const rawSub = nc.subscribe(`${ns}.ingestion.event.received.v1`);
  const raw = [];
  const rawPending = new Map();
  void (async () => {
    for await (const m of rawSub) {
      const e = JSON.parse(dec.decode(m.data));
      const t0 = rawPending.get(e.data.routingKey);
      if (t0 !== undefined) raw.push(performance.now() - t0);
    }
  })();

  // ---- 1. event -> provider
  if (ONLY.includes('1')) {
  // The channel provider's side: messaging's webhook provider POSTs each message here.
  const delivered = new Map(); // contactId -> when its message reached the provider
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const contact = JSON.parse(body).payload?.contact;
      if (contact && !delivered.has(contact)) delivered.set(contact, performance.now() + performance.timeOrigin);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  const ingestion = await start('ingestion');
  await start('messaging', { MESSAGING_TRACKING_SECRET: 'bench-tracking-secret-0123456789abcdef', MESSAGING_PUBLIC_URL: 'http://links.bench.test' });
  const total = RATE * SECONDS;
  // Warm-up at the measured rate (not measured): V8 compiles the hot paths while it runs. With 200
  // calls one after another instead, TurboFan was still compiling in the measured window (13-15% of
  // each service's CPU in a perf profile) and much code ran unoptimised.
  const WARM = RATE * WARM_SECONDS;
  const contacts = Array.from({ length: total + WARM }, () => randomUUID());
  // Messaging's data as its API and the CRM's events would leave it: the provider, a published template, the contacts.
  const template = randomUUID();
  const content = { locales: { default: { payload: '{"contact": "{{contact.id}}"}' } } };
  await db.query(`INSERT INTO messaging.provider_config (id, workspace_id, channel, provider_id, name, options, is_default) VALUES ($1, $2, 'webhook', 'webhook', 'bench', $3, true)`, [randomUUID(), WS, { baseUrl: `http://127.0.0.1:${hook.address().port}`, path: '/hook', secret: 'bench-webhook-secret-0123456789' }]);
  await db.query(`INSERT INTO messaging.template (id, workspace_id, name, channel, required_variables, content, latest_version) VALUES ($1, $2, 'bench', 'webhook', '{}', $3, 1)`, [template, WS, content]);
  await db.query(`INSERT INTO messaging.template_version (id, workspace_id, template_id, version, channel, required_variables, content) VALUES ($1, $2, $3, 1, 'webhook', '{}', $4)`, [randomUUID(), WS, template, content]);
  await db.query(`INSERT INTO messaging.contact (workspace_id, id, email, locale, attributes, consent) SELECT $1, id, 'c' || n || '@bench.test', 'en', '{}', '{"email": "subscribed"}' FROM unnest($2::uuid[]) WITH ORDINALITY AS c(id, n)`, [WS, contacts]);
  const source = await api(ingestion)('POST', '/v1/sources', { name: 'bench', kind: 'tracking' });
  const auth = `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`;
  // node:http on kept-alive connections: fetch cost this process so much CPU per call that, on a
  // busy machine, it could not offer 500 calls/s.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const trackUrl = new URL(`${ingestion}/v1/track`);
  const post = (body) =>
    new Promise((resolve, reject) => {
      const req = http.request(trackUrl, { method: 'POST', agent, headers: { authorization: auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(body);
    });
  /** One /v1/track call, retried as an SDK would when the connection drops; resolves with when ingestion answered. */
  let retried = 0;
  const track = async (userId, i) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const status = await post(JSON.stringify({ userId, event: 'Bench Event', properties: { i } }));
        if (status >= 300) throw new Error(`/v1/track answered ${status}`);
        return performance.now() + performance.timeOrigin;
      } catch (error) {
        if (attempt === 3 || !error.code) throw error; // only network errors (with a code, e.g. ECONNRESET) are retried
        retried++;
      }
    }
  };
  const j1 = await call('POST', '/v1/journeys', { name: 'bench immediate', definition: { trigger: { type: 'event', event: 'Bench Event' }, entry: { mode: 'once' }, start: 's', nodes: { s: { type: 'send', channel: 'webhook', templateId: template } } } });
  await call('POST', `/v1/journeys/${j1.id}/publish`);
  // warm-up (not measured): raw round trips, then WARM events through the whole path
  for (let i = 0; i < 200; i++) {
    const key = `raw-${i}`;
    rawPending.set(key, performance.now());
    await publishEnvelope('ingestion.event.received.v1', { type: 'track', name: 'Raw Probe', properties: {}, messageId: randomUUID(), routingKey: key, timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(), sourceId: randomUUID(), context: {} });
    await sleep(2);
  }
  rawSub.unsubscribe(); // so that this process and nats-server do not carry it through the measured window
  /** Calls /v1/track for each contact at RATE/s; resolves when every call is answered. */
  const offer = async (list, onSent = () => undefined, onAnswered = () => undefined) => {
    const began = performance.now();
    const calls = [];
    for (let i = 0; i < list.length; i++) {
      const wait = began + (i * 1000) / RATE - performance.now();
      if (wait > 1) await sleep(wait);
      onSent(list[i]);
      calls.push(track(list[i], i).then((at) => onAnswered(list[i], at)));
    }
    await Promise.all(calls);
    return list.length / ((performance.now() - began) / 1000);
  };
  const warm = contacts.slice(total);
  await offer(warm);
  for (let i = 0; i < 600 && warm.some((c) => !delivered.has(c)); i++) await sleep(100);
  if (warm.some((c) => !delivered.has(c))) throw new Error(`warm-up: ${warm.filter((c) => delivered.has(c)).length}/${WARM} messages reached the provider`);
  await sleep(1000); // the tail of the warm-up's work (status events, relays) settles
  const cpu1 = await cpuMark();
  const servicePids = () => Object.fromEntries(['ingestion', 'journeys', 'messaging', 'crm'].map((s) => [s, services[s].pid]));
  const machine1 = cpuReading(servicePids());
  const machine1At = performance.now();
  const sampler = setInterval(() => void sampleCpu().catch(() => undefined), 1000);
  const sentAt = new Map();
  const answeredAt = new Map();
  const offered = await offer(contacts.slice(0, total), (c) => sentAt.set(c, performance.now() + performance.timeOrigin), (c, at) => answeredAt.set(c, at));
  const measured = contacts.slice(0, total);
  for (let i = 0; i < 600 && measured.some((c) => !delivered.has(c)); i++) await sleep(100);
  const machineShares = cpuShares(machine1, cpuReading(servicePids()));
  const machineSeconds = (performance.now() - machine1At) / 1000;
  const since = (times, c) => times.get(c) - sentAt.get(c);
  const lat = measured.filter((c) => delivered.has(c)).map((c) => since(delivered, c));
  console.log(`\n1. event -> provider: /v1/track at ${offered.toFixed(0)} events/s for ${SECONDS} s, ${lat.length}/${total} messages reached the provider (webhook channel)${retried ? `; ${retried} calls retried after a dropped connection` : ''}`);
  report('   /v1/track call -> message handed to the provider', lat, 500);
  figure({ area: 'journeys', name: `event accepted -> message handed to the provider, p99 at ${offered.toFixed(0)} events/s`, value: pct(lat, 99), unit: 'ms', target: { op: '<=', value: 500 } });
  clearInterval(sampler);
  await cpuReport('event', cpu1, total);
  // Every process on the machine over the same window (Postgres and nats-server for all services,
  // the load generator and webhook receiver here): how close to full the machine ran.
  const cores = os.cpus().length;
  console.log(`   the whole machine over the window (${((100 * machineShares.machine) / (machineSeconds * cores)).toFixed(0)}% of ${cores} cores busy), CPU per event: ${describeShares(machineShares, total)}`);
  report('   of which: /v1/track call -> answered', measured.map((c) => since(answeredAt, c)));
  const committed = new Map((await db.query(`SELECT contact_id, extract(epoch from updated_at) * 1000 AS at FROM journeys.instance WHERE journey_id = $1`, [j1.id])).rows.map((r) => [r.contact_id, Number(r.at)]));
  report('   of which: /v1/track call -> journey step committed (outbox row written)', measured.filter((c) => committed.has(c)).map((c) => since(committed, c)));
  report('   of which: /v1/track call -> journeys.message.requested.v1 on the bus', measured.filter((c) => seen.has(c)).map((c) => since(seen, c)));
  report('   raw JetStream publish -> subscriber', raw);
  // Timers and broadcasts are measured on journeys alone.
  for (const s of ['ingestion', 'messaging']) {
    const child = services[s];
    await new Promise((r) => (child.once('exit', r), child.kill('SIGTERM')));
  }
  hook.close();
  agent.destroy();
  } else rawSub.unsubscribe();

  // ---- 2. timers
  if (ONLY.includes('2')) {
  const j2 = await call('POST', '/v1/journeys', { name: 'bench timers', definition: { trigger: { type: 'api' }, start: 'w', nodes: { w: { type: 'wait', duration: '1h', next: 's' }, s: { type: 'send', channel: 'sms', templateId: 'tick' } } } });
  await call('POST', `/v1/journeys/${j2.id}/publish`);
  // A waiting instance and its timer, as the engine leaves them at a wait step (same jsonb shape).
  const seedWaiting = (source) => [
    `INSERT INTO journeys.instance (id, workspace_id, journey_id, version, contact_id, status, current_node, state, entered_at)
     SELECT id, $1, $2, 1, contact_id, 'active', 'w', jsonb_build_object('status', 'active', 'node', 'w', 'visits', '{"w":1}'::jsonb, 'trigger', '{}'::jsonb, 'webhooks', '{}'::jsonb,
            'waiting', jsonb_build_object('kind', 'timer', 'purpose', 'wait', 'node', 'w', 'token', 'w:1:wait:0', 'dueAt', to_char(due AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))), now()
       FROM ${source}`,
    `INSERT INTO journeys.timer (workspace_id, kind, instance_id, token, journey_id, contact_id, due_at) SELECT $1, 'instance', id, 'w:1:wait:0', $2, contact_id, due FROM ${source}`,
  ];
  // The contacts not due in the window wait on, due over the next day: the poller claims from a table
  // of WAITING rows (index on due_at), not from a small one.
  const later = Math.max(0, WAITING - TIMERS);
  const seed0 = performance.now();
  for (let done = 0; done < later; done += 250_000) {
    await db.query(`CREATE TEMP TABLE bench_later AS SELECT gen_random_uuid() AS id, gen_random_uuid() AS contact_id, now() + interval '1 hour' + random() * interval '1 day' AS due FROM generate_series(1, $1)`, [Math.min(250_000, later - done)]);
    for (const sql of seedWaiting('bench_later')) await db.query(sql, [WS, j2.id]);
    await db.query(`DROP TABLE bench_later`);
  }
  await db.query(`VACUUM ANALYZE journeys.instance`);
  await db.query(`VACUUM ANALYZE journeys.timer`);
  const seedSeconds = (performance.now() - seed0) / 1000;
  // Lead time: the due rows must be written before the first is due (at the rate the bulk seeded).
  const startAt = Date.now() + Math.max(5000, later ? (2.5 * TIMERS * seedSeconds * 1000) / later + 3000 : 0);
  await db.query(`CREATE TEMP TABLE bench_t AS SELECT gen_random_uuid() AS id, gen_random_uuid() AS contact_id, to_timestamp(($1::float8 + (i - 1) * 1000.0 / $2) / 1000) AS due FROM generate_series(1, $3) i`, [startAt, TIMER_RATE, TIMERS]);
  for (const sql of seedWaiting('bench_t')) await db.query(sql, [WS, j2.id]);
  const waiting = (await db.query(`SELECT count(*)::int AS n FROM journeys.timer`)).rows[0].n;
  console.log(`\n2. ${waiting.toLocaleString('en')} contacts waiting on timers (seeded in ${seedSeconds.toFixed(0)} s), ${TIMERS.toLocaleString('en')} of them due at ${TIMER_RATE}/s`);
  const plan = (await db.query(`EXPLAIN SELECT id FROM journeys.timer WHERE due_at <= now() + make_interval(secs => 0.05) ORDER BY due_at LIMIT 500 FOR UPDATE SKIP LOCKED`)).rows.map((r) => r['QUERY PLAN'].trim());
  console.log(`   claim plan: ${plan.join(' / ')}`);
  const dueByContact = new Map((await db.query(`SELECT contact_id, extract(epoch from due) * 1000 AS due FROM bench_t`)).rows.map((r) => [r.contact_id, Number(r.due)]));
  const rssOf = () => Number(readFileSync(`/proc/${services.journeys.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
  const rss = [rssOf()];
  const rssTimer = setInterval(() => {
    rss.push(rssOf());
    void sampleCpu().catch(() => undefined); // reads backends that may end before the next mark
  }, 1000);
  const cpu2 = await cpuMark();
  const wait2 = startAt - Date.now();
  if (wait2 < 0) console.log(`   (seeding took longer than the lead time: first timers were already ${-wait2} ms due)`);
  await sleep(Math.max(0, wait2) + (TIMERS * 1000) / TIMER_RATE);
  // Until every message is seen (at most 2 minutes more), so CPU per wake-up covers whole wake-ups.
  for (let i = 0; i < 1200 && [...dueByContact.keys()].some((c) => !seen.has(c)); i++) await sleep(100);
  const cpuUnits = [...dueByContact.keys()].filter((c) => seen.has(c)).length;
  clearInterval(rssTimer);
  rss.push(rssOf());
  const fire = (await db.query(`SELECT extract(epoch from (s.at - t.due)) * 1000 AS late FROM journeys.instance_step s JOIN bench_t t ON t.id = s.instance_id WHERE s.outcome = 'waited'`)).rows.map((r) => Number(r.late));
  const e2e = [...dueByContact].filter(([c]) => seen.has(c)).map(([c, due]) => seen.get(c) - due);
  const early = (await db.query(`SELECT count(*)::int AS n FROM journeys.instance_step s JOIN journeys.instance i ON i.id = s.instance_id WHERE i.journey_id = $1 AND s.outcome = 'waited' AND NOT EXISTS (SELECT 1 FROM bench_t t WHERE t.id = s.instance_id)`, [j2.id])).rows[0].n;
  console.log(`   ${fire.length} fired, ${e2e.length} messages seen, ${early} not-yet-due timers fired (must be 0)`);
  report('   wake-up lateness (step committed - due)', fire, 1000);
  figure({ area: 'journeys', name: `timer wake-up lateness p99 at ${TIMER_RATE.toLocaleString('en')}/s, ${waiting.toLocaleString('en')} waiting (step committed)`, value: pct(fire, 99), unit: 'ms', target: { op: '<=', value: 1000 } });
  report('   end to end (message on the bus - due)', e2e, 1000);
  figure({ area: 'journeys', name: `timer wake-up to message on the bus, p99 at ${TIMER_RATE.toLocaleString('en')}/s, ${waiting.toLocaleString('en')} waiting`, value: pct(e2e, 99), unit: 'ms', target: { op: '<=', value: 1000 } });
  await cpuReport('wake-up', cpu2, cpuUnits || 1);
  console.log(`   journeys RSS at start ${rss[0].toFixed(0)} MiB, max ${Math.max(...rss).toFixed(0)} MiB, at end ${rss[rss.length - 1].toFixed(0)} MiB`);
  }
  // ---- 3. broadcast
  if (ONLY.includes('3')) {
  const segment = randomUUID();
  await db.query(`INSERT INTO journeys.segment_member (workspace_id, segment_id, contact_id, since) SELECT $1, $2, gen_random_uuid(), now() FROM generate_series(1, $3)`, [WS, segment, SEGMENT]);
  const before = seenTimes.length;
  const cpu3 = await cpuMark();
  const campaign = await call('POST', '/v1/campaigns', { name: 'bench', segmentId: segment, action: { type: 'send', channel: 'email', templateId: 'promo' }, scheduledAt: new Date(Date.now() + 1000).toISOString(), ratePerSecond: 100000 });
  for (let i = 0; i < 600 && seenTimes.length - before < SEGMENT; i++) await sleep(100);
  const times = seenTimes.slice(before);
  const span = (times[times.length - 1] - times[0]) / 1000;
  console.log(`\n3. broadcast to ${SEGMENT} members: ${times.length} messages requested in ${span.toFixed(2)} s = ${(times.length / span).toFixed(0)} messages/s (campaign ${campaign.id})`);
  await cpuReport('message', cpu3, times.length || 1);
  // raw: windowed JetStream publishes of the same message size from this process
  const sample = JSON.stringify({ data: { requestId: 'x'.repeat(80), contactId: randomUUID(), channel: 'email', templateId: 'promo', data: { campaign: { id: randomUUID() } } } });
  const rt0 = performance.now();
  const window = [];
  for (let i = 0; i < 20000; i++) {
    window.push(js.publish(`${ns}.journeys.bench.raw.v1`, enc.encode(sample)).catch(() => undefined));
    if (window.length >= 500) await Promise.all(window.splice(0));
  }
  await Promise.all(window);
  console.log(`   raw: windowed JetStream publishes from one process: ${(20000 / ((performance.now() - rt0) / 1000)).toFixed(0)} msgs/s`);
  figure({ area: 'journeys', name: `broadcast to ${SEGMENT.toLocaleString('en')} members, messages requested`, value: times.length / span, unit: 'messages/s', target: { op: '>=', value: 5000 }, raw: { name: 'windowed JetStream publish', value: 20000 / ((performance.now() - rt0) / 1000), unit: 'msgs/s' } });
  }
  await db.end();
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  for (const p of procs) p.kill('SIGTERM');
  await sleep(1500);
  await nc.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  await admin.end();
  const jsm = await connect({ servers: NATS_URL }).then(async (c) => {
    const m = await c.jetstreamManager();
    for await (const s of m.streams.list()) if (s.config.name.startsWith(`${ns}_`)) await m.streams.delete(s.config.name);
    await c.close();
  }).catch(() => undefined);
  void jsm;
  process.exit(exitCode);
}
