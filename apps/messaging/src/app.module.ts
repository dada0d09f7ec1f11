import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import type { Logger } from '@tessera/observability';
import { ServiceKitModule } from '@tessera/service-kit';
import type { MessagingConfig } from './config/messaging.config';
import { DatabaseModule } from './database/database.module';

@Module({})
export class MessagingModule {}

/** The service's root module, built from validated config (tests build it with their own). */
export function messagingModule(config: MessagingConfig, logger: Logger): DynamicModule {
  return {
    module: MessagingModule,
    imports: [ServiceKitModule.forRoot({ service: 'messaging', config, logger, migrationsDir: join(__dirname, '..', 'prisma', 'migrations') }), DatabaseModule],
  };
}
