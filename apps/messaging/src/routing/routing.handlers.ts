import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { OnEvent, outboxRow, type Delivered } from '@tessera/bus';
import { CONVERSATION_ROUTED_V1, INBOUND_MESSAGE_RECEIVED_V1 } from '@tessera/contracts';
import { ContactsRepository } from '../contacts/contacts.repository';
import { RoutingRepository } from './routing.repository';
import { DEFAULT_QUEUE, isOptOutKeyword, route, type RuleKind } from './rules';

/**
 * Inbound SMS/WhatsApp: attach to the contact (by phone, from the projection; a contact that
 * arrives later claims the conversation), open the 24-hour WhatsApp service window, record
 * STOP-type keywords (the CRM changes consent from the same event: not handled twice here), and
 * route a new conversation to a queue.
 */
@Injectable()
export class RoutingHandlers {
  constructor(
    private readonly routing: RoutingRepository,
    private readonly contacts: ContactsRepository,
  ) {}

  @OnEvent(INBOUND_MESSAGE_RECEIVED_V1.subject, { ordered: true })
  async inbound({ data, envelope }: Delivered<typeof INBOUND_MESSAGE_RECEIVED_V1.subject>): Promise<void> {
    const workspaceId = envelope.workspaceId;
    if (await this.routing.seen(envelope.id)) return;
    const receivedAt = new Date(data.receivedAt);
    const contact = await this.contacts.findByPhone(workspaceId, data.from);
    if (contact) await this.contacts.touchInbound(workspaceId, contact.id, receivedAt);
    const inbound = {
      id: envelope.id,
      workspaceId,
      channel: data.channel,
      providerMessageId: data.providerMessageId,
      from: data.from,
      text: data.text ?? null,
      buttonPayload: data.buttonPayload ?? null,
      optOutKeyword: isOptOutKeyword(data.text),
      receivedAt,
    };
    const open = await this.routing.openConversation(workspaceId, data.channel, data.from);
    if (open) {
      await this.routing.recordInbound(inbound, open, null, []);
      return;
    }
    const rules = await this.routing.rules(workspaceId, true);
    const rule = route(rules, { text: data.text, buttonPayload: data.buttonPayload, attributes: contact?.attributes as Record<string, unknown> | undefined, receivedAt });
    const conversationId = uuidv7();
    const queue = rule?.queue ?? DEFAULT_QUEUE;
    const routed = outboxRow(
      'messaging',
      CONVERSATION_ROUTED_V1.subject,
      { conversationId, channel: data.channel, queue, inboundMessageId: envelope.id, routedAt: new Date().toISOString(), ...(contact ? { contactId: contact.id } : {}), ...(rule ? { ruleId: rule.id, ruleKind: rule.kind as RuleKind } : {}) },
      { workspaceId },
    );
    await this.routing.recordInbound(inbound, null, { id: conversationId, workspaceId, channel: data.channel, address: data.from, contactId: contact?.id ?? null, queue, ruleId: rule?.id ?? null, lastMessageAt: receivedAt }, [routed]);
    if (!contact) await this.contacts.claimByPhone(workspaceId, data.from);
  }
}
