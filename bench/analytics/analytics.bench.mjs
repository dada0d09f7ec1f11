// Analytics under load, in one run:
//  1. the raw limits: Postgres multi-row INSERT (500 rows/statement) and COPY (5,000 rows/statement)
//     of fact-shaped rows into a plain table, and a bare JetStream pull consumer (explicit acks) reading
//     the same backlog the service will read;
//  2. ingestion: N synthetic messaging events published to JetStream while analytics is stopped (a
//     backlog in a unique namespace), then analytics started; events/s from its first fact until all
//     N are in facts AND rollups (checked: the day-rollup total equals N), and the CPU time per event
//     of the service process and of its Postgres backends (from /proc: barely moved by other load);
//  3. a 90-day daily messaging report (HTTP, with the CRM verifying the key) over rollups seeded
//     directly as 10M facts would leave them (seeding 10M facts would take ~5 min here), p50/p99.
// Needs a build first: pnpm exec nx run-many -t build. Run: node bench/run.mjs analytics
// BENCH_NODE_ARGS adds flags to the ingesting analytics process, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { AckPolicy, connect, DeliverPolicy, headers as natsHeaders } from 'nats';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { figure } from '../lib/figures.mjs';
import { freePort, pct, uuidv7 } from '../lib/measure.mjs';

