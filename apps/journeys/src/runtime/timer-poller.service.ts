import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import type { JourneysConfig } from '../config/journeys.config';
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '@tessera/observability';
import { InstanceStoreRepository, type DueTimer } from './instance-store.repository';
import { JourneyRunner, type WebhookJob } from './journey-runner.service';

const BATCH = 500;
/** When idle, a worker sleeps until the next timer is nearly due: at least this long (rows another worker holds)... */
const MIN_IDLE_MS = 5;
/** ...and at most this long (timers another replica or a new wait adds meanwhile). */
const MAX_IDLE_MS = 100;
/**
 * Timers are claimed this much before they are due: the claim, the instance locks and the reads
 * happen ahead, and the steps run (and commit) as soon as the batch's last timer is due, so
 * wake-ups are on time instead of a poll interval plus a batch's processing late. Never early:
 * the engine runs no earlier than every claimed due time.
 */
const LOOKAHEAD_MS = 50;

/** Handlers for timers that are not instance waits (date triggers, campaigns); registered by their modules. */
export type TimerHandler = (timers: DueTimer[], client: import('pg').PoolClient) => Promise<WebhookJob[]>;

const lateness = new Histogram({ name: 'journeys_timer_lateness_seconds', help: 'How late timers fire after their due time', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30], registers: [metricsRegistry] });
const fired = new Counter({ name: 'journeys_timers_fired_total', help: 'Timers fired', labelNames: ['kind'], registers: [metricsRegistry] });

/**
 * The durable timer queue: a `timer` table indexed on due_at. Each replica claims due rows with
 * FOR UPDATE SKIP LOCKED (so replicas share the work and never take the same row), deletes them and
 * applies their steps in the same transaction: a timer fires exactly once per committed step, and a
 * crash mid-batch rolls the claim back for another replica or the next start.
 */
@Injectable()
export class TimerPoller implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(TimerPoller.name);
  private readonly handlers = new Map<string, TimerHandler>();
  private stopped = false;
  private running: Promise<void>[] = [];
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly store: InstanceStoreRepository,
    private readonly runner: JourneyRunner,
    @Inject(SERVICE_CONFIG) private readonly config: JourneysConfig,
  ) {}

  register(kind: DueTimer['kind'], handler: TimerHandler): void {
    this.handlers.set(kind, handler);
  }

  onApplicationBootstrap(): void {
    for (let i = 0; i < (this.config.JOURNEYS_TIMER_WORKERS ?? 2); i++) this.running.push(this.loop());
  }

  /** Stops claiming and lets the batches in progress commit (before the pool closes). */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wakers) wake();
    await Promise.all(this.running);
  }

  /** Fires every due timer now (tests and benchmarks call this to avoid waiting for a poll). */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.batch();
      total += n;
      if (n < BATCH) return total;
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    // Set when the last probe found nothing due by the end of the sleep: probe again instead of
    // claiming, so an idle worker costs one index probe per cycle instead of a claim transaction too.
    let probeOnly = false;
    while (!this.stopped) {
      let n = 0;
      if (!probeOnly) {
        try {
          n = await this.batch();
          failures = 0;
        } catch (error) {
          failures++;
          this.log.warn(`timer batch failed (${failures}): ${(error as Error).message}`);
        }
      }
      if (n >= BATCH || this.stopped) continue;
      const until = failures ? 0 : await this.untilNextDue();
      const delay = failures ? Math.min(100 * 2 ** failures, 5000) : Math.min(Math.max(until, MIN_IDLE_MS), MAX_IDLE_MS);
      probeOnly = until > delay;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(t);
          this.wakers.delete(wake);
          resolve();
        };
        const t = setTimeout(wake, delay);
        this.wakers.add(wake);
      });
    }
  }

  /** How long until the earliest timer enters the claim window (<= 0: now, or the probe failed: claim and see; Infinity: no timer); one index probe. */
  private async untilNextDue(): Promise<number> {
    const next = await this.store.nextDueAt().catch(() => undefined);
    if (next === undefined) return 0;
    return next ? next.getTime() - LOOKAHEAD_MS - Date.now() : Infinity;
  }

  private async batch(): Promise<number> {
    let claimed: DueTimer[] = [];
    try {
      const hooks = await this.store.transaction(async (c) => {
        claimed = await this.store.claimDueTimers(c, BATCH, LOOKAHEAD_MS);
        return claimed.length ? this.fire(claimed, c) : [];
      });
      this.observe(claimed);
      this.runner.dispatch(hooks);
      return claimed.length;
    } catch (error) {
      if (claimed.length <= 1) {
        for (const t of claimed) await this.store.retryTimer(t);
        if (claimed.length) this.log.warn(`timer ${claimed[0]!.id} failed, retrying later: ${(error as Error).message}`);
        return claimed.length;
      }
      // One bad timer must not hold back the rest: fire them one by one.
      this.log.warn(`timer batch of ${claimed.length} failed, isolating: ${(error as Error).message}`);
      for (const t of claimed) {
        try {
          const hooks = await this.store.transaction(async (c) => ((await this.store.claimTimer(c, t.id)) ? this.fire([{ ...t, paused: undefined }], c) : []));
          this.observe([t]);
          this.runner.dispatch(hooks);
        } catch (inner) {
          await this.store.retryTimer(t).catch(() => undefined);
          this.log.warn(`timer ${t.id} failed: ${(inner as Error).message}`);
        }
      }
      return claimed.length;
    }
  }

  private observe(timers: DueTimer[]): void {
    const now = Date.now();
    for (const t of timers) {
      lateness.observe(Math.max(0, now - t.due_at.getTime()) / 1000);
      fired.inc({ kind: t.kind });
    }
  }

  private async fire(timers: DueTimer[], c: import('pg').PoolClient): Promise<WebhookJob[]> {
    const hooks: WebhookJob[] = [];
    // Instances of a paused journey hold: their timers come back a minute later until it resumes.
    const paused = timers.every((t) => t.paused !== undefined)
      ? new Set(timers.filter((t) => t.paused).map((t) => t.journey_id!))
      : await this.store.pausedJourneys(c, [...new Set(timers.filter((t) => t.kind === 'instance' && t.journey_id).map((t) => t.journey_id!))]);
    const held = timers.filter((t) => t.kind === 'instance' && paused.has(t.journey_id ?? ''));
    if (held.length) await this.store.insertTimers(c, held.map((t) => ({ workspaceId: t.workspace_id, kind: 'instance', instanceId: t.instance_id, token: t.token, journeyId: t.journey_id, contactId: t.contact_id, dueAt: new Date(Date.now() + 60_000).toISOString() })));
    const instances = timers.filter((t) => t.kind === 'instance' && t.instance_id && t.token && !paused.has(t.journey_id ?? ''));
    const notBefore = new Date(Math.max(...timers.map((t) => t.due_at.getTime())));
    hooks.push(...(await this.runner.deliverIn(c, instances.map((t) => ({ instanceId: t.instance_id!, input: { type: 'timer' as const, token: t.token! } })), notBefore)));
    const wait = notBefore.getTime() - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (const kind of ['date_trigger', 'campaign_start', 'campaign_send'] as const) {
      const list = timers.filter((t) => t.kind === kind);
      const handler = this.handlers.get(kind);
      if (list.length && handler) hooks.push(...(await handler(list, c)));
    }
    return hooks;
  }
}
