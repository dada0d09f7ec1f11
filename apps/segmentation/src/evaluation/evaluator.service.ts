import type { PoolClient } from 'pg';
import { affectedSegments, loadSegments } from './segment-catalog';
import { applyMembership, lockContacts, lockKey, type MembershipDiff } from './membership.repository';

export interface EvaluationResult {
  segments: number;
  entered: number;
  exited: number;
}

/**
 * Real-time evaluation, inside the transaction that changed the projection: only the segments whose
 * dependencies meet the changed keys, only for the changed contacts. Contacts are locked (sorted, so
 * concurrent batches cannot deadlock), then each segment is share-locked so a batch recomputation of
 * that segment (exclusive lock) is never interleaved with a real-time diff.
 */
export async function reevaluateContacts(client: PoolClient, workspaceId: string, contactIds: string[], keys: Set<string> | '*', now: Date): Promise<EvaluationResult> {
  const contacts = [...new Set(contactIds)].sort();
  const result: EvaluationResult = { segments: 0, entered: 0, exited: 0 };
  if (!contacts.length) return result;
  const { segments } = await loadSegments(client, workspaceId);
  const candidates = affectedSegments(segments, keys);
  if (!candidates.length) return result;
  await lockContacts(client, contacts);
  await client.query(`SELECT pg_advisory_xact_lock_shared(${lockKey('segment', 'x')}) FROM unnest($1::text[]) AS x ORDER BY x`, [candidates.map((s) => s.id)]);
  // Read the definitions again now that the segments are locked: an edit or deletion that committed
  // between the first read and the lock must not be overwritten with the old definition.
  const current = await loadSegments(client, workspaceId);
  const affected = candidates.flatMap((c) => current.segments.filter((s) => s.id === c.id));
  const resolve = current.resolve;
  for (const segment of affected) {
    const diff: MembershipDiff = await applyMembership(client, segment, { contacts }, now, resolve);
    result.segments++;
    result.entered += diff.entered;
    result.exited += diff.exited;
  }
  return result;
}
