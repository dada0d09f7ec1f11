import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { CreateCampaignDto, TestSendDto } from './campaigns.dto';
import { CampaignsService } from './campaigns.service';

@ApiTags('campaigns')
@ApiBearerAuth()
@Controller('v1/campaigns')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  @Post()
  @RequireScope('journeys:write')
  create(@WorkspaceId() ws: string, @Body() body: CreateCampaignDto): Promise<object> {
    return this.campaigns.create(ws, body);
  }

  @Get()
  @RequireScope('journeys:read')
  list(@WorkspaceId() ws: string): Promise<object[]> {
    return this.campaigns.list(ws);
  }

  @Get(':id')
  @RequireScope('journeys:read')
  get(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<object> {
    return this.campaigns.get(ws, id);
  }

  @Post(':id/test-send')
  @HttpCode(202)
  @RequireScope('journeys:write')
  testSend(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Body() body: TestSendDto): Promise<object> {
    return this.campaigns.testSend(ws, id, body);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @RequireScope('journeys:write')
  cancel(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<object> {
    return this.campaigns.cancel(ws, id);
  }
}
