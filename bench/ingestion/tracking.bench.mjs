// Ingestion's Segment API under load: /v1/batch (100 events of ~1 KB) over several keep-alive
// connections, events/s accepted AND durably stored in JetStream (checked against the stream), printed
// beside the raw windowed JetStream publish rate of the same envelopes measured in this run, the
// service's CPU per event, and how long after the run its archive (written off the request path)
// held every event; then single /v1/track latency at a fixed 1,000 req/s (open loop): first for
// BENCH_TRACK_WARM_SECONDS from cold (the client opens its connections, the path warms up; printed
// apart), then measured for BENCH_TRACK_SECONDS, the steady state the target is about.
// Needs a build first: pnpm exec nx run-many -t build. Run: node bench/run.mjs ingestion
import { spawn } from 'node:child_process';
import os from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { connect, createInbox, headers as natsHeaders } from 'nats';
import pg from 'pg';
import { figure } from '../lib/figures.mjs';
import { freePort, pct } from '../lib/measure.mjs';
import { cpuReading, cpuShares, describeShares } from '../lib/platform.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
const SERVER_URL = new URL(process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/tessera');
const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const WRITE_KEY = `twk_bench_${randomBytes(12).toString('hex')}`;
const CONNECTIONS = 8;
const BATCH = 100;
const BATCH_SECONDS = Number(process.env.BENCH_BATCH_SECONDS ?? 12);
const TRACK_RATE = 1000;
const TRACK_SECONDS = Number(process.env.BENCH_TRACK_SECONDS ?? 20);
const TRACK_WARM_SECONDS = Number(process.env.BENCH_TRACK_WARM_SECONDS ?? 5);

const dbName = `tessera_bench_ing_${Date.now().toString(36)}`;
const namespace = `benching${randomBytes(3).toString('hex')}`;
const admin = new pg.Client(Object.assign(new URL(SERVER_URL), { pathname: '/postgres' }).toString());

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

// CPU time (user + system) the service process has used so far, in microseconds: barely moved by
// other load on the machine, so it compares runs where wall-clock rates cannot.
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in clock ticks of 10 ms
}

