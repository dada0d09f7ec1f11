import type { PoolClient } from 'pg';
import { MEMBERSHIP_ENTERED_V1, MEMBERSHIP_EXITED_V1 } from '@tessera/contracts';
import { outboxRow } from '@tessera/bus';
import { lockKeys } from '@tessera/db';
import { membershipSelect, SqlBuilder } from '../definition/compile-definition';
import { nextCheckSelect } from '../definition/compile-next-check';
import type { SegmentDefinition } from '../definition/definition.types';
import type { SegmentResolver } from '../definition/validate-definition';

/** A live segment as the evaluator needs it. */
export interface SegmentRuntime {
  id: string;
  workspaceId: string;
  version: number;
  definition: SegmentDefinition;
  deps: string[];
  timeBased: boolean;
}

/** Which contacts one evaluation covers: some contacts (real-time, time checks) or a uuid range (a batch chunk). */
export type Scope = { contacts: string[] } | { range: [string, string | null] };

export interface MembershipDiff {
  entered: number;
  exited: number;
}

/** Advisory-lock keys: one namespace per kind, so a segment and a contact never share a key. */
export const lockKey = (kind: 'segment' | 'contact', id: string): string => `hashtextextended('${kind}:' || ${id}, 0)`;

/**
 * Locks contacts for this transaction, sorted, so concurrent transactions cannot deadlock on them.
 * Keyed by the id in lower case (as Postgres writes uuids), so an id spelled in upper case takes the
 * same lock; the same keys as lockKey('contact', ...).
 */
export async function lockContacts(client: PoolClient, contactIds: string[]): Promise<void> {
  await lockKeys(client, 'contact', contactIds.map((id) => id.toLowerCase()));
}

/** Adds a parameter to a statement and returns its placeholder with a cast, e.g. `$4::uuid`. */
export type Param = (value: unknown, cast: string) => string;

/**
 * The one evaluator: compiles the definition, restricted to a scope, and applies the membership diff,
 * its entered/exited events (outbox) and the scope's next-check rows in ONE statement, in the
 * caller's transaction: one round trip per segment, whatever the number of contacts. Real-time,
 * time-based and batch evaluation all come through here.
 */
export async function applyMembership(client: PoolClient, segment: SegmentRuntime, scope: Scope, now: Date, resolve: SegmentResolver): Promise<MembershipDiff> {
  if ('contacts' in scope && scope.contacts.length === 0) return { entered: 0, exited: 0 };
  const b = new SqlBuilder(segment.workspaceId, now, resolve);
  const p: Param = (v, cast) => b.param(v, cast);
  let inScope: (column: string) => string;
  if ('contacts' in scope) {
    const ids = p(scope.contacts, 'uuid[]');
    inScope = (column) => `${column} = ANY(${ids})`;
  } else {
    const lo = p(scope.range[0], 'uuid');
    const hi = scope.range[1] ? p(scope.range[1], 'uuid') : null;
    inScope = (column) => `${column} >= ${lo}${hi ? ` AND ${column} < ${hi}` : ''}`;
  }
  const members = membershipSelect(b, segment.definition, ` AND ${inScope('c.id')}`);
  const next = segment.timeBased ? nextCheckSelect(b, segment.definition, ` AND ${inScope('c.id')}`) : null;
  const seg = p(segment.id, 'uuid');
  const ver = p(segment.version, 'int');
  const nextChecks = next
    ? `, nxt AS MATERIALIZED (${next}),
     nxt_del AS (DELETE FROM segmentation.time_check t WHERE t.segment_id = ${seg} AND ${inScope('t.contact_id')} AND NOT EXISTS (SELECT 1 FROM nxt WHERE nxt.contact_id = t.contact_id)),
     nxt_set AS (
       INSERT INTO segmentation.time_check (segment_id, contact_id, workspace_id, next_check_at)
       SELECT ${seg}, contact_id, $1::uuid, next_check_at FROM nxt
       ON CONFLICT (segment_id, contact_id) DO UPDATE SET next_check_at = EXCLUDED.next_check_at)`
    : '';
  const { rows } = await client.query<MembershipDiff>(
    `WITH cur AS MATERIALIZED (${members}),
     ins AS (
       INSERT INTO segmentation.membership (segment_id, contact_id, workspace_id, entered_at, reason, segment_version)
       SELECT ${seg}, contact_id, $1::uuid, $2::timestamptz, jsonb_build_object('branch', COALESCE(to_jsonb(branch), '"all"')), ${ver} FROM cur
       ON CONFLICT (segment_id, contact_id) DO UPDATE SET reason = EXCLUDED.reason, segment_version = EXCLUDED.segment_version
         WHERE membership.reason IS DISTINCT FROM EXCLUDED.reason OR membership.segment_version <> EXCLUDED.segment_version
       RETURNING contact_id, reason, (xmax = 0) AS inserted),
     del AS (
       DELETE FROM segmentation.membership m WHERE m.segment_id = ${seg} AND ${inScope('m.contact_id')}
         AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.contact_id = m.contact_id)
       RETURNING m.contact_id),
     changes AS (
       SELECT 'in' AS kind, ${seg} AS segment_id, contact_id, ${ver} AS segment_version, $1::uuid AS workspace_id, reason FROM ins WHERE inserted
       UNION ALL SELECT 'out', ${seg}, contact_id, ${ver}, $1::uuid, NULL FROM del),
     ${membershipEvents(p, 'changes', now)}${nextChecks}
     SELECT count(*) FILTER (WHERE kind = 'in')::int AS entered, count(*) FILTER (WHERE kind = 'out')::int AS exited FROM changes`,
    b.params,
  );
  return rows[0] ?? { entered: 0, exited: 0 };
}

