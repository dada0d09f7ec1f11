// Identify/trait updates from the bus: ingestion.identify.received.v1 events published to JetStream
// (windowed), applied by the CRM's batched consumer (500 per transaction, multi-row upserts),
// profile updates/s until every event is applied; printed beside the raw Postgres multi-row jsonb
// upsert rate (500 rows per statement) measured on the same database in the same run.
// Run: pnpm exec nx run-many -t build -p @tessera/crm && node bench/run.mjs crm/identify
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { cpuMeter, startCrm } from './crm-harness.mjs';
import { figure } from '../lib/figures.mjs';
import { cpuReading, cpuShares, describeShares } from '../lib/platform.mjs';

const EVENTS = Number(process.env.BENCH_IDENTIFY_EVENTS ?? 100_000);
const USERS = Number(process.env.BENCH_IDENTIFY_USERS ?? 40_000);
const RAW_ROWS = 100_000;
const SOURCE = '0193a1b2-0000-7000-8000-0000000000be';

const crm = await startCrm('identify');
try {
  // 1. The raw limit: multi-row jsonb-merging upserts of 500 rows into a table shaped like a profile.
  await crm.db.query('CREATE TABLE public.bench_raw (id text PRIMARY KEY, attributes jsonb NOT NULL, updated_at timestamptz NOT NULL)');
  const rawStart = performance.now();
  for (let i = 0; i < RAW_ROWS; i += 500) {
    const ids = Array.from({ length: 500 }, (_, j) => `user-${(i + j) % USERS}`);
    const attrs = ids.map((_, j) => JSON.stringify({ plan: 'pro', score: i + j, lastSeen: new Date().toISOString() }));
    await crm.db.query(
      `INSERT INTO public.bench_raw SELECT id, a, now() FROM unnest($1::text[], $2::jsonb[]) AS u(id, a)
       ON CONFLICT (id) DO UPDATE SET attributes = bench_raw.attributes || EXCLUDED.attributes, updated_at = now()`,
      [ids, attrs],
    );
  }
  const rawRate = RAW_ROWS / ((performance.now() - rawStart) / 1000);

  // 2. The CRM: identify events queued in JetStream while the CRM is stopped (its durable consumers
  // stay), then the CRM is started and timed until every event is applied: the consumer's own rate,
  // not the publisher's.
  await crm.halt();
  const js = crm.nc.jetstream();
  const subject = `${crm.namespace}.ingestion.identify.received.v1`;
  const encoder = new TextEncoder();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < EVENTS) {
        const i = next++;
        const userId = `user-${i % USERS}`;
        const now = new Date().toISOString();
        const envelope = {
          id: randomUUID(),
          subject: 'ingestion.identify.received.v1',
          schemaVersion: 1,
          workspaceId: crm.workspaceId,
          occurredAt: now,
          producer: 'ingestion',
          partitionKey: userId,
          data: { messageId: `m-${i}`, userId, routingKey: userId, timestamp: now, receivedAt: now, sourceId: SOURCE, context: {}, traits: { plan: i % 3 ? 'pro' : 'free', score: i, lastSeen: now } },
        };
        await js.publish(subject, encoder.encode(JSON.stringify(envelope)), { msgID: envelope.id });
      }
    }),
  );
  const published = performance.now();
  await crm.resume();
  const t1 = performance.now();
  const cpu = await cpuMeter(crm);
  const machine0 = cpuReading({ crm: crm.pid });
  // Done when the CRM's consumer has acknowledged every event (it acks a batch after its
  // transaction commits); the applied count is checked once at the end. Counting processed_event
  // every 100 ms instead scanned up to 100k rows per poll, CPU taken from the CRM being measured.
  const jsm = await crm.nc.jetstreamManager();
  const durable = 'crm-ingestion_identify_received_v1';
  const outstanding = async () => {
    const info = await jsm.consumers.info(`${crm.namespace}_INGESTION`, durable);
    return info.num_pending + info.num_ack_pending;
  };
  const deadline = Date.now() + 120_000;
  while ((await outstanding()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const seconds = (performance.now() - t1) / 1000;
  const used = await cpu();
  const machine = cpuShares(machine0, cpuReading({ crm: crm.pid }));
  const applied = (await crm.db.query('SELECT count(*)::int AS n FROM crm.processed_event')).rows[0].n;
  const contacts = (await crm.db.query('SELECT count(*)::int AS n FROM crm.contact')).rows[0].n;
  const sample = (await crm.db.query("SELECT attributes FROM crm.contact WHERE external_id = 'user-1'")).rows[0]?.attributes;
  console.log(`raw Postgres multi-row jsonb upsert (500/statement, one connection): ${rawRate.toFixed(0)} rows/s`);
  console.log(`CRM identify events applied (batched consumer, 500/tx, from a full stream): ${(applied / seconds).toFixed(0)} profile updates/s (${applied}/${EVENTS} events in ${seconds.toFixed(1)} s after ready; queueing them took ${((published - t0) / 1000).toFixed(1)} s)`);
  figure({ area: 'crm', name: 'identify updates applied from the bus', value: applied / seconds, unit: 'updates/s', target: { op: '>=', value: 10_000 }, raw: { name: 'Postgres multi-row jsonb upsert', value: rawRate, unit: 'rows/s' } });
  console.log(`  CPU per update: CRM process ${(used.service / applied).toFixed(0)} µs, its Postgres backends ${(used.postgres / applied).toFixed(0)} µs (load average ${os.loadavg()[0].toFixed(1)})`);
  // The whole machine over the same window: nats-server delivers the events and stores the CRM's own.
  const cores = os.cpus().length;
  console.log(`  the whole machine over the window (${((100 * machine.machine) / (seconds * cores)).toFixed(0)}% of ${cores} cores busy), CPU per update: ${describeShares(machine, applied)}`);
  console.log(`  ${contacts} contacts for ${USERS} user ids; user-1 now ${JSON.stringify(sample)}`);
  if (applied < EVENTS) process.exitCode = 1;
} finally {
  await crm.stop();
}
