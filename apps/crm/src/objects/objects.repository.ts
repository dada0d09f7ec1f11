import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { PG_POOL } from '@tessera/service-kit';
import type { Db } from '../contacts/contact-store.repository';
import type { ObjectFields } from './object-schema';

export interface ObjectTypeRow {
  name: string;
  fields: ObjectFields;
  createdAt: Date;
}

export interface RecordRow {
  id: string;
  type: string;
  contactId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

const RECORD = `id, type, contact_id AS "contactId", data, created_at AS "createdAt", updated_at AS "updatedAt"`;

@Injectable()
export class ObjectsRepository {
  constructor(@Inject(PG_POOL) readonly pool: Pool) {}

  async createType(workspaceId: string, name: string, fields: ObjectFields): Promise<ObjectTypeRow | undefined> {
    const { rows } = await this.pool.query<ObjectTypeRow>(
      'INSERT INTO object_type (workspace_id, name, fields) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING name, fields, created_at AS "createdAt"',
      [workspaceId, name, JSON.stringify(fields)],
    );
    return rows[0];
  }

  async types(workspaceId: string): Promise<ObjectTypeRow[]> {
    const { rows } = await this.pool.query<ObjectTypeRow>('SELECT name, fields, created_at AS "createdAt" FROM object_type WHERE workspace_id = $1 ORDER BY name', [workspaceId]);
    return rows;
  }

  async type(db: Db, workspaceId: string, name: string): Promise<ObjectTypeRow | undefined> {
    const { rows } = await db.query<ObjectTypeRow>('SELECT name, fields, created_at AS "createdAt" FROM object_type WHERE workspace_id = $1 AND name = $2', [workspaceId, name]);
    return rows[0];
  }

  async insert(c: PoolClient, workspaceId: string, r: Omit<RecordRow, 'createdAt' | 'updatedAt'>): Promise<RecordRow> {
    const { rows } = await c.query<RecordRow>(`INSERT INTO object_record (id, workspace_id, type, contact_id, data) VALUES ($1, $2, $3, $4, $5) RETURNING ${RECORD}`, [
      r.id,
      workspaceId,
      r.type,
      r.contactId,
      JSON.stringify(r.data),
    ]);
    return rows[0]!;
  }

  async lock(c: PoolClient, workspaceId: string, type: string, id: string): Promise<RecordRow | undefined> {
    const { rows } = await c.query<RecordRow>(`SELECT ${RECORD} FROM object_record WHERE workspace_id = $1 AND type = $2 AND id = $3 FOR UPDATE`, [workspaceId, type, id]);
    return rows[0];
  }

  async update(c: PoolClient, id: string, contactId: string | null, data: Record<string, unknown>): Promise<RecordRow> {
    const { rows } = await c.query<RecordRow>(`UPDATE object_record SET contact_id = $2, data = $3, updated_at = now() WHERE id = $1 RETURNING ${RECORD}`, [id, contactId, JSON.stringify(data)]);
    return rows[0]!;
  }

  async delete(c: PoolClient, id: string): Promise<void> {
    await c.query('DELETE FROM object_record WHERE id = $1', [id]);
  }

  async get(workspaceId: string, type: string, id: string): Promise<RecordRow | undefined> {
    const { rows } = await this.pool.query<RecordRow>(`SELECT ${RECORD} FROM object_record WHERE workspace_id = $1 AND type = $2 AND id = $3`, [workspaceId, type, id]);
    return rows[0];
  }

  async list(workspaceId: string, f: { type?: string; contactId?: string; cursor?: string; limit: number }): Promise<RecordRow[]> {
    const { rows } = await this.pool.query<RecordRow>(
      `SELECT ${RECORD} FROM object_record WHERE workspace_id = $1 AND ($2::text IS NULL OR type = $2) AND ($3::uuid IS NULL OR contact_id = $3) AND ($4::uuid IS NULL OR id > $4)
       ORDER BY id LIMIT $5`,
      [workspaceId, f.type ?? null, f.contactId ?? null, f.cursor ?? null, f.limit],
    );
    return rows;
  }
}
