import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { RangeQuery } from '../reports/reports.dto';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { CreateDestinationDto, DestinationView, UpdateDestinationDto } from './destinations.dto';
import { DestinationsService } from './destinations.service';
import { RawExportRepository } from './raw-export.repository';

export class RawExportQuery extends RangeQuery {
  @ApiPropertyOptional({ example: 'messaging.message.status_changed.v1' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  subject?: string;
}

const MAX_EXPORT_DAYS = 366;

@ApiTags('exports')
@ApiBearerAuth()
@Controller('v1')
export class ExportsController {
  constructor(
    private readonly raw: RawExportRepository,
    private readonly destinations: DestinationsService,
  ) {}

  /** Every recorded event of a time range as NDJSON, streamed page by page. */
  @Get('exports/events')
  @RequireScope('analytics:read')
  @ApiProduces('application/x-ndjson')
  exportEvents(@WorkspaceId() ws: string, @Query() q: RawExportQuery): StreamableFile {
    const from = new Date(q.from);
    const to = new Date(q.to);
    if (!(to > from)) throw new BadRequestException({ message: 'to must be after from', errors: [{ path: 'to', messages: ['to must be after from'] }] });
    if (to.getTime() - from.getTime() > MAX_EXPORT_DAYS * 86_400_000) throw new BadRequestException({ message: `at most ${MAX_EXPORT_DAYS} days per export`, errors: [{ path: 'to', messages: [`at most ${MAX_EXPORT_DAYS} days per export`] }] });
    const pages = this.raw.facts(ws, from, to, q.subject);
    const lines = async function* (): AsyncGenerator<string> {
      for await (const page of pages) yield page.map((f) => JSON.stringify({ id: f.id, subject: f.subject, contactId: f.contactId, occurredAt: f.occurredAt, data: f.data }) + '\n').join('');
    };
    return new StreamableFile(Readable.from(lines()), { type: 'application/x-ndjson' });
  }

  @Post('export-destinations')
  @RequireScope('analytics:write')
  create(@WorkspaceId() ws: string, @Body() body: CreateDestinationDto): Promise<DestinationView> {
    return this.destinations.create(ws, body);
  }

  @Get('export-destinations')
  @RequireScope('analytics:read')
  list(@WorkspaceId() ws: string): Promise<DestinationView[]> {
    return this.destinations.list(ws);
  }

  /** Status of a destination: last error, consecutive failures, next attempt, lag. */
  @Get('export-destinations/:id')
  @RequireScope('analytics:read')
  get(@WorkspaceId() ws: string, @Param('id', new ParseUUIDPipe()) id: string): Promise<DestinationView> {
    return this.destinations.get(ws, id);
  }

  @Patch('export-destinations/:id')
  @RequireScope('analytics:write')
  update(@WorkspaceId() ws: string, @Param('id', new ParseUUIDPipe()) id: string, @Body() body: UpdateDestinationDto): Promise<DestinationView> {
    if (body.enabled === undefined) throw new BadRequestException({ message: 'nothing to change', errors: [{ path: 'enabled', messages: ['enabled is required'] }] });
    return this.destinations.setEnabled(ws, id, body.enabled);
  }

  @Delete('export-destinations/:id')
  @HttpCode(204)
  @RequireScope('analytics:write')
  async remove(@WorkspaceId() ws: string, @Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.destinations.delete(ws, id);
  }
}
