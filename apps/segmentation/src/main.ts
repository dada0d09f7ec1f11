import './tracing';
import { join } from 'node:path';
import { runService } from '@tessera/service-kit';
import { segmentationModule } from './app.module';
import { SegmentationConfig } from './config/segmentation.config';

void runService({
  service: 'segmentation',
  title: 'Tessera Segmentation',
  description: 'Rule-based dynamic segments, computed in real time and in batch.',
  configClass: SegmentationConfig,
  appModule: segmentationModule,
  migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
});
