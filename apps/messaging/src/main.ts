import './tracing';
import { join } from 'node:path';
import { runService } from '@tessera/service-kit';
import { messagingModule } from './app.module';
import { MessagingConfig } from './config/messaging.config';

void runService({
  service: 'messaging',
  title: 'Tessera Messaging',
  description: 'Channel providers, templates, consent enforcement and delivery tracking.',
  configClass: MessagingConfig,
  appModule: messagingModule,
  migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
});
