import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';

export interface IdentityHashes {
  externalIdHashes: string[];
  anonymousIdHashes: string[];
  emailHashes: string[];
  phoneHashes: string[];
}

/** Deletes what hangs off an erased contact; leaves hashed identities so late events stay dead. */
@Injectable()
export class ErasureRepository {
  /**
   * sha256 hex of each identity value the contact holds (its own columns and its secondary
   * identities, merged profiles' included), by kind: what crm.contact.erased.v2 carries.
   * Read before eraseRelations deletes them.
   */
  async identityHashes(c: PoolClient, workspaceId: string, contactId: string): Promise<IdentityHashes> {
    const { rows } = await c.query<{ kind: string; hash: string }>(
      `SELECT kind, encode(sha256(convert_to(value, 'UTF8')), 'hex') AS hash FROM (
         SELECT kind, value FROM contact_identity WHERE workspace_id = $1 AND contact_id = $2 AND kind IN ('external_id', 'anonymous_id', 'email', 'phone')
         UNION SELECT 'external_id', external_id FROM contact WHERE workspace_id = $1 AND id = $2 AND external_id IS NOT NULL
         UNION SELECT 'email', email FROM contact WHERE workspace_id = $1 AND id = $2 AND email IS NOT NULL
         UNION SELECT 'phone', phone FROM contact WHERE workspace_id = $1 AND id = $2 AND phone IS NOT NULL
       ) i ORDER BY kind, hash`,
      [workspaceId, contactId],
    );
    const of = (kind: string): string[] => rows.filter((r) => r.kind === kind).map((r) => r.hash);
    return { externalIdHashes: of('external_id'), anonymousIdHashes: of('anonymous_id'), emailHashes: of('email'), phoneHashes: of('phone') };
  }

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
