import { Inject, Injectable } from '@nestjs/common';
import { EVENT_BUS, type JetStreamBus } from '@tessera/bus';
import type { EventEnvelope, EventMap, EventSubject } from '@tessera/contracts';
import { MicroBatcher, SERVICE_CONFIG } from '@tessera/service-kit';
import { KeyedRateLimiter } from '../common/token-bucket';
import { eventsAccepted, eventsDuplicate, rateLimited } from '../common/metrics';
import type { IngestionConfig } from '../config/ingestion.config';
import type { SourceRecord } from '../sources/source';
import { currentTrace, eventIdFor, fastEnvelope } from './envelopes';
import { ArchiveWriter } from './archive-writer.service';
import { IngestRepository } from './ingest.repository';

export const PRODUCER = 'ingestion';

/** One event ready to publish: its contract payload, already validated. */
export interface IngestItem<S extends EventSubject = EventSubject> {
  subject: S;
  data: EventMap[S];
  /** The sender's id for de-dup (Segment messageId, a provider's event id). */
  messageId: string;
  occurredAt: string;
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

/** The archive trails the stream by more than JetStream's de-dup window can cover: 503, retry later. */
export class ArchiveBehind extends Error {
  readonly retryAfterSeconds = 5;
  constructor(lagMs: number) {
    super(`the event archive is ${Math.round(lagMs / 1000)} s behind; retry later`);
  }
}

/** The de-dup promise is 24 h; the archive is searched twice as far back for margin. */
export const DEDUP_HOURS = 48;
/**
 * Until ArchiveWriter has written an event, only JetStream's duplicate window (10 minutes on the
 * INGESTION stream) catches its retries: new events are refused well before the archive trails by that much.
 */
export const MAX_ARCHIVE_LAG_MS = 5 * 60_000;

/**
 * The single way events enter Tessera: drop messageIds the archive already holds, publish the
 * rest to JetStream and await every ack, then answer. ArchiveWriter, a consumer of the same
 * stream, archives them afterwards (off the request path); event ids are derived from (source,
 * messageId), so a retry is a duplicate to the archive lookup, to JetStream (Nats-Msg-Id) while
 * the archive has not caught up, and to every consumer.
 *
 * Both steps coalesce concurrent callers (a MicroBatcher each, one batch in flight per step):
 * callers that arrive while a lookup or publish runs share the next one, so under load a single
 * /v1/track call costs its share of one query and one windowed publish rather than a round trip
 * of each, while the two steps of different batches still overlap. A lone call waits for
 * nothing. A failed lookup or publish fails every caller of that batch; each retries, and the
 * event ids make the retries harmless.
 */
@Injectable()
export class IngestService {
  private readonly sourceLimits: KeyedRateLimiter;
  private readonly workspaceLimits: KeyedRateLimiter;
  private readonly lookups: MicroBatcher<string[], Set<string>>;
  private readonly publishes: MicroBatcher<EventEnvelope[], undefined>;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: JetStreamBus,
    private readonly repository: IngestRepository,
    private readonly archive: ArchiveWriter,
    @Inject(SERVICE_CONFIG) config: IngestionConfig,
  ) {
    this.sourceLimits = new KeyedRateLimiter(config.RATE_LIMIT_SOURCE_EVENTS_PER_SECOND, config.RATE_LIMIT_SOURCE_BURST);
    this.workspaceLimits = new KeyedRateLimiter(config.RATE_LIMIT_WORKSPACE_EVENTS_PER_SECOND, config.RATE_LIMIT_WORKSPACE_BURST);
    this.lookups = new MicroBatcher<string[], Set<string>>(async (groups) => {
      const seen = await this.repository.alreadyArchived(groups.length === 1 ? groups[0]! : groups.flat(), DEDUP_HOURS);
      return groups.map(() => seen);
    }, 1);
    // Stored (acked) by JetStream before any caller answers; ArchiveWriter archives them from there.
    this.publishes = new MicroBatcher<EventEnvelope[], undefined>(async (groups) => {
      await this.bus.publishEnvelopes(groups.length === 1 ? groups[0]! : groups.flat());
      return groups.map(() => undefined);
    }, 1);
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

  async ingest(source: SourceRecord, items: IngestItem[]): Promise<IngestOutcome> {
    if (!items.length) return { accepted: 0, duplicates: 0 };
    const lag = this.archive.lagMs();
    if (lag > MAX_ARCHIVE_LAG_MS) throw new ArchiveBehind(lag);
    const ids = items.map((i) => eventIdFor(source.id, i.messageId));
    // Read here, in the caller's request: a batch runs in whichever caller's context started it.
    const trace = currentTrace();
    const seen = await this.lookups.submit(ids);
    const envelopes: EventEnvelope[] = [];
    items.forEach((item, i) => {
      if (seen.has(ids[i]!)) return;
      envelopes.push(fastEnvelope(PRODUCER, { subject: item.subject, data: item.data, workspaceId: source.workspaceId, id: ids[i]!, occurredAt: item.occurredAt }, trace));
    });
    if (envelopes.length) await this.publishes.submit(envelopes);
    const bySubject = new Map<string, number>();
    for (const e of envelopes) bySubject.set(e.subject, (bySubject.get(e.subject) ?? 0) + 1);
    for (const [subject, n] of bySubject) eventsAccepted.inc({ subject }, n);
    if (items.length > envelopes.length) eventsDuplicate.inc(items.length - envelopes.length);
    return { accepted: envelopes.length, duplicates: items.length - envelopes.length };
  }
}
