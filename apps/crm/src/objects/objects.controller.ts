import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { CreateObjectTypeDto, CreateRecordDto, ListRecordsQuery, ObjectTypeView, PatchRecordDto, RecordPage, RecordView } from './objects.dto';
import { ObjectsService } from './objects.service';

@ApiTags('custom objects')
@ApiBearerAuth()
@Controller('v1')
export class ObjectsController {
  constructor(private readonly objects: ObjectsService) {}

  @Post('object-types')
  @RequireScope('crm:write')
  createType(@WorkspaceId() ws: string, @Body() body: CreateObjectTypeDto): Promise<ObjectTypeView> {
    return this.objects.createType(ws, body.name, body.fields);
  }

  @Get('object-types')
  @RequireScope('crm:read')
  types(@WorkspaceId() ws: string): Promise<ObjectTypeView[]> {
    return this.objects.types(ws);
  }

  @Get('object-types/:type')
  @RequireScope('crm:read')
  type(@WorkspaceId() ws: string, @Param('type') type: string): Promise<ObjectTypeView> {
    return this.objects.type(ws, type);
  }

  @Post('object-types/:type/records')
  @RequireScope('crm:write')
  create(@WorkspaceId() ws: string, @Param('type') type: string, @Body() body: CreateRecordDto): Promise<RecordView> {
    return this.objects.create(ws, type, body.contactId, body.data);
  }

  @Get('object-types/:type/records')
  @RequireScope('crm:read')
  list(@WorkspaceId() ws: string, @Param('type') type: string, @Query() q: ListRecordsQuery): Promise<RecordPage> {
    return this.objects.list(ws, type, q);
  }

  @Get('object-types/:type/records/:id')
  @RequireScope('crm:read')
  get(@WorkspaceId() ws: string, @Param('type') type: string, @Param('id', ParseUUIDPipe) id: string): Promise<RecordView> {
    return this.objects.get(ws, type, id);
  }

  @Patch('object-types/:type/records/:id')
  @RequireScope('crm:write')
  patch(@WorkspaceId() ws: string, @Param('type') type: string, @Param('id', ParseUUIDPipe) id: string, @Body() body: PatchRecordDto): Promise<RecordView> {
    return this.objects.patch(ws, type, id, body);
  }

  @Delete('object-types/:type/records/:id')
  @RequireScope('crm:write')
  delete(@WorkspaceId() ws: string, @Param('type') type: string, @Param('id', ParseUUIDPipe) id: string): Promise<{ id: string; deleted: true }> {
    return this.objects.delete(ws, type, id);
  }

  @Get('contacts/:id/objects')
  @RequireScope('crm:read')
  ofContact(@WorkspaceId() ws: string, @Param('id', ParseUUIDPipe) id: string, @Query() q: ListRecordsQuery): Promise<RecordPage> {
    return this.objects.list(ws, undefined, { ...q, contactId: id });
  }
}
