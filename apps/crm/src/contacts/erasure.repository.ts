import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';

/** Deletes what hangs off an erased contact; leaves hashed identities so late events stay dead. */
@Injectable()
export class ErasureRepository {
  async eraseRelations(c: PoolClient, workspaceId: string, contactId: string): Promise<void> {
    const p = [workspaceId, contactId];
    // Keep sha256 of every identity (kind 'erased'), pointing at the tombstone: late bus events
    // for the same person are recognised and dropped without keeping the identity itself.
    await c.query(
      `INSERT INTO contact_identity (workspace_id, kind, value, contact_id)
         SELECT $1::uuid, 'erased', encode(sha256(convert_to(kind || ':' || value, 'UTF8')), 'hex'), $2::uuid FROM contact_identity WHERE workspace_id = $1 AND contact_id = $2 AND kind <> 'erased'
         UNION SELECT $1::uuid, 'erased', encode(sha256(convert_to('external_id:' || external_id, 'UTF8')), 'hex'), $2::uuid FROM contact WHERE id = $2 AND external_id IS NOT NULL
       ON CONFLICT (workspace_id, kind, value) DO UPDATE SET contact_id = EXCLUDED.contact_id`,
      p,
    );
    await c.query(`DELETE FROM contact_identity WHERE workspace_id = $1 AND contact_id = $2 AND kind <> 'erased'`, p);
    await c.query('DELETE FROM contact_tag WHERE workspace_id = $1 AND contact_id = $2', p);
    await c.query('DELETE FROM list_member WHERE workspace_id = $1 AND contact_id = $2', p);
    await c.query('DELETE FROM consent WHERE workspace_id = $1 AND contact_id = $2', p);
    await c.query('DELETE FROM consent_history WHERE workspace_id = $1 AND contact_id = $2', p);
    await c.query('DELETE FROM object_record WHERE workspace_id = $1 AND contact_id = $2', p);
    // Merged losers are bare pointers; erase them with the person.
    await c.query('UPDATE contact SET erased_at = now() WHERE workspace_id = $1 AND merged_into = $2', p);
  }
}
