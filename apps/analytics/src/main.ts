import './tracing';
import { join } from 'node:path';
import { runService } from '@tessera/service-kit';
import { analyticsModule } from './app.module';
import { AnalyticsConfig } from './config/analytics.config';

void runService({
  service: 'analytics',
  title: 'Tessera Analytics',
  description: 'Delivery and conversion funnels, event and segment metrics, exports.',
  configClass: AnalyticsConfig,
  appModule: analyticsModule,
  migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
});
