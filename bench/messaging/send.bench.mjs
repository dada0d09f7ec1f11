// Messaging send-path benchmark: journeys.message.requested.v1 events published to JetStream (as
// journeys does) for contacts known to messaging, through the built service (apps/messaging/dist)
// to a local fake vendor, for each channel in BENCH_CHANNELS (default "webhook,email"):
//   webhook: the webhook-http provider POSTing to a node:http receiver in this process;
//   email:   the email-smtp provider sending to a local smtp-server sink in this process.
// Two phases per channel:
//   1. steady: BENCH_RATE (default 500) events/s for BENCH_SECONDS (default 10); latency from the
//      publish to the vendor receiving the message (p50/p99), and CPU per message;
//   2. backlog: BENCH_BACKLOG (default 5000) events published at once; messages/s until the last one
//      reaches the vendor, and CPU per message.
// CPU per message is the messaging process's (every part of the path: consume, Postgres writes,
// render, vendor call, outbox relay of the status events) and its Postgres backends' (from /proc),
// counted until every message is `sent` and the outbox is empty; shared-machine noise barely moves it.
// Contacts, provider configurations and templates are seeded with SQL (the contact projection is
// normally fed by CRM events), so no CRM is needed.
// Knobs: BENCH_MESSAGING_DIST (another build's dist folder, for a before/after),
// BENCH_MESSAGING_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/msgprof"), BENCH_LOG_DIR.
// Needs the built service: pnpm --filter @tessera/messaging build (and its libs).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { connect, headers as natsHeaders } from 'nats';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { figure } from '../lib/figures.mjs';
import { cpuOf, freePort, pct } from '../lib/measure.mjs';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 5000);
const CHANNELS = (process.env.BENCH_CHANNELS ?? 'webhook,email').split(',');
const WARMUP = 500;
const ROOT = new URL('../..', import.meta.url).pathname;
const SERVER = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/tessera';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const WS = '00000000-0000-4000-8000-000000000001';
const dbName = `tessera_bench_msg_${randomBytes(3).toString('hex')}`;
const ns = `benchmsg${randomBytes(3).toString('hex')}`;
const url = (db) => Object.assign(new URL(SERVER), { pathname: `/${db}` }).toString();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

// Postgres backends serving the bench database (their process title names it); one that ended keeps its last reading.
const pgSeen = new Map();
const pgCpu = () => {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(dbName)) pgSeen.set(d, Math.max(pgSeen.get(d) ?? 0, cpuOf(d)));
    } catch {
      // the process ended
    }
  }
  let total = 0;
  for (const ms of pgSeen.values()) total += ms;
  return total;
};

/** The fake vendors: each calls `received(n)` with the bench's sequence number of the message. */
async function startVendors(received) {
  const webhook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received(JSON.parse(body).payload.n);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => webhook.listen(0, '127.0.0.1', r));
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      let head = '';
      stream.on('data', (c) => head.length < 4096 && (head += c));
      stream.on('end', () => {
        received(Number(/^Subject: m(\d+)/m.exec(head)?.[1]));
        cb();
      });
    },
  });
  smtp.server.on('connection', (socket) => socket.setNoDelay(true));
  await new Promise((r) => smtp.listen(0, '127.0.0.1', r));
  return { webhookPort: webhook.address().port, smtpPort: smtp.server.address().port, close: () => (webhook.close(), smtp.close()) };
}

async function startMessaging() {
  const port = await freePort();
  const flags = process.env.BENCH_MESSAGING_NODE_FLAGS ? process.env.BENCH_MESSAGING_NODE_FLAGS.split(' ') : [];
  const dist = process.env.BENCH_MESSAGING_DIST ?? join(ROOT, 'apps', 'messaging', 'dist');
  const child = spawn(process.execPath, [...flags, join(dist, 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url(dbName), NATS_URL, BUS_NAMESPACE: ns, PORT: String(port), LOG_LEVEL: 'warn', MIGRATE_ON_START: 'true', MESSAGING_TRACKING_SECRET: 'bench-tracking-secret-0123456789abcdef', MESSAGING_PUBLIC_URL: 'http://links.bench.test' },
    stdio: ['ignore', process.env.BENCH_LOG_DIR ? 'pipe' : 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
  if (process.env.BENCH_LOG_DIR) {
    const log = createWriteStream(join(process.env.BENCH_LOG_DIR, 'messaging.log'));
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  }
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`messaging exited: ${err}`);
    if (await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false)) return child;
    if (i > 600) throw new Error('messaging not ready');
    await sleep(100);
  }
}

