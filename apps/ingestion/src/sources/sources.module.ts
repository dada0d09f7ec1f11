import { Module } from '@nestjs/common';
import { SourceCacheService } from './source-cache.service';
import { SourcesController } from './sources.controller';
import { SourcesRepository } from './sources.repository';
import { SourcesService } from './sources.service';

@Module({ controllers: [SourcesController], providers: [SourcesRepository, SourcesService, SourceCacheService], exports: [SourceCacheService, SourcesService] })
export class SourcesModule {}
