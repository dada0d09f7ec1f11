import { Injectable } from '@nestjs/common';
import { outboxData, type OutboxRow } from '@tessera/bus';
import { PrismaService } from '../database/prisma.service';
import type { Conversation, InboundMessage, Prisma, RoutingRule } from '../generated/prisma/client';

/** The only code that touches routing_rule, conversation and inbound_message. */
@Injectable()
export class RoutingRepository {
  constructor(private readonly prisma: PrismaService) {}

  createRule(data: Prisma.RoutingRuleUncheckedCreateInput): Promise<RoutingRule> {
    return this.prisma.routingRule.create({ data });
  }

  rules(workspaceId: string, enabledOnly = false): Promise<RoutingRule[]> {
    return this.prisma.routingRule.findMany({ where: { workspaceId, ...(enabledOnly ? { enabled: true } : {}) }, orderBy: [{ priority: 'asc' }, { createdAt: 'asc' }] });
  }

  async deleteRule(workspaceId: string, id: string): Promise<boolean> {
    return (await this.prisma.routingRule.deleteMany({ where: { workspaceId, id } })).count > 0;
  }

  async seen(id: string): Promise<boolean> {
    return (await this.prisma.inboundMessage.count({ where: { id } })) > 0;
  }

  openConversation(workspaceId: string, channel: string, address: string): Promise<Conversation | null> {
    return this.prisma.conversation.findFirst({ where: { workspaceId, channel, address, status: 'open' }, orderBy: { createdAt: 'desc' } });
  }

  /**
   * Stores an inbound message, opening a conversation (with its routing and the routed event) when
   * none is open. The inbound id is the bus event id: a redelivery fails the insert and rolls back.
   */
  async recordInbound(inbound: Omit<InboundMessage, 'conversationId'>, existing: Conversation | null, create: Prisma.ConversationUncheckedCreateInput | null, events: OutboxRow[]): Promise<string> {
    return this.prisma.$transaction(async (tx) => {
      let conversationId = existing?.id;
      if (create) conversationId = (await tx.conversation.create({ data: create })).id;
      else await tx.conversation.update({ where: { id: conversationId! }, data: { lastMessageAt: inbound.receivedAt } });
      await tx.inboundMessage.create({ data: { ...inbound, conversationId: conversationId! } });
      if (events.length) await tx.outboxMessage.createMany({ data: events.map(outboxData) });
      return conversationId!;
    });
  }

  conversations(workspaceId: string, filter: { queue?: string; status?: string; contactId?: string }, limit: number): Promise<Conversation[]> {
    return this.prisma.conversation.findMany({ where: { workspaceId, ...filter }, orderBy: { lastMessageAt: 'desc' }, take: limit });
  }

  async conversation(workspaceId: string, id: string): Promise<(Conversation & { messages: InboundMessage[] }) | null> {
    const found = await this.prisma.conversation.findFirst({ where: { workspaceId, id } });
    if (!found) return null;
    return { ...found, messages: await this.prisma.inboundMessage.findMany({ where: { conversationId: id }, orderBy: { receivedAt: 'asc' } }) };
  }

  async updateConversation(workspaceId: string, id: string, data: Prisma.ConversationUpdateManyMutationInput): Promise<Conversation | null> {
    const { count } = await this.prisma.conversation.updateMany({ where: { workspaceId, id }, data });
    return count ? this.prisma.conversation.findFirst({ where: { workspaceId, id } }) : null;
  }
}
