import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import type { Message, Suppression } from '../generated/prisma/client';
import { TemplatesService } from '../templates/templates.service';
import { MessagesRepository } from './messages.repository';
import { SendMessageDto, SuppressionDto } from './messages.dto';
import { SendService } from './send.service';

const normalise = (channel: string, address: string): string => (channel === 'email' || address.includes('@') ? address.trim().toLowerCase() : address.trim());

@ApiTags('messages')
@Controller('v1')
export class MessagesController {
  constructor(
    private readonly sender: SendService,
    private readonly messages: MessagesRepository,
    private readonly templates: TemplatesService,
  ) {}

  /** Transactional send. Answers with the message record (sent, failed with a reason, or suppressed). */
  @Post('messages')
  @HttpCode(202)
  @RequireScope('messaging:write')
  async send(@WorkspaceId() workspaceId: string, @Body() dto: SendMessageDto): Promise<Message> {
    const template = await this.templates.resolveForSend(workspaceId, dto.templateId);
    if (!template) throw new NotFoundException(`No published template ${dto.templateId}`);
    if (template.channel !== dto.channel) throw new BadRequestException({ message: `Template ${dto.templateId} is for ${template.channel}`, errors: [{ path: 'channel', messages: [`must be ${template.channel} for this template`] }] });
    return this.sender.send({ workspaceId, idempotencyKey: dto.idempotencyKey, contactId: dto.contactId, channel: dto.channel, templateId: dto.templateId, data: dto.data ?? {} });
  }

  @Get('messages/:id')
  @RequireScope('messaging:read')
  async get(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<object> {
    const found = await this.messages.find(workspaceId, id);
    if (!found) throw new NotFoundException(`No message ${id}`);
    return { ...found, statusEvents: found.statusEvents.map((e) => ({ status: e.status, detail: e.detail, occurredAt: e.occurredAt })) };
  }

  @Get('contacts/:id/messages')
  @RequireScope('messaging:read')
  forContact(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<Message[]> {
    return this.messages.listForContact(workspaceId, id, 200);
  }

  @Post('suppressions')
  @RequireScope('messaging:write')
  suppress(@WorkspaceId() workspaceId: string, @Body() dto: SuppressionDto): Promise<Suppression> {
    return this.messages.suppress(workspaceId, dto.channel, normalise(dto.channel, dto.address), dto.reason ?? 'manual');
  }

  @Get('suppressions')
  @RequireScope('messaging:read')
  suppressions(@WorkspaceId() workspaceId: string, @Query('limit') limit?: string): Promise<Suppression[]> {
    return this.messages.listSuppressions(workspaceId, Math.min(Number(limit) || 100, 1000));
  }

  @Delete('suppressions/:channel/:address')
  @HttpCode(204)
  @RequireScope('messaging:write')
  async unsuppress(@WorkspaceId() workspaceId: string, @Param('channel') channel: string, @Param('address') address: string): Promise<void> {
    if (!(await this.messages.unsuppress(workspaceId, channel, normalise(channel, address)))) throw new NotFoundException('No such suppression');
  }
}
