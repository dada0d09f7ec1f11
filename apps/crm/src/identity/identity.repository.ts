import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';

export interface IdentityKey {
  workspaceId: string;
  kind: 'external_id' | 'anonymous_id';
  value: string;
}

export interface ResolvedIdentity {
  w: string;
  k: string;
  v: string;
  /** The live contact (merge pointer followed), absent for a tombstone hit. */
  id: string | null;
  ext: string | null;
  dead: boolean;
  erased_at: Date | null;
}

/** Bulk identity lookups for a batch of bus events (a fixed number of queries, whatever the batch size). */
@Injectable()
export class IdentityRepository {
  /**
   * Every identity of the batch in one round trip: hits on contact.external_id and on
   * contact_identity (merge pointers followed), and erasure tombstones by identity hash for the
   * identities no live profile holds (only those can be dropped as late; most of a batch's
   * identities are held, so most skip the hash and its probe).
   */
  async resolve(c: PoolClient, keys: IdentityKey[]): Promise<ResolvedIdentity[]> {
    if (!keys.length) return [];
    // Tombstones are found by sha256 of "kind:value", hashed here in SQL (as erasure writes them).
    const { rows } = await c.query<ResolvedIdentity>(
      `WITH keys AS (SELECT w, k, v FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(w, k, v)),
       hits AS (
         SELECT k.w, k.k, k.v, c.id, 1 AS src FROM keys k JOIN contact c ON k.k = 'external_id' AND c.workspace_id = k.w AND c.external_id = k.v
         UNION ALL
         SELECT k.w, k.k, k.v, i.contact_id, 2 FROM keys k JOIN contact_identity i ON i.workspace_id = k.w AND i.kind = k.k AND i.value = k.v
       ), found AS (
         SELECT h.w, h.k, h.v, COALESCE(p.id, c.id) AS id, CASE WHEN p.id IS NULL THEN c.external_id ELSE p.external_id END AS ext,
           (COALESCE(p.erased_at, c.erased_at) IS NOT NULL OR p.merged_into IS NOT NULL) AS dead, NULL::timestamptz AS erased_at, h.src
         FROM hits h JOIN contact c ON c.id = h.id LEFT JOIN contact p ON p.id = c.merged_into
       )
       SELECT * FROM (
         SELECT * FROM found
         UNION ALL
         SELECT k.w, k.k, k.v, NULL, NULL, true, c.erased_at, 3 FROM keys k
           JOIN contact_identity i ON i.workspace_id = k.w AND i.kind = 'erased' AND i.value = encode(sha256(convert_to(k.k || ':' || k.v, 'UTF8')), 'hex')
           JOIN contact c ON c.id = i.contact_id
           WHERE NOT EXISTS (SELECT 1 FROM found f WHERE f.w = k.w AND f.k = k.k AND f.v = k.v AND NOT f.dead)
       ) r ORDER BY src`,
      [keys.map((k) => k.workspaceId), keys.map((k) => k.kind), keys.map((k) => k.value)],
    );
    return rows;
  }

  /** Which of these emails are held, and by whom. */
  async emailOwners(c: PoolClient, pairs: { workspaceId: string; email: string }[]): Promise<Map<string, string>> {
    if (!pairs.length) return new Map();
    const { rows } = await c.query<{ w: string; e: string; id: string }>(
      'SELECT u.w, u.e, c.id FROM unnest($1::uuid[], $2::text[]) AS u(w, e) JOIN contact c ON c.workspace_id = u.w AND c.email = u.e',
      [pairs.map((p) => p.workspaceId), pairs.map((p) => p.email)],
    );
    return new Map(rows.map((r) => [`${r.w}|${r.e}`, r.id]));
  }
}
