import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import type { Logger } from '@tessera/observability';
import { ServiceKitModule } from '@tessera/service-kit';
import type { SegmentationConfig } from './config/segmentation.config';
import { DatabaseModule } from './database/database.module';
import { SegmentsModule } from './segments/segments.module';

@Module({})
export class SegmentationModule {}

/** The service's root module, built from validated config (tests build it with their own). */
export function segmentationModule(config: SegmentationConfig, logger: Logger): DynamicModule {
  return {
    module: SegmentationModule,
    imports: [ServiceKitModule.forRoot({ service: 'segmentation', config, logger, migrationsDir: join(__dirname, '..', 'prisma', 'migrations') }), DatabaseModule, SegmentsModule],
  };
}
