import type { QueryConfig } from 'pg';

/**
 * A hot-path statement as a named prepared statement: each pooled connection has Postgres parse,
 * analyse and plan it once, then only binds and executes it. Measured on journeys' writeBatch
 * (seven CTEs) with 20 new instances: 1.3 ms of backend CPU per call instead of 2.4-2.9 ms, i.e.
 * planning cost more than writing the rows. A name stands for one text on every connection of a
 * pool, so names must be unique within a service.
 */
export function prepared(name: string, text: string): (values: unknown[]) => QueryConfig {
  return (values) => ({ name, text, values });
}
