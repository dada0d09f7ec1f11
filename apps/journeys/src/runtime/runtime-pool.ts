import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Pool } from 'pg';
import { createPool } from '@tessera/db';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import type { JourneysConfig } from '../config/journeys.config';

/**
 * The runtime's own connection pool: the shared kit pool is small (5), and event batches, timer
 * workers and the outbox relay must not queue behind each other. Closed after everything else stopped.
 */
@Injectable()
export class RuntimePool implements OnApplicationShutdown {
  readonly pool: Pool;

  constructor(@Inject(SERVICE_CONFIG) config: JourneysConfig) {
    this.pool = createPool(config.DATABASE_URL, { schema: 'journeys', max: config.JOURNEYS_DB_POOL_SIZE ?? 10, application_name: 'journeys-runtime' });
    this.pool.on('error', () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
