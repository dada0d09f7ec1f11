import type { Pool } from 'pg';
import { withTransaction } from '@tessera/db';
import { loadSegments } from './segment-catalog';
import { applyMembership, lockKey } from './membership.repository';

/**
 * One tick of time-based evaluation: takes up to `limit` due (segment, contact) rows (SKIP LOCKED, so
 * replicas share the work), re-evaluates exactly those, and stores each one's next check. Locks are
 * only tried, never awaited: a contact or segment busy elsewhere is left for the next tick, which
 * cannot deadlock with real-time or batch evaluation. Returns the rows processed.
 */
export async function runTimeChecks(pool: Pool, now: Date, limit = 500): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ segment_id: string; contact_id: string; workspace_id: string }>(
      `SELECT segment_id, contact_id, workspace_id FROM segmentation.time_check WHERE next_check_at <= $1::timestamptz
       ORDER BY next_check_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now.toISOString(), limit],
    );
    if (!rows.length) return 0;
    const contacts = [...new Set(rows.map((r) => r.contact_id))].sort();
    const locked = await client.query<{ x: string }>(`SELECT x FROM unnest($1::text[]) AS x WHERE pg_try_advisory_xact_lock(${lockKey('contact', 'x')})`, [contacts]);
    const free = new Set(locked.rows.map((r) => r.x));
    const byWorkspace = new Map<string, Map<string, string[]>>();
    for (const r of rows) {
      if (!free.has(r.contact_id)) continue;
      const segs = byWorkspace.get(r.workspace_id) ?? new Map<string, string[]>();
      segs.set(r.segment_id, [...(segs.get(r.segment_id) ?? []), r.contact_id]);
      byWorkspace.set(r.workspace_id, segs);
    }
    let done = 0;
    for (const [workspaceId, segs] of byWorkspace) {
      const { segments, resolve } = await loadSegments(client, workspaceId);
      for (const [segmentId, contactIds] of segs) {
        const segment = segments.find((s) => s.id === segmentId);
        if (!segment || !segment.timeBased) {
          await client.query(`DELETE FROM segmentation.time_check WHERE segment_id = $1::uuid`, [segmentId]);
          continue;
        }
        const ok = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock_shared(${lockKey('segment', '$1::text')}) AS ok`, [segmentId]);
        if (!ok.rows[0]?.ok) continue;
        await applyMembership(client, segment, { contacts: contactIds }, now, resolve);
        done += contactIds.length;
      }
    }
    return done;
  });
}
