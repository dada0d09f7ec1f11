import { Injectable } from '@nestjs/common';
import { RuntimePool } from '../runtime/runtime-pool';
import type { Pool, PoolClient } from 'pg';

export interface CampaignRow {
  id: string;
  workspace_id: string;
  segment_id: string;
  action: { type: 'send' | 'journey'; channel?: string; templateId?: string; overrides?: Record<string, unknown>; data?: Record<string, unknown>; journeyId?: string };
  scheduled_at: Date;
  local_time: boolean;
  rate_per_second: number;
  status: string;
}

/** Campaign fan-out in SQL: one INSERT ... SELECT turns a segment into throttled send timers. */
@Injectable()
export class CampaignsRepository {
  private readonly pool: Pool;

  constructor(runtime: RuntimePool) {
    this.pool = runtime.pool;
  }

  async scheduleStart(workspaceId: string, campaignId: string, dueAt: Date): Promise<void> {
    await this.pool.query(`INSERT INTO timer (workspace_id, kind, campaign_id, due_at) VALUES ($1, 'campaign_start', $2, $3)`, [workspaceId, campaignId, dueAt]);
  }

  async load(client: PoolClient, ids: string[]): Promise<CampaignRow[]> {
    const { rows } = await client.query<CampaignRow>(`SELECT id, workspace_id, segment_id, action, scheduled_at, local_time, rate_per_second, status FROM campaign WHERE id = ANY($1::uuid[])`, [ids]);
    return rows;
  }

  /**
   * One send timer per member: due at the scheduled instant (or its wall-clock time in the
   * contact's zone) plus the member's rank divided by the rate, which throttles the fan-out.
   */
  async fanOut(client: PoolClient, c: CampaignRow, workspaceTimezone: string): Promise<number> {
    const wall = c.scheduled_at.toISOString().slice(0, 19).replace('T', ' ');
    const { rowCount } = await client.query(
      `INSERT INTO timer (workspace_id, kind, campaign_id, contact_id, due_at)
       SELECT $1, 'campaign_send', $2, m.contact_id,
              GREATEST(now(), CASE WHEN $5 THEN ($6::timestamp AT TIME ZONE coalesce(ct.timezone, $7)) ELSE $3::timestamptz END)
              + ((row_number() OVER (ORDER BY m.contact_id) - 1) / $4::float8) * interval '1 second'
         FROM segment_member m LEFT JOIN contact ct ON ct.workspace_id = m.workspace_id AND ct.contact_id = m.contact_id
        WHERE m.workspace_id = $1 AND m.segment_id = $8`,
      [c.workspace_id, c.id, c.scheduled_at, c.rate_per_second, c.local_time, wall, workspaceTimezone, c.segment_id],
    );
    await client.query(`UPDATE campaign SET status = 'running', audience = $2 WHERE id = $1`, [c.id, rowCount ?? 0]);
    return rowCount ?? 0;
  }

  async countRequested(client: PoolClient, counts: Map<string, number>): Promise<void> {
    for (const [id, n] of counts) {
      await client.query(
        `UPDATE campaign SET requested = requested + $2, status = CASE WHEN NOT EXISTS (SELECT 1 FROM timer WHERE campaign_id = $1) THEN 'done' ELSE status END WHERE id = $1`,
        [id, n],
      );
    }
  }

  async cancel(workspaceId: string, id: string): Promise<void> {
    await this.pool.query(`DELETE FROM timer WHERE workspace_id = $1 AND campaign_id = $2`, [workspaceId, id]);
    await this.pool.query(`UPDATE campaign SET status = 'cancelled' WHERE workspace_id = $1 AND id = $2 AND status IN ('scheduled', 'running')`, [workspaceId, id]);
  }
}
