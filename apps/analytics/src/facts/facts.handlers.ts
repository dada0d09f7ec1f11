import { Inject, Injectable } from '@nestjs/common';
import { OnEvents, type Delivered } from '@tessera/bus';
import type { EventSubject } from '@tessera/contracts';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import type { AnalyticsConfig } from '../config/analytics.config';
import { MAPPED_SUBJECTS, mapFact, type MapContext } from './fact-mappers';
import { IngestRepository, type FactRow } from './ingest.repository';

/**
 * Appends bus events to the fact table and rollups, in batches. One batched handler per subject of
 * FACT_MAPPERS is generated below, so a new subject needs only its mapper entry.
 */
@Injectable()
export class FactsHandlers {
  private readonly ctx: MapContext;

  constructor(
    private readonly ingest: IngestRepository,
    @Inject(SERVICE_CONFIG) config: AnalyticsConfig,
  ) {
    this.ctx = { propertyKeys: new Set(config.ANALYTICS_PROPERTY_KEYS) };
  }

  record(events: Delivered<EventSubject>[]): Promise<number> {
    // Mapped as the repository reads them, not into an array first: no per-event object outlives its turn.
    return this.ingest.ingest({ [Symbol.iterator]: () => this.factRows(events) });
  }

  private *factRows(events: Delivered<EventSubject>[]): Generator<FactRow> {
    for (const { envelope, data } of events) {
      const mapped = mapFact(envelope.subject as EventSubject, data, envelope, this.ctx);
      if (!mapped) continue;
      // Fields listed, not spread: this runs per event, and a spread copies by walking the object.
      yield {
        id: envelope.id,
        workspaceId: envelope.workspaceId,
        subject: envelope.subject,
        occurredAt: envelope.occurredAt,
        contactId: mapped.contactId,
        actor: mapped.actor,
        data: mapped.data,
        counters: mapped.counters,
        instance: mapped.instance,
      };
    }
  }
}

/**
 * Events per transaction. Large batches make the rollups cheap: a batch's rollup rows are bounded
 * by its distinct breakdowns and buckets, not by its size (measured: ~2.5 upserted rows per event at
 * 500, ~0.25 at 5,000), and the per-batch round trips vanish. Memory bounds it: the bus holds
 * INGEST_BATCH x (INGEST_IN_FLIGHT + 1) events (those in the handler and the next batch), ~2.5 KB
 * of heap each, and in a 512 Mi pod Node sizes the old generation at ~128 MB (measured with that
 * limit, --max-old-space-size=128: at most ~95 MB of heap used while ingesting a backlog).
 */
const INGEST_BATCH = 10_000;

/**
 * Batches in the handler at once. One is enough while decoding an event costs the service more
 * than writing it costs Postgres: the bus decodes the next batch while this one is written, so
 * the two cores still work together. Two (5,000 each) were measured too: no faster, ~5 µs more
 * Postgres CPU per event (more rollup rows, lock waits between the batches). More is safe because
 * every effect commutes: facts are skipped by event id, every statement takes its rows in key
 * order (batches, or replicas, wait on each other in one order, never in a cycle), and instance
 * updates keep the earliest times.
 */
const INGEST_IN_FLIGHT = 1;

export const handlerName = (subject: string): string => `on_${subject.replace(/[^A-Za-z0-9]/g, '_')}`;

for (const subject of MAPPED_SUBJECTS) {
  const name = handlerName(subject);
  const descriptor: PropertyDescriptor = {
    value: async function (this: FactsHandlers, events: Delivered<EventSubject>[]): Promise<void> {
      await this.record(events);
    },
    writable: true,
    configurable: true,
  };
  Object.defineProperty(FactsHandlers.prototype, name, descriptor);
  OnEvents(subject, { maxSize: INGEST_BATCH, maxWaitMs: 20, inFlight: INGEST_IN_FLIGHT })(FactsHandlers.prototype, name, descriptor as never);
}
