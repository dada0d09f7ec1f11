import { outboxRow, type OutboxRow } from '@tessera/bus';
import { MESSAGE_STATUS_CHANGED_V1, TEMPLATE_MISSING_V1, type MessageStatus, type MessageStatusChangedV1 } from '@tessera/contracts';
import type { Message } from '../generated/prisma/client';

/** The analytics feed event for a message's status change. */
export function statusChanged(message: Pick<Message, 'id' | 'workspaceId' | 'contactId' | 'channel' | 'templateId' | 'templateVersion' | 'journeyId' | 'campaignId'>, status: MessageStatus, detail?: string, occurredAt: Date = new Date()): OutboxRow {
  const data: MessageStatusChangedV1 = {
    messageId: message.id,
    contactId: message.contactId,
    channel: message.channel as MessageStatusChangedV1['channel'],
    templateId: message.templateId,
    status,
    occurredAt: occurredAt.toISOString(),
    ...(message.templateVersion ? { templateVersion: message.templateVersion } : {}),
    ...(message.journeyId ? { journeyId: message.journeyId } : {}),
    ...(message.campaignId ? { campaignId: message.campaignId } : {}),
    ...(detail ? { detail: detail.slice(0, 1000) } : {}),
  };
  return outboxRow('messaging', MESSAGE_STATUS_CHANGED_V1.subject, data, { workspaceId: message.workspaceId, occurredAt });
}

/** Announces that a send failed for want of a published template, for whoever asked for it (journeys pauses the journey). */
export function templateMissing(message: Message, occurredAt: Date): OutboxRow {
  const data = {
    messageId: message.id,
    contactId: message.contactId,
    channel: message.channel as MessageStatusChangedV1['channel'],
    templateId: message.templateId,
    occurredAt: occurredAt.toISOString(),
    ...(message.journeyId ? { journeyId: message.journeyId } : {}),
    ...(message.campaignId ? { campaignId: message.campaignId } : {}),
  };
  return outboxRow('messaging', TEMPLATE_MISSING_V1.subject, data, { workspaceId: message.workspaceId, occurredAt });
}

/**
 * Where a status sits in a message's life: the row keeps the furthest one reached, while every
 * change is kept in the history and published.
 */
export const STATUS_RANK: Record<string, number> = { queued: 0, sent: 1, delivered: 2, opened: 3, read: 3, clicked: 4, failed: 5, bounced: 5, suppressed: 5, complained: 6, unsubscribed: 6 };
