import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import type { Logger } from '@tessera/observability';
import { ServiceKitModule } from '@tessera/service-kit';
import type { IngestionConfig } from './config/ingestion.config';
import { ArchiveModule } from './archive/archive.module';
import { DatabaseModule } from './database/database.module';
import { SourcesModule } from './sources/sources.module';
import { TRACKING_PATHS } from './tracking/tracking-http.service';
import { TrackingModule } from './tracking/tracking.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class IngestionModule {}

/** The service's root module, built from validated config (tests build it with their own). */
export function ingestionModule(config: IngestionConfig, logger: Logger): DynamicModule {
  return {
    module: IngestionModule,
    imports: [ServiceKitModule.forRoot({ service: 'ingestion', config, logger, migrationsDir: join(__dirname, '..', 'prisma', 'migrations'), unloggedPaths: TRACKING_PATHS }), DatabaseModule, SourcesModule, TrackingModule, WebhooksModule, ArchiveModule],
  };
}
