import type { Pool } from 'pg';
import { COLUMNS, type ContactRow, type LookupKind } from './contact-store.repository';

export type LiveContact = ContactRow & { tags: string[] };

function lookupManySql(kind: LookupKind): string {
  const column = kind === 'anonymous_id' ? null : kind;
  return `SELECT q.n::int AS n, ${COLUMNS}, ARRAY(SELECT tag FROM contact_tag t WHERE t.contact_id = c.id ORDER BY tag) AS tags
   FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS q(w, v, n)
   CROSS JOIN LATERAL (
     SELECT COALESCE(h.merged_into, h.id) AS live_id FROM (
       ${column ? `(SELECT id FROM contact WHERE workspace_id = q.w AND ${column} = q.v AND erased_at IS NULL) UNION ALL` : ''}
       (SELECT contact_id AS id FROM contact_identity WHERE workspace_id = q.w AND kind = $3 AND value = q.v)
       LIMIT 1
     ) hit JOIN contact h ON h.id = hit.id
   ) live
   JOIN contact c ON c.id = live.live_id AND c.workspace_id = q.w`;
}

const LOOKUP_MANY_SQL: Record<LookupKind, string> = { external_id: lookupManySql('external_id'), email: lookupManySql('email'), anonymous_id: lookupManySql('anonymous_id') };

/**
 * `ContactStore.lookupLive` for many identities of one kind in ONE statement, each answered as
 * that method would (the unique column first, else a secondary identity; one merge hop; tags), in
 * the order given (undefined: none). The lookup API coalesces concurrent requests into it.
 */
export async function lookupLiveMany(pool: Pool, kind: LookupKind, items: { workspaceId: string; value: string }[]): Promise<(LiveContact | undefined)[]> {
  // Named, so each pooled connection parses and plans it once.
  const { rows } = await pool.query<LiveContact & { n: number }>({
    name: `crm_lookup_many_${kind}`,
    text: LOOKUP_MANY_SQL[kind],
    values: [items.map((i) => i.workspaceId), items.map((i) => i.value), kind],
  });
  const found: (LiveContact | undefined)[] = new Array(items.length).fill(undefined);
  for (const row of rows) found[row.n - 1] = row;
  return found;
}
