import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { PG_POOL } from '@tessera/service-kit';
import { withTransaction } from '@tessera/db';
import type { SegmentDefinition } from '../definition/definition.types';
import { membershipEvents, type Param } from '../evaluation/membership.repository';

export interface SegmentRow {
  id: string;
  workspaceId: string;
  name: string;
  description: string | null;
  definition: SegmentDefinition;
  version: number;
  deps: string[];
  timeBased: boolean;
  status: string;
  progress: number;
  memberCount: number;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, workspace_id AS "workspaceId", name, description, definition, version, deps, time_based AS "timeBased", status, progress,
  member_count AS "memberCount", error, created_at AS "createdAt", updated_at AS "updatedAt"`;

export interface MemberRow {
  contactId: string;
  enteredAt: Date;
  reason: Record<string, unknown>;
  segmentVersion: number;
}

/** Segments, their versions, memberships and size history (raw SQL on the service's pool). */
@Injectable()
export class SegmentsRepository {
  constructor(@Inject(PG_POOL) readonly pool: Pool) {}

  async list(workspaceId: string): Promise<SegmentRow[]> {
    const { rows } = await this.pool.query<SegmentRow>(`SELECT ${COLUMNS} FROM segmentation.segment WHERE workspace_id = $1::uuid AND deleted_at IS NULL ORDER BY created_at, id`, [workspaceId]);
    return rows;
  }

  async find(workspaceId: string, id: string): Promise<SegmentRow | undefined> {
    const { rows } = await this.pool.query<SegmentRow>(`SELECT ${COLUMNS} FROM segmentation.segment WHERE workspace_id = $1::uuid AND id = $2::uuid AND deleted_at IS NULL`, [workspaceId, id]);
    return rows[0];
  }

  async create(s: Pick<SegmentRow, 'id' | 'workspaceId' | 'name' | 'description' | 'definition' | 'deps' | 'timeBased'>): Promise<SegmentRow> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<SegmentRow>(
        `INSERT INTO segmentation.segment (id, workspace_id, name, description, definition, deps, time_based, status)
         VALUES ($1::uuid, $2::uuid, $3, $4, $5::jsonb, $6::text[], $7, 'computing') RETURNING ${COLUMNS}`,
        [s.id, s.workspaceId, s.name, s.description, JSON.stringify(s.definition), s.deps, s.timeBased],
      );
      await client.query(`INSERT INTO segmentation.segment_version (segment_id, version, definition, name) VALUES ($1::uuid, 1, $2::jsonb, $3)`, [s.id, JSON.stringify(s.definition), s.name]);
      return rows[0]!;
    });
  }

  /** A new version (definition changed) or just a rename; the history keeps every definition. */
  async update(workspaceId: string, id: string, patch: { name: string; description: string | null; definition: SegmentDefinition; deps: string[]; timeBased: boolean; newVersion: boolean }): Promise<SegmentRow | undefined> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<SegmentRow>(
        `UPDATE segmentation.segment SET name = $3, description = $4, definition = $5::jsonb, deps = $6::text[], time_based = $7,
           version = version + CASE WHEN $8 THEN 1 ELSE 0 END, status = CASE WHEN $8 THEN 'computing' ELSE status END,
           progress = CASE WHEN $8 THEN 0 ELSE progress END, updated_at = now()
         WHERE workspace_id = $1::uuid AND id = $2::uuid AND deleted_at IS NULL RETURNING ${COLUMNS}`,
        [workspaceId, id, patch.name, patch.description, JSON.stringify(patch.definition), patch.deps, patch.timeBased, patch.newVersion],
      );
      const row = rows[0];
      if (row && patch.newVersion)
        await client.query(`INSERT INTO segmentation.segment_version (segment_id, version, definition, name) VALUES ($1::uuid, $2, $3::jsonb, $4)`, [id, row.version, JSON.stringify(patch.definition), patch.name]);
      return row;
    });
  }

  /** Soft-deletes the segment; every member exits (announced through the outbox). */
  async delete(workspaceId: string, id: string, now: Date): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ version: number }>(
        `UPDATE segmentation.segment SET deleted_at = now() WHERE workspace_id = $1::uuid AND id = $2::uuid AND deleted_at IS NULL RETURNING version`,
        [workspaceId, id],
      );
      if (!rows[0]) return false;
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('segment:' || $1::text, 0))`, [id]);
      const params: unknown[] = [id, rows[0].version];
      const p: Param = (v, cast) => `$${params.push(v)}::${cast}`;
      await client.query(
        `WITH gone AS (DELETE FROM segmentation.membership WHERE segment_id = $1::uuid RETURNING contact_id, workspace_id),
         changes AS (SELECT 'out' AS kind, $1::uuid AS segment_id, contact_id, $2::int AS segment_version, workspace_id, NULL::jsonb AS reason FROM gone),
         ${membershipEvents(p, 'changes', now)},
         checks AS (DELETE FROM segmentation.time_check WHERE segment_id = $1::uuid)
         SELECT count(*) FROM changes`,
        params,
      );
      return true;
    });
  }

  async versions(workspaceId: string, id: string): Promise<{ version: number; name: string; definition: SegmentDefinition; createdAt: Date }[]> {
    const { rows } = await this.pool.query(
      `SELECT v.version, v.name, v.definition, v.created_at AS "createdAt" FROM segmentation.segment_version v JOIN segmentation.segment s ON s.id = v.segment_id
       WHERE s.workspace_id = $1::uuid AND s.id = $2::uuid ORDER BY v.version DESC`,
      [workspaceId, id],
    );
    return rows;
  }

  async setProgress(id: string, fields: { status?: string; progress?: number; memberCount?: number; error?: string | null }): Promise<void> {
    await this.pool.query(
      `UPDATE segmentation.segment SET status = COALESCE($2, status), progress = COALESCE($3, progress), member_count = COALESCE($4, member_count),
         error = CASE WHEN $5::boolean THEN $6 ELSE error END WHERE id = $1::uuid`,
      [id, fields.status ?? null, fields.progress ?? null, fields.memberCount ?? null, fields.error !== undefined, fields.error ?? null],
    );
  }

  async count(workspaceId: string, id: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM segmentation.membership WHERE workspace_id = $1::uuid AND segment_id = $2::uuid`, [workspaceId, id]);
    return Number(rows[0]?.n ?? 0);
  }

  async recordSize(segmentId: string, at: Date, size: number): Promise<void> {
    await this.pool.query(`INSERT INTO segmentation.segment_size (segment_id, at, size) VALUES ($1::uuid, $2::timestamptz, $3) ON CONFLICT DO NOTHING`, [segmentId, at.toISOString(), size]);
  }

  async sizeHistory(workspaceId: string, id: string, limit: number): Promise<{ at: Date; size: number }[]> {
    const { rows } = await this.pool.query(
      `SELECT z.at, z.size FROM segmentation.segment_size z JOIN segmentation.segment s ON s.id = z.segment_id
       WHERE s.workspace_id = $1::uuid AND s.id = $2::uuid ORDER BY z.at DESC LIMIT $3`,
      [workspaceId, id, limit],
    );
    return rows;
  }

  /** Members after `cursor` (contact id), in contact-id order: stable keyset pagination. */
  async members(workspaceId: string, id: string, after: string | undefined, limit: number): Promise<MemberRow[]> {
    const { rows } = await this.pool.query<MemberRow>(
      `SELECT contact_id AS "contactId", entered_at AS "enteredAt", reason, segment_version AS "segmentVersion" FROM segmentation.membership
       WHERE workspace_id = $1::uuid AND segment_id = $2::uuid AND contact_id > COALESCE($3::uuid, '00000000-0000-0000-0000-000000000000')
       ORDER BY contact_id LIMIT $4`,
      [workspaceId, id, after ?? null, limit],
    );
    return rows;
  }

  async contactSegments(workspaceId: string, contactId: string): Promise<(MemberRow & { segmentId: string; segmentName: string })[]> {
    const { rows } = await this.pool.query(
      `SELECT m.segment_id AS "segmentId", s.name AS "segmentName", m.contact_id AS "contactId", m.entered_at AS "enteredAt", m.reason, m.segment_version AS "segmentVersion"
       FROM segmentation.membership m JOIN segmentation.segment s ON s.id = m.segment_id
       WHERE m.workspace_id = $1::uuid AND m.contact_id = $2::uuid AND s.deleted_at IS NULL ORDER BY m.entered_at`,
      [workspaceId, contactId],
    );
    return rows;
  }

  async withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, fn);
  }
}
