import { Controller, Get, Header, Inject, Param, ParseUUIDPipe, Post, Req, UnsupportedMediaTypeException, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiBearerAuth, ApiConsumes, ApiTags } from '@nestjs/swagger';
import type { Readable } from 'node:stream';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import type { ImportJobRow } from './imports.repository';
import { ImportsService, type ImportFormat } from './imports.service';

const IMPORT_ROUTE = '/v1/imports';
const FORMATS: Record<string, ImportFormat> = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson', 'application/ndjson': 'ndjson' };

interface StreamRequest {
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

interface FastifyLike {
  addContentTypeParser(type: string, fn: (req: { routeOptions?: { url?: string } }, payload: Readable, done: (err: Error | null, body?: unknown) => void) => void): void;
  hasContentTypeParser(type: string): boolean;
}

@ApiTags('imports')
@ApiBearerAuth()
@Controller('v1/imports')
export class ImportsController implements OnModuleInit {
  constructor(
    private readonly imports: ImportsService,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** CSV and NDJSON bodies reach the handler as the raw stream: no buffering, no body limit. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance?.() as FastifyLike | undefined;
    if (!fastify?.addContentTypeParser) return;
    // Only the import route takes these types; elsewhere a stream body would reach JSON validation (a 500).
    const unsupported = (type: string): Error => Object.assign(new Error(`Unsupported Media Type: ${type}`), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
    for (const type of Object.keys(FORMATS)) {
      if (fastify.hasContentTypeParser(type)) continue;
      fastify.addContentTypeParser(type, (req, payload, done) => (req.routeOptions?.url === IMPORT_ROUTE ? done(null, payload) : done(unsupported(type))));
    }
  }

  /** The file is the body (`text/csv` with a header row, or `application/x-ndjson`); answers when it is processed. */
  @Post()
  @RequireScope('crm:write')
  @ApiConsumes('text/csv', 'application/x-ndjson')
  run(@WorkspaceId() workspaceId: string, @Req() req: StreamRequest): Promise<ImportJobRow> {
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const format = FORMATS[type];
    const body = req.body as Readable | undefined;
    if (!format || !body || typeof (body as Readable).pipe !== 'function') throw new UnsupportedMediaTypeException('Send the file as text/csv or application/x-ndjson');
    return this.imports.run(workspaceId, format, body);
  }

  /** The 50 most recent jobs: a running import shows its progress here while its upload is still open. */
  @Get()
  @RequireScope('crm:read')
  recent(@WorkspaceId() workspaceId: string): Promise<ImportJobRow[]> {
    return this.imports.recent(workspaceId);
  }

  @Get(':id')
  @RequireScope('crm:read')
  get(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<ImportJobRow & { errors: { line: number; reason: string }[] }> {
    return this.imports.get(workspaceId, id);
  }

  @Get(':id/errors')
  @RequireScope('crm:read')
  @Header('content-type', 'text/csv; charset=utf-8')
  errors(@WorkspaceId() workspaceId: string, @Param('id', ParseUUIDPipe) id: string): Promise<string> {
    return this.imports.errorsCsv(workspaceId, id);
  }
}