/** CPU (user + system) this bench process used since `start` (a process.cpuUsage()), in microseconds. */
const cpuSince = (start) => {
  const { user, system } = process.cpuUsage(start);
  return user + system;
};


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
  const counter = new pg.Client(Object.assign(new URL(SERVER_URL), { pathname: `/${dbName}` }).toString());
  /** Polls the archive until it holds `n` rows; returns when (performance.now()) and the service's CPU then. */
  const archivedAtLeast = async (n, timeoutMs) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const { rows } = await counter.query('SELECT count(*)::int AS n FROM ingestion.event_archive');
      if (rows[0].n >= n) return { at: performance.now(), cpu: cpuMicros(child.pid), rows: rows[0].n };
      if (performance.now() > deadline) throw new Error(`archive holds ${rows[0].n} rows, expected ${n}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const nc = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  const stream = `${namespace}_INGESTION`;
  try {
    await waitReady(port, child);
    await counter.connect();

    // 1. The raw limit: the same ~1 KB envelopes published straight to JetStream. They go to a
    //    sibling stream with the INGESTION stream's own settings: published into INGESTION itself,
    //    the service's archive consumer would read and ack all of them while they are measured.
    const ingestionConfig = (await jsm.streams.info(stream)).config;
    const rawStream = `${namespace}_RAWBENCH`;
    await jsm.streams.add({ ...ingestionConfig, name: rawStream, subjects: [`${namespace}.rawbench.>`], description: 'bench: raw publish limit' });
    const js = nc.jetstream();
    const RAW = Number(process.env.BENCH_RAW ?? 30_000);
    const rawPayloads = Array.from({ length: RAW }, (_, i) => JSON.stringify({ id: randomUUID(), subject: 'ingestion.event.received.v1', workspaceId: randomUUID(), occurredAt: new Date().toISOString(), producer: 'bench', data: event(i) }));
    const rawCpu0 = process.cpuUsage();
    const rawStart = performance.now();
    let next = 0;
    // 1a. The client's JetStream API, 256 publishes awaiting their acks at once.
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        while (next < RAW) {
          const i = next++;
          const h = natsHeaders();
          h.set('Tessera-Workspace', 'bench');
          await js.publish(`${namespace}.rawbench.raw`, new TextEncoder().encode(rawPayloads[i]), { msgID: `raw-${i}-${namespace}`, headers: h });
        }
      }),
    );
    const rawRate = RAW / ((performance.now() - rawStart) / 1000);
    const rawCpuPerMsg = cpuSince(rawCpu0) / RAW;

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
            nc.publish(`${namespace}.rawbench.lean`, new TextEncoder().encode(rawPayloads[i]), { reply, headers: h });
          });
          pending.delete(reply);
          if (JSON.parse(new TextDecoder().decode(ack.data)).error) throw new Error('publish refused');
        }
      }),
    );
    const leanRate = RAW / ((performance.now() - leanStart) / 1000);

    // 1c. The same, callback-driven with no promise per message and the window refilled in bulk
    //     (as libs/bus publishes): the most one Node client gets out of this JetStream here.
    pending.clear();
    const windowCpu0 = process.cpuUsage();
    const windowStart = performance.now();
    await new Promise((resolve, reject) => {
      const encoder = new TextEncoder();
      let sent = 0;
      let stored = 0;
      let outstanding = 0;
      const fill = () => {
        while (outstanding < 256 && sent < RAW) {
          const i = sent++;
          const reply = `${prefix}.${seq++}`;
          outstanding++;
          pending.set(reply, (ack) => {
            pending.delete(reply);
            outstanding--;
            if (ack.data.length > 0 && new TextDecoder().decode(ack.data).includes('"error"')) return reject(new Error('publish refused'));
            if (++stored === RAW) resolve();
            else if (outstanding <= 128) fill();
          });
          const h = natsHeaders();
          h.set('Nats-Msg-Id', `win-${i}-${namespace}`);
          h.set('Tessera-Workspace', 'bench');
          nc.publish(`${namespace}.rawbench.window`, encoder.encode(rawPayloads[i]), { reply, headers: h });
        }
      };
      fill();
    });
    const windowRate = RAW / ((performance.now() - windowStart) / 1000);
    const windowCpuPerMsg = cpuSince(windowCpu0) / RAW;
    ackSub.unsubscribe();
    await jsm.streams.delete(rawStream);
    await jsm.streams.purge(stream);

    // 2. /v1/batch through the service.
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const bodies = Array.from({ length: 64 }, (_, b) => Array.from({ length: BATCH }, (_, i) => event(b * BATCH + i)));
    const sampleBytes = Buffer.byteLength(JSON.stringify(bodies[0][0]));
    // warm-up
    await Promise.all(Array.from({ length: CONNECTIONS }, () => post(agent, port, '/v1/batch', JSON.stringify({ batch: Array.from({ length: BATCH }, (_, i) => event(i)) }))));
    const warmed = BATCH * CONNECTIONS;
    await archivedAtLeast(warmed, 60_000);
    await jsm.streams.purge(stream);
    let accepted = 0;
    let failures = 0;
    const batchCpu0 = cpuMicros(child.pid);
    const machine0 = cpuReading({ ingestion: child.pid });
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
    const batchCpuPerEvent = (cpuMicros(child.pid) - batchCpu0) / accepted;
    const storedCount = (await jsm.streams.info(stream)).state.messages;
    // The archive is written off the request path (a consumer of the stream): time until it holds every event.
    const archiveDone = await archivedAtLeast(warmed + accepted, 120_000);
    const archiveLagSeconds = (archiveDone.at - (batchStart + batchSeconds * 1000)) / 1000;
    const machineShares = cpuShares(machine0, cpuReading({ ingestion: child.pid }));
    const windowSeconds = (archiveDone.at - batchStart) / 1000;
    const allInCpuPerEvent = (archiveDone.cpu - batchCpu0) / accepted;

    // 3. /v1/track at a fixed rate: latency seen by the client.
    // Enough sockets that the client never queues: latency is the server's, as with many real senders.
    const trackAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    /** Single calls at TRACK_RATE for `seconds`, numbered from `first`: sorted latencies, errors, rate, service CPU per call. */
    const trackLoop = async (seconds, first) => {
      const latencies = [];
      let errors = 0;
      const inflight = [];
      const cpu0 = cpuMicros(child.pid);
      const t0 = performance.now();
      for (let i = 0; i < TRACK_RATE * seconds; i++) {
        const due = t0 + (i * 1000) / TRACK_RATE;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        const start = performance.now();
        inflight.push(
          post(trackAgent, port, '/v1/track', JSON.stringify(event(first + i))).then((res) => {
            latencies.push(performance.now() - start);
            if (res.status !== 200) errors++;
          }),
        );
      }
      await Promise.all(inflight);
      const cpuPerRequest = (cpuMicros(child.pid) - cpu0) / (TRACK_RATE * seconds);
      const achieved = (TRACK_RATE * seconds) / ((performance.now() - t0) / 1000);
      latencies.sort((a, b) => a - b);
      return { latencies, errors, achieved, cpuPerRequest };
    };
    const cold = await trackLoop(TRACK_WARM_SECONDS, 10_000_000);
    const { latencies, errors: trackErrors, achieved, cpuPerRequest: trackCpuPerRequest } = await trackLoop(TRACK_SECONDS, 20_000_000);

    console.log(`load average before the run: ${loadBefore.map((l) => l.toFixed(1)).join(' ')} (2 cores; other work on the machine skews every figure)`);
    console.log(`event size ~${sampleBytes} B, ${CONNECTIONS} connections, batches of ${BATCH}`);
    console.log(`raw JetStream publish, same payloads, one client on its own stream (the bench process's CPU per message):`);
    console.log(`  js.publish, 256 awaited at once:                      ${rawRate.toFixed(0)} msgs/s (${rawCpuPerMsg.toFixed(0)} µs)`);
    console.log(`  core publish + ack inbox, a promise per message:      ${leanRate.toFixed(0)} msgs/s`);
    console.log(`  core publish + ack inbox, callback window of 256:     ${windowRate.toFixed(0)} msgs/s (${windowCpuPerMsg.toFixed(0)} µs)`);
    console.log(`/v1/batch accepted and stored:                            ${(accepted / batchSeconds).toFixed(0)} events/s (${accepted} events in ${batchSeconds.toFixed(1)} s, ${failures} failed requests)`);
    // The raw limit is the best-measured of the three: the callback window (js.publish mostly measures its own client).
    figure({ area: 'ingestion', name: '/v1/batch accepted and stored (100 × 1 KB events)', value: accepted / batchSeconds, unit: 'events/s', target: { op: '>=', value: 20_000 }, raw: { name: 'JetStream windowed publish (callback window of 256, one client), same payloads', value: windowRate, unit: 'msgs/s' } });
    console.log(`  service CPU per event (user+system): ${batchCpuPerEvent.toFixed(1)} µs, i.e. at most ${(1e6 / batchCpuPerEvent).toFixed(0)} events/s per core`);
    console.log(`  in JetStream after the run: ${storedCount} (expected ${accepted}); archived rows: ${archiveDone.rows - warmed}, complete ${archiveLagSeconds.toFixed(1)} s after the last answer`);
    console.log(`  service CPU per event including its archive write (until the archive was complete): ${allInCpuPerEvent.toFixed(1)} µs`);
    // The whole machine over the same window: what storing an event costs outside the service too,
    // and so the most any ingestion could reach here with the load generator on the same cores.
    const cores = os.cpus().length;
    const others = machineShares.machine - machineShares.parts.ingestion;
    console.log(`  the machine's CPU per event over that window (${((100 * machineShares.machine) / (windowSeconds * cores)).toFixed(0)}% of ${cores} cores busy): ${describeShares(machineShares, accepted)}`);
    console.log(`  outside the service: ${((others * 1e6) / accepted).toFixed(0)} µs per event, i.e. at most ${((accepted * cores) / others).toFixed(0)} events/s on ${cores} cores even if ingestion itself cost nothing`);
    console.log(`/v1/track, first ${TRACK_WARM_SECONDS} s from cold (not the figure): p50 ${pct(cold.latencies, 50).toFixed(1)} ms, p99 ${pct(cold.latencies, 99).toFixed(1)} ms, max ${cold.latencies.at(-1).toFixed(1)} ms, ${cold.errors} errors`);
    console.log(`/v1/track at ${achieved.toFixed(0)} req/s, the next ${TRACK_SECONDS} s: p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1).toFixed(1)} ms, ${trackErrors} errors`);
    figure({ area: 'ingestion', name: `/v1/track p99 at ${achieved.toFixed(0)} req/s (offered 1,000)`, value: pct(latencies, 99), unit: 'ms', target: { op: '<=', value: 50 } });
    console.log(`  service CPU per /v1/track request (user+system): ${trackCpuPerRequest.toFixed(0)} µs`);
    agent.destroy();
    trackAgent.destroy();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${namespace}_`)) await jsm.streams.delete(s.config.name);
    await nc.close();
    await counter.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
