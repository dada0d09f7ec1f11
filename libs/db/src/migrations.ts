import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { assertSchemaName, normalizeDatabaseUrl } from './connection';

// A plain `prisma migrate deploy`: same folders, same `_prisma_migrations` table, same lock,
// so a connected machine's `prisma migrate deploy` / `migrate status` accept the history we write.

/** The key Prisma's schema engine locks on (database-wide, shared by every service, like Prisma). */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

export interface MigrationOptions {
  databaseUrl: string;
  /** The service's Postgres schema; `_prisma_migrations` lives inside it. */
  schema: string;
  /** A Prisma migrations folder: `<yyyymmddHHMMSS>_<name>/migration.sql` + `migration_lock.toml`. */
  migrationsDir: string;
  log?: (entry: MigrationLogEntry) => void;
}

export interface MigrationLogEntry {
  msg: 'migration applied';
  schema: string;
  migration: string;
  durationMs: number;
}

export interface LocalMigration {
  name: string;
  sql: string;
  checksum: string;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/** Prisma's own DDL for the table (schema engine, postgres flavour). */
const createMigrationsTable = (schema: string): string => `CREATE TABLE IF NOT EXISTS "${schema}"."_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export function migrationChecksum(sql: string | Buffer): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** The folder's migrations in Prisma's order (lexicographic folder names). */
export async function readMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  const lockFile = join(migrationsDir, 'migration_lock.toml');
  if (existsSync(lockFile)) {
    const provider = /provider\s*=\s*"([^"]+)"/.exec(await readFile(lockFile, 'utf8'))?.[1];
    if (provider !== 'postgresql') throw new Error(`${lockFile}: provider is "${provider}", expected "postgresql"`);
  }
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const migrations: LocalMigration[] = [];
  for (const name of names) {
    const file = join(migrationsDir, name, 'migration.sql');
    if (!existsSync(file)) continue; // Prisma skips folders without a script too
    const bytes = await readFile(file);
    migrations.push({ name, sql: bytes.toString('utf8'), checksum: migrationChecksum(bytes) });
  }
  return migrations;
}

/** Rows that count: rolled-back attempts are history only (Prisma re-applies those migrations). */
async function readApplied(client: pg.Client, schema: string): Promise<AppliedRow[]> {
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`"${schema}"."_prisma_migrations"`]);
  if (!exists.rows[0]?.t) return [];
  const { rows } = await client.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "${schema}"."_prisma_migrations"
     WHERE rolled_back_at IS NULL ORDER BY started_at`,
  );
  return rows;
}

/** Throws on a history Prisma would refuse too; returns the migrations still to apply. */
function plan(schema: string, local: LocalMigration[], applied: AppliedRow[]): LocalMigration[] {
  const failed = applied.find((row) => row.finished_at === null);
  if (failed) {
    throw new Error(
      `migration "${failed.migration_name}" in schema "${schema}" failed earlier and was not rolled back: ` +
        'fix the database by hand, then mark it with `prisma migrate resolve --rolled-back` or `--applied`',
    );
  }
  const appliedByName = new Map(applied.map((row) => [row.migration_name, row]));
  for (const migration of local) {
    const row = appliedByName.get(migration.name);
    if (row && row.checksum !== migration.checksum) {
      throw new Error(
        `migration "${migration.name}" in schema "${schema}" was modified after it was applied ` +
          `(checksum ${row.checksum} in the database, ${migration.checksum} on disk): add a new migration instead`,
      );
    }
  }
  // Names applied in the database but missing here are ignored: an older image rolled back to
  // must still start while a newer one's (expand-only) migrations stay in place.
  return local.filter((migration) => !appliedByName.has(migration.name));
}

async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: normalizeDatabaseUrl(databaseUrl), application_name: 'tessera-migrate' });
  await client.connect();
  return client;
}

/**
 * Applies the pending migrations of one service, each in its own transaction together with
 * its `_prisma_migrations` row. Safe to run from many replicas at once (Prisma's advisory lock).
 */
export async function applyMigrations(options: MigrationOptions): Promise<{ applied: string[] }> {
  const schema = assertSchemaName(options.schema);
  const local = await readMigrations(options.migrationsDir);
  const client = await connect(options.databaseUrl);
  try {
    // Wait for any other runner; everything below reads state only after we hold the lock.
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(createMigrationsTable(schema));

    const pending = plan(schema, local, await readApplied(client, schema));
    const applied: string[] = [];
    for (const migration of pending) {
      const started = Date.now();
      await applyOne(client, schema, migration);
      applied.push(migration.name);
      options.log?.({ msg: 'migration applied', schema, migration: migration.name, durationMs: Date.now() - started });
    }
    return { applied };
  } finally {
    // Closing the session would release the lock too; unlocking first keeps a reused server tidy.
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}

async function applyOne(client: pg.Client, schema: string, migration: LocalMigration): Promise<void> {
  const id = randomUUID();
  try {
    await client.query('BEGIN');
    // SET LOCAL: a migration that changes search_path cannot leak it into the next one.
    await client.query(`SET LOCAL search_path TO "${schema}"`);
    // Simple protocol: runs the whole multi-statement script, $$-bodies included. (So a migration
    // must not contain its own BEGIN/COMMIT; Prisma never writes one.)
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "${schema}"."_prisma_migrations"
         (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, now(), 1)`,
      [id, migration.checksum, migration.name],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    // Record the attempt as Prisma would, marked rolled back (the transaction undid it), so the
    // history explains the failure and the next run simply retries.
    await client
      .query(
        `INSERT INTO "${schema}"."_prisma_migrations"
           (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
         VALUES ($1, $2, NULL, $3, $4, now(), now(), 0)`,
        [id, migration.checksum, migration.name, message],
      )
      .catch(() => undefined);
    throw new Error(`migration "${migration.name}" in schema "${schema}" failed and was rolled back: ${message}`, { cause: error });
  }
}

/** Migrations on disk not yet applied (read-only: for readiness probes and status). */
export async function pendingMigrations(options: MigrationOptions): Promise<string[]> {
  const schema = assertSchemaName(options.schema);
  const local = await readMigrations(options.migrationsDir);
  const client = await connect(options.databaseUrl);
  try {
    const done = new Set((await readApplied(client, schema)).filter((r) => r.finished_at !== null).map((r) => r.migration_name));
    return local.filter((m) => !done.has(m.name)).map((m) => m.name);
  } finally {
    await client.end();
  }
}
