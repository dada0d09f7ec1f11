// The whole platform for a benchmark: the six built services (apps/<svc>/dist/main.js) as child
// processes on one scratch database and one bus namespace, with helpers to call them, read their
// CPU time, and wait until every durable consumer has drained. Needs `npm run build` first.
// BENCH_LOG_DIR=<dir> keeps each service's log (warnings and errors) in <dir>/<service>.log.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import pg from 'pg';
import { freePort, machineBusySeconds } from './measure.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
export const SERVICES = ['crm', 'ingestion', 'segmentation', 'journeys', 'messaging', 'analytics'];
const SERVER = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/tessera';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const CLOCK_TICKS = 100; // USER_HZ on Linux

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const databaseUrl = (name) => Object.assign(new URL(SERVER), { pathname: `/${name}` }).toString();

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** CPU seconds so far of every process whose command name is `comm` (e.g. every Postgres backend), by pid. */
export function cpuByPid(comm) {
  const byPid = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) byPid.set(pid, cpuSeconds(pid));
    } catch {
      /* the process ended while we looked */
    }
  }
  return byPid;
}

/**
 * CPU seconds those processes used between two cpuByPid snapshots: a process that started in
 * between counts whole, one that ended in between is missed (so this undercounts short-lived
 * backends, never overcounts).
 */
export function cpuSecondsBetween(before, after) {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/**
 * A reading of where the machine's CPU goes: the named processes (e.g. { ingestion: pid }), every
 * Postgres process, nats-server, this bench process and the machine as a whole. Two readings give
 * cpuShares: the work a window cost on every side, not only in the service under test.
 */
export function cpuReading(processes) {
  return {
    machine: machineBusySeconds(),
    processes: Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid)])),
    postgres: cpuByPid('postgres'),
    nats: cpuByPid('nats-server'),
    own: process.cpuUsage(),
  };
}

/**
 * CPU seconds by part between two cpuReadings: the named processes, 'postgres', 'nats-server',
 * 'load generator' (this process) and 'everything else' (other processes and the kernel: the
 * machine's busy time not accounted to the others), with `machine` their sum.
 */
export function cpuShares(before, after) {
  const parts = {};
  for (const [name, seconds] of Object.entries(after.processes)) parts[name] = seconds - before.processes[name];
  parts.postgres = cpuSecondsBetween(before.postgres, after.postgres);
  parts['nats-server'] = cpuSecondsBetween(before.nats, after.nats);
  const own = process.cpuUsage(before.own);
  parts['load generator'] = (own.user + own.system) / 1e6;
  const machine = after.machine - before.machine;
  parts['everything else'] = Math.max(0, machine - Object.values(parts).reduce((a, b) => a + b, 0));
  return { machine, parts };
}

/** cpuShares per unit of work, as one line: "ingestion 76 µs, postgres 40 µs, …; machine 211 µs". */
export function describeShares({ machine, parts }, units) {
  const us = (seconds) => `${Math.round((seconds * 1e6) / units)} µs`;
  return `${Object.entries(parts).map(([name, seconds]) => `${name} ${us(seconds)}`).join(', ')}; whole machine ${us(machine)}`;
}

/** Starts all six services; resolves once each answers /health/ready. */
export async function startPlatform(label) {
  const dbName = `tessera_bench_${label}_${randomBytes(3).toString('hex')}`;
  const namespace = `bench${label}${randomBytes(3).toString('hex')}`;
  const adminKey = `tsk_bench_${randomBytes(16).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const nc = await connect({ servers: NATS_URL });
  const processes = {};
  const env = { ...process.env, DATABASE_URL: databaseUrl(dbName), NATS_URL, BUS_NAMESPACE: namespace, TESSERA_ADMIN_KEY: adminKey, LOG_LEVEL: 'warn' };
  // The CRM first: it creates the workspace and verifies every other service's keys.
  for (const group of [['crm'], SERVICES.filter((s) => s !== 'crm')]) {
    await Promise.all(
      group.map(async (service) => {
        const port = await freePort();
        const child = spawn(process.execPath, [join(ROOT, 'apps', service, 'dist', 'main.js')], { cwd: ROOT, env: { ...env, PORT: String(port) }, stdio: ['ignore', process.env.BENCH_LOG_DIR ? openSync(join(process.env.BENCH_LOG_DIR, `${service}.log`), 'a') : 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
        const url = `http://127.0.0.1:${port}`;
        processes[service] = { child, url, stderr: () => stderr };
        for (let i = 0; ; i++) {
          if (child.exitCode !== null) throw new Error(`${service} exited: ${stderr}`);
          if (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) return;
          if (i > 900) throw new Error(`${service} did not become ready: ${stderr}`);
          await sleep(100);
        }
      }),
    );
  }

  /** Calls a service's API with the admin key; throws on a non-2xx answer. */
  const call = async (service, method, path, body) => {
    const r = await fetch(`${processes[service].url}${path}`, { method, headers: { authorization: `Bearer ${adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${service} ${method} ${path}: ${r.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : undefined;
  };

  /** Messages still waiting in every durable consumer of this namespace (pending + unacked). */
  const backlog = async () => Object.values(await backlogByConsumer()).reduce((a, b) => a + b, 0);
  /** The same, per durable consumer that has any, to tell which one lags. */
  const backlogByConsumer = async () => {
    const jsm = await nc.jetstreamManager();
    const waiting = {};
    for await (const stream of jsm.streams.list()) {
      if (!stream.config.name.startsWith(`${namespace}_`)) continue;
      for await (const consumer of jsm.consumers.list(stream.config.name)) {
        const n = consumer.num_pending + consumer.num_ack_pending;
        if (n) waiting[consumer.name] = n;
      }
    }
    return waiting;
  };

  return {
    adminKey,
    url: (service) => processes[service].url,
    call,
    backlog,
    backlogByConsumer,
    /** CPU seconds used so far, per service process. */
    cpu: () => Object.fromEntries(SERVICES.map((s) => [s, cpuSeconds(processes[s].child.pid)])),
    async stop() {
      await Promise.all(Object.values(processes).map(({ child }) => (child.exitCode !== null ? undefined : new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))))));
      const jsm = await nc.jetstreamManager();
      for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${namespace}_`)) await jsm.streams.delete(s.config.name);
      await nc.close();
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await admin.end();
    },
  };
}
