import { Inject, Injectable } from '@nestjs/common';
import { EVENT_BUS, type JetStreamBus } from '@tessera/bus';
import type { EventEnvelope, EventMap, EventSubject } from '@tessera/contracts';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import { KeyedRateLimiter } from '../common/token-bucket';
import { eventsAccepted, eventsDuplicate, rateLimited } from '../common/metrics';
import type { IngestionConfig } from '../config/ingestion.config';
import type { SourceRecord } from '../sources/source';
import { currentTrace, eventIdFor, fastEnvelope } from './envelopes';
import { IngestRepository, ledgerKey, type AcceptedRow } from './ingest.repository';
import { MicroBatcher } from '../common/micro-batcher';

export const PRODUCER = 'ingestion';

/** One event ready to publish: its contract payload, already validated. */
export interface IngestItem<S extends EventSubject = EventSubject> {
  subject: S;
  data: EventMap[S];
  /** The sender's id for de-dup (Segment messageId, a provider's event id). */
  messageId: string;
  occurredAt: string;
  userId?: string;
  anonymousId?: string;
}

export interface IngestOutcome {
  accepted: number;
  duplicates: number;
}

export class RateLimited extends Error {
  constructor(
    readonly scope: 'source' | 'workspace',
    readonly retryAfterSeconds: number,
  ) {
    super(`rate limit of this ${scope} exceeded; retry after ${retryAfterSeconds} s`);
  }
}

/**
 * The single way events enter Tessera: drop messageIds already accepted, publish the rest to
 * JetStream and await every ack, then record them in the de-dup ledger and the archive. Publishing
 * before recording means a crash in between can only re-publish (same event id: JetStream and
 * consumers drop it), never lose an event the sender was told was stored.
 */
@Injectable()
export class IngestService {
  private readonly sourceLimits: KeyedRateLimiter;
  private readonly workspaceLimits: KeyedRateLimiter;
  // Concurrent requests share one ledger lookup and one ledger+archive insert (one commit).
  private readonly lookups: MicroBatcher<{ sourceId: string; messageId: string }[], Set<string>>;
  private readonly records: MicroBatcher<AcceptedRow[], number>;
  // Publishes of concurrent requests go out together: fewer socket writes per event (syscalls are dear here).
  private readonly publishes: MicroBatcher<EventEnvelope[], undefined>;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: JetStreamBus,
    private readonly repository: IngestRepository,
    @Inject(SERVICE_CONFIG) config: IngestionConfig,
  ) {
    this.sourceLimits = new KeyedRateLimiter(config.RATE_LIMIT_SOURCE_EVENTS_PER_SECOND, config.RATE_LIMIT_SOURCE_BURST);
    this.workspaceLimits = new KeyedRateLimiter(config.RATE_LIMIT_WORKSPACE_EVENTS_PER_SECOND, config.RATE_LIMIT_WORKSPACE_BURST);
    this.lookups = new MicroBatcher(async (groups) => {
      const seen = await this.repository.alreadyReceived(groups.flat());
      return groups.map(() => seen);
    }, 2, 200);
    this.publishes = new MicroBatcher(async (groups) => {
      await this.bus.publishEnvelopes(groups.flat());
      return groups.map(() => undefined);
    }, 2, 200);
    this.records = new MicroBatcher(async (groups) => {
      await this.repository.recordAccepted(groups.flat());
      return groups.map((g) => g.length);
    }, 2, 200);
  }

  /** Throws RateLimited when the source or its workspace is over its per-replica budget. */
  checkRate(source: SourceRecord, events: number): void {
    const bySource = this.sourceLimits.take(source.id, events);
    if (!bySource.ok) {
      rateLimited.inc({ scope: 'source' });
      throw new RateLimited('source', bySource.retryAfterSeconds);
    }
    const byWorkspace = this.workspaceLimits.take(source.workspaceId, events);
    if (!byWorkspace.ok) {
      rateLimited.inc({ scope: 'workspace' });
      throw new RateLimited('workspace', byWorkspace.retryAfterSeconds);
    }
  }

  async ingest(source: SourceRecord, items: IngestItem[], receivedAt: Date): Promise<IngestOutcome> {
    if (!items.length) return { accepted: 0, duplicates: 0 };
    const seen = await this.lookups.submit(items.map((i) => ({ sourceId: source.id, messageId: i.messageId })));
    const fresh = items.filter((i) => !seen.has(ledgerKey(source.id, i.messageId)));
    const trace = currentTrace();
    const envelopes: EventEnvelope[] = fresh.map((item) =>
      fastEnvelope(PRODUCER, { subject: item.subject, data: item.data, workspaceId: source.workspaceId, id: eventIdFor(source.id, item.messageId), occurredAt: item.occurredAt }, trace),
    );
    if (envelopes.length) await this.publishes.submit(envelopes);
    if (fresh.length) await this.records.submit(fresh.map((item, i) => ({ sourceId: source.id, messageId: item.messageId, receivedAt, envelope: envelopes[i]!, userId: item.userId, anonymousId: item.anonymousId })));
    const bySubject = new Map<string, number>();
    for (const e of envelopes) bySubject.set(e.subject, (bySubject.get(e.subject) ?? 0) + 1);
    for (const [subject, n] of bySubject) eventsAccepted.inc({ subject }, n);
    if (items.length > fresh.length) eventsDuplicate.inc(items.length - fresh.length);
    return { accepted: fresh.length, duplicates: items.length - fresh.length };
  }
}
