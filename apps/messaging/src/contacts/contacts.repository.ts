import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
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

  async upsertCreated(workspaceId: string, id: string, fields: ContactFields, attributes: Record<string, unknown>): Promise<void> {
    const data = { email: fields.email?.toLowerCase() ?? null, phone: fields.phone ?? null, timezone: fields.timezone ?? null, locale: fields.locale ?? null, attributes: attributes as object };
    await this.prisma.contact.upsert({ where: { workspaceId_id: { workspaceId, id } }, create: { workspaceId, id, ...data }, update: data });
  }

  /**
   * Applies a thin update (changed fields, changed attributes, and removals) in one statement: the
   * merge happens in Postgres, so there is no read-modify-write transaction per event.
   */
  async applyUpdate(workspaceId: string, id: string, fields: Record<string, unknown>, attributes: Record<string, unknown>, unset: string[]): Promise<void> {
    // The standard fields this update sets (null clears); fields it does not name keep their value.
    const standard: Record<string, string | null> = {};
    for (const key of STANDARD) if (key in fields) standard[key] = fields[key] == null ? null : String(fields[key]);
    const unsetAttributes: string[] = [];
    for (const key of unset) {
      if ((STANDARD as readonly string[]).includes(key)) standard[key] = null;
      else unsetAttributes.push(key);
    }
    if (standard.email) standard.email = standard.email.toLowerCase();
    const set = JSON.stringify(standard);
    const attrs = JSON.stringify(attributes);
    await this.prisma.$executeRaw`
      INSERT INTO contact (workspace_id, id, email, phone, timezone, locale, attributes, updated_at)
      VALUES (${workspaceId}::uuid, ${id}::uuid, ${set}::jsonb->>'email', ${set}::jsonb->>'phone', ${set}::jsonb->>'timezone', ${set}::jsonb->>'locale',
              ${attrs}::jsonb - ${unsetAttributes}::text[], now())
      ON CONFLICT (workspace_id, id) DO UPDATE SET
        email = CASE WHEN ${set}::jsonb ? 'email' THEN EXCLUDED.email ELSE contact.email END,
        phone = CASE WHEN ${set}::jsonb ? 'phone' THEN EXCLUDED.phone ELSE contact.phone END,
        timezone = CASE WHEN ${set}::jsonb ? 'timezone' THEN EXCLUDED.timezone ELSE contact.timezone END,
        locale = CASE WHEN ${set}::jsonb ? 'locale' THEN EXCLUDED.locale ELSE contact.locale END,
        attributes = (contact.attributes || ${attrs}::jsonb) - ${unsetAttributes}::text[],
        updated_at = now()`;
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
