// Shared by the CRM benchmarks: a scratch database, the built CRM (apps/crm/dist/main.js) on a free
// port with its own bus namespace, and clean-up. BENCH_CRM_MAIN runs another build (an A/B comparison),
// BENCH_PROF=1 writes CPU profiles of the CRM to /tmp/crmprof. Needs a build first: pnpm exec nx run-many -t build -p @tessera/crm
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'nats';
import pg from 'pg';
import { freePort } from '../lib/measure.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
export const SERVER_URL = new URL(process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/tessera');
export const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';
export const ADMIN_KEY = `tsk_bench_${randomBytes(16).toString('hex')}`;

export function request(agent, port, method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...headers } }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    if (body && typeof body.pipe === 'function') body.pipe(req);
    else req.end(body);
  });
}

/** Starts the CRM against a fresh database; returns handles and a stop() that removes everything. */
export async function startCrm(label) {
  const dbName = `tessera_bench_crm_${label}_${Date.now().toString(36)}`;
  const namespace = `benchcrm${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client(Object.assign(new URL(SERVER_URL), { pathname: '/postgres' }).toString());
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const databaseUrl = Object.assign(new URL(SERVER_URL), { pathname: `/${dbName}` }).toString();
  const port = await freePort();
  const launch = () => spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/crmprof'] : []), process.env.BENCH_CRM_MAIN || 'apps/crm/dist/main.js'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), DATABASE_URL: databaseUrl, NATS_URL, BUS_NAMESPACE: namespace, TESSERA_ADMIN_KEY: ADMIN_KEY, MIGRATE_ON_START: 'true', LOG_LEVEL: 'warn' },
    stdio: ['ignore', process.env.BENCH_LOG ? openSync(process.env.BENCH_LOG, 'a') : 'ignore', 'inherit'],
  });
  let child = launch();
  const nc = await connect({ servers: NATS_URL });
  const db = new pg.Client(databaseUrl);
  const waitReady = async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`crm exited with ${child.exitCode}`);
      const ok = await new Promise((resolve) => http.get({ host: '127.0.0.1', port, path: '/health/ready' }, (r) => (r.resume(), resolve(r.statusCode === 200))).on('error', () => resolve(false)));
      if (ok) return;
      if (Date.now() > deadline) throw new Error('crm did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const halt = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  };
  await waitReady();
  await db.connect();
  const workspaceId = JSON.parse((await request(undefined, port, 'GET', '/v1/workspace')).body).id;
  return {
    port,
    namespace,
    nc,
    db,
    workspaceId,
    databaseUrl,
    get pid() {
      return child.pid;
    },
    /** Stops the process (its durable consumers stay), so work can queue up for a clean measurement. */
    halt,
    async resume() {
      child = launch();
      await waitReady();
    },
    async stop() {
      await halt();
      const jsm = await nc.jetstreamManager();
      for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${namespace}_`)) await jsm.streams.delete(s.config.name);
      await nc.close();
      await db.end();
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** CPU time (user + system) a process has used so far, in µs (Linux, /proc/<pid>/stat). */
export function cpuMicros(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return 0; // the process ended
  }
}

/**
 * CPU meter for the work of one benchmark phase: the service process plus the Postgres backends
 * serving its database (client backends only, not autovacuum): figures the shared machine's other
 * load barely changes, unlike wall time.
 * Backends are listed at start and end; one that ends in between loses its last slice.
 */
export async function cpuMeter(crm) {
  const backends = async () =>
    (await crm.db.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()")).rows.map((r) => r.pid);
  const start = new Map((await backends()).map((p) => [p, cpuMicros(p)]));
  const service0 = cpuMicros(crm.pid);
  return async () => {
    const service = cpuMicros(crm.pid) - service0;
    let postgres = 0;
    for (const p of new Set([...start.keys(), ...(await backends())])) postgres += cpuMicros(p) - (start.get(p) ?? 0);
    return { service, postgres };
  };
}

/** Resident memory of a process in MiB (Linux). */
export async function rssMiB(pid) {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}
