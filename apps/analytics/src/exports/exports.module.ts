import { Module } from '@nestjs/common';
import { DestinationsRepository } from './destinations.repository';
import { DestinationsService } from './destinations.service';
import { ExporterService } from './exporter.service';
import { ExportsController } from './exports.controller';
import { RawExportRepository } from './raw-export.repository';

@Module({ controllers: [ExportsController], providers: [RawExportRepository, DestinationsRepository, DestinationsService, ExporterService] })
export class ExportsModule {}
