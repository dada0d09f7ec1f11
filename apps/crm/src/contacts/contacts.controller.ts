import { Body, Controller, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { ContactView, CreateContactDto } from './contacts.dto';
import { ContactsService } from './contacts.service';

@ApiTags('contacts')
@ApiBearerAuth()
@Controller('v1/contacts')
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  @Post()
  @RequireScope('crm:write')
  create(@WorkspaceId() workspaceId: string, @Body() body: CreateContactDto): Promise<ContactView> {
    return this.contacts.create(workspaceId, body) as Promise<ContactView>;
  }

  @Get(':id')
  @RequireScope('crm:read')
  get(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<ContactView> {
    return this.contacts.get(workspaceId, id) as Promise<ContactView>;
  }
}
