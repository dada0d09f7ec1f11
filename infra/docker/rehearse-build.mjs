#!/usr/bin/env node
// Rehearses an image build without Docker (none runs here): copies the build context the way
// .dockerignore filters it, runs the Dockerfile's build-stage RUN steps in that copy, assembles the
// runtime stage's /app from its COPY --from=build lines, then runs the result as an unprivileged
// user in a directory it cannot write (like readOnlyRootFilesystem): dist/migrate.js against a
// scratch database, then dist/main.js until /health/ready answers 200 and /metrics serves.
// Not exercised: the base image itself, `npm install -g pnpm`, layer caching, BuildKit.
// Usage: node infra/docker/rehearse-build.mjs <service> [--keep]   (needs Postgres and NATS, e.g. after npm start)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, log, run, sleep } from '../../scripts/lib/util.mjs';
import { ensurePnpm } from '../../scripts/lib/tools.mjs';

const PORTS = { crm: 3001, ingestion: 3002, segmentation: 3003, journeys: 3004, messaging: 3005, analytics: 3006 };
const [svc] = process.argv.slice(2);
if (!PORTS[svc]) {
  console.error(`usage: node infra/docker/rehearse-build.mjs <${Object.keys(PORTS).join('|')}> [--keep]`);
  process.exit(2);
}

/** The Dockerfile as stages of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(path) {
  const lines = readFileSync(path, 'utf8').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim());
  const stages = {};
  let current = null;
  for (const line of lines.filter((l) => l && !l.startsWith('#'))) {
    const [op, ...rest] = line.split(/\s+/);
    const arg = rest.join(' ');
    if (op === 'FROM') stages[(current = /AS\s+(\S+)/i.exec(arg)[1])] = [];
    else if (current) stages[current].push({ op, arg });
  }
  return stages;
}

async function main() {
  const dockerfile = join(ROOT, 'infra', 'docker', `${svc}.Dockerfile`);
  const { build, runtime } = parseDockerfile(dockerfile);
  const work = mkdtempSync(join(tmpdir(), `tessera-image-${svc}-`));
  const repo = join(work, 'repo');
  const out = join(work, 'out');
  const app = join(work, 'app');
  const pnpm = await ensurePnpm();
  const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  log(`rehearse: copying the build context to ${repo}`);
  await run('rsync', ['-a', ...dockerignore.map((p) => `--exclude=${p.replace(/^\*\*\//, '')}`), `${ROOT}/`, `${repo}/`], { quiet: true });

  const env = { SERVICE: svc, PATH: `${join(pnpm, '..')}:${process.env.PATH}` };
  const subst = (s) => s.replaceAll('/out', out).replaceAll('${SERVICE}', svc);
  for (const { op, arg } of build) {
    if (op === 'ENV') for (const [, k, v] of arg.matchAll(/(\w+)=(\S+)/g)) env[k] = v;
    if (op !== 'RUN') continue;
    if (arg.startsWith('npm install -g')) continue; // pnpm 10.34.9 comes from ensurePnpm instead
    log(`rehearse: RUN ${arg}`);
    const started = Date.now();
    await run('sh', ['-c', subst(arg)], { cwd: repo, env, quiet: true });
    log(`rehearse:   ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }
  for (const { op, arg } of runtime) {
    if (op !== 'COPY') continue;
    const [, from, to] = /--from=build\s+(\S+)\s+(\S+)/.exec(arg);
    const target = join(app, to.replace(/^\.\//, ''));
    execFileSync('mkdir', ['-p', join(target, '..')]);
    execFileSync('cp', ['-a', subst(from), target]);
  }
  execFileSync('chmod', ['-R', 'a+rX,go-w', work]);
  chmodSync(work, 0o755);
  const size = execFileSync('du', ['-sh', app], { encoding: 'utf8' }).split('\t')[0];
  log(`rehearse: /app would hold ${size} (plus the node base image)`);

  // A scratch database and bus namespace; the service runs as nobody in a directory it cannot write.
  const base = new URL(process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/tessera');
  const dbName = `image_rehearsal_${svc}_${process.pid}`;
  const admin = new URL(base);
  admin.pathname = '/postgres';
  await run('psql', [admin.toString(), '-qc', `CREATE DATABASE ${dbName}`], { quiet: true });
  const dbUrl = new URL(base);
  dbUrl.pathname = `/${dbName}`;
  const port = 39000 + (process.pid % 900);
  const appEnv = ['HOME=/nonexistent', `DATABASE_URL=${dbUrl}`, `PORT=${port}`, `BUS_NAMESPACE=rehearsal${process.pid}`, 'MIGRATE_ON_START=false',
    'NODE_ENV=production', 'TESSERA_ADMIN_KEY=tsk_admin_rehearsal_0123456789abcdef', 'TESSERA_WRITE_KEY=tsk_write_rehearsal_01234'];
  let child;
  try {
    await run('runuser', ['-u', 'nobody', '--', 'env', ...appEnv, 'node', 'dist/migrate.js'], { cwd: app, quiet: true });
    log('rehearse: dist/migrate.js exited 0');
    child = spawn('runuser', ['-u', 'nobody', '--', 'env', ...appEnv, 'node', '--enable-source-maps', 'dist/main.js'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const deadline = Date.now() + 60_000;
    let ready = false;
    while (!ready && Date.now() < deadline && child.exitCode === null) {
      ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status === 200, () => false);
      if (!ready) await sleep(500);
    }
    if (!ready) throw new Error(`dist/main.js never became ready:\n${output.slice(-3000)}`);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    log(`rehearse: /health/ready 200, /metrics ${metrics.split('\n').length} lines; ${svc} runs from the assembled image tree`);
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await sleep(1000);
    }
    await run('psql', [admin.toString(), '-qc', `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`], { quiet: true, allowFail: true });
    if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`[tessera] rehearse: ${err.message}`);
  process.exit(1);
});
