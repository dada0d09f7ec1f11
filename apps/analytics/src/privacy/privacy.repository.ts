import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { PG_POOL } from '@tessera/service-kit';

/** Stands in for an erased contact where a row must keep a contact (journey conversion counts). */
export const ERASED_CONTACT_ID = '00000000-0000-0000-0000-000000000000';

@Injectable()
export class PrivacyRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * Erasure: facts keep only ids (see fact-mappers), so the contact's facts lose their contact
   * and actor; its distinct-actor rows go. Aggregates (already anonymous counts) stay.
   */
  async erase(workspaceId: string, contactId: string): Promise<void> {
    await this.tx(async (c) => {
      await c.query('UPDATE fact SET contact_id = NULL, actor = NULL WHERE workspace_id = $1 AND (contact_id = $2 OR actor = $3)', [workspaceId, contactId, contactId]);
      await c.query('DELETE FROM unique_actor WHERE workspace_id = $1 AND actor = $2', [workspaceId, contactId]);
      await c.query('UPDATE journey_instance SET contact_id = $3 WHERE workspace_id = $1 AND contact_id = $2', [workspaceId, contactId, ERASED_CONTACT_ID]);
    });
  }

  /**
   * Merge: re-key per-contact rows from `from` to `into`. Counts do not change; a day on which
   * both were counted as distinct actors now has one actor fewer, so that uniq rollup drops by one.
   * Idempotent: a redelivered merge finds nothing left to move.
   */
  async merge(workspaceId: string, into: string, from: string): Promise<void> {
    await this.tx(async (c) => {
      // One pass over the workspace's facts for both columns (no index on either: see schema.prisma).
      await c.query(
        `UPDATE fact SET contact_id = CASE WHEN contact_id = $3::text::uuid THEN $2::text::uuid ELSE contact_id END, actor = CASE WHEN actor = $3::text THEN $2::text ELSE actor END
         WHERE workspace_id = $1 AND (contact_id = $3::text::uuid OR actor = $3::text)`,
        [workspaceId, into, from],
      );
      const { rows: dups } = await c.query<{ scope: string; day: string }>(
        `DELETE FROM unique_actor m WHERE m.workspace_id = $1 AND m.actor = $3
           AND EXISTS (SELECT 1 FROM unique_actor s WHERE s.workspace_id = m.workspace_id AND s.scope = m.scope AND s.day = m.day AND s.actor = $2)
         RETURNING scope, to_char(day, 'YYYY-MM-DD') AS day`,
        [workspaceId, into, from],
      );
      if (dups.length) {
        await c.query(
          `UPDATE rollup r SET count = r.count - d.n
           FROM (SELECT split_part(scope, E'\\x1f', 1) AS metric, split_part(scope, E'\\x1f', 2) AS dim, split_part(scope, E'\\x1f', 3) AS value, day::date AS day, count(*) AS n
                 FROM unnest($2::text[], $3::text[]) AS x(scope, day) GROUP BY 1, 2, 3, 4) d
           WHERE r.workspace_id = $1 AND r.grain = 'd' AND r.metric = 'uniq:' || d.metric AND r.dim = d.dim AND r.value = d.value
             AND r.bucket = d.day::timestamp AT TIME ZONE COALESCE((SELECT timezone FROM workspace_setting WHERE workspace_id = $1), 'UTC')`,
          [workspaceId, dups.map((d) => d.scope), dups.map((d) => d.day)],
        );
      }
      await c.query('UPDATE unique_actor SET actor = $2 WHERE workspace_id = $1 AND actor = $3', [workspaceId, into, from]);
      await c.query('UPDATE journey_instance SET contact_id = $2 WHERE workspace_id = $1 AND contact_id = $3', [workspaceId, into, from]);
    });
  }

  private async tx(fn: (c: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await fn(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
