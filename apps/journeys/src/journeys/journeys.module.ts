import { Module } from '@nestjs/common';
import { CampaignsController } from '../campaigns/campaigns.controller';
import { CampaignsRepository } from '../campaigns/campaigns.repository';
import { CampaignsService } from '../campaigns/campaigns.service';
import { InstanceStoreRepository } from '../runtime/instance-store.repository';
import { JourneyCatalog } from '../runtime/journey-catalog.service';
import { JourneyEventsHandlers } from '../runtime/journey-events.handlers';
import { JourneyRunner } from '../runtime/journey-runner.service';
import { ProjectionsRepository } from '../runtime/projections.repository';
import { RuntimePool } from '../runtime/runtime-pool';
import { TimerPoller } from '../runtime/timer-poller.service';
import { TriggersService } from '../runtime/triggers.service';
import { UnresolvedEventsRepository } from '../runtime/unresolved-events.repository';
import { WebhookCaller } from '../runtime/webhook-caller.service';
import { JourneysController } from './journeys.controller';
import { JourneysRepository } from './journeys.repository';
import { JourneysService } from './journeys.service';
import { TemplateCheck } from './template-check';

@Module({
  controllers: [JourneysController, CampaignsController],
  providers: [RuntimePool, JourneysRepository, JourneysService, InstanceStoreRepository, ProjectionsRepository, JourneyCatalog, JourneyRunner, TimerPoller, WebhookCaller, TriggersService, UnresolvedEventsRepository, JourneyEventsHandlers, CampaignsRepository, CampaignsService, TemplateCheck],
  exports: [TimerPoller, WebhookCaller, JourneyRunner],
})
export class JourneysFeatureModule {}
