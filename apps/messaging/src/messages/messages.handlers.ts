import { Injectable } from '@nestjs/common';
import { OnEvent, PermanentError, type Delivered } from '@tessera/bus';
import { DELIVERY_STATUS_RECEIVED_V1, MESSAGE_REQUESTED_V1 } from '@tessera/contracts';
import { MessagesRepository } from './messages.repository';
import { SendService } from './send.service';
import { StatusService } from './status.service';

const SEND_ATTEMPTS = 5;

/**
 * Bus entry points. The send handler keeps its own retries short (a few hundred ms per provider)
 * and lets the bus redeliver on RetryLaterError; it is idempotent by the request id, and the
 * message row's lease stops two deliveries sending at once.
 */
@Injectable()
export class MessagesHandlers {
  constructor(
    private readonly sender: SendService,
    private readonly status: StatusService,
    private readonly messages: MessagesRepository,
  ) {}

  @OnEvent(MESSAGE_REQUESTED_V1.subject, { concurrency: 16, maxAttempts: SEND_ATTEMPTS })
  async requested({ data, envelope, attempt }: Delivered<typeof MESSAGE_REQUESTED_V1.subject>): Promise<void> {
    // RetryLaterError propagates: the bus redelivers with backoff; the last attempt records the failure.
    await this.sender.send(
      { workspaceId: envelope.workspaceId, idempotencyKey: data.requestId, contactId: data.contactId, channel: data.channel, templateId: data.templateId, data: data.data, overrides: data.overrides, journeyId: data.journeyId, campaignId: data.campaignId },
      attempt >= SEND_ATTEMPTS,
    );
  }

  @OnEvent(DELIVERY_STATUS_RECEIVED_V1.subject, { maxAttempts: 5 })
  async deliveryStatus({ data, envelope, attempt }: Delivered<typeof DELIVERY_STATUS_RECEIVED_V1.subject>): Promise<void> {
    const message = await this.messages.findByProviderMessageId(envelope.workspaceId, data.providerMessageId);
    if (!message) {
      // A callback can overtake our own commit of `sent`: wait a little, then give up loudly.
      if (attempt < 3) throw new Error(`no message with provider id ${data.providerMessageId} yet`);
      throw new PermanentError(`no message with provider id ${data.providerMessageId}`);
    }
    // A provider-side unsubscribe (an ESP's own List-Unsubscribe handling) goes to the CRM like ours.
    if (data.status === 'unsubscribed' && message.channel !== 'webhook') await this.status.unsubscribe(message, message.channel, message.subscriptionGroup ?? undefined, `provider:${data.provider}`);
    else await this.status.apply(message, data.status, data.reason, new Date(data.occurredAt));
  }
}
