import './tracing';
import { join } from 'node:path';
import { runService } from '@tessera/service-kit';
import { crmModule } from './app.module';
import { CrmConfig } from './config/crm.config';

void runService({
  service: 'crm',
  title: 'Tessera CRM',
  description: 'Contacts, identity, attributes, consent; also owns workspaces and API keys.',
  configClass: CrmConfig,
  appModule: crmModule,
  migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
});
