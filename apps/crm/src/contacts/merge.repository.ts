import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';

/** Moves everything hanging off a losing profile onto the winner (inside the merge transaction). */
@Injectable()
export class MergeRepository {
  async moveRelations(c: PoolClient, workspaceId: string, winnerId: string, loserId: string): Promise<void> {
    const w = [workspaceId, winnerId, loserId];
    const l = [workspaceId, loserId];
    await c.query('UPDATE contact_identity SET contact_id = $2 WHERE workspace_id = $1 AND contact_id = $3', w);
    // Flatten pointers so any old id is one hop from the live profile.
    await c.query('UPDATE contact SET merged_into = $2 WHERE workspace_id = $1 AND merged_into = $3', w);
    await c.query(
      `INSERT INTO contact_tag (workspace_id, contact_id, tag, added_at) SELECT workspace_id, $2::uuid, tag, added_at FROM contact_tag WHERE workspace_id = $1 AND contact_id = $3
       ON CONFLICT (contact_id, tag) DO UPDATE SET added_at = LEAST(contact_tag.added_at, EXCLUDED.added_at)`,
      w,
    );
    await c.query('DELETE FROM contact_tag WHERE workspace_id = $1 AND contact_id = $2', l);
    await c.query(
      `INSERT INTO list_member (list_id, contact_id, workspace_id, added_at) SELECT list_id, $2::uuid, workspace_id, added_at FROM list_member WHERE workspace_id = $1 AND contact_id = $3
       ON CONFLICT (list_id, contact_id) DO UPDATE SET added_at = LEAST(list_member.added_at, EXCLUDED.added_at)`,
      w,
    );
    await c.query('DELETE FROM list_member WHERE workspace_id = $1 AND contact_id = $2', l);
    // Consent: the most recent change per channel/group wins; on a tie an unsubscribe wins.
    await c.query(
      `INSERT INTO consent (workspace_id, contact_id, channel, group_name, state, source, changed_at)
         SELECT workspace_id, $2::uuid, channel, group_name, state, source, changed_at FROM consent WHERE workspace_id = $1 AND contact_id = $3
       ON CONFLICT (contact_id, channel, group_name) DO UPDATE SET state = EXCLUDED.state, source = EXCLUDED.source, changed_at = EXCLUDED.changed_at
         WHERE EXCLUDED.changed_at > consent.changed_at OR (EXCLUDED.changed_at = consent.changed_at AND EXCLUDED.state = 'unsubscribed')`,
      w,
    );
    await c.query('DELETE FROM consent WHERE workspace_id = $1 AND contact_id = $2', l);
    await c.query('UPDATE consent_history SET contact_id = $2 WHERE workspace_id = $1 AND contact_id = $3', w);
    await c.query('UPDATE object_record SET contact_id = $2 WHERE workspace_id = $1 AND contact_id = $3', w);
  }
}
