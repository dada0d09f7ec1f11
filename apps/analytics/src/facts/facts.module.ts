import { Module } from '@nestjs/common';
import { FactsController } from './facts.controller';
import { FactsHandlers } from './facts.handlers';
import { FactsRepository } from './facts.repository';
import { IngestRepository } from './ingest.repository';
import { PartitionsService } from './partitions.service';

@Module({ controllers: [FactsController], providers: [FactsRepository, IngestRepository, FactsHandlers, PartitionsService], exports: [FactsRepository] })
export class FactsModule {}
