import { Injectable } from '@nestjs/common';
import { outboxData, type OutboxRow } from '@tessera/bus';
import { PrismaService } from '../database/prisma.service';
import type { Message, MessageStatusEvent, Prisma, Suppression } from '../generated/prisma/client';

export type NewMessage = Omit<Prisma.MessageUncheckedCreateInput, 'status' | 'claimedUntil' | 'createdAt' | 'updatedAt'>;

/** The only code that touches message, message_status_event and suppression. */
@Injectable()
export class MessagesRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Inserts the message as `queued` and leased to this replica, unless its (workspace,
   * idempotency key) exists: then returns the existing row and created=false. The unique index
   * decides between concurrent duplicates.
   */
  async insertQueued(message: NewMessage, leaseSeconds: number, queuedEvent: (m: Message) => OutboxRow): Promise<{ message: Message; created: boolean }> {
    return this.prisma.$transaction(async (tx) => {
      const inserted = await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO message (id, workspace_id, idempotency_key, contact_id, channel, template_id, journey_id, campaign_id, status, claimed_until)
        VALUES (${message.id}::uuid, ${message.workspaceId}::uuid, ${message.idempotencyKey}, ${message.contactId}::uuid, ${message.channel}, ${message.templateId},
                ${message.journeyId ?? null}, ${message.campaignId ?? null}, 'queued', now() + make_interval(secs => ${leaseSeconds}))
        ON CONFLICT (workspace_id, idempotency_key) DO NOTHING RETURNING id`;
      if (!inserted.length) {
        const existing = await tx.message.findUniqueOrThrow({ where: { workspaceId_idempotencyKey: { workspaceId: message.workspaceId, idempotencyKey: message.idempotencyKey } } });
        return { message: existing, created: false };
      }
      const row = await tx.message.findUniqueOrThrow({ where: { id: message.id } });
      await tx.messageStatusEvent.create({ data: { messageId: row.id, status: 'queued' } });
      await tx.outboxMessage.create({ data: outboxData(queuedEvent(row)) });
      return { message: row, created: true };
    });
  }

  /** Takes over a queued message whose lease lapsed (its sender crashed); null when someone holds it. */
  async claimQueued(id: string, leaseSeconds: number): Promise<Message | null> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      UPDATE message SET claimed_until = now() + make_interval(secs => ${leaseSeconds}), updated_at = now()
      WHERE id = ${id}::uuid AND status = 'queued' AND (claimed_until IS NULL OR claimed_until < now()) RETURNING id`;
    return rows.length ? this.prisma.message.findUnique({ where: { id } }) : null;
  }

  async releaseLease(id: string, attempts: number): Promise<void> {
    await this.prisma.message.update({ where: { id }, data: { claimedUntil: null, attempts: { increment: attempts } } });
  }

  /** Records a status change: the row (when `update`), its history line and the outbox event, atomically. */
  async recordStatus(id: string, status: string, detail: string | undefined, update: Prisma.MessageUncheckedUpdateInput | undefined, events: OutboxRow | OutboxRow[] | undefined, occurredAt = new Date()): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      if (update) await tx.message.update({ where: { id }, data: update });
      await tx.messageStatusEvent.create({ data: { messageId: id, status, detail: detail ?? null, occurredAt } });
      const rows = events ? (Array.isArray(events) ? events : [events]) : [];
      if (rows.length) await tx.outboxMessage.createMany({ data: rows.map(outboxData) });
    });
  }

  async setLinks(id: string, links: string[]): Promise<void> {
    await this.prisma.message.update({ where: { id }, data: { links } });
  }

  async hasStatusEvent(messageId: string, status: string, occurredAt?: Date): Promise<boolean> {
    return (await this.prisma.messageStatusEvent.count({ where: { messageId, status, ...(occurredAt ? { occurredAt } : {}) } })) > 0;
  }

  find(workspaceId: string, id: string): Promise<(Message & { statusEvents: MessageStatusEvent[] }) | null> {
    return this.prisma.message.findFirst({ where: { workspaceId, id } }).then(async (m) => (m ? { ...m, statusEvents: await this.history(m.id) } : null));
  }

  findById(id: string): Promise<Message | null> {
    return this.prisma.message.findUnique({ where: { id } });
  }

  findByProviderMessageId(workspaceId: string, providerMessageId: string): Promise<Message | null> {
    return this.prisma.message.findFirst({ where: { workspaceId, providerMessageId } });
  }

  history(messageId: string): Promise<MessageStatusEvent[]> {
    return this.prisma.messageStatusEvent.findMany({ where: { messageId }, orderBy: [{ occurredAt: 'asc' }, { id: 'asc' }] });
  }

  listForContact(workspaceId: string, contactId: string, limit: number): Promise<Message[]> {
    return this.prisma.message.findMany({ where: { workspaceId, contactId }, orderBy: { createdAt: 'desc' }, take: limit });
  }

  async isSuppressed(workspaceId: string, channel: string, address: string): Promise<Suppression | null> {
    return this.prisma.suppression.findFirst({ where: { workspaceId, address, channel: { in: [channel, 'all'] } } });
  }

  async suppress(workspaceId: string, channel: string, address: string, reason: string): Promise<Suppression> {
    return this.prisma.suppression.upsert({ where: { workspaceId_channel_address: { workspaceId, channel, address } }, create: { workspaceId, channel, address, reason }, update: {} });
  }

  listSuppressions(workspaceId: string, limit: number): Promise<Suppression[]> {
    return this.prisma.suppression.findMany({ where: { workspaceId }, orderBy: { createdAt: 'desc' }, take: limit });
  }

  async unsuppress(workspaceId: string, channel: string, address: string): Promise<boolean> {
    return (await this.prisma.suppression.deleteMany({ where: { workspaceId, channel, address } })).count > 0;
  }
}
