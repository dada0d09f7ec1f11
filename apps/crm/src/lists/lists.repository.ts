import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { PG_POOL } from '@tessera/service-kit';

export interface ListRow {
  id: string;
  name: string;
  description: string | null;
  createdAt: Date;
  memberCount?: number;
}

const LIST_COLUMNS = `id, name, description, created_at AS "createdAt"`;

@Injectable()
export class ListsRepository {
  constructor(@Inject(PG_POOL) readonly pool: Pool) {}

  /** Adds a tag; true when the contact did not have it yet. */
  async addTag(c: PoolClient, workspaceId: string, contactId: string, tag: string): Promise<boolean> {
    const r = await c.query('INSERT INTO contact_tag (workspace_id, contact_id, tag) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [workspaceId, contactId, tag]);
    return r.rowCount === 1;
  }

  async removeTag(c: PoolClient, workspaceId: string, contactId: string, tag: string): Promise<boolean> {
    const r = await c.query('DELETE FROM contact_tag WHERE workspace_id = $1 AND contact_id = $2 AND tag = $3', [workspaceId, contactId, tag]);
    return r.rowCount === 1;
  }

  async create(workspaceId: string, id: string, name: string, description: string | null): Promise<ListRow> {
    const { rows } = await this.pool.query<ListRow>(`INSERT INTO contact_list (id, workspace_id, name, description) VALUES ($1, $2, $3, $4) RETURNING ${LIST_COLUMNS}`, [id, workspaceId, name, description]);
    return rows[0]!;
  }

  async all(workspaceId: string): Promise<ListRow[]> {
    const { rows } = await this.pool.query<ListRow>(
      `SELECT ${LIST_COLUMNS}, (SELECT count(*)::int FROM list_member m WHERE m.list_id = l.id) AS "memberCount" FROM contact_list l WHERE workspace_id = $1 ORDER BY name`,
      [workspaceId],
    );
    return rows;
  }

  async find(workspaceId: string, id: string): Promise<ListRow | undefined> {
    const { rows } = await this.pool.query<ListRow>(
      `SELECT ${LIST_COLUMNS}, (SELECT count(*)::int FROM list_member m WHERE m.list_id = l.id) AS "memberCount" FROM contact_list l WHERE workspace_id = $1 AND id = $2`,
      [workspaceId, id],
    );
    return rows[0];
  }

  async update(workspaceId: string, id: string, name: string | undefined, description: string | null | undefined): Promise<ListRow | undefined> {
    const { rows } = await this.pool.query<ListRow>(
      `UPDATE contact_list SET name = COALESCE($3, name), description = CASE WHEN $4::boolean THEN $5 ELSE description END WHERE workspace_id = $1 AND id = $2 RETURNING ${LIST_COLUMNS}`,
      [workspaceId, id, name ?? null, description !== undefined, description ?? null],
    );
    return rows[0];
  }

  async remove(c: PoolClient, workspaceId: string, id: string): Promise<string[] | undefined> {
    const list = await c.query('DELETE FROM contact_list WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    if (list.rowCount !== 1) return undefined;
    const { rows } = await c.query<{ contact_id: string }>('DELETE FROM list_member WHERE list_id = $1 RETURNING contact_id', [id]);
    return rows.map((r) => r.contact_id);
  }

  /** Live contact ids for the given ids (a merged id maps to its winner); erased and unknown ids are left out. */
  async liveIds(c: PoolClient, workspaceId: string, ids: string[]): Promise<Map<string, string>> {
    const { rows } = await c.query<{ id: string; live: string }>(
      `SELECT c.id, COALESCE(c.merged_into, c.id) AS live FROM contact c LEFT JOIN contact w ON w.id = c.merged_into
       WHERE c.workspace_id = $1 AND c.id = ANY($2::uuid[]) AND c.erased_at IS NULL AND w.erased_at IS NULL`,
      [workspaceId, ids],
    );
    return new Map(rows.map((r) => [r.id, r.live]));
  }

  async addMembers(c: PoolClient, workspaceId: string, listId: string, contactIds: string[]): Promise<string[]> {
    const { rows } = await c.query<{ contact_id: string }>(
      'INSERT INTO list_member (list_id, contact_id, workspace_id) SELECT $1, x, $2 FROM unnest($3::uuid[]) x ON CONFLICT DO NOTHING RETURNING contact_id',
      [listId, workspaceId, contactIds],
    );
    return rows.map((r) => r.contact_id);
  }

  async removeMember(c: PoolClient, workspaceId: string, listId: string, contactId: string): Promise<boolean> {
    const r = await c.query('DELETE FROM list_member WHERE workspace_id = $1 AND list_id = $2 AND contact_id = $3', [workspaceId, listId, contactId]);
    return r.rowCount === 1;
  }

  async lockList(c: PoolClient, workspaceId: string, id: string): Promise<boolean> {
    const r = await c.query('SELECT 1 FROM contact_list WHERE workspace_id = $1 AND id = $2 FOR SHARE', [workspaceId, id]);
    return r.rowCount === 1;
  }
}
