// Makes DATABASE_URL answer: use the Postgres that is there, or run a private cluster under .tessera.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { aptInstall, runAsRoot } from './tools.mjs';
import { LOG_DIR, ROOT, STATE_DIR, canConnect, ensureDir, hostPort, isLocalHost, isRoot, log, onCleanup, run } from './util.mjs';

// Postgres refuses to run as root, so as root the cluster belongs to the postgres user.
const asPostgres = (args) => (isRoot() ? ['runuser', '-u', 'postgres', '--', ...args] : args);

export async function ensurePostgres(databaseUrl) {
  const url = new URL(databaseUrl);
  const { host, port } = hostPort(url, 5432);
  if (await canConnect(host, port)) {
    log(`postgres: using ${host}:${port}`);
  } else if (!isLocalHost(host)) {
    throw new Error(`postgres: nothing answers at ${host}:${port} (DATABASE_URL), and it is not local, so it cannot be started here`);
  } else {
    await startCluster(host, port, decodeURIComponent(url.username) || 'postgres');
  }
  await ensureDatabase(url);
}

// Highest-versioned Debian install of the server binaries, e.g. /usr/lib/postgresql/15/bin.
function findBinDir() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : null;
}

async function installPostgres() {
  // Debian's postgresql package would create and start a system cluster on 5432 with password auth,
  // taking the port from ours; like the official Docker image, switch that off before installing it.
  await aptInstall(['postgresql-common'], 'postgres');
  const conf = '/etc/postgresql-common/createcluster.conf';
  await runAsRoot(['sed', '-ri', 's/^#?\\s*create_main_cluster\\s*=.*/create_main_cluster = false/', conf], 'postgres');
  await aptInstall(['postgresql'], 'postgres');
}

// Where the cluster and its log live. The postgres user (when we are root) must be able to reach them:
// .tessera inside the repo works when every parent directory is world-executable, the usual case.
// Otherwise (e.g. a repo under /root) they go to /var/tmp/tessera-<hash of the repo path>.
function clusterHome() {
  ensureDir(LOG_DIR);
  const reachable = (dir) => spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dir]).status === 0;
  if (!isRoot() || reachable(LOG_DIR)) return { dataDir: join(STATE_DIR, 'postgres'), logFile: join(LOG_DIR, 'postgres.log') };
  const home = ensureDir(`/var/tmp/tessera-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`);
  chmodSync(home, 0o755);
  return { dataDir: join(home, 'postgres'), logFile: join(home, 'postgres.log') };
}

async function startCluster(host, port, user) {
  let binDir = findBinDir();
  if (!binDir) {
    await installPostgres();
    binDir = findBinDir();
    if (!binDir) throw new Error('postgres: installed, but no /usr/lib/postgresql/*/bin/pg_ctl was found');
  }
  const { dataDir, logFile } = clusterHome();
  const pgRun = (args) => {
    const [cmd, ...rest] = asPostgres(args);
    return run(cmd, rest, { quiet: true, cwd: '/' }); // cwd: the repo may be unreadable to postgres
  };
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`postgres: creating a cluster in ${dataDir}`);
    ensureDir(dataDir);
    chmodSync(dataDir, 0o700);
    if (isRoot()) await run('chown', ['postgres:postgres', dataDir]);
    // Locale C always exists, also on a machine with no locales generated.
    await pgRun([join(binDir, 'initdb'), '-D', dataDir, '--auth=trust', '-U', user, '--encoding=UTF8', '--locale=C']);
  }
  // pg_ctl opens the log file as the postgres user, so when we are root that user must own it.
  if (isRoot()) await run('sh', ['-c', 'touch "$1" && chown postgres:postgres "$1"', 'sh', logFile]);
  log(`postgres: starting a private cluster on ${host}:${port} (log: ${logFile})`);
  const pgCtl = join(binDir, 'pg_ctl');
  // -k /tmp: Debian's default socket directory /var/run/postgresql may be missing or not writable.
  const options = `-p ${port} -h ${host} -k /tmp`;
  try {
    await pgRun([pgCtl, '-D', dataDir, '-o', options, '-l', logFile, '-w', '-t', '60', 'start']);
  } catch (err) {
    if (existsSync(logFile)) process.stderr.write(readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n'));
    throw new Error(`postgres: could not start the cluster in ${dataDir}: ${err.message}`);
  }
  onCleanup(async () => {
    log('postgres: stopping the private cluster');
    await pgRun([pgCtl, '-D', dataDir, 'stop', '-m', 'fast']);
  });
}

// Connects with node-postgres (installed by now, in libs/db) and creates the URL's database if missing.
async function ensureDatabase(url) {
  const requireFromDb = createRequire(join(ROOT, 'libs', 'db', 'package.json'));
  let pg;
  try {
    pg = requireFromDb('pg');
  } catch {
    throw new Error('postgres: the pg package is missing from libs/db/node_modules (did pnpm install run?)');
  }
  const dbName = decodeURIComponent(url.pathname.slice(1)) || 'postgres';
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const client = new pg.Client({ connectionString: adminUrl.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`postgres: ${url.host} answers but refuses DATABASE_URL's user: ${err.message}`);
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (!rowCount) {
      log(`postgres: creating database ${dbName}`);
      await client.query(`CREATE DATABASE "${dbName.replace(/"/g, '""')}"`);
    }
  } finally {
    await client.end();
  }
}
