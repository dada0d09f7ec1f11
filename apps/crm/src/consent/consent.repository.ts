import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { Db } from '../contacts/contact-store.repository';

export interface ConsentRow {
  channel: string;
  group: string | null;
  state: string;
  source: string;
  changedAt: Date;
}

export interface ConsentChange {
  workspaceId: string;
  contactId: string;
  channel: string;
  group: string;
  state: string;
  source: string;
  changedAt: Date;
}

@Injectable()
export class ConsentRepository {
  /**
   * Records a change in the history and makes it current unless a more recent change is current
   * already (on equal times an unsubscribe wins). Returns whether the current state changed.
   */
  async apply(c: PoolClient, change: ConsentChange): Promise<boolean> {
    const p = [change.workspaceId, change.contactId, change.channel, change.group, change.state, change.source, change.changedAt];
    await c.query(
      `INSERT INTO consent_history (id, workspace_id, contact_id, channel, group_name, state, source, changed_at) VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7)`,
      p,
    );
    const { rows } = await c.query<{ state: string; changed: boolean }>(
      `WITH prev AS (SELECT state FROM consent WHERE contact_id = $2 AND channel = $3 AND group_name = $4 FOR UPDATE)
       INSERT INTO consent (workspace_id, contact_id, channel, group_name, state, source, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (contact_id, channel, group_name) DO UPDATE SET state = EXCLUDED.state, source = EXCLUDED.source, changed_at = EXCLUDED.changed_at
         WHERE EXCLUDED.changed_at > consent.changed_at OR (EXCLUDED.changed_at = consent.changed_at AND EXCLUDED.state = 'unsubscribed')
       RETURNING (SELECT state FROM prev) AS state, true AS changed`,
      p,
    );
    return rows.length === 1 && rows[0]!.state !== change.state;
  }

  async current(db: Db, contactId: string): Promise<ConsentRow[]> {
    const { rows } = await db.query<ConsentRow>(
      `SELECT channel, NULLIF(group_name, '') AS "group", state, source, changed_at AS "changedAt" FROM consent WHERE contact_id = $1 ORDER BY channel, group_name`,
      [contactId],
    );
    return rows;
  }

  async history(db: Db, contactId: string): Promise<(ConsentRow & { recordedAt: Date })[]> {
    const { rows } = await db.query<ConsentRow & { recordedAt: Date }>(
      `SELECT channel, NULLIF(group_name, '') AS "group", state, source, changed_at AS "changedAt", recorded_at AS "recordedAt"
       FROM consent_history WHERE contact_id = $1 ORDER BY changed_at, recorded_at`,
      [contactId],
    );
    return rows;
  }

  /** Live contacts with this phone number (a number can be shared). */
  async liveByPhone(c: PoolClient, workspaceId: string, phone: string): Promise<string[]> {
    const { rows } = await c.query<{ id: string }>('SELECT id FROM contact WHERE workspace_id = $1 AND phone = $2 AND merged_into IS NULL AND erased_at IS NULL ORDER BY id', [workspaceId, phone]);
    return rows.map((r) => r.id);
  }
}
