import { Module } from '@nestjs/common';
import { TrackingModule } from '../tracking/tracking.module';
import { ArchiveController } from './archive.controller';
import { ArchiveService } from './archive.service';
import { ArchiveErasureHandlers } from './erasure.handlers';
import { ArchiveErasureRepository } from './erasure.repository';
import { MaintenanceService } from './maintenance.service';

@Module({ imports: [TrackingModule], controllers: [ArchiveController], providers: [ArchiveService, MaintenanceService, ArchiveErasureRepository, ArchiveErasureHandlers] })
export class ArchiveModule {}
