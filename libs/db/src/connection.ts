import pg from 'pg';

export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/tessera';

// Schema names end up in SQL and in a libpq `options` string, so accept only plain identifiers.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name "${schema}": use lower-case letters, digits and _`);
  return schema;
}

/**
 * A `?schema=` parameter in DATABASE_URL is stripped, never used: every service shares one
 * DATABASE_URL and owns its schema in code, so a left-over `?schema=public` (a Prisma habit)
 * must not silently send a service's queries to someone else's schema. pg ignores the
 * parameter anyway; Prisma's own CLI is the only reader, and prisma.config.ts sets it per app.
 */
export function normalizeDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.delete('schema');
  return url.toString();
}

/** Connection settings that open every session with search_path = the service schema. */
export function schemaConnectionConfig(databaseUrl: string, schema: string): pg.ClientConfig {
  // `options` is sent in the startup packet: no extra round trip, and it holds for every pooled connection.
  return { connectionString: normalizeDatabaseUrl(databaseUrl), options: `-c search_path=${assertSchemaName(schema)}` };
}

/** Any pg.Pool setting (max, idleTimeoutMillis, application_name, ...) plus the service schema. */
export type PoolOptions = { schema: string } & Omit<pg.PoolConfig, 'connectionString' | 'options'>;

/**
 * A plain pg.Pool for the hot paths Prisma is poor at (COPY, multi-row upserts, LISTEN),
 * with unqualified names resolving to the service schema.
 */
export function createPool(databaseUrl: string, opts: PoolOptions): pg.Pool {
  const { schema, ...poolConfig } = opts;
  const pool = new pg.Pool({ ...schemaConnectionConfig(databaseUrl, schema), ...poolConfig });
  // When Postgres restarts, every client's connection drops and pg emits 'error': on the pool for
  // idle clients, on the client itself for checked-out ones. Without listeners that event ends the
  // process. The failed queries still reject to their callers, and the pool replaces dead clients.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
