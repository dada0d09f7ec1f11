import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import type { Logger } from '@tessera/observability';
import { ServiceKitModule } from '@tessera/service-kit';
import type { JourneysConfig } from './config/journeys.config';
import { DatabaseModule } from './database/database.module';
import { JourneysFeatureModule } from './journeys/journeys.module';

@Module({})
export class JourneysModule {}

/** The service's root module, built from validated config (tests build it with their own). */
export function journeysModule(config: JourneysConfig, logger: Logger): DynamicModule {
  return {
    module: JourneysModule,
    imports: [ServiceKitModule.forRoot({ service: 'journeys', config, logger, migrationsDir: join(__dirname, '..', 'prisma', 'migrations'), outboxBatches: true }), DatabaseModule, JourneysFeatureModule],
  };
}
