import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type pg from 'pg';
import { applyMigrations } from '@tessera/db';
import { TEMPLATE_PREFIX, TEST_DATABASE_PREFIX, databaseUrl, withAdminClient } from './db';

// Vitest globalSetup: (re)build the template database every test database is cloned from.

const ROOT = resolve(__dirname, '../../..');
// Advisory locks are per database; every run takes this one in the admin database.
const SETUP_LOCK_KEY = 72707370;
const LEFTOVER_AGE_MS = 60 * 60 * 1000;

interface ServiceMigrations {
  schema: string;
  migrationsDir: string;
}

async function findServiceMigrations(): Promise<ServiceMigrations[]> {
  const apps = (await readdir(join(ROOT, 'apps'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  return apps
    .map((app) => ({ schema: app, migrationsDir: join(ROOT, 'apps', app, 'prisma', 'migrations') }))
    .filter((s) => existsSync(s.migrationsDir));
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

/** Hash of every migration file, plus the runner itself (a runner change may change the result). */
async function migrationsHash(services: ServiceMigrations[]): Promise<string> {
  return (await migrationsDigest(services)).slice(0, 16);
}

async function migrationsDigest(services: ServiceMigrations[]): Promise<string> {
  const hash = createHash('sha256');
  const files = [join(ROOT, 'libs/db/src/migrations.ts'), ...(await Promise.all(services.map((s) => listFiles(s.migrationsDir)))).flat()];
  for (const file of files) hash.update(relative(ROOT, file)).update('\0').update(await readFile(file)).update('\0');
  return hash.digest('hex');
}

/** Drops templates of other migration sets not built in the last day (the comment holds the build time). */
async function dropStaleTemplates(client: pg.Client, keep: string): Promise<void> {
  const { rows } = await client.query<{ datname: string; comment: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2`,
    [TEMPLATE_PREFIX, keep],
  );
  for (const { datname, comment } of rows) {
    const builtAt = Number(comment?.split('@')[1]);
    if (!Number.isFinite(builtAt) || Date.now() - builtAt > 24 * LEFTOVER_AGE_MS) {
      await client.query(`ALTER DATABASE "${datname}" IS_TEMPLATE false`);
      await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  }
}

/** Drops `tessera_t_*` databases older than an hour: files of crashed or killed runs. */
async function dropLeftovers(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [TEST_DATABASE_PREFIX]);
  for (const { datname } of rows) {
    const created = parseInt(datname.slice(TEST_DATABASE_PREFIX.length).split('_')[0] ?? '', 36);
    if (Number.isFinite(created) && Date.now() - created > LEFTOVER_AGE_MS) {
      await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  }
}

export default async function globalSetup(): Promise<void> {
  const services = await findServiceMigrations();
  const hash = await migrationsHash(services);
  const TEMPLATE_DATABASE = `${TEMPLATE_PREFIX}${hash}`;
  // Test workers are forked after global setup and inherit this.
  process.env['TESSERA_TEST_TEMPLATE'] = TEMPLATE_DATABASE;
  await withAdminClient(async (client) => {
    // Two vitest runs starting together: the second waits, then finds the template current.
    await client.query('SELECT pg_advisory_lock($1)', [SETUP_LOCK_KEY]);
    try {
      await dropLeftovers(client);
      await dropStaleTemplates(client, TEMPLATE_DATABASE);
      const { rows } = await client.query<{ comment: string | null }>(
        `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
        [TEMPLATE_DATABASE],
      );
      // A complete template carries its build time in its comment; a half-built one has none.
      if (rows[0]?.comment?.startsWith('built@')) return;

      if (rows.length > 0) {
        await client.query(`ALTER DATABASE "${TEMPLATE_DATABASE}" IS_TEMPLATE false`);
        await client.query(`DROP DATABASE "${TEMPLATE_DATABASE}" WITH (FORCE)`);
      }
      await client.query(`CREATE DATABASE "${TEMPLATE_DATABASE}"`);
      for (const service of services) {
        await applyMigrations({ databaseUrl: databaseUrl(TEMPLATE_DATABASE), ...service });
      }
      // ALLOW_CONNECTIONS false: a stray session on the template would make every clone fail.
      await client.query(`ALTER DATABASE "${TEMPLATE_DATABASE}" IS_TEMPLATE true ALLOW_CONNECTIONS false`);
      // The hash is written last: a half-built template has none and is rebuilt next time.
      await client.query(`COMMENT ON DATABASE "${TEMPLATE_DATABASE}" IS 'built@${Date.now()}'`);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [SETUP_LOCK_KEY]);
    }
  });
}
