import './tracing';
import { join } from 'node:path';
import { runService } from '@tessera/service-kit';
import { journeysModule } from './app.module';
import { JourneysConfig } from './config/journeys.config';

void runService({
  service: 'journeys',
  title: 'Tessera Journeys',
  description: 'Event-, segment- and API-triggered journeys and scheduled broadcasts.',
  configClass: JourneysConfig,
  appModule: journeysModule,
  migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
});
