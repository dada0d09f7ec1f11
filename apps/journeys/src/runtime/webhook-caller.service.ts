import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { JourneyRunner, type WebhookJob } from './journey-runner.service';

const TIMEOUT_MS = 10_000;
const MAX_BODY = 64 * 1024;

/**
 * Performs webhook steps after the transaction that reached them committed, then feeds the result
 * back to the instance. Delivery is at least once: a crash between the call and recording its
 * result makes the step's watchdog timer call again, with the same Idempotency-Key header.
 */
@Injectable()
export class WebhookCaller implements OnModuleInit {
  private readonly log = new Logger(WebhookCaller.name);
  private inFlight = new Set<Promise<void>>();

  constructor(private readonly runner: JourneyRunner) {}

  onModuleInit(): void {
    this.runner.onWebhooks((jobs) => {
      for (const job of jobs) {
        const p = this.call(job).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }
    });
  }

  /** Waits for calls in flight (shutdown and tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private async call({ instanceId, effect }: WebhookJob): Promise<void> {
    const { request } = effect;
    let status = 0;
    let body: unknown = null;
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: { 'content-type': 'application/json', 'idempotency-key': effect.idempotencyKey, ...request.headers },
        ...(request.body !== undefined && request.method !== 'GET' ? { body: JSON.stringify(request.body) } : {}),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      status = response.status;
      const text = (await response.text()).slice(0, MAX_BODY);
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
    } catch (error) {
      body = { error: (error as Error).message };
    }
    try {
      await this.runner.deliver([{ instanceId, input: { type: 'webhook_result', token: effect.token, status, body, ok: status >= 200 && status < 300 } }]);
    } catch (error) {
      // The watchdog timer will retry the call.
      this.log.warn(`recording webhook result for ${instanceId} failed: ${(error as Error).message}`);
    }
  }
}
