import { Controller, Get, Headers, Param, ParseUUIDPipe, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequireScope, WorkspaceId } from '@tessera/service-kit';
import { toCsv } from './csv';
import { EventsReportQuery, JourneyReportQuery, MessagingReportQuery, type RangeQuery, SegmentReportQuery } from './reports.dto';
import { ReportsService, type Report } from './reports.service';

@ApiTags('reports')
@ApiBearerAuth()
@ApiProduces('application/json', 'text/csv')
@Controller('v1/reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  /** sent, delivered, opened, clicked, bounced, unsubscribed, failed (and the other statuses) with rates, per bucket. */
  @Get('messaging')
  @RequireScope('analytics:read')
  @ApiOkResponse({ description: 'Counts and rates per bucket (and per channel/template/journey/campaign with groupBy)' })
  async messaging(@WorkspaceId() ws: string, @Query() q: MessagingReportQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<Report | string> {
    return this.send(await this.reports.messaging(ws, q), q, accept, reply);
  }

  /** Entries, steps, exits, goal conversions within an attribution window, and the A/B split against the holdout. */
  @Get('journeys/:journeyId')
  @RequireScope('analytics:read')
  async journey(@WorkspaceId() ws: string, @Param('journeyId', new ParseUUIDPipe()) journeyId: string, @Query() q: JourneyReportQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<Report | string> {
    return this.send(await this.reports.journey(ws, journeyId, q), q, accept, reply);
  }

  /** Event counts by name over time, unique contacts per day/week/month, top property values. */
  @Get('events')
  @RequireScope('analytics:read')
  async events(@WorkspaceId() ws: string, @Query() q: EventsReportQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<Report | string> {
    return this.send(await this.reports.events(ws, q), q, accept, reply);
  }

  /** Entries, exits and size of a segment per bucket. */
  @Get('segments/:segmentId')
  @RequireScope('analytics:read')
  async segment(@WorkspaceId() ws: string, @Param('segmentId', new ParseUUIDPipe()) segmentId: string, @Query() q: SegmentReportQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<Report | string> {
    return this.send(await this.reports.segment(ws, segmentId, q), q, accept, reply);
  }

  private send(report: Report, q: RangeQuery, accept: string | undefined, reply: FastifyReply): Report | string {
    if (q.format === 'csv' || (q.format !== 'json' && accept?.includes('text/csv'))) {
      void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${report.report}-${report.from.slice(0, 10)}.csv"`);
      return toCsv(report.rows);
    }
    return report;
  }
}
