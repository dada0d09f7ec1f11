// The six services: migrating, starting, waiting for readiness, stopping.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { LOG_DIR, ROOT, canConnect, ensureDir, log, onCleanup, run, sleep } from './util.mjs';

export const SERVICES = { crm: 3001, ingestion: 3002, segmentation: 3003, journeys: 3004, messaging: 3005, analytics: 3006 };
export const SERVICE_NAMES = Object.keys(SERVICES);

export const portOf = (svc) => Number(process.env[`${svc.toUpperCase()}_PORT`] || SERVICES[svc]);

function distFile(svc, file) {
  const path = join(ROOT, 'apps', svc, 'dist', file);
  if (!existsSync(path)) throw new Error(`${relative(ROOT, path)} is missing: did the build of @tessera/${svc} produce it?`);
  return path;
}

// Runs each service's dist/migrate.js in turn; each exits 0 once its schema is up to date.
export async function migrate(names, env = {}) {
  for (const svc of names) {
    log(`migrate: ${svc}`);
    await run(process.execPath, [distFile(svc, 'migrate.js')], { env: { ...env, PORT: String(portOf(svc)) } });
  }
}

// Which lines reach the console. Each service's raw output goes to .tessera/logs/<svc>.log, and the
// console shows only warnings and errors: six services' info lines interleaved are unreadable, while
// the files stay intact for grep and tail. Services log pino-style JSON (level 40 warn, 50 error,
// 60 fatal); non-JSON text on stderr (a stack trace, a Node warning) is shown too.
function worthShowing(line, fromStderr) {
  try {
    const { level } = JSON.parse(line);
    if (typeof level === 'number') return level >= 40;
  } catch {
    // not JSON
  }
  return fromStderr;
}

function startService(svc, env) {
  const port = portOf(svc);
  const logFile = join(ensureDir(LOG_DIR), `${svc}.log`);
  const out = createWriteStream(logFile);
  // Detached, so a Ctrl-C reaches only this script, which then stops the services in order.
  const child = spawn(process.execPath, ['--enable-source-maps', distFile(svc, 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const service = { svc, port, child, logFile, recent: [], stopping: false };
  for (const [stream, fromStderr] of [[child.stdout, false], [child.stderr, true]]) {
    createInterface({ input: stream }).on('line', (line) => {
      out.write(`${line}\n`);
      service.recent = [...service.recent.slice(-39), line]; // the tail shown when it fails
      if (worthShowing(line, fromStderr)) console.log(`[${svc}] ${line}`);
    });
  }
  // 'close' comes after the last output line, so a crash's tail is complete by then.
  service.closed = once(child, 'close').then(() => out.end());
  return service;
}

function printTail(service) {
  log(`${service.svc}: last lines of ${relative(ROOT, service.logFile)}:`);
  for (const line of service.recent) console.log(`  ${line}`);
}

const isRunning = (s) => s.child.exitCode === null && s.child.signalCode === null;

async function waitReady(service, deadline) {
  const url = `http://127.0.0.1:${service.port}/health/ready`;
  while (Date.now() < deadline && isRunning(service)) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  return false;
}

// Starts every service and resolves once all answer /health/ready (90 s at most).
export async function startServices(env) {
  // A port held by an earlier run would answer the health check in place of the new service.
  const busy = [];
  for (const svc of SERVICE_NAMES) if (await canConnect('127.0.0.1', portOf(svc), 300)) busy.push(`${svc} ${portOf(svc)}`);
  if (busy.length) throw new Error(`ports in use (${busy.join(', ')}): is Tessera already running? Or set CRM_PORT etc.`);
  const services = SERVICE_NAMES.map((svc) => startService(svc, env));
  onCleanup(() => stopServices(services));
  const deadline = Date.now() + 90_000;
  const ready = await Promise.all(services.map((s) => waitReady(s, deadline)));
  const failed = services.filter((_, i) => !ready[i]);
  await Promise.all(failed.filter((s) => !isRunning(s)).map((s) => s.closed));
  for (const s of failed) printTail(s);
  const why = (s) => `${s.svc} (${isRunning(s) ? 'no 200 from /health/ready in 90 s' : 'exited'})`;
  if (failed.length) throw new Error(`not ready: ${failed.map(why).join(', ')}`);
  return services;
}

// Resolves when every service has exited on its own. A single crash leaves the others running.
export function watchServices(services) {
  return new Promise((resolve) => {
    for (const s of services) {
      s.child.on('close', (code, signal) => {
        if (s.stopping) return;
        log(`${s.svc} exited on its own (${signal ?? `code ${code}`}); the other services keep running`);
        printTail(s);
        if (!services.some(isRunning)) resolve();
      });
    }
  });
}

// SIGTERM to all, SIGKILL to those still running after 10 s.
export async function stopServices(services) {
  const running = services.filter(isRunning);
  if (!running.length) return;
  log(`stopping ${running.map((s) => s.svc).join(', ')}`);
  for (const s of running) {
    s.stopping = true;
    s.child.kill('SIGTERM');
  }
  const allExited = Promise.all(running.map((s) => (isRunning(s) ? once(s.child, 'exit') : null)));
  await Promise.race([allExited, sleep(10_000)]);
  for (const s of running.filter(isRunning)) {
    log(`${s.svc}: still running after 10 s, sending SIGKILL`);
    s.child.kill('SIGKILL');
  }
}
