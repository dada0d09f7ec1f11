import { Body, ConflictException, Controller, Get, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { AttributeDefinitionView, CreateAttributeDefinitionDto, CrmSettingsDto } from './attributes.dto';
import { AttributesRepository } from './attributes.repository';

@ApiTags('attributes')
@ApiBearerAuth()
@Controller('v1')
export class AttributesController {
  constructor(private readonly attributes: AttributesRepository) {}

  @Get('attribute-definitions')
  @RequireScope('crm:read')
  list(@WorkspaceId() workspaceId: string): Promise<AttributeDefinitionView[]> {
    return this.attributes.list(workspaceId);
  }

  @Post('attribute-definitions')
  @RequireScope('crm:write')
  async create(@WorkspaceId() workspaceId: string, @Body() body: CreateAttributeDefinitionDto): Promise<AttributeDefinitionView> {
    const created = await this.attributes.create(workspaceId, body.name, body.type);
    if (!created) throw new ConflictException(`Attribute ${body.name} is already defined`);
    return created;
  }

  @Get('crm-settings')
  @RequireScope('crm:read')
  settings(@WorkspaceId() workspaceId: string): Promise<CrmSettingsDto> {
    return this.attributes.getSettings(workspaceId);
  }

  @Patch('crm-settings')
  @RequireScope('crm:write')
  updateSettings(@WorkspaceId() workspaceId: string, @Body() body: CrmSettingsDto): Promise<CrmSettingsDto> {
    return this.attributes.setSettings(workspaceId, body.unknownAttributes);
  }
}
