#!/usr/bin/env node
// `npm start | test | migrate | bench`: prepares tools, dependencies, Postgres, NATS and the build on
// any Debian/Ubuntu machine with Node 20, then runs the command. Node built-ins only (runs before pnpm install).
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CREDENTIALS_FILE, loadCredentials } from './lib/credentials.mjs';
import { ensureRenderer } from '../k8s/test/ensure-renderer.mjs';
import { ensureNats } from './lib/nats.mjs';
import { ensurePostgres } from './lib/postgres.mjs';
import { SERVICE_NAMES, migrate, startServices, watchServices } from './lib/services.mjs';
import { ensurePnpm, installDeps } from './lib/tools.mjs';
import { LOG_DIR, ROOT, STATE_DIR, cleanup, log, printTimings, run, timed } from './lib/util.mjs';

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/tessera';
const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

// Shared by all commands. DATABASE_URL and NATS_URL end up in process.env, so every child gets them.
async function prepare() {
  const pnpm = await timed('pnpm', ensurePnpm);
  await timed('install', () => installDeps(pnpm));
  process.env.DATABASE_URL ||= DEFAULT_DATABASE_URL;
  process.env.NATS_URL ||= DEFAULT_NATS_URL;
  await timed('postgres', () => ensurePostgres(process.env.DATABASE_URL));
  await timed('nats', () => ensureNats(process.env.NATS_URL));
  // Prisma's generate fails offline unless the schema engine path names some existing file, and
  // without CHECKPOINT_DISABLE it makes a DNS query. Nx runs it before each app's build and caches
  // it on schema.prisma, so an unchanged schema costs nothing.
  const env = { PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false', CHECKPOINT_DISABLE: '1', NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
  await timed('build', () => run(pnpm, ['exec', 'nx', 'run-many', '-t', 'build', '--output-style=stream'], { env }));
  return pnpm;
}

async function start() {
  await prepare();
  const { adminKey, writeKey } = loadCredentials();
  const env = { TESSERA_ADMIN_KEY: adminKey, TESSERA_WRITE_KEY: writeKey };
  await timed('migrate', () => migrate(SERVICE_NAMES, env));
  const services = await timed('start', () => startServices(env));
  log('all services are ready:');
  for (const { svc, port } of services) {
    console.log(`  ${svc.padEnd(13)} http://127.0.0.1:${port}   docs: http://127.0.0.1:${port}/docs`);
  }
  console.log(`  ${'admin key'.padEnd(13)} ${adminKey}`);
  console.log(`  ${'write key'.padEnd(13)} ${writeKey}`);
  console.log(`  ${'credentials'.padEnd(13)} ${CREDENTIALS_FILE}`);
  console.log(`  ${'logs'.padEnd(13)} ${LOG_DIR}/<service>.log`);
  await warnIfKeyRefused(services, adminKey);
  printTimings();
  log('Ctrl-C to stop');
  await watchServices(services);
  log('every service has exited');
  return 1;
}

/**
 * The keys seed only an empty database. When the database already had a default workspace (from
 * an earlier run, another clone, or other keys), the printed admin key is not valid: say so.
 */
async function warnIfKeyRefused(services, adminKey) {
  const crm = services.find((s) => s.svc === 'crm');
  if (!crm) return;
  const answer = await fetch(`http://127.0.0.1:${crm.port}/v1/workspace`, { headers: { authorization: `Bearer ${adminKey}` } }).catch(() => undefined);
  if (answer?.status !== 401) return;
  log('WARNING: the admin key above is refused. This database already had a default workspace, created');
  log(`  with another key (keys seed only an empty database). Use that first run's key, set TESSERA_ADMIN_KEY`);
  log(`  to it, or start on a fresh database (DATABASE_URL=.../another_db npm start).`);
}

async function test(vitestArgs) {
  const pnpm = await prepare();
  await timed('typecheck', () => run(pnpm, ['run', 'typecheck']));
  await timed('lint', () => run(pnpm, ['run', 'lint']));
  // The chart tests render Helm templates with a small Go renderer; apt-installs Go on a bare machine.
  await timed('k8s tools', ensureRenderer);
  const env = { TESSERA_TEST: '1' };
  const report = join(STATE_DIR, 'vitest-report.json');
  const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
  const code = await timed('vitest', () => run(pnpm, ['exec', 'vitest', 'run', ...reporters, ...vitestArgs], { env, allowFail: true }));
  printTally(report);
  return code;
}

/** The plain closing line CI reads in any language: `N passed, N failed` (then skipped). */
function printTally(reportFile) {
  if (!existsSync(reportFile)) return;
  const { numPassedTests = 0, numFailedTests = 0, numPendingTests = 0, numTodoTests = 0 } = JSON.parse(readFileSync(reportFile, 'utf8'));
  console.log(`\n${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`);
}

async function migrateCommand(names) {
  const unknown = names.filter((n) => !SERVICE_NAMES.includes(n));
  if (unknown.length) throw new Error(`unknown service ${unknown.join(', ')}; known: ${SERVICE_NAMES.join(', ')}`);
  await prepare();
  await timed('migrate', () => migrate(names.length ? names : SERVICE_NAMES));
  return 0;
}

async function bench(args) {
  const pnpm = await prepare();
  if (!existsSync(join(ROOT, 'bench', 'package.json'))) {
    log('bench: no benchmarks exist yet (bench/package.json is missing)');
    return 0;
  }
  return timed('bench', () => run(pnpm, ['--filter', '@tessera/bench', 'run', 'bench', ...args], { allowFail: true }));
}

const COMMANDS = { start, test, migrate: migrateCommand, bench };

// Stops whatever this script started (services, then NATS, then Postgres), prints timings, exits.
let exiting = false;
async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  await cleanup();
  printTimings();
  process.exit(code);
}

async function main() {
  const [command, ...args] = process.argv.slice(2);
  if (!COMMANDS[command]) {
    console.error(`usage: node scripts/tessera.mjs <${Object.keys(COMMANDS).join('|')}> [args]`);
    process.exit(2);
  }
  // A closed terminal or pipe (e.g. `| tee` hit by the same Ctrl-C) must not abort the cleanup.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (exiting) return log('already stopping');
      log(`${signal}: stopping`);
      // Stopping `start` on purpose is its normal end; for the other commands it is an interruption.
      shutdown(command === 'start' ? 0 : 128 + os.constants.signals[signal]);
    });
  }
  let code = 1;
  try {
    code = await COMMANDS[command](args);
  } catch (err) {
    if (!exiting) log(`error: ${err.message}`); // after a Ctrl-C, a child's failure is no news
  }
  await shutdown(code);
}

main();
