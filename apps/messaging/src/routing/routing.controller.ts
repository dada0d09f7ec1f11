import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { v7 as uuidv7 } from 'uuid';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import type { Conversation, RoutingRule } from '../generated/prisma/client';
import { CreateRoutingRuleDto, UpdateConversationDto } from './routing.dto';
import { RoutingRepository } from './routing.repository';
import { conditionProblems } from './rules';

@ApiTags('routing')
@Controller('v1')
export class RoutingController {
  constructor(private readonly routing: RoutingRepository) {}

  @Post('routing-rules')
  @RequireScope('messaging:write')
  create(@WorkspaceId() workspaceId: string, @Body() dto: CreateRoutingRuleDto): Promise<RoutingRule> {
    const problems = conditionProblems(dto.kind, dto.condition);
    if (problems.length) throw new BadRequestException({ message: `Invalid ${dto.kind} condition`, errors: problems });
    return this.routing.createRule({ id: uuidv7(), workspaceId, name: dto.name, kind: dto.kind, condition: dto.condition as object, queue: dto.queue, priority: dto.priority ?? 100, enabled: dto.enabled ?? true });
  }

  @Get('routing-rules')
  @RequireScope('messaging:read')
  rules(@WorkspaceId() workspaceId: string): Promise<RoutingRule[]> {
    return this.routing.rules(workspaceId);
  }

  @Delete('routing-rules/:id')
  @HttpCode(204)
  @RequireScope('messaging:write')
  async deleteRule(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    if (!(await this.routing.deleteRule(workspaceId, id))) throw new NotFoundException(`No routing rule ${id}`);
  }

  @Get('conversations')
  @RequireScope('messaging:read')
  conversations(@WorkspaceId() workspaceId: string, @Query('queue') queue?: string, @Query('status') status?: string, @Query('contactId', new ParseUUIDPipe({ optional: true })) contactId?: string): Promise<Conversation[]> {
    return this.routing.conversations(workspaceId, { ...(queue ? { queue } : {}), ...(status ? { status } : {}), ...(contactId ? { contactId } : {}) }, 200);
  }

  @Get('conversations/:id')
  @RequireScope('messaging:read')
  async conversation(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<object> {
    const found = await this.routing.conversation(workspaceId, id);
    if (!found) throw new NotFoundException(`No conversation ${id}`);
    return found;
  }

  @Patch('conversations/:id')
  @RequireScope('messaging:write')
  async update(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateConversationDto): Promise<Conversation> {
    const updated = await this.routing.updateConversation(workspaceId, id, dto);
    if (!updated) throw new NotFoundException(`No conversation ${id}`);
    return updated;
  }
}
