import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { FactView, ListFactsQuery } from './facts.dto';
import { FactsRepository } from './facts.repository';

@ApiTags('facts')
@ApiBearerAuth()
@Controller('v1/facts')
export class FactsController {
  constructor(private readonly facts: FactsRepository) {}

  /** The newest recorded events of the workspace, for debugging a pipeline. */
  @Get()
  @RequireScope('analytics:read')
  list(@WorkspaceId() workspaceId: string, @Query() query: ListFactsQuery): Promise<FactView[]> {
    return this.facts.list(workspaceId, { subject: query.subject, contactId: query.contactId, limit: query.limit ?? 100 });
  }
}
