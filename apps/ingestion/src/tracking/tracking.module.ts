import { Module } from '@nestjs/common';
import { SourcesModule } from '../sources/sources.module';
import { ArchiveWriter } from './archive-writer.service';
import { IngestRepository } from './ingest.repository';
import { IngestService } from './ingest.service';
import { TrackingHttpService } from './tracking-http.service';

@Module({ imports: [SourcesModule], providers: [IngestRepository, ArchiveWriter, IngestService, TrackingHttpService], exports: [IngestService, IngestRepository, ArchiveWriter] })
export class TrackingModule {}
