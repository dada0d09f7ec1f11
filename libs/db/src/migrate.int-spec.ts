import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DATABASE_URL } from './connection';
import { applyMigrations, migrationChecksum, pendingMigrations } from './migrations';

// The runner's own tests start from an empty database (not the migrated template):
// named like @tessera/testing's databases so its global setup sweeps leftovers.
const server = new URL(process.env['DATABASE_URL'] || DEFAULT_DATABASE_URL);
const dbName = `tessera_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const databaseUrl = Object.assign(new URL(server), { pathname: `/${dbName}` }).toString();
const adminUrl = Object.assign(new URL(server), { pathname: '/postgres' }).toString();

async function admin(sql: string): Promise<void> {
  const client = new pg.Client(adminUrl);
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client(databaseUrl);
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

let root: string;
let counter = 0;

/** A fresh migrations folder and schema name per test, so tests stay independent. */
async function fixture(migrations: Record<string, string>): Promise<{ schema: string; migrationsDir: string; databaseUrl: string }> {
  const migrationsDir = join(root, `m${++counter}`);
  await mkdir(migrationsDir);
  await writeFile(join(migrationsDir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  for (const [name, sql] of Object.entries(migrations)) await write(migrationsDir, name, sql);
  return { schema: `svc_${counter}`, migrationsDir, databaseUrl };
}

async function write(migrationsDir: string, name: string, sql: string): Promise<void> {
  await mkdir(join(migrationsDir, name), { recursive: true });
  await writeFile(join(migrationsDir, name, 'migration.sql'), sql);
}

const INIT = 'CREATE TABLE "item" ("id" INTEGER NOT NULL, CONSTRAINT "item_pkey" PRIMARY KEY ("id"));\n';
const ADD_NAME = 'ALTER TABLE "item" ADD COLUMN "name" TEXT;\nINSERT INTO "item" ("id", "name") VALUES (1, \'one\');\n';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-migrations-'));
  await admin(`CREATE DATABASE "${dbName}"`);
});

afterAll(async () => {
  await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await rm(root, { recursive: true, force: true });
});

describe('applyMigrations', () => {
  it('applies migrations in folder order inside the service schema, recorded as Prisma records them', async () => {
    // Written out of order on purpose: the folder name's timestamp decides.
    const options = await fixture({ '20260102000000_add_name': ADD_NAME, '20260101000000_init': INIT });

    const result = await applyMigrations(options);

    expect(result.applied).toEqual(['20260101000000_init', '20260102000000_add_name']);
    expect(await query(`SELECT id, name FROM "${options.schema}".item`)).toEqual([{ id: 1, name: 'one' }]);
    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null; applied_steps_count: number; logs: string | null }>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count, logs
       FROM "${options.schema}"._prisma_migrations ORDER BY started_at, migration_name`,
    );
    expect(rows).toEqual([
      { migration_name: '20260101000000_init', checksum: migrationChecksum(INIT), finished_at: expect.any(Date), rolled_back_at: null, applied_steps_count: 1, logs: null },
      { migration_name: '20260102000000_add_name', checksum: migrationChecksum(ADD_NAME), finished_at: expect.any(Date), rolled_back_at: null, applied_steps_count: 1, logs: null },
    ]);
  });

  it('accepts migrations that name the schema explicitly, as Prisma writes them', async () => {
    const options = await fixture({});
    await write(options.migrationsDir, '20260101000000_init', `CREATE SCHEMA IF NOT EXISTS "${options.schema}";\nCREATE TABLE "${options.schema}"."thing" ("id" UUID NOT NULL);\n`);

    expect((await applyMigrations(options)).applied).toEqual(['20260101000000_init']);
    expect(await query(`SELECT to_regclass('"${options.schema}".thing') IS NOT NULL AS ok`)).toEqual([{ ok: true }]);
  });

  it('applies nothing on a second run, and only the new migration once one is added', async () => {
    const options = await fixture({ '20260101000000_init': INIT });
    await applyMigrations(options);

    expect(await applyMigrations(options)).toEqual({ applied: [] });

    await write(options.migrationsDir, '20260102000000_add_name', ADD_NAME);
    expect(await applyMigrations(options)).toEqual({ applied: ['20260102000000_add_name'] });
  });

  it('applies each migration exactly once when several runners start together', async () => {
    const options = await fixture({ '20260101000000_init': INIT, '20260102000000_add_name': ADD_NAME });

    const results = await Promise.all(Array.from({ length: 5 }, () => applyMigrations(options)));

    expect(results.flatMap((r) => r.applied).sort()).toEqual(['20260101000000_init', '20260102000000_add_name']);
    expect(await query(`SELECT count(*)::int AS n FROM "${options.schema}"._prisma_migrations`)).toEqual([{ n: 2 }]);
  });

  it('refuses to continue when an applied migration was edited, naming it', async () => {
    const options = await fixture({ '20260101000000_init': INIT });
    await applyMigrations(options);
    await write(options.migrationsDir, '20260101000000_init', INIT.replace('INTEGER', 'BIGINT'));
    await write(options.migrationsDir, '20260102000000_add_name', ADD_NAME);

    await expect(applyMigrations(options)).rejects.toThrow(/"20260101000000_init" .* was modified after it was applied/);
    expect(await pendingMigrations(options)).toEqual(['20260102000000_add_name']);
  });

  it('rolls a failing migration back whole, records the attempt as rolled back, and retries it next run', async () => {
    const options = await fixture({ '20260101000000_init': INIT, '20260102000000_bad': 'CREATE TABLE "other" ("id" INT);\nSELECT no_such_function();\n' });

    await expect(applyMigrations(options)).rejects.toThrow(/"20260102000000_bad" .* failed and was rolled back: function no_such_function\(\) does not exist/);
    expect(await query(`SELECT to_regclass('"${options.schema}".other') AS t`)).toEqual([{ t: null }]);
    expect(await pendingMigrations(options)).toEqual(['20260102000000_bad']);

    await write(options.migrationsDir, '20260102000000_bad', 'CREATE TABLE "other" ("id" INT);\n');
    expect(await applyMigrations(options)).toEqual({ applied: ['20260102000000_bad'] });
  });

  it('refuses to continue after a failure Prisma left unresolved (finished_at and rolled_back_at null)', async () => {
    const options = await fixture({ '20260101000000_init': INIT });
    await applyMigrations({ ...options, migrationsDir: (await fixture({})).migrationsDir }); // schema and table only
    await query(
      `INSERT INTO "${options.schema}"._prisma_migrations (id, checksum, migration_name, started_at)
       VALUES ('8c1f3b0e-0000-4000-8000-000000000000', $1, '20260101000000_init', now())`,
      [migrationChecksum(INIT)],
    );

    await expect(applyMigrations(options)).rejects.toThrow(/"20260101000000_init" .* failed earlier/);
  });
});

describe('pendingMigrations', () => {
  it('lists the migrations not yet applied, without creating anything', async () => {
    const options = await fixture({ '20260101000000_init': INIT });
    await write(options.migrationsDir, '20260102000000_add_name', ADD_NAME);

    expect(await pendingMigrations(options)).toEqual(['20260101000000_init', '20260102000000_add_name']);
    expect(await query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1`, [options.schema])).toEqual([{ n: 0 }]);

    await applyMigrations(options);
    expect(await pendingMigrations(options)).toEqual([]);
  });
});
