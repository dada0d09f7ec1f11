// One transaction on a pooled pg connection: the hot paths of several services use pg directly.
import type { Pool, PoolClient } from 'pg';

/** Runs fn in one transaction on a pooled connection; rolls back on error. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Locks `keys` of one kind for the rest of the transaction (advisory locks on `<kind>:<key>`), in
 * sorted order so two transactions locking overlapping keys cannot deadlock. For writes that must
 * not interleave on an entity that may have no row to lock yet (an upsert racing an erasure).
 */
export async function lockKeys(client: PoolClient, kind: string, keys: string[]): Promise<void> {
  if (!keys.length) return;
  await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || k, 0)) FROM unnest($2::text[]) AS k ORDER BY k`, [kind, keys]);
}
