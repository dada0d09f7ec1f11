import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@tessera/service-kit';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Keeps monthly fact partitions created ahead (this month and the next three), checked daily. */
@Injectable()
export class PartitionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PartitionsService.name);
  private timer?: NodeJS.Timeout;

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureAhead();
    this.timer = setInterval(() => void this.ensureAhead().catch((e: Error) => this.logger.error(`partition upkeep failed: ${e.message}`)), DAY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async ensureAhead(months = 3): Promise<void> {
    await this.pool.query(
      `SELECT ensure_fact_partition((date_trunc('month', now()) + make_interval(months => m))::date) FROM generate_series(0, $1::int) AS m`,
      [months],
    );
  }
}
