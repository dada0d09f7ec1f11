import { Module } from '@nestjs/common';
import { TrackingModule } from '../tracking/tracking.module';
import { ArchiveController } from './archive.controller';
import { ArchiveService } from './archive.service';
import { MaintenanceService } from './maintenance.service';

@Module({ imports: [TrackingModule], controllers: [ArchiveController], providers: [ArchiveService, MaintenanceService] })
export class ArchiveModule {}
