import { Injectable } from '@nestjs/common';
import { outboxRow } from '@tessera/bus';
import { UNSUBSCRIBE_REQUESTED_V1, type MessageStatus } from '@tessera/contracts';
import { ContactsRepository } from '../contacts/contacts.repository';
import type { Message } from '../generated/prisma/client';
import { MessagesRepository } from './messages.repository';
import { STATUS_RANK, statusChanged } from './status-events';

/** Status changes after the send: provider callbacks, opens, clicks, unsubscribes. */
@Injectable()
export class StatusService {
  constructor(
    private readonly messages: MessagesRepository,
    private readonly contacts: ContactsRepository,
  ) {}

  /**
   * Applies a status: always kept in the history and published; the row moves only forward.
   * A repeat of the same (status, time) is ignored, so redelivered callbacks change nothing.
   */
  async apply(message: Message, status: MessageStatus, detail: string | undefined, occurredAt: Date, options: { once?: boolean } = {}): Promise<boolean> {
    if (await this.messages.hasStatusEvent(message.id, status, options.once ? undefined : occurredAt)) return false;
    const forward = (STATUS_RANK[status] ?? 0) > (STATUS_RANK[message.status] ?? 0);
    await this.messages.recordStatus(message.id, status, detail, forward ? { status, ...(status === 'failed' || status === 'bounced' ? { failureReason: detail ?? status } : {}) } : undefined, statusChanged(message, status, detail, occurredAt), occurredAt);
    if ((status === 'bounced' || status === 'complained') && message.recipient) {
      // A bounce reported as `bounced` is treated as hard; soft bounces arrive as `failed`.
      await this.messages.suppress(message.workspaceId, message.channel, message.recipient, status === 'bounced' ? 'hard_bounce' : 'complaint');
    }
    return true;
  }

  /**
   * One-click / link unsubscribe. The CRM owns consent: we publish messaging.unsubscribe.requested.v1
   * for it, and mark the projection at once so nothing more goes out before the CRM's answer.
   */
  async unsubscribe(message: Message, channel: string, group: string | undefined, source: string): Promise<void> {
    const now = new Date();
    const request = outboxRow('messaging', UNSUBSCRIBE_REQUESTED_V1.subject, { contactId: message.contactId, channel: channel as 'email', source, messageId: message.id, requestedAt: now.toISOString(), ...(group ? { group } : {}) }, { workspaceId: message.workspaceId });
    await this.contacts.setConsent(message.workspaceId, message.contactId, group ? `${channel}:${group}` : channel, 'unsubscribed');
    if (await this.messages.hasStatusEvent(message.id, 'unsubscribed')) return;
    await this.messages.recordStatus(message.id, 'unsubscribed', source, { status: 'unsubscribed' }, [statusChanged(message, 'unsubscribed', source, now), request], now);
  }
}
