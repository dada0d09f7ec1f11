import type { PoolClient } from 'pg';
import { affectedSegments, loadSegments } from './segment-catalog';
import { applyMembership, lockKey, type MembershipDiff } from './membership.repository';

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
  const { segments, resolve } = await loadSegments(client, workspaceId);
  const affected = affectedSegments(segments, keys);
  if (!affected.length) return result;
  await client.query(`SELECT pg_advisory_xact_lock(${lockKey('contact', 'x')}) FROM unnest($1::text[]) AS x ORDER BY x`, [contacts]);
  await client.query(`SELECT pg_advisory_xact_lock_shared(${lockKey('segment', 'x')}) FROM unnest($1::text[]) AS x ORDER BY x`, [affected.map((s) => s.id)]);
  for (const segment of affected) {
    const diff: MembershipDiff = await applyMembership(client, segment, { contacts }, now, resolve);
    result.segments++;
    result.entered += diff.entered.length;
    result.exited += diff.exited.length;
  }
  return result;
}
