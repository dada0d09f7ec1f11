import { Module, type DynamicModule } from '@nestjs/common';
import { join } from 'node:path';
import type { Logger } from '@tessera/observability';
import { ServiceKitModule } from '@tessera/service-kit';
import type { CrmConfig } from './config/crm.config';
import { ConsentModule } from './consent/consent.module';
import { ContactsModule } from './contacts/contacts.module';
import { LOOKUP_PATH } from './contacts/lookup-http.service';
import { DatabaseModule } from './database/database.module';
import { IdentityModule } from './identity/identity.module';
import { ImportsModule } from './imports/imports.module';
import { ListsModule } from './lists/lists.module';
import { ObjectsModule } from './objects/objects.module';
import { WorkspacesModule } from './workspaces/workspaces.module';

@Module({})
export class CrmModule {}

/** The CRM's root module, built from validated config (tests build it with their own). */
export function crmModule(config: CrmConfig, logger: Logger): DynamicModule {
  return {
    module: CrmModule,
    imports: [
      ServiceKitModule.forRoot({ service: 'crm', config, logger, migrationsDir: join(__dirname, '..', 'prisma', 'migrations'), unloggedPaths: [LOOKUP_PATH], outboxBatches: true }),
      DatabaseModule,
      WorkspacesModule,
      ContactsModule,
      IdentityModule,
      ListsModule,
      ConsentModule,
      ObjectsModule,
      ImportsModule,
    ],
  };
}
