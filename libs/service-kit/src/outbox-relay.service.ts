import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { EVENT_BUS, JetStreamBus, OutboxRelay, parseOutboxBatch, type CommittedBatch } from '@tessera/bus';
import type { ServiceKitOptions } from './service-kit.module';
import { PG_POOL, SERVICE_KIT_OPTIONS } from './tokens';

/** Hand-offs queued behind the one publishing before a writer waits for the bus (a few batches of a worker). */
const HAND_OFFS_QUEUED_MAX = 4;

/**
 * Runs the service's outbox relay (over its `outbox` table and, with `outboxBatches`, its
 * `outbox_batch` table too) for as long as the app runs. It stops before any
 * onApplicationShutdown hook, so the bus (closed there) is still up while the relay finishes its
 * batch: a batch published but not yet committed would otherwise be rolled back and published
 * again after a restart.
 *
 * It also hands `outbox_batch` rows to the relay straight after their transaction commits
 * (handingOffAfter), for the hot paths that write them.
 */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly relay: OutboxRelay;
  /** Whether the service has an `outbox_batch` table (`outboxBatches`): only then are rows handed off. */
  private readonly batchRows: boolean;
  /** The batch rows each open hand-off transaction wrote, by its connection. */
  private readonly open = new WeakMap<PoolClient, CommittedBatch[]>();
  /** The last hand-off queued: each starts after the one before, so events leave in commit order. */
  private handingOff: Promise<void> = Promise.resolve();
  /** Hand-offs queued or running. */
  private queued = 0;

  constructor(@Inject(PG_POOL) pool: Pool, @Inject(EVENT_BUS) bus: JetStreamBus, @Inject(SERVICE_KIT_OPTIONS) options: ServiceKitOptions) {
    const logger = options.logger.child({ component: 'outbox' });
    this.batchRows = !!options.outboxBatches;
    this.relay = new OutboxRelay({ pool, schema: options.service, bus, logger, layouts: options.outboxBatches ? ['event-rows', 'batch-rows'] : ['event-rows'] });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
  }

  /** After the workers and consumers stopped (onModuleDestroy); hand-offs finish while the bus is still up. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    await this.handingOff;
  }

  /**
   * Runs `work` as the body of `transaction` (which calls it between BEGIN and COMMIT, possibly
   * again after a retryable failure), then has the batch rows it wrote through writtenDirect
   * published (OutboxRelay.handOff): its events reach the bus straight after the commit instead
   * of after the relay's wake-up, read-back and queue. Hand-offs run one after another in commit
   * order, behind the caller: a worker goes on to its next batch while this one's events go out,
   * and waits only when HAND_OFFS_QUEUED_MAX are queued already (the bus is slower than the
   * writers: backpressure). Were the process to die first, the rows are still there, and the
   * relay publishes them after their grace.
   */
  async handingOffAfter<T>(transaction: (body: (client: PoolClient) => Promise<T>) => Promise<T>, work: (client: PoolClient) => Promise<T>): Promise<T> {
    if (!this.batchRows) return transaction(work);
    let committed: CommittedBatch[] = [];
    const result = await transaction(async (client) => {
      // Only the last attempt commits: rows of an attempt rolled back never existed.
      committed = [];
      this.open.set(client, committed);
      try {
        return await work(client);
      } finally {
        this.open.delete(client);
      }
    });
    if (committed.length) {
      const before = this.handingOff;
      const batches = committed;
      this.queued++;
      this.handingOff = before.then(() => this.relay.handOff(batches)).finally(() => this.queued--);
      if (this.queued > HAND_OFFS_QUEUED_MAX) await before;
    }
    return result;
  }

  /** Whether a batch row written on `client` now is handed off after commit: insert it with `direct` set to this. */
  handsOff(client: PoolClient): boolean {
    return this.open.has(client);
  }

  /** Records a batch row inserted with `direct` set on `client` (its id, and the text of its events) for the hand-off. */
  writtenDirect(client: PoolClient, key: string, events: string): void {
    this.open.get(client)?.push({ key, events: parseOutboxBatch(events) });
  }
}
