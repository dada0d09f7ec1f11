import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import type { Logger } from '@tessera/observability';
import { ServiceKitModule } from '@tessera/service-kit';
import type { AnalyticsConfig } from './config/analytics.config';
import { DatabaseModule } from './database/database.module';
import { ExportsModule } from './exports/exports.module';
import { FactsModule } from './facts/facts.module';
import { PrivacyModule } from './privacy/privacy.module';
import { ReportsModule } from './reports/reports.module';
import { WorkspacesModule } from './workspaces/workspaces.module';

@Module({})
export class AnalyticsModule {}

/** The service's root module, built from validated config (tests build it with their own). */
export function analyticsModule(config: AnalyticsConfig, logger: Logger): DynamicModule {
  return {
    module: AnalyticsModule,
    imports: [ServiceKitModule.forRoot({ service: 'analytics', config, logger, migrationsDir: join(__dirname, '..', 'prisma', 'migrations') }), DatabaseModule, WorkspacesModule, FactsModule, PrivacyModule, ReportsModule, ExportsModule],
  };
}
