// Lookup by externalId / email at a fixed 1,000 req/s (open loop) against N contacts seeded server-side
// (INSERT ... SELECT generate_series) (1M by default, or as many as fit in BENCH_SEED_SECONDS), client-side latency percentiles,
// printed beside the same indexed lookup issued straight to Postgres at the same rate. Each is first
// run for BENCH_WARM_SECONDS at the same rate (JIT, pools and Postgres's caches warm up; that
// cold start is printed too), then measured for BENCH_LOOKUP_SECONDS: the target is a steady state.
// Run: pnpm exec nx run-many -t build -p @tessera/crm && node bench/run.mjs crm/lookup
import http from 'node:http';
import os from 'node:os';
import pg from 'pg';
import { cpuMeter, request, startCrm } from './crm-harness.mjs';
import { pct } from '../lib/measure.mjs';
import { figure } from '../lib/figures.mjs';

const TARGET = Number(process.env.BENCH_LOOKUP_CONTACTS ?? 1_000_000);
const SEED_SECONDS = Number(process.env.BENCH_SEED_SECONDS ?? 60);
const RATE = 1000;
const SECONDS = Number(process.env.BENCH_LOOKUP_SECONDS ?? 20);
const WARM_SECONDS = Number(process.env.BENCH_WARM_SECONDS ?? 5);

async function openLoop(fn, seconds = SECONDS) {
  const latencies = [];
  let errors = 0;
  const inflight = [];
  const t0 = performance.now();
  for (let i = 0; i < RATE * seconds; i++) {
    const due = t0 + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const start = performance.now();
    inflight.push(fn(i).then((ok) => (latencies.push(performance.now() - start), ok || errors++), () => errors++));
  }
  await Promise.all(inflight);
  const achieved = (RATE * seconds) / ((performance.now() - t0) / 1000);
  latencies.sort((a, b) => a - b);
  return { achieved, errors, p50: pct(latencies, 50), p99: pct(latencies, 99), max: latencies.at(-1) };
}

const crm = await startCrm('lookup');
try {
  // Seed with COPY in chunks until the target or the time budget is reached.
  const seedStart = performance.now();
  let seeded = 0;
  const CHUNK = 50_000;
  while (seeded < TARGET && performance.now() - seedStart < SEED_SECONDS * 1000) {
    const from = seeded;
    const n = Math.min(CHUNK, TARGET - seeded);
    // Generated server-side (INSERT ... SELECT generate_series): no client transfer, faster than COPY here.
    await crm.db.query(
      `INSERT INTO crm.contact (id, workspace_id, external_id, email, attributes)
       SELECT gen_random_uuid(), $1, 'user-' || i, 'user' || i || '@example.com', jsonb_build_object('plan', 'pro', 'n', i) FROM generate_series($2::int, $3::int) AS i`,
      [crm.workspaceId, from, from + n - 1],
    );
    seeded += n;
  }
  const seedSeconds = (performance.now() - seedStart) / 1000;
  // A table of 1M contacts in service has been vacuumed. Straight after a bulk insert, autovacuum
  // (its insert threshold) and the first reads' hint-bit writes would land in whichever measurement
  // runs first (the API's) and not in the raw one after it.
  await crm.db.query('VACUUM (ANALYZE) crm.contact');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const pick = (i) => (i * 7919) % seeded;
  await Promise.all(Array.from({ length: 200 }, (_, i) => request(agent, crm.port, 'GET', `/v1/contacts/lookup?externalId=user-${pick(i)}`))); // warm-up
  // The warm-up draws other contacts than the measured run (offset), so it does not pre-load their pages.
  const lookupApi = (offset) => async (i) => {
    const n = pick(i + offset);
    const q = i % 2 ? `externalId=user-${n}` : `email=user${n}%40example.com`;
    const res = await request(agent, crm.port, 'GET', `/v1/contacts/lookup?${q}`);
    return res.status === 200;
  };
  const apiCold = await openLoop(lookupApi(RATE * SECONDS), WARM_SECONDS);
  const cpu = await cpuMeter(crm);
  const api = await openLoop(lookupApi(0));
  const used = await cpu();
  const pool = new pg.Pool({ connectionString: crm.databaseUrl, max: 5 });
  const lookupRaw = (offset) => async (i) => {
    const n = pick(i + offset);
    const { rows } = await pool.query(i % 2 ? 'SELECT * FROM crm.contact WHERE workspace_id = $1 AND external_id = $2' : 'SELECT * FROM crm.contact WHERE workspace_id = $1 AND email = $2', [
      crm.workspaceId,
      i % 2 ? `user-${n}` : `user${n}@example.com`,
    ]);
    return rows.length === 1;
  };
  await openLoop(lookupRaw(RATE * SECONDS), WARM_SECONDS);
  const raw = await openLoop(lookupRaw(0));
  await pool.end();
  agent.destroy();
  const fmt = (r) => `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(1)} ms at ${r.achieved.toFixed(0)} req/s, ${r.errors} errors`;
  console.log(`seeded ${seeded} contacts (server-side INSERT ... SELECT) in ${seedSeconds.toFixed(1)} s${seeded < TARGET ? ` (time budget reached before ${TARGET})` : ''}`);
  console.log(`raw Postgres indexed lookup (pg pool of 5): ${fmt(raw)}`);
  console.log(`GET /v1/contacts/lookup (externalId|email), first ${WARM_SECONDS} s from cold (not the figure): ${fmt(apiCold)}`);
  console.log(`GET /v1/contacts/lookup (externalId|email), the next ${SECONDS} s:  ${fmt(api)}`);
  figure({ area: 'crm', name: `lookup by externalId/email, p99 at ${api.achieved.toFixed(0)} req/s (${seeded.toLocaleString('en')} contacts)`, value: api.p99, unit: 'ms', target: { op: '<=', value: 5 }, raw: { name: 'Postgres indexed lookup p99', value: raw.p99, unit: 'ms' } });
  const requests = RATE * SECONDS;
  console.log(`  CPU per lookup: CRM process ${(used.service / requests).toFixed(0)} µs, its Postgres backends ${(used.postgres / requests).toFixed(0)} µs (at ${RATE} req/s: ${((used.service / requests) * RATE / 1e4).toFixed(0)}% of a core for the CRM; load average ${os.loadavg()[0].toFixed(1)})`);
} finally {
  await crm.stop();
}
