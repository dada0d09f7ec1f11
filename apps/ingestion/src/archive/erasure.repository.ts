import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@tessera/service-kit';

/** Every archived event of a workspace whose userId or anonymousId hashes to one of $2. */
export const DELETE_ARCHIVED_BY_HASH = `DELETE FROM event_archive WHERE workspace_id = $1
  AND ((user_id IS NOT NULL AND identity_sha256(user_id) = ANY($2::bytea[]))
    OR (anonymous_id IS NOT NULL AND identity_sha256(anonymous_id) = ANY($2::bytea[])))`;

/**
 * The archive's side of a privacy erasure. People are named by sha256 of their ids (what
 * crm.contact.erased.v2 carries); `identity_sha256(user_id / anonymous_id)` is indexed, so a
 * delete probes two indexes per partition instead of hashing the whole archive.
 */
@Injectable()
export class ArchiveErasureRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * Remembers the hashes and deletes every archived event whose userId or anonymousId has one of
   * them, in one transaction. Idempotent: a redelivery finds nothing more to delete.
   */
  async erase(workspaceId: string, hashesHex: string[], erasedAt: Date): Promise<number> {
    if (!hashesHex.length) return 0;
    const hashes = [...new Set(hashesHex)].map((h) => Buffer.from(h, 'hex'));
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO erased_identity (workspace_id, sha256, erased_at) SELECT $1::uuid, h, $3 FROM unnest($2::bytea[]) AS h
         ON CONFLICT (workspace_id, sha256) DO NOTHING`,
        [workspaceId, hashes, erasedAt],
      );
      const deleted = await client.query(DELETE_ARCHIVED_BY_HASH, [workspaceId, hashes]);
      await client.query('COMMIT');
      return deleted.rowCount ?? 0;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * Deletes events of erased identities received in the last `hours`: SDKs that still hold an
   * erased id keep sending it, and such events may also be archived just after the erasure ran.
   * Driven from the (small) erased set: one index probe per identity and recent partition, never
   * a hash of every recent row. Two steps, so the delete is planned for the few keys found.
   */
  async sweepLateArrivals(hours: number): Promise<number> {
    const { rows } = await this.pool.query<{ id: string; received_at: Date }>(
      `SELECT a.id, a.received_at FROM erased_identity e CROSS JOIN LATERAL (
         SELECT id, received_at FROM event_archive
          WHERE workspace_id = e.workspace_id AND user_id IS NOT NULL AND identity_sha256(user_id) = e.sha256 AND received_at >= now() - make_interval(hours => $1)
         UNION
         SELECT id, received_at FROM event_archive
          WHERE workspace_id = e.workspace_id AND anonymous_id IS NOT NULL AND identity_sha256(anonymous_id) = e.sha256 AND received_at >= now() - make_interval(hours => $1)
       ) a`,
      [hours],
    );
    if (!rows.length) return 0;
    const result = await this.pool.query(
      'DELETE FROM event_archive t USING unnest($1::uuid[], $2::timestamptz[]) AS d(id, received_at) WHERE t.id = d.id AND t.received_at = d.received_at',
      [rows.map((r) => r.id), rows.map((r) => r.received_at)],
    );
    return result.rowCount ?? 0;
  }
}
