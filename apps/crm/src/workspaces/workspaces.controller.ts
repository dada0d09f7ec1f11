import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { ApiKeyView, CreateApiKeyDto, CreatedApiKeyView, CreatedWorkspaceView, CreateWorkspaceDto, WorkspaceView } from './workspaces.dto';
import { WorkspacesService } from './workspaces.service';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('v1')
export class WorkspacesController {
  constructor(private readonly workspaces: WorkspacesService) {}

  /** Creates another workspace; answers with its first admin key, shown only here. */
  @Post('workspaces')
  @RequireScope('platform:write')
  create(@Body() body: CreateWorkspaceDto): Promise<CreatedWorkspaceView> {
    return this.workspaces.createWorkspace(body.name, body.timezone);
  }

  /** The workspace the calling key belongs to. */
  @Get('workspace')
  @RequireScope('keys:read')
  current(@WorkspaceId() workspaceId: string): Promise<WorkspaceView> {
    return this.workspaces.getWorkspace(workspaceId);
  }

  @Post('api-keys')
  @RequireScope('keys:write')
  createKey(@WorkspaceId() workspaceId: string, @Body() body: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    return this.workspaces.createKey(workspaceId, body.name, body.scopes);
  }

  @Get('api-keys')
  @RequireScope('keys:read')
  listKeys(@WorkspaceId() workspaceId: string): Promise<ApiKeyView[]> {
    return this.workspaces.listKeys(workspaceId);
  }

  /** Revokes a key; every service refuses it within seconds. */
  @Delete('api-keys/:id')
  @HttpCode(200)
  @RequireScope('keys:write')
  revokeKey(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<ApiKeyView> {
    return this.workspaces.revokeKey(workspaceId, id);
  }
}