const PLACEHOLDER = '00000000-0000-4000-8000-000000000000';

/**
 * CTEs (for a WITH list) that insert into the outbox one entered/exited event per row of CTE
 * `source` (columns: kind 'in'|'out', segment_id, contact_id, segment_version, workspace_id, reason).
 * Each envelope is a template built by the bus's `outboxRow` (validated against the contract,
 * carrying the current trace context) once per statement; SQL rebuilds it per row with
 * jsonb_build_object (cheaper than patching a jsonb template), the per-row fields from typed columns.
 */
export function membershipEvents(p: Param, source: string, now: Date): string {
  const at = now.toISOString();
  const meta = { workspaceId: PLACEHOLDER, occurredAt: at };
  const data = { segmentId: PLACEHOLDER, contactId: PLACEHOLDER, at, segmentVersion: 1 };
  const entered = outboxRow('segmentation', MEMBERSHIP_ENTERED_V1.subject, { ...data, reason: { branch: 'all' } }, meta);
  const exited = outboxRow('segmentation', MEMBERSHIP_EXITED_V1.subject, data, meta);
  const perRow: Record<string, string> = { id: 'x.id', workspaceId: 'x.workspace_id', partitionKey: 'x.contact_id' };
  const perRowData: Record<string, string> = { segmentId: 'x.segment_id', contactId: 'x.contact_id', segmentVersion: 'x.segment_version', reason: 'x.reason' };
  const object = (template: object, columns: Record<string, string>): string =>
    `jsonb_build_object(${Object.entries(template)
      .map(([key, value]) => `${p(key, 'text')}, ${columns[key] ?? p(JSON.stringify(value), 'jsonb')}`)
      .join(', ')})`;
  const envelope = (row: typeof entered): string => object(row.envelope, { ...perRow, data: object(row.envelope.data as object, perRowData) });
  const byKind = (inSql: string, outSql: string): string => `CASE WHEN x.kind = 'in' THEN ${inSql} ELSE ${outSql} END`;
  // The id is drawn once per row in a materialized CTE, so the column and the envelope agree.
  return `event_ids AS MATERIALIZED (SELECT gen_random_uuid() AS id, s.* FROM ${source} s),
    events AS (INSERT INTO segmentation.outbox (id, subject, envelope, headers)
      SELECT x.id, ${byKind(p(entered.subject, 'text'), p(exited.subject, 'text'))}, ${byKind(envelope(entered), envelope(exited))},
        ${byKind(p(JSON.stringify(entered.headers), 'jsonb'), p(JSON.stringify(exited.headers), 'jsonb'))}
      FROM event_ids x)`;
}

/** Removes every membership of some contacts (erasure, merged-away profile) and announces the exits. */
export async function removeContacts(client: PoolClient, contactIds: string[], now: Date): Promise<void> {
  const params: unknown[] = [contactIds];
  const p: Param = (v, cast) => `$${params.push(v)}::${cast}`;
  await client.query(
    `WITH gone AS (DELETE FROM segmentation.membership WHERE contact_id = ANY($1::uuid[]) RETURNING segment_id, contact_id, workspace_id, segment_version),
     changes AS (SELECT 'out' AS kind, segment_id, contact_id, segment_version, workspace_id, NULL::jsonb AS reason FROM gone),
     ${membershipEvents(p, 'changes', now)},
     checks AS (DELETE FROM segmentation.time_check WHERE contact_id = ANY($1::uuid[]))
     SELECT count(*) FROM changes`,
    params,
  );
}
