import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@tessera/service-kit';

@Injectable()
export class WorkspacesRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async timezone(workspaceId: string): Promise<string> {
    const { rows } = await this.pool.query<{ timezone: string }>('SELECT timezone FROM workspace_setting WHERE workspace_id = $1', [workspaceId]);
    return rows[0]?.timezone ?? 'UTC';
  }

  /**
   * Records the zone; if local-day rollups were already built in another zone (events that arrived
   * before this event), rebuilds the counters' day rows from the hourly ones. Distinct-actor and
   * property-value day rows have no hourly source and keep their original days.
   */
  async setTimezone(workspaceId: string, timezone: string): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ timezone: string }>('SELECT timezone FROM workspace_setting WHERE workspace_id = $1 FOR UPDATE', [workspaceId]);
      const previous = rows[0]?.timezone ?? 'UTC';
      await client.query(
        `INSERT INTO workspace_setting (workspace_id, timezone) VALUES ($1, $2)
         ON CONFLICT (workspace_id) DO UPDATE SET timezone = EXCLUDED.timezone, updated_at = now()`,
        [workspaceId, timezone],
      );
      if (previous !== timezone) {
        await client.query(`DELETE FROM rollup WHERE workspace_id = $1 AND grain = 'd' AND metric NOT LIKE 'uniq:%' AND metric NOT LIKE 'event.prop:%'`, [workspaceId]);
        await client.query(
          `INSERT INTO rollup (workspace_id, grain, dim, bucket, metric, value, count)
           SELECT workspace_id, 'd', dim, date_trunc('day', bucket AT TIME ZONE $2) AT TIME ZONE $2, metric, value, sum(count)
           FROM rollup WHERE workspace_id = $1 AND grain = 'h' GROUP BY 1, 2, 3, 4, 5, 6`,
          [workspaceId, timezone],
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
