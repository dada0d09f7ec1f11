import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { lockKeys, withTransaction } from '@tessera/db';
import { MicroBatcher, PG_POOL } from '@tessera/service-kit';
import { PrismaService } from '../database/prisma.service';
import type { Contact } from '../generated/prisma/client';

export interface ContactFields {
  email?: string | null;
  phone?: string | null;
  timezone?: string | null;
  locale?: string | null;
}

const STANDARD = ['email', 'phone', 'timezone', 'locale'] as const;

/** SQL: the contact id was not erased (a late event about an erased contact writes nothing). */
const NOT_ERASED = (id: string): string => `NOT EXISTS (SELECT 1 FROM erased_contact e WHERE e.contact_id = ${id})`;

/** The contact projection (fed by crm events). The only code that touches the contact table. */
@Injectable()
export class ContactsRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(PG_POOL) private readonly pool: Pool,
  ) {}

  /** Concurrent look-ups (the sends of one bus batch) share one query. */
  private readonly lookups = new MicroBatcher<{ workspaceId: string; id: string }, Contact | null>(async (keys) => {
    const { rows } = await this.pool.query<Contact>(
      `SELECT c.workspace_id AS "workspaceId", c.id, email, phone, timezone, locale, attributes, consent, last_inbound_at AS "lastInboundAt", updated_at AS "updatedAt"
       FROM contact c JOIN json_to_recordset($1) AS k(workspace_id uuid, id uuid) USING (workspace_id, id)`,
      [JSON.stringify(keys.map((k) => ({ workspace_id: k.workspaceId, id: k.id })))],
    );
    const byKey = new Map(rows.map((r) => [`${r.workspaceId}/${r.id}`, r]));
    return keys.map((k) => byKey.get(`${k.workspaceId}/${k.id}`.toLowerCase()) ?? null);
  });

  find(workspaceId: string, id: string): Promise<Contact | null> {
    return this.lookups.submit({ workspaceId, id });
  }

  findByPhone(workspaceId: string, phone: string): Promise<Contact | null> {
    return this.prisma.contact.findFirst({ where: { workspaceId, phone }, orderBy: { updatedAt: 'desc' } });
  }

  /**
   * After a conversation from an unknown number is recorded: a contact with that number may have
   * arrived meanwhile, its own claim too early to see the conversation. One of the two claims runs
   * after both writes committed, so the conversation is linked either way.
   */
  async claimByPhone(workspaceId: string, phone: string): Promise<void> {
    const contact = await this.findByPhone(workspaceId, phone);
    if (contact) await this.claimConversations([{ ws: workspaceId, id: contact.id }]);
  }

  /**
   * Contacts as created, several per statement (the first of a repeated id wins). A row already there
   * keeps what it holds and gains only what it lacks and no update removed (`removed`): a created
   * event that arrives late (its consumer lagging behind the updated one, or a redelivery) must not
   * undo a newer update.
   */
  async upsertCreated(contacts: { workspaceId: string; id: string; fields: ContactFields; attributes: Record<string, unknown> }[]): Promise<void> {
    const seen = new Set<string>();
    const rows = contacts.flatMap(({ workspaceId, id, fields, attributes }) => {
      const key = `${workspaceId}/${id}`.toLowerCase();
      if (seen.has(key)) return [];
      seen.add(key);
      return [{ ws: workspaceId, id, email: fields.email?.toLowerCase() ?? null, phone: fields.phone ?? null, timezone: fields.timezone ?? null, locale: fields.locale ?? null, attributes }];
    });
    if (!rows.length) return;
    await withTransaction(this.pool, async (client) => {
      await lockKeys(client, 'contact', rows.map((r) => r.id.toLowerCase()));
      await client.query(
        `INSERT INTO contact (workspace_id, id, email, phone, timezone, locale, attributes, updated_at)
         SELECT x.ws, x.id, x.email, x.phone, x.timezone, x.locale, COALESCE(x.attributes, '{}'), now()
         FROM jsonb_to_recordset($1::jsonb) AS x(ws uuid, id uuid, email text, phone text, timezone text, locale text, attributes jsonb)
         WHERE ${NOT_ERASED('x.id')} ORDER BY x.ws, x.id
         ON CONFLICT (workspace_id, id) DO UPDATE SET
           email = COALESCE(contact.email, CASE WHEN 'email' = ANY(contact.removed) THEN NULL ELSE EXCLUDED.email END),
           phone = COALESCE(contact.phone, CASE WHEN 'phone' = ANY(contact.removed) THEN NULL ELSE EXCLUDED.phone END),
           timezone = COALESCE(contact.timezone, CASE WHEN 'timezone' = ANY(contact.removed) THEN NULL ELSE EXCLUDED.timezone END),
           locale = COALESCE(contact.locale, CASE WHEN 'locale' = ANY(contact.removed) THEN NULL ELSE EXCLUDED.locale END),
           attributes = (EXCLUDED.attributes - COALESCE(contact.removed, '{}')) || contact.attributes, updated_at = now()`,
        [JSON.stringify(rows)],
      );
    });
    await this.claimConversations(rows.flatMap((r) => (r.phone ? [{ ws: r.ws, id: r.id }] : [])));
  }

  /**
   * Conversations opened by a number no contact had yet go to the contact that now has it (the phone
   * the projection holds after the write), and the contact's last inbound time (the WhatsApp service
   * window) takes their latest message. Idempotent: only unlinked conversations are claimed, and the
   * time only moves forward.
   */
  async claimConversations(contacts: { ws: string; id: string }[]): Promise<void> {
    if (!contacts.length) return;
    await this.pool.query(
      `WITH x AS (
         SELECT c.workspace_id, c.id, c.phone FROM contact c JOIN jsonb_to_recordset($1::jsonb) AS k(ws uuid, id uuid) ON c.workspace_id = k.ws AND c.id = k.id
         WHERE c.phone IS NOT NULL
       ), claimed AS (
         UPDATE conversation v SET contact_id = x.id FROM x
         WHERE v.workspace_id = x.workspace_id AND v.channel = ANY('{sms,whatsapp}') AND v.address = x.phone AND v.contact_id IS NULL
         RETURNING v.id, x.workspace_id, x.id AS contact_id
       ), latest AS (
         SELECT claimed.workspace_id, claimed.contact_id, max(m.received_at) AS at
         FROM claimed JOIN inbound_message m ON m.conversation_id = claimed.id GROUP BY 1, 2
       )
       UPDATE contact c SET last_inbound_at = GREATEST(COALESCE(c.last_inbound_at, latest.at), latest.at)
       FROM latest WHERE c.workspace_id = latest.workspace_id AND c.id = latest.contact_id`,
      [JSON.stringify(contacts)],
    );
  }

  /**
   * Applies thin updates (changed fields, changed attributes, and removals) in their order, two
   * statements for the whole batch: updates of one contact are folded into one, the rows are made to
   * exist, then updated, with the merge done in Postgres (no read-modify-write per event).
   */
  async applyUpdates(updates: { workspaceId: string; id: string; fields: Record<string, unknown>; attributes: Record<string, unknown>; unset: string[] }[]): Promise<void> {
    const folded = new Map<string, { ws: string; id: string; standard: Record<string, string | null>; attributes: Record<string, unknown>; unset: Set<string> }>();
    for (const u of updates) {
      const key = `${u.workspaceId}/${u.id}`.toLowerCase();
      const f = folded.get(key) ?? { ws: u.workspaceId, id: u.id, standard: {}, attributes: {}, unset: new Set<string>() };
      // The standard fields an update sets (null clears); fields it does not name keep their value.
      for (const name of STANDARD) if (name in u.fields) f.standard[name] = u.fields[name] == null ? null : String(u.fields[name]);
      for (const [name, value] of Object.entries(u.attributes)) {
        f.attributes[name] = value;
        f.unset.delete(name);
      }
      for (const name of u.unset) {
        if ((STANDARD as readonly string[]).includes(name)) f.standard[name] = null;
        else {
          delete f.attributes[name];
          f.unset.add(name);
        }
      }
      folded.set(key, f);
    }
    const rows = [...folded.values()].map((f) => {
      const cleared = STANDARD.filter((name) => name in f.standard && f.standard[name] === null);
      const setStandard = STANDARD.filter((name) => f.standard[name] != null);
      return {
        ws: f.ws,
        id: f.id,
        std: { ...f.standard, ...(f.standard.email ? { email: f.standard.email.toLowerCase() } : {}) },
        attrs: f.attributes,
        unset: [...f.unset],
        // Names now gone (tombstones for upsertCreated) and names now set (no longer gone).
        removed: [...f.unset, ...cleared],
        now_set: [...Object.keys(f.attributes), ...setStandard],
      };
    });
    if (!rows.length) return;
    const batch = JSON.stringify(rows);
    await withTransaction(this.pool, async (client) => {
      await lockKeys(client, 'contact', rows.map((r) => r.id.toLowerCase()));
      // Rows made to exist, then locked, in key order (as upsertCreated writes them): two
      // transactions never wait on each other's rows in opposite orders.
      await client.query(
        `INSERT INTO contact (workspace_id, id, updated_at) SELECT x.ws, x.id, now() FROM jsonb_to_recordset($1::jsonb) AS x(ws uuid, id uuid)
         WHERE ${NOT_ERASED('x.id')} ORDER BY x.ws, x.id
         ON CONFLICT (workspace_id, id) DO NOTHING`,
        [batch],
      );
      await client.query(
        `SELECT 1 FROM contact c JOIN jsonb_to_recordset($1::jsonb) AS x(ws uuid, id uuid) ON c.workspace_id = x.ws AND c.id = x.id ORDER BY c.workspace_id, c.id FOR UPDATE OF c`,
        [batch],
      );
      await client.query(
        `UPDATE contact c SET
           email = CASE WHEN x.std ? 'email' THEN x.std->>'email' ELSE c.email END,
           phone = CASE WHEN x.std ? 'phone' THEN x.std->>'phone' ELSE c.phone END,
           timezone = CASE WHEN x.std ? 'timezone' THEN x.std->>'timezone' ELSE c.timezone END,
           locale = CASE WHEN x.std ? 'locale' THEN x.std->>'locale' ELSE c.locale END,
           attributes = (c.attributes || x.attrs) - ARRAY(SELECT jsonb_array_elements_text(x.unset)),
           removed = ARRAY(SELECT DISTINCT n FROM unnest(COALESCE(c.removed, '{}') || ARRAY(SELECT jsonb_array_elements_text(x.removed))) AS n WHERE NOT (x.now_set ? n)),
           updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS x(ws uuid, id uuid, std jsonb, attrs jsonb, unset jsonb, removed jsonb, now_set jsonb)
         WHERE c.workspace_id = x.ws AND c.id = x.id`,
        [batch],
      );
    });
    await this.claimConversations(rows.flatMap((r) => (r.now_set.includes('phone') ? [{ ws: r.ws, id: r.id }] : [])));
  }

  async setConsent(workspaceId: string, id: string, key: string, state: string): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await lockKeys(client, 'contact', [id.toLowerCase()]);
      await client.query(
        `INSERT INTO contact (workspace_id, id, consent, updated_at) SELECT $1::uuid, $2::uuid, jsonb_build_object($3::text, $4::text), now()
         WHERE ${NOT_ERASED('$2::uuid')}
         ON CONFLICT (workspace_id, id) DO UPDATE SET consent = contact.consent || jsonb_build_object($3::text, $4::text), updated_at = now()`,
        [workspaceId, id, key, state],
      );
    });
  }

  /** Re-keys everything of the merged profile to the survivor; its consent refusals carry over. */
  async merge(workspaceId: string, survivorId: string, mergedId: string): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const merged = await tx.contact.findUnique({ where: { workspaceId_id: { workspaceId, id: mergedId } } });
      if (merged) {
        const refusals = Object.fromEntries(Object.entries(merged.consent as Record<string, string>).filter(([, v]) => v === 'unsubscribed'));
        await tx.$executeRaw`UPDATE contact SET consent = consent || ${JSON.stringify(refusals)}::jsonb WHERE workspace_id = ${workspaceId}::uuid AND id = ${survivorId}::uuid`;
        await tx.contact.delete({ where: { workspaceId_id: { workspaceId, id: mergedId } } });
      }
      await tx.message.updateMany({ where: { workspaceId, contactId: mergedId }, data: { contactId: survivorId } });
      await tx.conversation.updateMany({ where: { workspaceId, contactId: mergedId }, data: { contactId: survivorId } });
    });
  }

  /** Privacy erasure: the profile, addresses on messages, and inbound texts go; the id is remembered so no later event brings them back. */
  async erase(workspaceId: string, id: string): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      // Under the contact's lock, as every write of the contact row: none can slip in after the erasure unseen.
      await lockKeys(client, 'contact', [id.toLowerCase()]);
      const args = [workspaceId, id];
      await client.query(`INSERT INTO erased_contact (contact_id, workspace_id) VALUES ($2::uuid, $1::uuid) ON CONFLICT DO NOTHING`, args);
      await client.query(`DELETE FROM contact WHERE workspace_id = $1::uuid AND id = $2::uuid`, args);
      await client.query(`UPDATE message SET recipient = NULL, links = NULL WHERE workspace_id = $1::uuid AND contact_id = $2::uuid`, args);
      await client.query(
        `WITH gone AS (DELETE FROM conversation WHERE workspace_id = $1::uuid AND contact_id = $2::uuid RETURNING id)
         DELETE FROM inbound_message WHERE conversation_id IN (SELECT id FROM gone)`,
        args,
      );
    });
  }

  async touchInbound(workspaceId: string, id: string, at: Date): Promise<void> {
    await this.prisma.$executeRaw`UPDATE contact SET last_inbound_at = GREATEST(COALESCE(last_inbound_at, ${at}), ${at}) WHERE workspace_id = ${workspaceId}::uuid AND id = ${id}::uuid`;
  }

  /** What templates see as `contact`. */
  static templateView(contact: Contact): Record<string, unknown> {
    return { id: contact.id, email: contact.email, phone: contact.phone, timezone: contact.timezone, locale: contact.locale, attributes: contact.attributes };
  }
}
