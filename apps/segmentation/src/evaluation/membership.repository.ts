import type { PoolClient } from 'pg';
import { MEMBERSHIP_ENTERED_V1, MEMBERSHIP_EXITED_V1 } from '@tessera/contracts';
import { outboxRow, type OutboxRow } from '@tessera/bus';
import { compileMembership } from '../definition/compile-definition';
import { compileNextCheck } from '../definition/compile-next-check';
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
  entered: { contactId: string; reason: Record<string, unknown> }[];
  exited: string[];
}

/** Advisory-lock keys: one namespace per kind, so a segment and a contact never share a key. */
export const lockKey = (kind: 'segment' | 'contact', id: string): string => `hashtextextended('${kind}:' || ${id}, 0)`;

/**
 * The one evaluator: compiles the definition, restricted to a scope, and turns the result into a
 * membership diff written with its entered/exited events (outbox) and next-check rows, in the
 * caller's transaction. Real-time, time-based and batch evaluation all come through here.
 */
export async function applyMembership(client: PoolClient, segment: SegmentRuntime, scope: Scope, now: Date, resolve: SegmentResolver): Promise<MembershipDiff> {
  const restrict = 'contacts' in scope ? scope.contacts : undefined;
  if (restrict && restrict.length === 0) return { entered: [], exited: [] };
  const q = compileMembership(segment.definition, segment.workspaceId, now, resolve, restrict);
  let sql = q.sql;
  const params = [...q.params];
  const p = (v: unknown, cast: string): string => `$${params.push(v)}::${cast}`;
  let scopeSql: string;
  if ('range' in scope) {
    const [lo, hi] = [p(scope.range[0], 'uuid'), scope.range[1] ? p(scope.range[1], 'uuid') : null];
    const upper = (col: string): string => (hi ? ` AND ${col} < ${hi}` : '');
    sql = `SELECT * FROM (${sql}) r WHERE r.contact_id >= ${lo}${upper('r.contact_id')}`;
    scopeSql = `m.contact_id >= ${lo}${upper('m.contact_id')}`;
  } else scopeSql = `m.contact_id = ANY($3::uuid[])`;
  const seg = p(segment.id, 'uuid');
  const ver = p(segment.version, 'int');
  const { rows } = await client.query<{ kind: 'in' | 'out'; contact_id: string; reason: Record<string, unknown> | null }>(
    `WITH cur AS MATERIALIZED (${sql}),
     ins AS (
       INSERT INTO segmentation.membership (segment_id, contact_id, workspace_id, entered_at, reason, segment_version)
       SELECT ${seg}, contact_id, $1::uuid, $2::timestamptz, jsonb_build_object('branch', COALESCE(to_jsonb(branch), '"all"')), ${ver} FROM cur
       ON CONFLICT (segment_id, contact_id) DO UPDATE SET reason = EXCLUDED.reason, segment_version = EXCLUDED.segment_version
         WHERE membership.reason IS DISTINCT FROM EXCLUDED.reason OR membership.segment_version <> EXCLUDED.segment_version
       RETURNING contact_id, reason, (xmax = 0) AS inserted),
     del AS (
       DELETE FROM segmentation.membership m WHERE m.segment_id = ${seg} AND ${scopeSql}
         AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.contact_id = m.contact_id)
       RETURNING m.contact_id)
     SELECT 'in' AS kind, contact_id, reason FROM ins WHERE inserted
     UNION ALL SELECT 'out', contact_id, NULL FROM del`,
    params,
  );
  const diff: MembershipDiff = { entered: [], exited: [] };
  for (const r of rows) {
    if (r.kind === 'in') diff.entered.push({ contactId: r.contact_id, reason: r.reason ?? {} });
    else diff.exited.push(r.contact_id);
  }
  await writeEvents(client, segment, diff, now);
  if (segment.timeBased) await refreshNextChecks(client, segment, scope, now, resolve);
  return diff;
}

