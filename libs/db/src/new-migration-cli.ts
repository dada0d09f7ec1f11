// `pnpm migration:new <app> <name>`: writes the SQL that brings apps/<app>/prisma/migrations up to
// apps/<app>/prisma/schema.prisma as a new Prisma-format migration (what `prisma migrate dev
// --create-only` does, offline). Review the file before committing; add hand-written parts
// (triggers, partitions) below the generated SQL.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { DEFAULT_DATABASE_URL } from './connection';
import { diffMigrationsToSchema } from './migrations-drift';

async function main(): Promise<void> {
  const [app, name] = process.argv.slice(2);
  if (!app || !name || !/^[a-z0-9_]+$/.test(name)) {
    process.stderr.write('usage: pnpm migration:new <app> <snake_case_name>\n');
    process.exit(2);
  }
  const prismaDir = resolve(__dirname, '../../../apps', app, 'prisma');
  const server = new URL(process.env['DATABASE_URL'] || DEFAULT_DATABASE_URL);
  const shadow = `tessera_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client(Object.assign(new URL(server), { pathname: '/postgres' }).toString());
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${shadow}"`);
    const sql = await diffMigrationsToSchema({
      schemaPath: join(prismaDir, 'schema.prisma'),
      migrationsDir: join(prismaDir, 'migrations'),
      shadowDatabaseUrl: Object.assign(new URL(server), { pathname: `/${shadow}` }).toString(),
    });
    if (!sql.trim()) {
      process.stdout.write(`apps/${app}: migrations already match schema.prisma; nothing written\n`);
      return;
    }
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const dir = join(prismaDir, 'migrations', `${stamp}_${name}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'migration.sql'), sql);
    process.stdout.write(`wrote ${dir}/migration.sql\n`);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${shadow}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
