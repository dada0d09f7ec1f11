import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Pool } from 'pg';
import { EVENT_BUS, JetStreamBus, OutboxRelay } from '@tessera/bus';
import type { ServiceKitOptions } from './service-kit.module';
import { PG_POOL, SERVICE_KIT_OPTIONS } from './tokens';

/**
 * Runs the service's outbox relay (over its `outbox` table and, with `outboxBatches`, its
 * `outbox_batch` table too) for as long as the app runs. It stops before any
 * onApplicationShutdown hook, so the bus (closed there) is still up while the relay finishes its
 * batch: a batch published but not yet committed would otherwise be rolled back and published
 * again after a restart.
 */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly relay: OutboxRelay;

  constructor(@Inject(PG_POOL) pool: Pool, @Inject(EVENT_BUS) bus: JetStreamBus, @Inject(SERVICE_KIT_OPTIONS) options: ServiceKitOptions) {
    const logger = options.logger.child({ component: 'outbox' });
    this.relay = new OutboxRelay({ pool, schema: options.service, bus, logger, layouts: options.outboxBatches ? ['event-rows', 'batch-rows'] : ['event-rows'] });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}
