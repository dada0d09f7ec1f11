import { Injectable } from '@nestjs/common';
import { RuntimePool } from './runtime-pool';
import type { Pool } from 'pg';
import { prepared } from './prepared';

export interface ContactChange {
  contactId: string;
  externalId?: string | null;
  timezone?: string | null;
  attributes: Record<string, unknown>;
  unset: string[];
  /** A created event: what the projection already holds wins, so a late or redelivered creation never undoes a newer update. */
  fill?: boolean;
}

const RESOLVE_CONTACTS = prepared('resolve_contacts', `SELECT contact_id, external_id FROM contact WHERE workspace_id = $1 AND (external_id = ANY($2::text[]) OR contact_id = ANY($3::uuid[]))`);

/** The service's read models of other services' data, fed only by their events. */
@Injectable()
export class ProjectionsRepository {
  private readonly pool: Pool;

  constructor(runtime: RuntimePool) {
    this.pool = runtime.pool;
  }

  /** Upserts profiles: attributes merge, unset keys drop, standard fields change only when given. One transaction per batch. */
  async applyContacts(workspaceId: string, changes: ContactChange[]): Promise<void> {
    if (!changes.length) return;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      for (const c of changes) {
        await client.query(
          `INSERT INTO contact AS c (workspace_id, contact_id, external_id, timezone, attributes) VALUES ($1, $2, $3, $4, $5::jsonb - $8::text[])
           ON CONFLICT (workspace_id, contact_id) DO UPDATE SET
             attributes = CASE WHEN $9 THEN EXCLUDED.attributes || c.attributes ELSE (c.attributes || EXCLUDED.attributes) - $8::text[] END,
             external_id = CASE WHEN $9 THEN COALESCE(c.external_id, EXCLUDED.external_id) WHEN $6 THEN EXCLUDED.external_id ELSE c.external_id END,
             timezone = CASE WHEN $9 THEN COALESCE(c.timezone, EXCLUDED.timezone) WHEN $7 THEN EXCLUDED.timezone ELSE c.timezone END,
             updated_at = now()`,
          [workspaceId, c.contactId, c.externalId ?? null, c.timezone ?? null, JSON.stringify(c.attributes), c.externalId !== undefined, c.timezone !== undefined, c.unset, c.fill === true],
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async setConsent(workspaceId: string, contactId: string, key: string, state: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO contact (workspace_id, contact_id, consent) VALUES ($1, $2, jsonb_build_object($3::text, $4::text))
       ON CONFLICT (workspace_id, contact_id) DO UPDATE SET consent = contact.consent || jsonb_build_object($3::text, $4::text), updated_at = now()`,
      [workspaceId, contactId, key, state],
    );
  }

  async eraseContact(workspaceId: string, contactId: string): Promise<void> {
    await this.pool.query(`DELETE FROM contact WHERE workspace_id = $1 AND contact_id = $2`, [workspaceId, contactId]);
    await this.pool.query(`DELETE FROM segment_member WHERE workspace_id = $1 AND contact_id = $2`, [workspaceId, contactId]);
    await this.pool.query(`DELETE FROM send_log WHERE workspace_id = $1 AND contact_id = $2`, [workspaceId, contactId]);
    await this.pool.query(`DELETE FROM timer WHERE workspace_id = $1 AND contact_id = $2`, [workspaceId, contactId]);
    // Ended instances keep their path for statistics, but no personal data from triggers or webhooks.
    await this.pool.query(`UPDATE instance SET state = state || '{"trigger":{},"webhooks":{}}'::jsonb - 'lastEvent', seq = seq + 1 WHERE workspace_id = $1 AND contact_id = $2`, [workspaceId, contactId]);
  }

  async addMember(workspaceId: string, segmentId: string, contactId: string, since: string): Promise<void> {
    await this.pool.query(`INSERT INTO segment_member (workspace_id, segment_id, contact_id, since) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [workspaceId, segmentId, contactId, since]);
  }

  async removeMember(workspaceId: string, segmentId: string, contactId: string): Promise<void> {
    await this.pool.query(`DELETE FROM segment_member WHERE workspace_id = $1 AND segment_id = $2 AND contact_id = $3`, [workspaceId, segmentId, contactId]);
  }

  /** Maps event senders (`userId`, which is the CRM external id or the contact id) to contact ids. */
  async resolveContacts(workspaceId: string, userIds: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!userIds.length) return out;
    const uuids = userIds.filter((u) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(u));
    const { rows } = await this.pool.query<{ contact_id: string; external_id: string | null }>(RESOLVE_CONTACTS([workspaceId, userIds, uuids]));
    for (const r of rows) {
      if (r.external_id) out.set(r.external_id, r.contact_id);
      out.set(r.contact_id, r.contact_id);
    }
    // A contact id the projection has not seen yet (its created event may still be on the way).
    for (const u of uuids) if (!out.has(u)) out.set(u, u.toLowerCase());
    return out;
  }

  async contactsWithAttribute(workspaceId: string, attribute: string, afterId: string, limit: number): Promise<{ contact_id: string; value: unknown; timezone: string | null }[]> {
    const { rows } = await this.pool.query(`SELECT contact_id, attributes -> $2 AS value, timezone FROM contact WHERE workspace_id = $1 AND attributes ? $2 AND contact_id > $3 ORDER BY contact_id LIMIT $4`, [workspaceId, attribute, afterId, limit]);
    return rows;
  }

  async segmentMembers(workspaceId: string, segmentId: string, afterId: string, limit: number): Promise<{ contact_id: string; timezone: string | null }[]> {
    const { rows } = await this.pool.query(
      `SELECT m.contact_id, c.timezone FROM segment_member m LEFT JOIN contact c ON c.workspace_id = m.workspace_id AND c.contact_id = m.contact_id
        WHERE m.workspace_id = $1 AND m.segment_id = $2 AND m.contact_id > $3 ORDER BY m.contact_id LIMIT $4`,
      [workspaceId, segmentId, afterId, limit],
    );
    return rows;
  }

  async replaceDateTimer(workspaceId: string, journeyId: string, contactId: string, dueAt: Date | null): Promise<void> {
    await this.pool.query(`DELETE FROM timer WHERE kind = 'date_trigger' AND journey_id = $1 AND contact_id = $2`, [journeyId, contactId]);
    if (dueAt) await this.pool.query(`INSERT INTO timer (workspace_id, kind, journey_id, contact_id, due_at) VALUES ($1, 'date_trigger', $2, $3, $4)`, [workspaceId, journeyId, contactId, dueAt]);
  }
}
