import { Injectable } from '@nestjs/common';
import { OnEvent, OnEvents, PermanentError, type Delivered } from '@tessera/bus';
import { DELIVERY_STATUS_RECEIVED_V1, MESSAGE_REQUESTED_V1 } from '@tessera/contracts';
import { SpanKind, withSpanFromCarrier, type TraceCarrier } from '@tessera/observability';
import { MessagesRepository } from './messages.repository';
import { SendService } from './send.service';
import { StatusService } from './status.service';

const SEND_ATTEMPTS = 5;

/**
 * Bus entry points. Send requests arrive in batches whose sends run side by side, so their
 * database reads and writes share statements (see MessagesRepository). The send handler keeps its
 * own retries short (a few hundred ms per provider) and lets the bus redeliver on RetryLaterError;
 * it is idempotent by the request id, and the message row's lease stops two deliveries sending at once.
 */
@Injectable()
export class MessagesHandlers {
  constructor(
    private readonly sender: SendService,
    private readonly status: StatusService,
    private readonly messages: MessagesRepository,
  ) {}

  @OnEvents(MESSAGE_REQUESTED_V1.subject, { maxSize: 100, maxWaitMs: 20, inFlight: 2 }, { maxAttempts: SEND_ATTEMPTS })
  async requested(events: Delivered<typeof MESSAGE_REQUESTED_V1.subject>[]): Promise<void> {
    const sends = events.map(({ data, envelope, attempt }) =>
      // Each send in its requester's trace, so its provider call and status events join the journey's trace.
      withSpanFromCarrier(`${MESSAGE_REQUESTED_V1.subject} send`, SpanKind.CONSUMER, traceOf(envelope), { 'messaging.message.id': envelope.id }, () =>
        this.sender.send(
          { workspaceId: envelope.workspaceId, idempotencyKey: data.requestId, contactId: data.contactId, channel: data.channel, templateId: data.templateId, data: data.data, overrides: data.overrides, journeyId: data.journeyId, campaignId: data.campaignId },
          attempt >= SEND_ATTEMPTS,
        ),
      ),
    );
    // Every send finishes before a failure propagates. The bus then retries the batch's events one
    // by one: those already sent are no-ops (idempotency key), and only the failed one (e.g. a
    // RetryLaterError; the last attempt records the failure instead) waits for its redelivery.
    const failure = (await Promise.allSettled(sends)).find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
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

/** The trace context the requester put in the envelope. */
function traceOf(envelope: { traceparent?: string; tracestate?: string }): TraceCarrier {
  return { ...(envelope.traceparent ? { traceparent: envelope.traceparent } : {}), ...(envelope.tracestate ? { tracestate: envelope.tracestate } : {}) };
}
