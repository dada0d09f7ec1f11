import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { ContactPage, ContactView, CreateContactDto, ListContactsQuery, LookupQuery, MergeContactsDto, PatchContactDto } from './contacts.dto';
import { ContactsService } from './contacts.service';

/** The part of Fastify's reply we use (fastify itself is not a direct dependency). */
interface Reply {
  status(code: number): unknown;
}
import { ErasureService } from './erasure.service';

@ApiTags('contacts')
@ApiBearerAuth()
@Controller('v1/contacts')
export class ContactsController {
  constructor(
    private readonly contacts: ContactsService,
    private readonly erasure: ErasureService,
  ) {}

  /** 201 when created, 200 when an existing contact (same externalId, else email) was updated. */
  @Post()
  @RequireScope('crm:write')
  async upsert(@WorkspaceId() workspaceId: string, @Body() body: CreateContactDto, @Res({ passthrough: true }) reply: Reply): Promise<ContactView> {
    const { contact, created } = await this.contacts.upsert(workspaceId, body);
    reply.status(created ? 201 : 200);
    return contact;
  }

  @Get()
  @RequireScope('crm:read')
  list(@WorkspaceId() workspaceId: string, @Query() query: ListContactsQuery): Promise<ContactPage> {
    return this.contacts.list(workspaceId, query);
  }

  /** Documents the route; at run time LookupHttpService serves it from node:http (same answers). */
  @Get('lookup')
  @RequireScope('crm:read')
  lookup(@WorkspaceId() workspaceId: string, @Query() query: LookupQuery): Promise<ContactView> {
    return this.contacts.lookup(workspaceId, query);
  }

  @Post('merge')
  @RequireScope('crm:write')
  async merge(@WorkspaceId() workspaceId: string, @Body() body: MergeContactsDto, @Res({ passthrough: true }) reply: Reply): Promise<{ contact: ContactView; merged: boolean }> {
    reply.status(200);
    return this.contacts.merge(workspaceId, body.contactId, body.mergedContactId);
  }

  /** A merged profile's old id answers with the surviving profile. */
  @Get(':id')
  @RequireScope('crm:read')
  get(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<ContactView> {
    return this.contacts.get(workspaceId, id);
  }

  @Patch(':id')
  @RequireScope('crm:write')
  patch(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string, @Body() body: PatchContactDto): Promise<ContactView> {
    return this.contacts.patch(workspaceId, id, body);
  }

  /** Erasure: personal data removed, a tombstone kept. */
  @Delete(':id')
  @RequireScope('crm:write')
  erase(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<{ id: string; erasedAt: Date }> {
    return this.erasure.erase(workspaceId, id);
  }
}
