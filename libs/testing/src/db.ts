import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DEFAULT_DATABASE_URL } from '@tessera/db';

/**
 * Every service's migrations, applied once per change by global-setup.ts, into a template named by
 * the hash of those migrations: two trees with different migrations (two branches, two engineers
 * on one machine) each get their own and never rebuild each other's.
 */
export const TEMPLATE_PREFIX = 'tessera_tpl_';

/** The template global-setup prepared for this run (it passes the name to test workers in the environment). */
export function templateDatabase(): string {
  const name = process.env['TESSERA_TEST_TEMPLATE'];
  if (!name) throw new Error('No test template database: run tests through vitest (its global setup builds the template)');
  return name;
}
/** Test databases are `tessera_t_<created, base36 ms>_<random>`: the age in the name lets global setup sweep leftovers. */
export const TEST_DATABASE_PREFIX = 'tessera_t_';

export interface TestDatabase {
  /** DATABASE_URL for the new database (no `?schema=`: each service picks its own). */
  url: string;
  /** Drops the database, closing any connection still open to it. */
  drop: () => Promise<void>;
}

export function serverUrl(): string {
  return process.env['DATABASE_URL'] || DEFAULT_DATABASE_URL;
}

/** The same server, another database (the admin one by default). */
export function databaseUrl(database = 'postgres'): string {
  const url = new URL(serverUrl());
  url.pathname = `/${database}`;
  url.searchParams.delete('schema');
  return url.toString();
}

export async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(), application_name: 'tessera-test-setup' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A private copy of the migrated template for one test file: `CREATE DATABASE ... TEMPLATE` copies
 * files instead of replaying migrations, so it costs milliseconds-to-a-second, not a migrate run.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${TEST_DATABASE_PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE "${name}" TEMPLATE "${templateDatabase()}"`));
  return {
    url: databaseUrl(name),
    drop: async () => {
      await withAdminClient(async (client) => {
        // pg's Pool.end() resolves before its sockets close; a forced drop would then kill them
        // mid-close and raise an uncaught error in the test process. Give them a moment first.
        for (let i = 0; i < 40; i++) {
          const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name]);
          if (rows[0]?.n === '0') break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
    },
  };
}
