import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import type { Logger } from '@tessera/observability';
import { ServiceKitModule } from '@tessera/service-kit';
import type { MessagingConfig } from './config/messaging.config';
import { ContactsModule } from './contacts/contacts.module';
import { DatabaseModule } from './database/database.module';
import { MessagesModule } from './messages/messages.module';
import { ProvidersModule } from './providers/providers.module';
import { RoutingModule } from './routing/routing.module';
import { TemplatesModule } from './templates/templates.module';

@Module({})
export class MessagingModule {}

/** The service's root module, built from validated config (tests build it with their own). */
export function messagingModule(config: MessagingConfig, logger: Logger): DynamicModule {
  return {
    module: MessagingModule,
    imports: [
      ServiceKitModule.forRoot({ service: 'messaging', config, logger, migrationsDir: join(__dirname, '..', 'prisma', 'migrations'), outboxBatches: true }),
      DatabaseModule,
      ContactsModule,
      ProvidersModule,
      TemplatesModule,
      MessagesModule,
      RoutingModule,
    ],
  };
}
