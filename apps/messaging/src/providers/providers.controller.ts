import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { CreateProviderConfigDto, type ProviderConfigView } from './providers.dto';
import { ProvidersService } from './providers.service';

@ApiTags('providers')
@Controller('v1/providers')
export class ProvidersController {
  constructor(private readonly providers: ProvidersService) {}

  @Post()
  @RequireScope('messaging:write')
  create(@WorkspaceId() workspaceId: string, @Body() dto: CreateProviderConfigDto): Promise<ProviderConfigView> {
    return this.providers.create(workspaceId, dto);
  }

  @Get()
  @RequireScope('messaging:read')
  list(@WorkspaceId() workspaceId: string): Promise<ProviderConfigView[]> {
    return this.providers.list(workspaceId);
  }

  @Get(':id')
  @RequireScope('messaging:read')
  get(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<ProviderConfigView> {
    return this.providers.get(workspaceId, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('messaging:write')
  delete(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.providers.delete(workspaceId, id);
  }
}
