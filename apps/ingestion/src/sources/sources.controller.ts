import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { CreatedSourceView, CreateSourceDto, RotatedKeyView, RotateWriteKeyDto, SourceView, UpdateSourceDto } from './sources.dto';
import { SourcesService } from './sources.service';

/** Sources of the caller's workspace: tracking write keys and webhook endpoints. */
@ApiTags('sources')
@ApiBearerAuth()
@Controller('v1/sources')
export class SourcesController {
  constructor(private readonly sources: SourcesService) {}

  /** Creates a source; the write key (and a generated signing secret) are shown only in this answer. */
  @Post()
  @RequireScope('ingestion:write')
  create(@WorkspaceId() workspaceId: string, @Body() body: CreateSourceDto): Promise<CreatedSourceView> {
    return this.sources.create(workspaceId, body);
  }

  @Get()
  @RequireScope('ingestion:read')
  list(@WorkspaceId() workspaceId: string): Promise<SourceView[]> {
    return this.sources.list(workspaceId);
  }

  @Get(':id')
  @RequireScope('ingestion:read')
  get(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<SourceView> {
    return this.sources.get(workspaceId, id);
  }

  @Patch(':id')
  @RequireScope('ingestion:write')
  update(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string, @Body() body: UpdateSourceDto): Promise<SourceView> {
    return this.sources.update(workspaceId, id, body);
  }

  /** Issues a new write key; the previous one stays valid for `overlapSeconds` (default one day). */
  @Post(':id/rotate-write-key')
  @HttpCode(200)
  @RequireScope('ingestion:write')
  rotate(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string, @Body() body: RotateWriteKeyDto): Promise<RotatedKeyView> {
    return this.sources.rotateWriteKey(workspaceId, id, body.overlapSeconds);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('ingestion:write')
  async delete(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.sources.delete(workspaceId, id);
  }
}
