import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { outboxBatchText, outboxData, type OutboxRow } from '@tessera/bus';
import { MicroBatcher, PG_POOL } from '@tessera/service-kit';
import { PrismaService } from '../database/prisma.service';
import type { Message, MessageStatusEvent, Prisma, Suppression } from '../generated/prisma/client';

export type NewMessage = Pick<Message, 'id' | 'workspaceId' | 'idempotencyKey' | 'contactId' | 'channel' | 'templateId' | 'journeyId' | 'campaignId'>;

/** How a send ends: the message's new state, its history line and its events (the status event first), written together. */
export interface SendOutcome {
  message: Message;
  detail: string;
  events: OutboxRow[];
  occurredAt: Date;
}

/** A message row as Prisma's `Message` type names its fields. */
const MESSAGE_COLUMNS = `id, workspace_id AS "workspaceId", idempotency_key AS "idempotencyKey", contact_id AS "contactId", channel, template_id AS "templateId",
  template_version AS "templateVersion", journey_id AS "journeyId", campaign_id AS "campaignId", recipient, provider_config_id AS "providerConfigId",
  provider_message_id AS "providerMessageId", status, failure_reason AS "failureReason", attempts, claimed_until AS "claimedUntil",
  subscription_group AS "subscriptionGroup", links, created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * The only code that touches message, message_status_event and suppression. The send path's
 * statements go through the pg pool, and concurrent sends (a bus batch, parallel API calls) share
 * each statement through a MicroBatcher: a handful of round trips per batch instead of a dozen
 * Prisma queries per message.
 */
@Injectable()
export class MessagesRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(PG_POOL) private readonly pool: Pool,
  ) {}

  private readonly queuedInserts = new MicroBatcher<{ message: NewMessage; leaseSeconds: number; event: OutboxRow }, { message: Message; created: boolean }>((items) => this.insertQueuedBatch(items));
  private readonly outcomes = new MicroBatcher<SendOutcome, void>(async (items) => {
    await this.recordOutcomes(items);
    return items.map(() => undefined);
  });
  private readonly linkUpdates = new MicroBatcher<{ id: string; links: string[] }, void>(async (items) => {
    await this.pool.query('UPDATE message m SET links = i.links, updated_at = now() FROM json_to_recordset($1) AS i(id uuid, links jsonb) WHERE m.id = i.id', [JSON.stringify(items)]);
    return items.map(() => undefined);
  });
  private readonly suppressionLookups = new MicroBatcher<{ workspaceId: string; channel: string; addresses: string[] }, Suppression | null>((items) => this.findSuppressions(items));

  /**
   * Inserts the message as `queued` and leased to this replica, with its history line and
   * `queuedEvent`, unless its (workspace, idempotency key) exists: then returns the existing row
   * and created=false. The unique index decides between concurrent duplicates.
   */
  insertQueued(message: NewMessage, leaseSeconds: number, queuedEvent: OutboxRow): Promise<{ message: Message; created: boolean }> {
    return this.queuedInserts.submit({ message, leaseSeconds, event: queuedEvent });
  }

  /** One statement for the whole batch: the inserts, their history lines and outbox rows, and the rows that already existed. */
  private async insertQueuedBatch(items: { message: NewMessage; leaseSeconds: number; event: OutboxRow }[]): Promise<{ message: Message; created: boolean }[]> {
    // A key twice in one batch (a redelivery overtaking its first delivery) is inserted once; the repeat sees it as existing.
    const keyOf = (m: NewMessage): string => `${m.workspaceId.toLowerCase()}\u0000${m.idempotencyKey}`;
    const first = new Map<string, (typeof items)[number]>();
    for (const item of items) if (!first.has(keyOf(item.message))) first.set(keyOf(item.message), item);
    const input = [...first.values()].map(({ message: m, leaseSeconds, event }) => ({
      id: m.id, workspace_id: m.workspaceId, idempotency_key: m.idempotencyKey, contact_id: m.contactId, channel: m.channel, template_id: m.templateId,
      journey_id: m.journeyId, campaign_id: m.campaignId, lease_seconds: leaseSeconds, outbox_line: outboxBatchText([event]),
    }));
    const { rows } = await this.pool.query<Message & { created: boolean }>(
      `WITH input AS (
         SELECT * FROM json_to_recordset($1) AS i(id uuid, workspace_id uuid, idempotency_key text, contact_id uuid, channel text, template_id text, journey_id text, campaign_id text,
                                                   lease_seconds int, outbox_line text)
       ), inserted AS (
         INSERT INTO message (id, workspace_id, idempotency_key, contact_id, channel, template_id, journey_id, campaign_id, status, claimed_until)
         SELECT id, workspace_id, idempotency_key, contact_id, channel, template_id, journey_id, campaign_id, 'queued', now() + make_interval(secs => lease_seconds) FROM input
         ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
         RETURNING ${MESSAGE_COLUMNS}
       ), history AS (
         INSERT INTO message_status_event (message_id, status) SELECT id, 'queued' FROM inserted
       ), outbox AS (
         -- The queued events of the rows this statement inserted, as one outbox_batch row.
         INSERT INTO outbox_batch (events, count) SELECT string_agg(i.outbox_line, E'\\n'), count(*) FROM input i JOIN inserted m ON m.id = i.id HAVING count(*) > 0
       )
       SELECT true AS created, * FROM inserted
       UNION ALL
       SELECT false, ${MESSAGE_COLUMNS} FROM message WHERE (workspace_id, idempotency_key) IN (SELECT workspace_id, idempotency_key FROM input WHERE id NOT IN (SELECT id FROM inserted))`,
      [JSON.stringify(input)],
    );
    const found = new Map(rows.map(({ created, ...message }) => [keyOf(message), { message: message as Message, created }]));
    // A duplicate committed by another transaction after this statement's snapshot: read it again.
    const missing = [...first.values()].filter((i) => !found.has(keyOf(i.message))).map((i) => i.message);
    if (missing.length) {
      const again = await this.pool.query<Message>(`SELECT ${MESSAGE_COLUMNS} FROM message WHERE (workspace_id, idempotency_key) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))`, [
        missing.map((m) => m.workspaceId),
        missing.map((m) => m.idempotencyKey),
      ]);
      for (const message of again.rows) found.set(keyOf(message), { message, created: false });
    }
    return items.map((item) => {
      const hit = found.get(keyOf(item.message));
      if (!hit) throw new Error(`message ${item.message.idempotencyKey} neither inserted nor found`);
      return first.get(keyOf(item.message)) === item ? hit : { message: hit.message, created: false };
    });
  }

  /** Takes over a queued message whose lease lapsed (its sender crashed); null when someone holds it. */
  async claimQueued(id: string, leaseSeconds: number): Promise<Message | null> {
    const { rows } = await this.pool.query<Message>(
      `UPDATE message SET claimed_until = now() + make_interval(secs => $2), updated_at = now()
       WHERE id = $1 AND status = 'queued' AND (claimed_until IS NULL OR claimed_until < now()) RETURNING ${MESSAGE_COLUMNS}`,
      [id, leaseSeconds],
    );
    return rows[0] ?? null;
  }

  async releaseLease(id: string, attempts: number): Promise<void> {
    await this.pool.query('UPDATE message SET claimed_until = NULL, attempts = attempts + $2, updated_at = now() WHERE id = $1', [id, attempts]);
  }

  /** Records how a send ended: the row's final fields, its history line and its status event (batched with concurrent sends). */
  recordOutcome(outcome: SendOutcome): Promise<void> {
    return this.outcomes.submit(outcome);
  }

  private async recordOutcomes(outcomes: SendOutcome[]): Promise<void> {
    const events = outcomes.flatMap((o) => o.events);
    const input = outcomes.map(({ message: m, detail, occurredAt }) => ({
      id: m.id, status: m.status, detail, occurred_at: occurredAt, failure_reason: m.failureReason, template_version: m.templateVersion, recipient: m.recipient,
      provider_config_id: m.providerConfigId, provider_message_id: m.providerMessageId, attempts: m.attempts, subscription_group: m.subscriptionGroup, links: m.links ?? null,
    }));
    await this.pool.query(
      `WITH input AS (
         SELECT * FROM json_to_recordset($1) AS i(id uuid, status text, detail text, occurred_at timestamptz, failure_reason text, template_version int, recipient text,
                                                   provider_config_id uuid, provider_message_id text, attempts int, subscription_group text, links jsonb)
       ), updated AS (
         UPDATE message m SET status = i.status, failure_reason = i.failure_reason, claimed_until = NULL, template_version = i.template_version, recipient = i.recipient,
           provider_config_id = i.provider_config_id, provider_message_id = i.provider_message_id, attempts = i.attempts, subscription_group = i.subscription_group,
           links = COALESCE(i.links, m.links), updated_at = now()
         FROM input i WHERE m.id = i.id
       ), history AS (
         INSERT INTO message_status_event (message_id, status, detail, occurred_at) SELECT id, status, detail, occurred_at FROM input
       )
       INSERT INTO outbox_batch (events, count) VALUES ($2, $3)`,
      [JSON.stringify(input), outboxBatchText(events), events.length],
    );
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

  /** Stores the tracked URLs of a message before it goes out (a click may arrive the moment it lands). */
  async setLinks(id: string, links: string[]): Promise<void> {
    await this.linkUpdates.submit({ id, links });
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

  /** The first suppression of `addresses` (in that order) on the channel or on every channel. */
  suppressionFor(workspaceId: string, channel: string, addresses: string[]): Promise<Suppression | null> {
    return this.suppressionLookups.submit({ workspaceId, channel, addresses });
  }

  private async findSuppressions(lookups: { workspaceId: string; channel: string; addresses: string[] }[]): Promise<(Suppression | null)[]> {
    const keys = lookups.flatMap((l) => l.addresses.flatMap((address) => [l.channel, 'all'].map((channel) => ({ workspace_id: l.workspaceId, channel, address }))));
    const { rows } = await this.pool.query<Suppression>(
      `SELECT s.workspace_id AS "workspaceId", s.channel, s.address, s.reason, s.created_at AS "createdAt"
       FROM suppression s JOIN json_to_recordset($1) AS k(workspace_id uuid, channel text, address text) USING (workspace_id, channel, address)`,
      [JSON.stringify(keys)],
    );
    const found = (workspaceId: string, channel: string, address: string): Suppression | undefined => rows.find((r) => r.workspaceId === workspaceId && r.address === address && (r.channel === channel || r.channel === 'all'));
    return lookups.map((l) => l.addresses.map((a) => found(l.workspaceId, l.channel, a)).find(Boolean) ?? null);
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
