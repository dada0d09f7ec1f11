import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATABASE_URL } from './connection';
import { diffMigrationsToSchema } from './migrations-drift';

// Each app's migrations folder must produce exactly its schema.prisma: a model edited without a
// migration (or a migration edited by hand away from the model) fails here, before deploy.

const ROOT = resolve(__dirname, '../../..');
const server = new URL(process.env['DATABASE_URL'] || DEFAULT_DATABASE_URL);

/** A scratch shadow database, dropped afterwards (named so global setup sweeps leftovers). */
async function withShadowDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `tessera_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client(Object.assign(new URL(server), { pathname: '/postgres' }).toString());
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
    return await fn(Object.assign(new URL(server), { pathname: `/${name}` }).toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

const appsWithSchema = readdirSync(join(ROOT, 'apps')).filter((app) => existsSync(join(ROOT, 'apps', app, 'prisma', 'schema.prisma')));

describe('migrations match schema.prisma', () => {
  it.each(appsWithSchema)('%s', async (app) => {
    const prismaDir = join(ROOT, 'apps', app, 'prisma');
    const sql = await withShadowDatabase((shadowDatabaseUrl) =>
      diffMigrationsToSchema({ schemaPath: join(prismaDir, 'schema.prisma'), migrationsDir: join(prismaDir, 'migrations'), shadowDatabaseUrl }),
    );
    expect(sql, `apps/${app}: the migrations lag schema.prisma; add a migration with this SQL`).toBe('');
  });

  it('reports the missing SQL when the model is ahead of the migrations', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-drift-'));
    try {
      await writeFile(
        join(dir, 'schema.prisma'),
        `datasource db {\n  provider = "postgresql"\n  schemas  = ["drift_demo"]\n}\n\n` +
          `model Thing {\n  id   Int     @id\n  name String?\n\n  @@map("thing")\n  @@schema("drift_demo")\n}\n`,
      );
      await mkdir(join(dir, 'migrations', '20260101000000_init'), { recursive: true });
      await writeFile(join(dir, 'migrations', 'migration_lock.toml'), 'provider = "postgresql"\n');
      await writeFile(
        join(dir, 'migrations', '20260101000000_init', 'migration.sql'),
        'CREATE SCHEMA IF NOT EXISTS "drift_demo";\nCREATE TABLE "drift_demo"."thing" ("id" INTEGER NOT NULL, CONSTRAINT "thing_pkey" PRIMARY KEY ("id"));\n',
      );

      const sql = await withShadowDatabase((shadowDatabaseUrl) =>
        diffMigrationsToSchema({ schemaPath: join(dir, 'schema.prisma'), migrationsDir: join(dir, 'migrations'), shadowDatabaseUrl }),
      );

      expect(sql).toContain('ALTER TABLE "thing" ADD COLUMN     "name" TEXT;');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
