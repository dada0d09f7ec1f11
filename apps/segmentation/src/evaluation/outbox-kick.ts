import { Injectable, Logger, Optional } from '@nestjs/common';
import { OutboxRelayService } from '@tessera/service-kit';

/**
 * Relays the outbox right after a commit that wrote membership events, instead of waiting for the
 * relay's own wake-up: the shared relay misses NOTIFYs that arrive while it is draining and then
 * sleeps a full poll interval (1 s), which alone breaks the 1 s freshness target under load.
 * Coalesced: at most one extra drain runs, re-run once if kicked meanwhile. SKIP LOCKED makes it
 * safe beside the relay's loop.
 */
@Injectable()
export class OutboxKick {
  private readonly logger = new Logger(OutboxKick.name);
  private running = false;
  private again = false;

  constructor(@Optional() private readonly relay?: OutboxRelayService) {}

  kick(): void {
    if (!this.relay) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.relay!.relay.drain();
        } while (this.again);
      } catch (error) {
        this.logger.warn({ err: error }, 'outbox kick failed; the relay loop will retry');
      } finally {
        this.running = false;
      }
    })();
  }
}
