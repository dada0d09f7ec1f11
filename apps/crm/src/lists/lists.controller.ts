import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { validationFailed } from '../contacts/errors';
import { AddMembersDto, AddMembersResult, CreateListDto, ListView, UpdateListDto } from './lists.dto';
import { ListsService } from './lists.service';

const TAG = /^[\p{L}\p{N}_.:-]{1,100}$/u;

function checkTag(tag: string): string {
  if (!TAG.test(tag)) throw validationFailed([{ path: 'tag', messages: ['a tag is 1-100 letters, digits, _ . : -'] }]);
  return tag;
}

@ApiTags('tags and lists')
@ApiBearerAuth()
@Controller('v1')
export class ListsController {
  constructor(private readonly lists: ListsService) {}

  @Post('contacts/:id/tags/:tag')
  @RequireScope('crm:write')
  tag(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Param('tag') tag: string): Promise<{ contactId: string; tag: string; changed: boolean }> {
    return this.lists.tag(ws, id, checkTag(tag), true);
  }

  @Delete('contacts/:id/tags/:tag')
  @RequireScope('crm:write')
  untag(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Param('tag') tag: string): Promise<{ contactId: string; tag: string; changed: boolean }> {
    return this.lists.tag(ws, id, checkTag(tag), false);
  }

  @Post('lists')
  @RequireScope('crm:write')
  create(@WorkspaceId() ws: string, @Body() body: CreateListDto): Promise<ListView> {
    return this.lists.create(ws, body.name, body.description);
  }

  @Get('lists')
  @RequireScope('crm:read')
  all(@WorkspaceId() ws: string): Promise<ListView[]> {
    return this.lists.all(ws);
  }

  @Get('lists/:id')
  @RequireScope('crm:read')
  get(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<ListView> {
    return this.lists.get(ws, id);
  }

  @Patch('lists/:id')
  @RequireScope('crm:write')
  update(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Body() body: UpdateListDto): Promise<ListView> {
    return this.lists.update(ws, id, body.name, body.description);
  }

  @Delete('lists/:id')
  @RequireScope('crm:write')
  remove(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string): Promise<{ id: string; removedMembers: number }> {
    return this.lists.remove(ws, id);
  }

  /** Bulk add: unknown ids are reported, the others are added. */
  @Post('lists/:id/members')
  @RequireScope('crm:write')
  addMembers(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Body() body: AddMembersDto): Promise<AddMembersResult> {
    return this.lists.addMembers(ws, id, body.contactIds);
  }

  @Delete('lists/:id/members/:contactId')
  @RequireScope('crm:write')
  removeMember(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Param('contactId', ParseUUIDPipe) contactId: string): Promise<{ removed: boolean }> {
    return this.lists.removeMember(ws, id, contactId);
  }
}
