import type { QueryConfig } from 'pg';

/**
 * A hot-path statement as a named prepared statement: each pooled connection has Postgres parse,
 * analyse and plan it once, then only binds and executes it. Measured on journeys' writeBatch
 * (seven CTEs) with 20 new instances: 1.3 ms of backend CPU per call instead of 2.4-2.9 ms, i.e.
 * planning cost more than writing the rows. A name stands for one text on every connection of a
 * pool, so names must be unique within a service.
 * Only for statements whose plan cannot go stale: after five calls Postgres may keep a generic
 * plan for the connection's life, made from the statistics of that moment. A join on a table that
 * was empty then (`FROM json_to_recordset($1) ... WHERE m.id = i.id`) stays a sequential scan as
 * the table grows; write such lookups as `= ANY($1)` index probes, or leave them unnamed.
 */
export function prepared(name: string, text: string): (values: unknown[]) => QueryConfig {
  return (values) => ({ name, text, values });
}
