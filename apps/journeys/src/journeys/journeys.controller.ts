import { Body, Controller, Get, HttpCode, NotFoundException, Param, ParseIntPipe, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { CreateJourneyDto, ListInstancesQuery, MigrateDto, SettingsDto, SimulateDto, TriggerJourneyDto, UpdateJourneyDto } from './journeys.dto';
import { JourneysRepository } from './journeys.repository';
import { JourneysService } from './journeys.service';

@ApiTags('journeys')
@ApiBearerAuth()
@Controller('v1')
export class JourneysController {
  constructor(
    private readonly journeys: JourneysService,
    private readonly repo: JourneysRepository,
  ) {}

  @Get('journeys/recipes')
  @RequireScope('journeys:read')
  recipes(): ReturnType<JourneysService['recipes']> {
    return this.journeys.recipes();
  }

  @Post('journeys/recipes/:name/install')
  @RequireScope('journeys:write')
  install(@WorkspaceId() ws: string, @Param('name') name: string): Promise<object> {
    return this.journeys.installRecipe(ws, name);
  }

  @Get('journeys/settings')
  @RequireScope('journeys:read')
  settings(@WorkspaceId() ws: string): Promise<object> {
    return this.journeys.settings(ws);
  }

  @Put('journeys/settings')
  @RequireScope('journeys:write')
  saveSettings(@WorkspaceId() ws: string, @Body() body: SettingsDto): Promise<object> {
    return this.journeys.saveSettings(ws, body);
  }

  @Get('journeys/instances/:instanceId')
  @RequireScope('journeys:read')
  async instance(@WorkspaceId() ws: string, @Param('instanceId', ParseUUIDPipe) id: string): Promise<object> {
    const found = await this.repo.instanceWithHistory(ws, id);
    if (!found) throw new NotFoundException(`Instance ${id} not found`);
    return found;
  }

  @Get('contacts/:contactId/journey-instances')
  @RequireScope('journeys:read')
  contactInstances(@WorkspaceId() ws: string, @Param('contactId', ParseUUIDPipe) contactId: string, @Query() q: ListInstancesQuery): Promise<object[]> {
    return this.repo.instances(ws, { contactId, ...(q.status ? { status: q.status } : {}) }, q.limit ?? 100);
  }

  @Post('journeys')
  @RequireScope('journeys:write')
  create(@WorkspaceId() ws: string, @Body() body: CreateJourneyDto): Promise<object> {
    return this.journeys.create(ws, body);
  }

  @Get('journeys')
  @RequireScope('journeys:read')
  list(@WorkspaceId() ws: string): Promise<object[]> {
    return this.journeys.list(ws);
  }

  @Get('journeys/:id')
  @RequireScope('journeys:read')
  get(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<object> {
    return this.journeys.get(ws, id);
  }

  @Put('journeys/:id')
  @RequireScope('journeys:write')
  update(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Body() body: UpdateJourneyDto): Promise<object> {
    return this.journeys.update(ws, id, body);
  }

  @Post('journeys/:id/publish')
  @HttpCode(201)
  @RequireScope('journeys:write')
  publish(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<object> {
    return this.journeys.publish(ws, id);
  }

  @Post('journeys/:id/pause')
  @HttpCode(200)
  @RequireScope('journeys:write')
  pause(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<object> {
    return this.journeys.setStatus(ws, id, 'pause');
  }

  @Post('journeys/:id/resume')
  @HttpCode(200)
  @RequireScope('journeys:write')
  resume(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<object> {
    return this.journeys.setStatus(ws, id, 'resume');
  }

  @Post('journeys/:id/archive')
  @HttpCode(200)
  @RequireScope('journeys:write')
  archive(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<object> {
    return this.journeys.setStatus(ws, id, 'archive');
  }

  @Get('journeys/:id/versions')
  @RequireScope('journeys:read')
  versions(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<object[]> {
    return this.journeys.versions(ws, id);
  }

  @Get('journeys/:id/versions/:version')
  @RequireScope('journeys:read')
  version(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Param('version', ParseIntPipe) version: number): Promise<object> {
    return this.journeys.version(ws, id, version);
  }

  @Post('journeys/:id/versions/:version/migrate')
  @HttpCode(200)
  @RequireScope('journeys:write')
  migrate(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Param('version', ParseIntPipe) version: number, @Body() body: MigrateDto): Promise<object> {
    return this.journeys.migrate(ws, id, version, body);
  }

  @Post('journeys/:id/trigger')
  @HttpCode(202)
  @RequireScope('journeys:write')
  trigger(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Body() body: TriggerJourneyDto): Promise<object> {
    return this.journeys.trigger(ws, id, body);
  }

  @Post('journeys/:id/simulate')
  @HttpCode(200)
  @RequireScope('journeys:read')
  simulate(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Body() body: SimulateDto): Promise<object> {
    return this.journeys.simulate(ws, id, body);
  }

  @Get('journeys/:id/instances')
  @RequireScope('journeys:read')
  async instances(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Query() q: ListInstancesQuery): Promise<object[]> {
    await this.journeys.get(ws, id);
    return this.repo.instances(ws, { journeyId: id, ...(q.status ? { status: q.status } : {}) }, q.limit ?? 100);
  }

  @Get('journeys/:id/stats')
  @RequireScope('journeys:read')
  async stats(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<object> {
    await this.journeys.get(ws, id);
    return this.repo.stats(ws, id);
  }
}