/** Provider configurations, published templates and contacts, written as the service would keep them. */
async function seed(db, vendors, contactIds) {
  const providers = [
    ['webhook', 'webhook', { baseUrl: `http://127.0.0.1:${vendors.webhookPort}`, path: '/hook', secret: 'bench-webhook-secret-0123456789' }],
    ['email', 'smtp', { host: '127.0.0.1', port: vendors.smtpPort, requireTls: false, from: 'bench@bench.test', maxConnections: 10 }],
  ];
  for (const [channel, providerId, options] of providers) {
    await db.query('INSERT INTO messaging.provider_config (id, workspace_id, channel, provider_id, name, options, is_default) VALUES ($1, $2, $3, $4, $5, $6, true)', [randomUUID(), WS, channel, providerId, `bench-${channel}`, options]);
  }
  const html = '<p>Hello {{contact.attributes.firstName}}, your order {{order.id}} has shipped.</p><p><a href="https://shop.bench.test/orders/{{order.id}}">Track it</a> or <a href="https://shop.bench.test/help">get help</a>.</p>';
  const templates = [
    ['bench-webhook', 'webhook', { payload: '{"n": {{n}}, "contact": "{{contact.id}}", "order": "{{order.id}}"}' }],
    ['bench-email', 'email', { subject: 'm{{n}} Your order {{order.id}} shipped', html, text: 'Order {{order.id}} shipped: https://shop.bench.test/orders/{{order.id}}' }],
  ];
  for (const [name, channel, parts] of templates) {
    const id = randomUUID();
    const content = { locales: { default: parts } };
    await db.query('INSERT INTO messaging.template (id, workspace_id, name, channel, required_variables, content, latest_version) VALUES ($1, $2, $3, $4, $5, $6, 1)', [id, WS, name, channel, ['order.id'], content]);
    await db.query('INSERT INTO messaging.template_version (id, workspace_id, template_id, version, channel, required_variables, content) VALUES ($1, $2, $3, 1, $4, $5, $6)', [randomUUID(), WS, id, channel, ['order.id'], content]);
  }
  for (let i = 0; i < contactIds.length; i += 10_000) {
    const ids = contactIds.slice(i, i + 10_000);
    await db.query(
      `INSERT INTO messaging.contact (workspace_id, id, email, locale, attributes, consent)
       SELECT $1, id, 'c' || n || '@bench.test', 'en', jsonb_build_object('firstName', 'Ann' || n), '{"email": "subscribed"}'
       FROM unnest($2::uuid[]) WITH ORDINALITY AS c(id, n)`,
      [WS, ids],
    );
  }
}

