import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, StreamableFile } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { ExportQueryDto, HistoryQueryDto, IdParamDto, MembersQueryDto, PreviewDto, SegmentBodyDto } from './segments.dto';
import { SegmentsRepository } from './segments.repository';
import { SegmentsService } from './segments.service';

@ApiTags('segments')
@Controller('v1')
export class SegmentsController {
  constructor(private readonly segments: SegmentsService, private readonly repo: SegmentsRepository) {}

  @Get('segments')
  @RequireScope('segmentation:read')
  list(@WorkspaceId() ws: string): Promise<unknown> {
    return this.segments.list(ws);
  }

  @Post('segments')
  @RequireScope('segmentation:write')
  create(@WorkspaceId() ws: string, @Body() body: SegmentBodyDto): Promise<unknown> {
    return this.segments.create(ws, body);
  }

  @Post('segments/preview')
  @HttpCode(200)
  @RequireScope('segmentation:read')
  preview(@WorkspaceId() ws: string, @Body() body: PreviewDto): Promise<unknown> {
    return this.segments.preview(ws, body.definition, body.sampleSize ?? 20);
  }

  @Get('segments/:id')
  @RequireScope('segmentation:read')
  get(@WorkspaceId() ws: string, @Param() p: IdParamDto): Promise<unknown> {
    return this.segments.get(ws, p.id);
  }

  @Put('segments/:id')
  @RequireScope('segmentation:write')
  update(@WorkspaceId() ws: string, @Param() p: IdParamDto, @Body() body: SegmentBodyDto): Promise<unknown> {
    return this.segments.update(ws, p.id, body);
  }

  @Delete('segments/:id')
  @RequireScope('segmentation:write')
  async remove(@WorkspaceId() ws: string, @Param() p: IdParamDto): Promise<{ deleted: true }> {
    await this.segments.remove(ws, p.id);
    return { deleted: true };
  }

  @Get('segments/:id/versions')
  @RequireScope('segmentation:read')
  async versions(@WorkspaceId() ws: string, @Param() p: IdParamDto): Promise<unknown> {
    await this.segments.get(ws, p.id);
    return this.repo.versions(ws, p.id);
  }

  @Get('segments/:id/count')
  @RequireScope('segmentation:read')
  async count(@WorkspaceId() ws: string, @Param() p: IdParamDto): Promise<{ count: number; status: string; progress: number; version: number }> {
    const s = await this.segments.get(ws, p.id);
    return { count: await this.repo.count(ws, p.id), status: s.status, progress: s.progress, version: s.version };
  }

  @Get('segments/:id/members')
  @RequireScope('segmentation:read')
  async members(@WorkspaceId() ws: string, @Param() p: IdParamDto, @Query() q: MembersQueryDto): Promise<unknown> {
    await this.segments.get(ws, p.id);
    const limit = q.limit ?? 100;
    const items = await this.repo.members(ws, p.id, q.cursor, limit);
    return { items, nextCursor: items.length === limit ? items[items.length - 1]!.contactId : null };
  }

  @Get('segments/:id/history')
  @RequireScope('segmentation:read')
  async history(@WorkspaceId() ws: string, @Param() p: IdParamDto, @Query() q: HistoryQueryDto): Promise<unknown> {
    await this.segments.get(ws, p.id);
    return this.repo.sizeHistory(ws, p.id, q.limit ?? 100);
  }

  /** Every member, streamed page by page (constant memory), as NDJSON or CSV. */
  @Get('segments/:id/export')
  @RequireScope('segmentation:read')
  async export(@WorkspaceId() ws: string, @Param() p: IdParamDto, @Query() q: ExportQueryDto): Promise<StreamableFile> {
    await this.segments.get(ws, p.id);
    const csv = q.format === 'csv';
    const repo = this.repo;
    async function* rows(): AsyncGenerator<string> {
      if (csv) yield 'contact_id,entered_at,segment_version,branch\n';
      let cursor: string | undefined;
      for (;;) {
        const page = await repo.members(ws, p.id, cursor, 5000);
        let out = '';
        for (const m of page) {
          const branch = String((m.reason as { branch?: unknown }).branch ?? 'all');
          out += csv ? `${m.contactId},${m.enteredAt.toISOString()},${m.segmentVersion},${branch}\n` : `${JSON.stringify({ contactId: m.contactId, enteredAt: m.enteredAt, segmentVersion: m.segmentVersion, reason: m.reason })}\n`;
        }
        if (out) yield out;
        if (page.length < 5000) return;
        cursor = page[page.length - 1]!.contactId;
      }
    }
    return new StreamableFile(Readable.from(rows()), { type: csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson' });
  }

  @Get('contacts/:id/segments')
  @RequireScope('segmentation:read')
  contactSegments(@WorkspaceId() ws: string, @Param() p: IdParamDto): Promise<unknown> {
    return this.segments.contactSegments(ws, p.id);
  }
}
