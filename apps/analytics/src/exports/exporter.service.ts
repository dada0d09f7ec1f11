import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import type { AnalyticsConfig } from '../config/analytics.config';
import { DestinationsRepository, type Destination } from './destinations.repository';
import { deliverS3, deliverWebhook, type S3Config, type WebhookConfig } from './sinks';

const MAX_BACKOFF_MS = 5 * 60_000;
const PARALLEL = 4;

/** Retry delay after the n-th consecutive failure: exponential with 20% jitter, capped at 5 minutes. */
export function exportBackoffMs(failures: number, baseMs: number): number {
  const raw = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(raw * (0.8 + Math.random() * 0.2));
}

/**
 * Continuous export: its own loop over the fact table, apart from the bus consumers (a slow or
 * dead destination never holds back ingestion). Each destination has a cursor, advanced only
 * after a delivery succeeded: at-least-once, across restarts.
 */
@Injectable()
export class ExporterService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ExporterService.name);
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly destinations: DestinationsRepository,
    @Inject(SERVICE_CONFIG) private readonly config: AnalyticsConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let busy = false;
      try {
        const due = await this.destinations.due(PARALLEL);
        busy = (await Promise.all(due.map((d) => this.runOne(d)))).some(Boolean);
      } catch (error) {
        if (this.running) this.logger.error(`export loop: ${(error as Error).message}`);
      }
      if (!busy && this.running) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.config.EXPORT_POLL_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Delivers one batch; true when it did (more may be waiting). */
  private async runOne(d: Destination): Promise<boolean> {
    const facts = await this.destinations.nextBatch(d);
    if (!facts.length) {
      await this.destinations.idle(d, this.config.EXPORT_POLL_MS);
      return false;
    }
    try {
      if (d.kind === 'webhook') await deliverWebhook(d.id, d.config as unknown as WebhookConfig, facts);
      else await deliverS3(d.workspaceId, d.config as unknown as S3Config, facts);
    } catch (error) {
      const message = describe(error);
      this.logger.warn(`export destination ${d.id}: delivery failed (${message}); retrying`);
      await this.destinations.failed(d, message, exportBackoffMs(d.failures + 1, this.config.EXPORT_RETRY_BASE_MS));
      return false;
    }
    await this.destinations.delivered(d, facts.at(-1)!, facts.length);
    return true;
  }
}

function describe(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out after 10 s';
  return e.cause?.code ? `${e.message}: ${e.cause.code}` : e.message;
}
