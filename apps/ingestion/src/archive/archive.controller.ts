import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { ArchivedEventView, ArchiveQueryDto, ReplayDto, ReplayResultView } from './archive.dto';
import { ArchiveService } from './archive.service';

/** The raw archive of every accepted event, by identity and time; and replay to the bus. */
@ApiTags('archive')
@ApiBearerAuth()
@Controller('v1/archive')
export class ArchiveController {
  constructor(private readonly archive: ArchiveService) {}

  @Get()
  @RequireScope('ingestion:read')
  find(@WorkspaceId() workspaceId: string, @Query() query: ArchiveQueryDto): Promise<ArchivedEventView[]> {
    return this.archive.find(workspaceId, query);
  }

  /** Re-publishes the workspace's events received in [from, to) with their original ids. */
  @Post('replay')
  @HttpCode(200)
  @RequireScope('ingestion:write')
  replay(@WorkspaceId() workspaceId: string, @Body() body: ReplayDto): Promise<ReplayResultView> {
    return this.archive.replay(workspaceId, body.from, body.to);
  }
}
