import { Injectable } from '@nestjs/common';
import { RuntimePool } from './runtime-pool';
import type { Pool } from 'pg';
import { lockKeys, prepared, withTransaction } from '@tessera/db';

export interface ContactChange {
  contactId: string;
  externalId?: string | null;
  timezone?: string | null;
  attributes: Record<string, unknown>;
  unset: string[];
  /**
   * A created event: what the projection already holds wins and names an update removed stay
   * removed (the contact's `removed`), so a late or redelivered creation never undoes a newer update.
   */
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

  /**
   * Upserts profiles: attributes merge, unset keys drop, standard fields change only when given. One
   * transaction per batch. Returns the changes applied: none of an erased contact.
   */
  async applyContacts(workspaceId: string, changes: ContactChange[]): Promise<ContactChange[]> {
    if (!changes.length) return [];
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Under the contacts' locks, as the erasure: it cannot slip in between this check and the writes.
      await lockKeys(client, 'contact', changes.map((c) => c.contactId.toLowerCase()));
      const { rows: erased } = await client.query<{ contact_id: string }>(`SELECT contact_id FROM erased_contact WHERE contact_id = ANY($1::uuid[])`, [changes.map((c) => c.contactId)]);
      const gone = new Set(erased.map((r) => r.contact_id));
      const applied = gone.size ? changes.filter((c) => !gone.has(c.contactId.toLowerCase())) : changes;
      for (const c of applied) {
        // An update's tombstones: what it unset or cleared, and what it set (no longer removed).
        const cleared = c.fill ? [] : [...c.unset, ...(c.externalId === null ? ['externalId'] : []), ...(c.timezone === null ? ['timezone'] : [])];
        const set = c.fill ? [] : [...Object.keys(c.attributes), ...(c.externalId ? ['externalId'] : []), ...(c.timezone ? ['timezone'] : [])];
        await client.query(
          `INSERT INTO contact AS c (workspace_id, contact_id, external_id, timezone, attributes, removed) VALUES ($1, $2, $3, $4, $5::jsonb - $8::text[], $10::text[])
           ON CONFLICT (workspace_id, contact_id) DO UPDATE SET
             attributes = CASE WHEN $9 THEN (EXCLUDED.attributes - COALESCE(c.removed, '{}')) || c.attributes ELSE (c.attributes || EXCLUDED.attributes) - $8::text[] END,
             external_id = CASE WHEN $9 THEN COALESCE(c.external_id, CASE WHEN 'externalId' = ANY(c.removed) THEN NULL ELSE EXCLUDED.external_id END) WHEN $6 THEN EXCLUDED.external_id ELSE c.external_id END,
             timezone = CASE WHEN $9 THEN COALESCE(c.timezone, CASE WHEN 'timezone' = ANY(c.removed) THEN NULL ELSE EXCLUDED.timezone END) WHEN $7 THEN EXCLUDED.timezone ELSE c.timezone END,
             removed = ARRAY(SELECT DISTINCT n FROM unnest(COALESCE(c.removed, '{}') || $10::text[]) AS n WHERE n <> ALL($11::text[])),
             updated_at = now()`,
          [workspaceId, c.contactId, c.externalId ?? null, c.timezone ?? null, JSON.stringify(c.attributes), c.externalId !== undefined, c.timezone !== undefined, c.unset, c.fill === true, cleared, set],
        );
      }
      await client.query('COMMIT');
      return applied;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async setConsent(workspaceId: string, contactId: string, key: string, state: string): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await lockKeys(client, 'contact', [contactId.toLowerCase()]);
      await client.query(
        `INSERT INTO contact (workspace_id, contact_id, consent) SELECT $1::uuid, $2::uuid, jsonb_build_object($3::text, $4::text)
         WHERE NOT EXISTS (SELECT 1 FROM erased_contact WHERE contact_id = $2::uuid)
         ON CONFLICT (workspace_id, contact_id) DO UPDATE SET consent = contact.consent || jsonb_build_object($3::text, $4::text), updated_at = now()`,
        [workspaceId, contactId, key, state],
      );
    });
  }

  /** The contact's data goes; its id is remembered (under the contact's lock), so no later event about it brings the data back. */
  async eraseContact(workspaceId: string, contactId: string): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await lockKeys(client, 'contact', [contactId.toLowerCase()]);
      const args = [workspaceId, contactId];
      await client.query(`INSERT INTO erased_contact (contact_id, workspace_id) VALUES ($2, $1) ON CONFLICT DO NOTHING`, args);
      // Events kept for the contact's external id (one kept just as the contact arrived: see parkUnknown) go with it.
      // One arriving after the erasure finds nobody again and expires within the hour (unresolved-events.repository.ts).
      await client.query(`DELETE FROM unresolved_event WHERE workspace_id = $1 AND user_id = (SELECT external_id FROM contact WHERE workspace_id = $1 AND contact_id = $2)`, args);
      await client.query(`DELETE FROM contact WHERE workspace_id = $1 AND contact_id = $2`, args);
      await client.query(`DELETE FROM segment_member WHERE workspace_id = $1 AND contact_id = $2`, args);
      await client.query(`DELETE FROM send_log WHERE workspace_id = $1 AND contact_id = $2`, args);
      await client.query(`DELETE FROM timer WHERE workspace_id = $1 AND contact_id = $2`, args);
      // Ended instances keep their path for statistics, but no personal data from triggers or webhooks.
      await client.query(`UPDATE instance SET state = state || '{"trigger":{},"webhooks":{}}'::jsonb - 'lastEvent', seq = seq + 1 WHERE workspace_id = $1 AND contact_id = $2`, args);
    });
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
