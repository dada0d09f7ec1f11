import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, UnprocessableEntityException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { ContactsRepository } from '../contacts/contacts.repository';
import type { Template, TemplateVersion } from '../generated/prisma/client';
import { RenderError } from './renderer';
import { CreateTemplateDto, PreviewTemplateDto, PutPartialDto, UpdateTemplateDto } from './templates.dto';
import { TemplatesService } from './templates.service';

@ApiTags('templates')
@Controller('v1')
export class TemplatesController {
  constructor(
    private readonly templates: TemplatesService,
    private readonly contacts: ContactsRepository,
  ) {}

  @Post('templates')
  @RequireScope('messaging:write')
  create(@WorkspaceId() ws: string, @Body() dto: CreateTemplateDto): Promise<Template> {
    return this.templates.create(ws, dto);
  }

  @Get('templates')
  @RequireScope('messaging:read')
  list(@WorkspaceId() ws: string): Promise<Template[]> {
    return this.templates.list(ws);
  }

  @Get('templates/:id')
  @RequireScope('messaging:read')
  get(@WorkspaceId() ws: string, @Param('id') id: string): Promise<Template> {
    return this.templates.get(ws, id);
  }

  @Patch('templates/:id')
  @RequireScope('messaging:write')
  update(@WorkspaceId() ws: string, @Param('id') id: string, @Body() dto: UpdateTemplateDto): Promise<Template> {
    return this.templates.update(ws, id, dto);
  }

  /** Deletes the template with every version (by id or name). Journeys still naming it pause at their next send to it. */
  @Delete('templates/:id')
  @HttpCode(204)
  @RequireScope('messaging:write')
  async remove(@WorkspaceId() ws: string, @Param('id') id: string): Promise<void> {
    await this.templates.delete(ws, id);
  }

  /** Creates the next immutable version from the draft. */
  @Post('templates/:id/publish')
  @RequireScope('messaging:write')
  publish(@WorkspaceId() ws: string, @Param('id') id: string): Promise<TemplateVersion> {
    return this.templates.publish(ws, id);
  }

  @Get('templates/:id/versions')
  @RequireScope('messaging:read')
  versions(@WorkspaceId() ws: string, @Param('id') id: string): Promise<TemplateVersion[]> {
    return this.templates.versions(ws, id);
  }

  /** Renders the draft (or a version) for a contact of the projection and/or sample data. */
  @Post('templates/:id/preview')
  @HttpCode(200)
  @RequireScope('messaging:read')
  async preview(@WorkspaceId() ws: string, @Param('id') id: string, @Body() dto: PreviewTemplateDto): Promise<object> {
    const template = await this.templates.resolveForPreview(ws, id, dto.version);
    const contact = dto.contactId ? await this.contacts.find(ws, dto.contactId) : null;
    const sample = dto.data ?? {};
    const data = { ...sample, contact: { ...(contact ? ContactsRepository.templateView(contact) : {}), ...((sample.contact as object | undefined) ?? {}) } };
    try {
      return await this.templates.render(ws, template, data, dto.locale ?? contact?.locale);
    } catch (error) {
      if (error instanceof RenderError) throw new UnprocessableEntityException({ message: error.message, missing: error.missing });
      throw error;
    }
  }

  @Put('partials/:name')
  @RequireScope('messaging:write')
  putPartial(@WorkspaceId() ws: string, @Param('name') name: string, @Body() dto: PutPartialDto): Promise<{ name: string; updatedAt: Date }> {
    return this.templates.putPartial(ws, name, dto.body);
  }
}
