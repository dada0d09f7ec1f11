import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { IngestRepository } from '../tracking/ingest.repository';

const HOUR_MS = 3_600_000;
/** The de-dup promise is 24 h; entries are kept twice as long for margin. */
const LEDGER_HOURS = 48;

/**
 * Hourly, on every replica (both steps are idempotent): archive partitions a week ahead, and the
 * de-dup ledger pruned past 48 h. Runs once at start so a fresh database can take events at once.
 */
@Injectable()
export class MaintenanceService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('maintenance');
  private timer?: NodeJS.Timeout;

  constructor(private readonly repository: IngestRepository) {}

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
      const pruned = await this.repository.pruneReceived(LEDGER_HOURS);
      if (created || pruned) this.logger.log({ partitionsCreated: created, ledgerPruned: pruned }, 'ingestion maintenance');
    } catch (error) {
      this.logger.error({ err: error }, 'ingestion maintenance failed');
    }
  }
}
