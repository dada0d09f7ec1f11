import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@tessera/service-kit';
import type { Db } from '../contacts/contact-store.repository';
import type { AttributeType, UnknownAttributePolicy } from '../contacts/profile';

export interface AttributeSchema {
  definitions: Map<string, AttributeType>;
  policy: UnknownAttributePolicy;
}

export interface DefinitionRow {
  name: string;
  type: AttributeType;
  inferred: boolean;
  createdAt: Date;
}

@Injectable()
export class AttributesRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  private readonly recent = new Map<string, { at: number; schema: AttributeSchema }>();

  /**
   * Like `schemas`, from a cache at most 2 s old: the bus path reads it for every batch, while
   * definitions change rarely (a new definition or policy takes up to 2 s to reach bus traits).
   */
  async recentSchemas(db: Db, workspaceIds: string[]): Promise<Map<string, AttributeSchema>> {
    const now = Date.now();
    const stale = workspaceIds.filter((id) => (this.recent.get(id)?.at ?? 0) < now - 2000);
    if (stale.length) for (const [id, schema] of await this.schemas(db, stale)) this.recent.set(id, { at: now, schema });
    // Copies: callers add inferred definitions to theirs as they go.
    return new Map(workspaceIds.map((id) => {
      const s = this.recent.get(id)!.schema;
      return [id, { definitions: new Map(s.definitions), policy: s.policy }];
    }));
  }

  /** Keeps the cache in step with definitions a batch just inferred. */
  rememberInferred(rows: { workspaceId: string; name: string; type: AttributeType }[]): void {
    for (const r of rows) this.recent.get(r.workspaceId)?.schema.definitions.set(r.name, r.type);
  }

  /** Definitions and unknown-attribute policy of several workspaces at once. */
  async schemas(db: Db, workspaceIds: string[]): Promise<Map<string, AttributeSchema>> {
    const ids = [...new Set(workspaceIds)];
    const result = new Map<string, AttributeSchema>(ids.map((id) => [id, { definitions: new Map(), policy: 'create' }]));
    const [defs, settings] = await Promise.all([
      db.query<{ workspace_id: string; name: string; type: AttributeType }>('SELECT workspace_id, name, type FROM attribute_definition WHERE workspace_id = ANY($1::uuid[])', [ids]),
      db.query<{ workspace_id: string; unknown_attributes: UnknownAttributePolicy }>('SELECT workspace_id, unknown_attributes FROM crm_settings WHERE workspace_id = ANY($1::uuid[])', [ids]),
    ]);
    for (const d of defs.rows) result.get(d.workspace_id)!.definitions.set(d.name, d.type);
    for (const s of settings.rows) result.get(s.workspace_id)!.policy = s.unknown_attributes;
    return result;
  }

  async insertInferred(db: Db, rows: { workspaceId: string; name: string; type: AttributeType }[]): Promise<void> {
    if (!rows.length) return;
    await db.query(
      `INSERT INTO attribute_definition (workspace_id, name, type, inferred) SELECT w, n, t, true FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(w, n, t)
       ON CONFLICT DO NOTHING`,
      [rows.map((r) => r.workspaceId), rows.map((r) => r.name), rows.map((r) => r.type)],
    );
  }

  async list(workspaceId: string): Promise<DefinitionRow[]> {
    const { rows } = await this.pool.query<DefinitionRow>('SELECT name, type, inferred, created_at AS "createdAt" FROM attribute_definition WHERE workspace_id = $1 ORDER BY name', [workspaceId]);
    return rows;
  }

  /** Creates a definition; returns undefined when the name is taken. */
  async create(workspaceId: string, name: string, type: AttributeType): Promise<DefinitionRow | undefined> {
    const { rows } = await this.pool.query<DefinitionRow>(
      `INSERT INTO attribute_definition (workspace_id, name, type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING name, type, inferred, created_at AS "createdAt"`,
      [workspaceId, name, type],
    );
    return rows[0];
  }

  async getSettings(workspaceId: string): Promise<{ unknownAttributes: UnknownAttributePolicy }> {
    const { rows } = await this.pool.query<{ unknownAttributes: UnknownAttributePolicy }>('SELECT unknown_attributes AS "unknownAttributes" FROM crm_settings WHERE workspace_id = $1', [workspaceId]);
    return rows[0] ?? { unknownAttributes: 'create' };
  }

  async setSettings(workspaceId: string, unknownAttributes: UnknownAttributePolicy): Promise<{ unknownAttributes: UnknownAttributePolicy }> {
    await this.pool.query(
      `INSERT INTO crm_settings (workspace_id, unknown_attributes) VALUES ($1, $2) ON CONFLICT (workspace_id) DO UPDATE SET unknown_attributes = EXCLUDED.unknown_attributes, updated_at = now()`,
      [workspaceId, unknownAttributes],
    );
    return { unknownAttributes };
  }
}
