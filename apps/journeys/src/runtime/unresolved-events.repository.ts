import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Pool } from 'pg';
import { Counter } from 'prom-client';
import { prepared } from '@tessera/db';
import { metricsRegistry } from '@tessera/observability';
import { RuntimePool } from './runtime-pool';

/** A tracked event waiting for its sender to become a known contact. */
export interface UnresolvedEvent {
  userId: string;
  id: string;
  name: string;
  properties: Record<string, unknown>;
  at: string;
}

/** How long an event waits for its contact; after that it starts nothing. */
export const UNRESOLVED_EVENT_TTL_MS = 60 * 60 * 1000;
const SWEEP_EVERY_MS = 5 * 60 * 1000;

const unresolvedEvents = new Counter({
  name: 'journeys_unresolved_events_total',
  help: 'Tracked events from senders not known yet: kept, replayed once their contact arrived, or expired unclaimed',
  labelNames: ['outcome'],
  registers: [metricsRegistry],
});

const PENDING = prepared(
  'unresolved_pending',
  `SELECT user_id, event_id, name, properties, at FROM unresolved_event
    WHERE workspace_id = $1 AND user_id = ANY($2::text[]) AND received_at > now() - make_interval(secs => $3) ORDER BY at, event_id`,
);

/**
 * Tracked events whose sender (`userId`) the contact projection does not know yet. An SDK's
 * identify and the track that follows it (sign-up, then "Signed Up") reach journeys by two roads:
 * the track straight from ingestion, the new contact through the CRM and its outbox, usually later.
 * Dropped, such a track would never start the welcome journey; kept here, it is replayed when the
 * contact's created (or external-id) event arrives, for up to an hour.
 */
@Injectable()
export class UnresolvedEventsRepository implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(UnresolvedEventsRepository.name);
  private readonly pool: Pool;
  private sweeper?: NodeJS.Timeout;

  constructor(runtime: RuntimePool) {
    this.pool = runtime.pool;
  }

  onApplicationBootstrap(): void {
    this.sweeper = setInterval(() => void this.expire().catch((err: unknown) => this.log.warn(`sweeping unresolved events failed: ${String(err)}`)), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /** Keeps the events; a redelivered one is kept once. */
  async park(workspaceId: string, events: UnresolvedEvent[]): Promise<void> {
    if (!events.length) return;
    const { rowCount } = await this.pool.query(
      `INSERT INTO unresolved_event (workspace_id, user_id, event_id, name, properties, at)
       SELECT $1, e.user_id, e.event_id, e.name, e.properties, e.at
         FROM jsonb_to_recordset($2::jsonb) AS e(user_id text, event_id text, name text, properties jsonb, at text)
       ON CONFLICT DO NOTHING`,
      [workspaceId, JSON.stringify(events.map((e) => ({ user_id: e.userId, event_id: e.id, name: e.name, properties: e.properties, at: e.at })))],
    );
    unresolvedEvents.inc({ outcome: 'kept' }, rowCount ?? 0);
  }

  /** The events still waiting for any of these senders, oldest first. */
  async pending(workspaceId: string, userIds: string[]): Promise<UnresolvedEvent[]> {
    if (!userIds.length) return [];
    const { rows } = await this.pool.query<{ user_id: string; event_id: string; name: string; properties: Record<string, unknown>; at: string }>(
      PENDING([workspaceId, userIds, UNRESOLVED_EVENT_TTL_MS / 1000]),
    );
    return rows.map((r) => ({ userId: r.user_id, id: r.event_id, name: r.name, properties: r.properties, at: r.at }));
  }

  /** Forgets events once they have been handled (replayed). */
  async remove(workspaceId: string, events: UnresolvedEvent[]): Promise<void> {
    if (!events.length) return;
    const { rowCount } = await this.pool.query(`DELETE FROM unresolved_event WHERE workspace_id = $1 AND (user_id, event_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))`, [
      workspaceId,
      events.map((e) => e.userId),
      events.map((e) => e.id),
    ]);
    unresolvedEvents.inc({ outcome: 'replayed' }, rowCount ?? 0);
  }

  /** Deletes what waited too long: an event nobody claimed within the hour is not kept (it holds personal data). */
  async expire(): Promise<number> {
    const { rowCount } = await this.pool.query(`DELETE FROM unresolved_event WHERE received_at < now() - make_interval(secs => $1)`, [UNRESOLVED_EVENT_TTL_MS / 1000]);
    if (rowCount) this.log.log(`${rowCount} tracked events expired without a known contact`);
    unresolvedEvents.inc({ outcome: 'expired' }, rowCount ?? 0);
    return rowCount ?? 0;
  }
}
