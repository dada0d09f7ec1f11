import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { PG_POOL } from '@tessera/service-kit';

export interface ImportJobRow {
  id: string;
  format: string;
  status: string;
  rowsDone: number;
  rowsFailed: number;
  createdAt: Date;
  finishedAt: Date | null;
}

const JOB = `id, format, status, rows_done AS "rowsDone", rows_failed AS "rowsFailed", created_at AS "createdAt", finished_at AS "finishedAt"`;

@Injectable()
export class ImportsRepository {
  constructor(@Inject(PG_POOL) readonly pool: Pool) {}

  async create(workspaceId: string, id: string, format: string): Promise<ImportJobRow> {
    const { rows } = await this.pool.query<ImportJobRow>(`INSERT INTO import_job (id, workspace_id, format, status) VALUES ($1, $2, $3, 'running') RETURNING ${JOB}`, [id, workspaceId, format]);
    return rows[0]!;
  }

  async progress(c: PoolClient, id: string, done: number, failed: { line: number; reason: string }[]): Promise<void> {
    await c.query('UPDATE import_job SET rows_done = rows_done + $2, rows_failed = rows_failed + $3 WHERE id = $1', [id, done, failed.length]);
    if (failed.length)
      await c.query('INSERT INTO import_error (import_id, line, reason) SELECT $1, l, r FROM unnest($2::int[], $3::text[]) AS u(l, r) ON CONFLICT DO NOTHING', [
        id,
        failed.map((f) => f.line),
        failed.map((f) => f.reason),
      ]);
  }

  async finish(id: string, status: 'completed' | 'failed', failure?: { line: number; reason: string }): Promise<ImportJobRow> {
    if (failure) await this.pool.query('INSERT INTO import_error (import_id, line, reason) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [id, failure.line, failure.reason]);
    const { rows } = await this.pool.query<ImportJobRow>(`UPDATE import_job SET status = $2, finished_at = now() WHERE id = $1 RETURNING ${JOB}`, [id, status]);
    return rows[0]!;
  }

  async recent(workspaceId: string): Promise<ImportJobRow[]> {
    const { rows } = await this.pool.query<ImportJobRow>(`SELECT ${JOB} FROM import_job WHERE workspace_id = $1 ORDER BY created_at DESC LIMIT 50`, [workspaceId]);
    return rows;
  }

  async get(workspaceId: string, id: string): Promise<ImportJobRow | undefined> {
    const { rows } = await this.pool.query<ImportJobRow>(`SELECT ${JOB} FROM import_job WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
    return rows[0];
  }

  async errors(id: string, limit: number): Promise<{ line: number; reason: string }[]> {
    const { rows } = await this.pool.query<{ line: number; reason: string }>('SELECT line, reason FROM import_error WHERE import_id = $1 ORDER BY line LIMIT $2', [id, limit]);
    return rows;
  }

  /**
   * Takes the advisory locks of the batch's identities (sorted, the same keys and hash as
   * ContactStore.lockIdentities), then finds the live contacts behind its external ids and emails.
   * Two statements in ONE simple-protocol message: one round trip, yet the read still takes its
   * snapshot after the locks are held (READ COMMITTED takes one per statement), so it sees what the
   * locks' previous holders committed. That protocol takes no parameters: the lists travel as JSON
   * literals escaped by pg.
   */
  async lockAndFindExisting(c: PoolClient, workspaceId: string, externalIds: string[], emails: string[]): Promise<{ byExternalId: Map<string, string>; byEmail: Map<string, string> }> {
    const keys = [...externalIds.map((v) => `${workspaceId}:external_id:${v}`), ...emails.map((v) => `${workspaceId}:email:${v}`)];
    const list = (values: string[]): string => `ARRAY(SELECT jsonb_array_elements_text(${c.escapeLiteral(JSON.stringify(values))}::jsonb))`;
    const ws = `${c.escapeLiteral(workspaceId)}::uuid`;
    // pg answers a multi-statement message with one result per statement (its typings know only one).
    const [, found] = (await c.query(
      `SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT DISTINCT hashtextextended(x, 0) AS k FROM unnest(${list(keys)}) x ORDER BY 1) s;
       WITH e AS (SELECT ${list(externalIds)} AS ids), m AS (SELECT ${list(emails)} AS ids)
       SELECT c.external_id, c.email, COALESCE(c.merged_into, c.id) AS id FROM contact c
       WHERE c.workspace_id = ${ws} AND c.erased_at IS NULL AND (c.external_id = ANY((SELECT ids FROM e)::text[]) OR c.email = ANY((SELECT ids FROM m)::text[]))
       UNION ALL
       SELECT CASE WHEN i.kind = 'external_id' THEN i.value END, CASE WHEN i.kind = 'email' THEN i.value END, i.contact_id FROM contact_identity i
       WHERE i.workspace_id = ${ws} AND ((i.kind = 'external_id' AND i.value = ANY((SELECT ids FROM e)::text[])) OR (i.kind = 'email' AND i.value = ANY((SELECT ids FROM m)::text[])))`,
    )) as unknown as [QueryResult, QueryResult<{ external_id: string | null; email: string | null; id: string }>];
    const byExternalId = new Map<string, string>();
    const byEmail = new Map<string, string>();
    for (const r of found.rows) {
      if (r.external_id && !byExternalId.has(r.external_id)) byExternalId.set(r.external_id, r.id);
      if (r.email && !byEmail.has(r.email)) byEmail.set(r.email, r.id);
    }
    return { byExternalId, byEmail };
  }
}
