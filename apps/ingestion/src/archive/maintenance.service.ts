import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { IngestRepository } from '../tracking/ingest.repository';
import { ArchiveErasureRepository } from './erasure.repository';

const HOUR_MS = 3_600_000;
/** Late events of erased people are looked for this far back: past the archive writer's 24 h horizon, overlapping runs. */
const LATE_ERASURE_HOURS = 26;

/**
 * Hourly, on every replica (every step is idempotent): archive partitions a week ahead, and
 * events of erased people archived after their erasure deleted. Runs once at start so a fresh
 * database can take events at once.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('maintenance');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repository: IngestRepository,
    private readonly erasure: ArchiveErasureRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.run();
    this.timer = setInterval(() => void this.run(), HOUR_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async run(): Promise<void> {
    try {
      const created = await this.repository.ensurePartitions(1, 7);
      const erased = await this.erasure.sweepLateArrivals(LATE_ERASURE_HOURS);
      if (created || erased) this.logger.log({ partitionsCreated: created, lateErasedEvents: erased }, 'ingestion maintenance');
    } catch (error) {
      this.logger.error({ err: error }, 'ingestion maintenance failed');
    }
  }
}
