import type { QueryConfig } from 'pg';

/**
 * A hot-path statement as a named prepared statement: each pooled connection has Postgres parse,
 * analyse and plan it once, then only binds and executes it. Measured on writeBatch (seven CTEs)
 * with 20 new instances: 1.3 ms of backend CPU per call instead of 2.4-2.9 ms, i.e. planning cost
 * more than writing the rows. The name is journeys-wide: one name, one text.
 */
export function prepared(name: string, text: string): (values: unknown[]) => QueryConfig {
  const statement = `journeys_${name}`;
  return (values) => ({ name: statement, text, values });
}
