import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { withTransaction } from '@tessera/db';
import { MicroBatcher, PG_POOL } from '@tessera/service-kit';
import { PrismaService } from '../database/prisma.service';
import { Prisma, type Contact } from '../generated/prisma/client';

export interface ContactFields {
  email?: string | null;
  phone?: string | null;
  timezone?: string | null;
  locale?: string | null;
}

const STANDARD = ['email', 'phone', 'timezone', 'locale'] as const;

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
   * Contacts as created, several per statement (the first of a repeated id wins). A row already there
   * keeps what it holds and gains only what it lacks: a created event that arrives late (its
   * consumer lagging behind the updated one, or a redelivery) must not undo a newer update.
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
    await this.pool.query(
      `INSERT INTO contact (workspace_id, id, email, phone, timezone, locale, attributes, updated_at)
       SELECT x.ws, x.id, x.email, x.phone, x.timezone, x.locale, COALESCE(x.attributes, '{}'), now()
       FROM jsonb_to_recordset($1::jsonb) AS x(ws uuid, id uuid, email text, phone text, timezone text, locale text, attributes jsonb) ORDER BY x.ws, x.id
       ON CONFLICT (workspace_id, id) DO UPDATE SET
         email = COALESCE(contact.email, EXCLUDED.email), phone = COALESCE(contact.phone, EXCLUDED.phone),
         timezone = COALESCE(contact.timezone, EXCLUDED.timezone), locale = COALESCE(contact.locale, EXCLUDED.locale),
         attributes = EXCLUDED.attributes || contact.attributes, updated_at = now()`,
      [JSON.stringify(rows)],
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
    const rows = [...folded.values()].map((f) => ({ ws: f.ws, id: f.id, std: { ...f.standard, ...(f.standard.email ? { email: f.standard.email.toLowerCase() } : {}) }, attrs: f.attributes, unset: [...f.unset] }));
    if (!rows.length) return;
    const batch = JSON.stringify(rows);
    await withTransaction(this.pool, async (client) => {
      // Rows made to exist, then locked, in key order (as upsertCreated writes them): two
      // transactions never wait on each other's rows in opposite orders.
      await client.query(
        `INSERT INTO contact (workspace_id, id, updated_at) SELECT x.ws, x.id, now() FROM jsonb_to_recordset($1::jsonb) AS x(ws uuid, id uuid) ORDER BY x.ws, x.id
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
           updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS x(ws uuid, id uuid, std jsonb, attrs jsonb, unset jsonb)
         WHERE c.workspace_id = x.ws AND c.id = x.id`,
        [batch],
      );
    });
  }

  async setConsent(workspaceId: string, id: string, key: string, state: string): Promise<void> {
    await this.prisma.$executeRaw`
      INSERT INTO contact (workspace_id, id, consent, updated_at) VALUES (${workspaceId}::uuid, ${id}::uuid, jsonb_build_object(${key}::text, ${state}::text), now())
      ON CONFLICT (workspace_id, id) DO UPDATE SET consent = contact.consent || jsonb_build_object(${key}::text, ${state}::text), updated_at = now()`;
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

  /** Privacy erasure: the profile, addresses on messages, and inbound texts go. */
  async erase(workspaceId: string, id: string): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await tx.contact.deleteMany({ where: { workspaceId, id } });
      await tx.message.updateMany({ where: { workspaceId, contactId: id }, data: { recipient: null, links: Prisma.DbNull } });
      const conversations = await tx.conversation.findMany({ where: { workspaceId, contactId: id }, select: { id: true } });
      const ids = conversations.map((c) => c.id);
      await tx.inboundMessage.deleteMany({ where: { conversationId: { in: ids } } });
      await tx.conversation.deleteMany({ where: { id: { in: ids } } });
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
