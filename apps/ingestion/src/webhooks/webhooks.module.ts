import { Module } from '@nestjs/common';
import { SourcesModule } from '../sources/sources.module';
import { TrackingModule } from '../tracking/tracking.module';
import { WebhooksHttpService } from './webhooks-http.service';

@Module({ imports: [SourcesModule, TrackingModule], providers: [WebhooksHttpService] })
export class WebhooksModule {}