async function refreshNextChecks(client: PoolClient, segment: SegmentRuntime, scope: Scope, now: Date, resolve: SegmentResolver): Promise<void> {
  const q = compileNextCheck(segment.definition, segment.workspaceId, now, resolve, 'contacts' in scope ? scope.contacts : undefined);
  if (!q) return;
  const params = [...q.params];
  const p = (v: unknown, cast: string): string => `$${params.push(v)}::${cast}`;
  let sql = q.sql;
  let scopeSql: string;
  if ('range' in scope) {
    const [lo, hi] = [p(scope.range[0], 'uuid'), scope.range[1] ? p(scope.range[1], 'uuid') : null];
    const upper = (col: string): string => (hi ? ` AND ${col} < ${hi}` : '');
    sql = `SELECT * FROM (${sql}) r WHERE r.contact_id >= ${lo}${upper('r.contact_id')}`;
    scopeSql = `t.contact_id >= ${lo}${upper('t.contact_id')}`;
  } else scopeSql = `t.contact_id = ANY($3::uuid[])`;
  const seg = p(segment.id, 'uuid');
  await client.query(
    `WITH nxt AS MATERIALIZED (${sql}),
     del AS (DELETE FROM segmentation.time_check t WHERE t.segment_id = ${seg} AND ${scopeSql} AND NOT EXISTS (SELECT 1 FROM nxt WHERE nxt.contact_id = t.contact_id))
     INSERT INTO segmentation.time_check (segment_id, contact_id, workspace_id, next_check_at)
     SELECT ${seg}, contact_id, $1::uuid, next_check_at FROM nxt
     ON CONFLICT (segment_id, contact_id) DO UPDATE SET next_check_at = EXCLUDED.next_check_at`,
    params,
  );
}

/** entered/exited events for a diff, into the outbox of the same transaction. */
export async function writeEvents(client: PoolClient, segment: Pick<SegmentRuntime, 'id' | 'workspaceId' | 'version'>, diff: MembershipDiff, now: Date): Promise<void> {
  const at = now.toISOString();
  const meta = { workspaceId: segment.workspaceId, occurredAt: at };
  const rows: OutboxRow[] = [
    ...diff.entered.map((e) => outboxRow('segmentation', MEMBERSHIP_ENTERED_V1.subject, { segmentId: segment.id, contactId: e.contactId, at, segmentVersion: segment.version, reason: e.reason }, meta)),
    ...diff.exited.map((contactId) => outboxRow('segmentation', MEMBERSHIP_EXITED_V1.subject, { segmentId: segment.id, contactId, at, segmentVersion: segment.version }, meta)),
  ];
  await insertOutbox(client, rows);
}

export async function insertOutbox(client: PoolClient, rows: OutboxRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000);
    await client.query(
      `INSERT INTO segmentation.outbox (id, subject, envelope, headers) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::jsonb[])`,
      [chunk.map((r) => r.id), chunk.map((r) => r.subject), chunk.map((r) => JSON.stringify(r.envelope)), chunk.map((r) => JSON.stringify(r.headers))],
    );
  }
}

/** Removes every membership of some contacts (erasure, merged-away profile) and announces the exits. */
export async function removeContacts(client: PoolClient, contactIds: string[], versions: Map<string, SegmentRuntime>, now: Date): Promise<void> {
  const { rows } = await client.query<{ segment_id: string; contact_id: string; workspace_id: string; segment_version: number }>(
    `DELETE FROM segmentation.membership WHERE contact_id = ANY($1::uuid[]) RETURNING segment_id, contact_id, workspace_id, segment_version`,
    [contactIds],
  );
  await client.query(`DELETE FROM segmentation.time_check WHERE contact_id = ANY($1::uuid[])`, [contactIds]);
  for (const r of rows) {
    const seg = versions.get(r.segment_id);
    await writeEvents(client, { id: r.segment_id, workspaceId: r.workspace_id, version: seg?.version ?? r.segment_version }, { entered: [], exited: [r.contact_id] }, now);
  }
}
