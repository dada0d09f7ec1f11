import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL, SERVICE_CONFIG } from '@tessera/service-kit';
import { CLOCK, type Clock } from '../clock';
import type { SegmentationConfig } from '../config/segmentation.config';
import { runMaintenance } from './maintenance.repository';
import { OutboxKick } from './outbox-kick';
import { runTimeChecks } from './time-check.service';

/** Runs time-based evaluation every TIME_CHECK_INTERVAL_MS, draining due rows in batches of 500; hourly housekeeping. */
@Injectable()
export class TimeCheckRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TimeCheckRunner.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private lastMaintenance = 0;

  constructor(@Inject(PG_POOL) private readonly pool: Pool, @Inject(CLOCK) private readonly clock: Clock, @Inject(SERVICE_CONFIG) private readonly config: SegmentationConfig, private readonly outbox: OutboxKick) {}

  onApplicationBootstrap(): void {
    const tick = (): void => {
      this.running = this.drain()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'time-based evaluation failed; retrying next tick'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.config.TIME_CHECK_INTERVAL_MS);
        });
    };
    this.timer = setTimeout(tick, this.config.TIME_CHECK_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async drain(): Promise<void> {
    if (Date.now() - this.lastMaintenance > 3_600_000) {
      this.lastMaintenance = Date.now();
      await runMaintenance(this.pool, this.clock.now());
    }
    for (;;) {
      const n = await runTimeChecks(this.pool, this.clock.now());
      if (n) this.outbox.kick();
      if (this.stopped || n < 500) return;
    }
  }
}