const SERVER_URL = new URL(process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/tessera');
const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
// 200k, not fewer: with 60k the measured window (after the service reports ready) was about 2 s,
// too short to include the cost of a growing fact table, and read 20.6k/s where 200k read 14.6k/s.
const N = Number(process.env.BENCH_EVENTS ?? 200_000);
const RAW_ROWS = Number(process.env.BENCH_RAW_ROWS ?? 100_000);
const REPORT_RUNS = Number(process.env.BENCH_REPORT_RUNS ?? 200);
const SEEDED_FACTS = 10_000_000;
const ADMIN_KEY = `tsk_bench_${randomBytes(16).toString('hex')}`;
const WS = '00000000-0000-7000-8000-000000000001';
const dbName = `tessera_bench_an_${Date.now().toString(36)}`;
const namespace = `benchan${randomBytes(3).toString('hex')}`;
const dbUrl = Object.assign(new URL(SERVER_URL), { pathname: `/${dbName}` }).toString();
const admin = new pg.Client(Object.assign(new URL(SERVER_URL), { pathname: '/postgres' }).toString());
const children = [];

const get = (port, path) => new Promise((resolve, reject) => {
  http.get({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${ADMIN_KEY}` } }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => resolve({ status: res.statusCode, body }));
  }).on('error', reject);
});

async function start(service, extra = {}, nodeArgs = []) {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, `apps/${service}/dist/main.js`], {
    env: { ...process.env, PORT: String(port), DATABASE_URL: dbUrl, NATS_URL, BUS_NAMESPACE: namespace, LOG_LEVEL: 'warn', MIGRATE_ON_START: 'true', TESSERA_ADMIN_KEY: ADMIN_KEY, ...extra },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode}`);
    const ok = await get(port, '/health/ready').then((r) => r.status === 200, () => false);
    if (ok) return { port, child };
    if (Date.now() > deadline) throw new Error(`${service} not ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stop(child) {
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
}

const STATUSES = ['sent', 'delivered', 'opened', 'clicked', 'bounced', 'failed', 'unsubscribed'];
function envelope(i) {
  // A live stream: events of the last 10 minutes (so ~10 minute buckets, 1 hour, 1 day are hot).
  const occurredAt = new Date(Date.now() - (i % 600) * 1000).toISOString();
  return {
    id: uuidv7(),
    subject: 'messaging.message.status_changed.v1',
    schemaVersion: 1,
    workspaceId: WS,
    occurredAt,
    producer: 'messaging',
    data: { messageId: randomUUID(), contactId: randomUUID(), channel: ['email', 'sms', 'push', 'whatsapp'][i % 4], templateId: `tpl-${i % 50}`, journeyId: `j-${i % 20}`, campaignId: `c-${i % 10}`, status: STATUSES[i % 7], occurredAt },
  };
}

const log = (m) => process.stderr.write(`[analytics bench] ${m}\n`);

async function rawInsertRate(pool) {
  await pool.query(`CREATE TABLE bench_raw (id uuid PRIMARY KEY, workspace_id uuid, subject text, contact_id uuid, occurred_at timestamptz, data jsonb)`);
  const t0 = performance.now();
  for (let done = 0; done < RAW_ROWS; done += 500) {
    const values = [];
    const params = [];
    for (let k = 0; k < 500; k++) {
      const e = envelope(done + k);
      params.push(e.id, WS, e.subject, e.data.contactId, e.occurredAt, JSON.stringify({ status: e.data.status, channel: e.data.channel }));
      const b = k * 6;
      values.push(`($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6})`);
    }
    await pool.query(`INSERT INTO bench_raw VALUES ${values.join(',')}`, params);
  }
  const rate = RAW_ROWS / ((performance.now() - t0) / 1000);
  await pool.query('DROP TABLE bench_raw');
  return rate;
}

async function rawCopyRate(pool) {
  await pool.query(`CREATE TABLE bench_raw (id uuid PRIMARY KEY, workspace_id uuid, subject text, contact_id uuid, occurred_at timestamptz, data jsonb)`);
  const client = await pool.connect();
  const t0 = performance.now();
  try {
    for (let done = 0; done < RAW_ROWS; done += 5000) {
      const lines = [];
      for (let k = 0; k < 5000; k++) {
        const e = envelope(done + k);
        lines.push(`${e.id}\t${WS}\t${e.subject}\t${e.data.contactId}\t${e.occurredAt}\t${JSON.stringify({ status: e.data.status, channel: e.data.channel })}\n`);
      }
      await pipeline(async function* () { yield lines.join(''); }, client.query(copyFrom('COPY bench_raw FROM STDIN')));
    }
  } finally {
    client.release();
  }
  const rate = RAW_ROWS / ((performance.now() - t0) / 1000);
  await pool.query('DROP TABLE bench_raw');
  return rate;
}

/** A bare durable pull consumer over the backlog, acking each message: the bus's own ceiling. */
async function rawConsumeRate(nc, stream, subject) {
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.add(stream, { durable_name: 'bench-raw', filter_subject: subject, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 15_000 });
  const consumer = await nc.jetstream().consumers.get(stream, 'bench-raw');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const messages = await consumer.consume({ max_messages: 10_000 });
  const decoder = new TextDecoder();
  // Acks go out in groups, as the bus acks a batch after its handler: one socket write per group.
  let unacked = [];
  let n = 0;
  for await (const m of messages) {
    JSON.parse(decoder.decode(m.data));
    unacked.push(m);
    if (++n % 5000 === 0 || n >= N) {
      for (const u of unacked) u.ack();
      unacked = [];
    }
    if (n >= N) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await jsm.consumers.delete(stream, 'bench-raw');
  return { rate: n / seconds, cpuUsPerMsg: (cpu.user + cpu.system) / n };
}

const TICK_MS = 1000 / 100; // USER_HZ: 100 on Linux
/** CPU milliseconds (user + system) a process has used, from /proc. */
function processCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0; // gone: its CPU is lost to the figure (the pool keeps busy backends open, so rare)
  }
}

/** CPU ms per backend pid of the bench database, except the bench's own connections. */
async function backendCpu(pool) {
  const { rows } = await pool.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'bench'`);
  return new Map(rows.map((r) => [r.pid, processCpuMs(r.pid)]));
}
/** Peak resident memory of a process in MiB (VmHWM), to compare with the pod's memory limit in k8s/. */
function peakRssMiB(pid) {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}
const backendCpuSince = (before, after) => [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);

/** Events counted in the workspace's day rollup (every bench event counts once in one `msg.<status>` metric). */
async function dayRollupTotal(pool) {
  const { rows } = await pool.query(`SELECT COALESCE(sum(count), 0) AS n FROM rollup WHERE grain = 'd' AND dim = '' AND workspace_id = $1`, [WS]);
  return Number(rows[0].n);
}

async function seedRollups(pool) {
  // Day and hour rows for 90 days as SEEDED_FACTS message events leave them: 7 statuses x
  // (total + 4 channels + 50 templates + 20 journeys + 10 campaigns), another workspace beside it.
  const t0 = performance.now();
  const perHour = Math.round(SEEDED_FACTS / (90 * 24 * 7));
  const dims = `(VALUES ('', ARRAY['']), ('channel', ARRAY['email','sms','push','whatsapp']),
    ('template', ARRAY(SELECT 'tpl-' || g FROM generate_series(0, 49) g)), ('journey', ARRAY(SELECT 'j-' || g FROM generate_series(0, 19) g)),
    ('campaign', ARRAY(SELECT 'c-' || g FROM generate_series(0, 9) g))) AS d(dim, vals)`;
  // Hour rows only for the total and channel breakdowns: they are index-size noise for a day report.
  for (const [grain, step, days, only] of [['d', '1 day', 90, null], ['h', '1 hour', 90, ['', 'channel']]]) {
    for (const ws of [WS, randomUUID()]) {
      if (only && ws !== WS) continue;
      await pool.query(
        `INSERT INTO rollup (workspace_id, grain, dim, bucket, metric, value, count)
         SELECT $1::uuid, $2::text, d.dim, b, 'msg.' || s, v, ($3::int * (CASE WHEN $2::text = 'd' THEN 24 ELSE 1 END)) / cardinality(d.vals)
         FROM generate_series(date_trunc('day', now()) - make_interval(days => $4), date_trunc('day', now()), $5::interval) b
         CROSS JOIN unnest(ARRAY['sent','delivered','opened','clicked','bounced','failed','unsubscribed']) s
         CROSS JOIN ${dims} CROSS JOIN LATERAL unnest(d.vals) v
         WHERE $6::text[] IS NULL OR d.dim = ANY($6::text[])
         ON CONFLICT DO NOTHING`,
        [ws, grain, perHour, days, step, only],
      );
    }
  }
  await pool.query('ANALYZE rollup');
  const { rows } = await pool.query(`SELECT count(*) AS n FROM rollup`);
  return { rows: Number(rows[0].n), seconds: (performance.now() - t0) / 1000 };
}

async function main() {
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const pool = new pg.Pool({ connectionString: dbUrl, max: 2, options: '-c search_path=analytics', application_name: 'bench' });
  // DROP DATABASE ... WITH (FORCE) at the end can reach a connection pool.end() is still closing.
  pool.on('error', (e) => log(`pool: ${e.message}`));
  const nc = await connect({ servers: NATS_URL });
  try {
    const crm = await start('crm');
    let analytics = await start('analytics');
    await stop(analytics.child); // streams and durable consumers now exist: publish a backlog

    log('streams ready; measuring raw INSERT and COPY');
    const raw = await rawInsertRate(pool);
    console.log(`raw Postgres multi-row INSERT (500/stmt, plain table): ${Math.round(raw).toLocaleString('en')} rows/s`);
    const rawCopy = await rawCopyRate(pool);
    console.log(`raw Postgres COPY (5,000/stmt, plain table):           ${Math.round(rawCopy).toLocaleString('en')} rows/s`);
    log('publishing backlog');

    const js = nc.jetstream();
    const enc = new TextEncoder();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 256 }, async () => {
      while (next < N) {
        const e = envelope(next++);
        const h = natsHeaders();
        h.set('Tessera-Workspace', WS);
        await js.publish(`${namespace}.${e.subject}`, enc.encode(JSON.stringify(e)), { msgID: e.id, headers: h });
      }
    }));
    const publishRate = N / ((performance.now() - t0) / 1000);
    console.log(`JetStream backlog publish (256 acks in flight):          ${Math.round(publishRate).toLocaleString('en')} events/s`);

    const consumed = await rawConsumeRate(nc, `${namespace}_MESSAGING`, `${namespace}.messaging.message.status_changed.v1`);
    console.log(`raw JetStream pull consume + JSON.parse + batched acks: ${Math.round(consumed.rate).toLocaleString('en')} events/s (${consumed.cpuUsPerMsg.toFixed(0)} CPU-µs/event in the client)`);

    log('starting analytics on the backlog');
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    analytics = await start('analytics', {}, nodeArgs);
    // Measured from the first poll that sees facts to the last, over the facts written in between.
    // Progress is read off the day rollup's total, written in the same transaction as the facts: an
    // index lookup of a few rows. Counting the fact table instead ran a parallel scan of up to 200k
    // rows every 50 ms, whose workers took ~40% of a core from the service being measured.
    let first;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const n = await dayRollupTotal(pool);
      if (n > 0 && !first) first = { n, t: performance.now(), cpu: processCpuMs(analytics.child.pid), db: await backendCpu(pool) };
      if (n >= N) break;
      if (Date.now() > deadline) throw new Error(`only ${n} of ${N} facts after 120 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const ingestSeconds = (performance.now() - first.t) / 1000;
    const measured = N - first.n;
    const serviceUs = ((processCpuMs(analytics.child.pid) - first.cpu) * 1000) / measured;
    const dbUs = (backendCpuSince(first.db, await backendCpu(pool)) * 1000) / measured;
    const { rows: factCheck } = await pool.query('SELECT count(*) AS n FROM fact');
    console.log(`analytics ingest into partitioned facts + rollups:      ${Math.round(measured / ingestSeconds).toLocaleString('en')} events/s (${measured.toLocaleString('en')} events in ${ingestSeconds.toFixed(1)} s; ${factCheck[0].n} facts of ${N}; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`);
    console.log(`  CPU per event: service process ${serviceUs.toFixed(0)} µs, its Postgres backends ${dbUs.toFixed(0)} µs`);
    console.log(`  service peak RSS: ${peakRssMiB(analytics.child.pid).toFixed(0)} MiB (pod limit 512 MiB, k8s/kustomize/base/analytics.yaml)`);
    figure({ area: 'analytics', name: 'ingest into facts + rollups', value: measured / ingestSeconds, unit: 'events/s', target: { op: '>=', value: 20_000 }, raw: { name: 'Postgres COPY, plain table', value: rawCopy, unit: 'rows/s' } });
    if (Number(factCheck[0].n) !== N) throw new Error(`${factCheck[0].n} facts, expected ${N}`);

    log('seeding rollups');
    await pool.query('DELETE FROM rollup');
    const seeded = await seedRollups(pool);
    console.log(`rollups seeded as ${SEEDED_FACTS.toLocaleString('en')} facts over 90 days leave them: ${seeded.rows.toLocaleString('en')} rows in ${seeded.seconds.toFixed(1)} s`);
    const from = new Date(Date.now() - 90 * 86_400_000).toISOString();
    const to = new Date().toISOString();
    const timings = {};
    for (const [label, extra] of [['total', ''], ['groupBy=template', '&groupBy=template']]) {
      const ms = [];
      for (let i = 0; i < REPORT_RUNS; i++) {
        const s = performance.now();
        const r = await get(analytics.port, `/v1/reports/messaging?from=${from}&to=${to}&bucket=day${extra}`);
        if (r.status !== 200) throw new Error(`report answered ${r.status}: ${r.body.slice(0, 200)}`);
        ms.push(performance.now() - s);
      }
      ms.sort((a, b) => a - b);
      timings[label] = { p50: pct(ms, 50).toFixed(1), p99: pct(ms, 99).toFixed(1) };
      console.log(`90-day daily messaging report (${label}), ${REPORT_RUNS} runs: p50 ${timings[label].p50} ms, p99 ${timings[label].p99} ms`);
      figure({ area: 'analytics', name: `90-day daily messaging report (${label}), p99`, value: Number(timings[label].p99), unit: 'ms', target: { op: '<=', value: 200 } });
    }
    await stop(analytics.child);
    await stop(crm.child);

  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    // Its streams hold ~135 MB of backlog: left behind, every run would add that to nats-server's store.
    const jsm = await nc.jetstreamManager();
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${namespace}_`)) await jsm.streams.delete(s.config.name);
    await nc.close();
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).finally(() => process.exit(1));
});

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  process.exit(1);
});
