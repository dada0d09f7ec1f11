import './tracing';
import { join } from 'node:path';
import { runService } from '@tessera/service-kit';
import { ingestionModule } from './app.module';
import { IngestionConfig } from './config/ingestion.config';

void runService({
  service: 'ingestion',
  title: 'Tessera Ingestion',
  description: 'Segment-compatible tracking API, signed inbound webhooks and batch import.',
  configClass: IngestionConfig,
  appModule: ingestionModule,
  migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
});