const admin = new pg.Client({ connectionString: url('postgres') });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
let exitCode = 0;
const nc = await connect({ servers: NATS_URL });
let messaging;
let vendors;
try {
  const arrivals = new Map(); // n -> when the vendor received message n
  vendors = await startVendors((n) => arrivals.set(n, now()));
  messaging = await startMessaging();
  const db = new pg.Client({ connectionString: url(dbName) });
  db.on('error', () => undefined);
  await db.connect();
  const perChannel = WARMUP + RATE * SECONDS + BACKLOG;
  const contactIds = Array.from({ length: perChannel * CHANNELS.length }, () => randomUUID());
  await seed(db, vendors, contactIds);
  const js = nc.jetstream();
  const enc = new TextEncoder();
  const published = new Map(); // n -> publish time
  let next = 0;
  /** Publishes send requests n = from..to-1, each for its own contact, at `rate` per second (Infinity: at once). */
  const publish = async (channel, count, rate) => {
    const start = performance.now();
    const pending = [];
    for (let i = 0; i < count; i++) {
      const wait = start + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      const n = next++;
      const id = randomUUID();
      const data = { requestId: `bench-${n}`, contactId: contactIds[n], channel, templateId: `bench-${channel}`, data: { n, order: { id: `A-${n}` } }, journeyId: 'bench-journey' };
      const envelope = { id, subject: 'journeys.message.requested.v1', schemaVersion: 1, workspaceId: WS, occurredAt: new Date().toISOString(), producer: 'journeys', partitionKey: data.contactId, data };
      const h = natsHeaders();
      h.set('Nats-Msg-Id', id);
      published.set(n, now());
      pending.push(js.publish(`${ns}.journeys.message.requested.v1`, enc.encode(JSON.stringify(envelope)), { headers: h }));
      if (pending.length >= 200) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
  };
  /** Waits until messages [from, to) reached the vendor, are recorded as sent, and the outbox is relayed. */
  const settle = async (from, to) => {
    const deadline = Date.now() + 180_000;
    for (;;) {
      let missing = 0;
      for (let n = from; n < to; n++) if (!arrivals.has(n)) missing++;
      if (!missing) {
        const { rows } = await db.query("SELECT (SELECT count(*) FROM messaging.message WHERE status = 'queued')::int AS queued, (SELECT count(*) FROM messaging.outbox)::int + (SELECT count(*) FROM messaging.outbox_batch)::int AS outbox");
        if (!rows[0].queued && !rows[0].outbox) return;
      }
      if (Date.now() > deadline) throw new Error(`timed out: ${missing} of ${to - from} messages never reached the vendor`);
      await sleep(missing ? 20 : 100);
    }
  };
  const cpuMark = () => ({ messaging: cpuOf(messaging.pid), pg: pgCpu() });
  const cpuPer = (mark, units) => {
    const end = cpuMark();
    return { messaging: ((end.messaging - mark.messaging) * 1000) / units, pg: ((end.pg - mark.pg) * 1000) / units };
  };

  for (const channel of CHANNELS) {
    let from = next;
    await publish(channel, WARMUP, 1000);
    await settle(from, next);

    from = next;
    let mark = cpuMark();
    await publish(channel, RATE * SECONDS, RATE);
    await settle(from, next);
    let cpu = cpuPer(mark, next - from);
    const latencies = [];
    for (let n = from; n < next; n++) latencies.push(arrivals.get(n) - published.get(n));
    console.log(`${channel}, ${RATE}/s for ${SECONDS} s: publish -> vendor n=${latencies.length} p50=${pct(latencies, 50).toFixed(1)} ms p99=${pct(latencies, 99).toFixed(1)} ms max=${pct(latencies, 100).toFixed(1)} ms`);
    console.log(`   CPU per message: messaging ${cpu.messaging.toFixed(0)} µs, its Postgres backends ${cpu.pg.toFixed(0)} µs`);
    figure({ area: 'messaging', name: `${channel}: message requested -> vendor at ${RATE}/s, p99`, value: pct(latencies, 99), unit: 'ms' });
    figure({ area: 'messaging', name: `${channel}: CPU per message at ${RATE}/s (messaging process)`, value: cpu.messaging, unit: 'µs' });
    figure({ area: 'messaging', name: `${channel}: CPU per message at ${RATE}/s (its Postgres backends)`, value: cpu.pg, unit: 'µs' });

    from = next;
    mark = cpuMark();
    const t0 = now();
    await publish(channel, BACKLOG, Infinity);
    await settle(from, next);
    let last = 0;
    for (let n = from; n < next; n++) last = Math.max(last, arrivals.get(n));
    const rate = BACKLOG / ((last - t0) / 1000);
    cpu = cpuPer(mark, next - from);
    console.log(`${channel}, backlog of ${BACKLOG}: ${Math.round(rate).toLocaleString('en')} messages/s to the vendor; CPU per message: messaging ${cpu.messaging.toFixed(0)} µs, its Postgres backends ${cpu.pg.toFixed(0)} µs`);
    figure({ area: 'messaging', name: `${channel}: backlog of ${BACKLOG} requests sent`, value: rate, unit: 'messages/s' });
  }
  await db.end();
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  if (messaging) {
    messaging.kill('SIGTERM');
    await new Promise((r) => (messaging.exitCode !== null ? r() : messaging.once('exit', r)));
  }
  vendors?.close();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  const jsm = await nc.jetstreamManager();
  for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${ns}_`)) await jsm.streams.delete(s.config.name);
  await nc.close();
}
process.exit(exitCode);
