import { Injectable } from '@nestjs/common';
import { OnEvent, type Delivered } from '@tessera/bus';
import { INBOUND_MESSAGE_RECEIVED_V1, UNSUBSCRIBE_REQUESTED_V1 } from '@tessera/contracts';
import { consentKeyword } from './consent-keywords';
import { ConsentService } from './consent.service';

@Injectable()
export class ConsentHandlers {
  constructor(private readonly consent: ConsentService) {}

  /** STOP/START keywords in inbound SMS/WhatsApp become consent changes of the sender's contacts. */
  @OnEvent(INBOUND_MESSAGE_RECEIVED_V1.subject, { ordered: true })
  async onInbound(e: Delivered<typeof INBOUND_MESSAGE_RECEIVED_V1.subject>): Promise<void> {
    const state = consentKeyword(e.data.text) ?? consentKeyword(e.data.buttonPayload);
    if (!state) return;
    await this.consent.fromInbound(e.envelope.workspaceId, e.envelope.id, e.data.from, {
      channel: e.data.channel,
      state,
      source: e.data.channel === 'sms' ? 'sms_stop' : 'whatsapp_optout',
      changedAt: new Date(e.data.receivedAt),
    });
  }

  /** One-click unsubscribe and preference links in messages (RFC 8058), via messaging. */
  @OnEvent(UNSUBSCRIBE_REQUESTED_V1.subject, { ordered: true })
  async onUnsubscribeRequested(e: Delivered<typeof UNSUBSCRIBE_REQUESTED_V1.subject>): Promise<void> {
    await this.consent.fromUnsubscribeRequest(e.envelope.workspaceId, e.envelope.id, e.data.contactId, {
      channel: e.data.channel,
      group: e.data.group,
      state: 'unsubscribed',
      source: e.data.source,
      changedAt: new Date(e.data.requestedAt),
    });
  }
}
