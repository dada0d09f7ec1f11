import { Module } from '@nestjs/common';
import { CLOCK, systemClock } from '../clock';
import { OutboxKick } from '../evaluation/outbox-kick';
import { TimeCheckRunner } from '../evaluation/time-check.runner';
import { AnonymousLinkService } from '../projection/anonymous-links.service';
import { ProjectionHandlers } from '../projection/projection.handlers';
import { ProjectionService } from '../projection/projection.service';
import { BatchService } from './batch.service';
import { SegmentsController } from './segments.controller';
import { SegmentsRepository } from './segments.repository';
import { SegmentsService } from './segments.service';

@Module({
  controllers: [SegmentsController],
  providers: [{ provide: CLOCK, useValue: systemClock }, SegmentsRepository, SegmentsService, BatchService, ProjectionService, AnonymousLinkService, ProjectionHandlers, TimeCheckRunner, OutboxKick],
  exports: [BatchService, ProjectionService],
})
export class SegmentsModule {}
