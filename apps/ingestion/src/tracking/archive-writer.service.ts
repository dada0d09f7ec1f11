import { Injectable, Logger } from '@nestjs/common';
import type { SerializedEvent } from '@tessera/bus';
import { MicroBatcher } from '@tessera/service-kit';
import { IngestRepository } from './ingest.repository';

/**
 * Writes the events a request published into the archive, after JetStream stored them and before
 * the request is answered, from the same JSON text that was published (serialised once). So an
 * event answered 200 is both in the stream and in the archive, which is the messageId de-dup
 * ledger; a failure here answers 503, and the sender's retry publishes again harmlessly (same
 * event id: JetStream's duplicate window, then the consumers' de-dup) and archives again.
 *
 * Concurrent requests share one statement (a MicroBatcher, one statement in flight): under load
 * one commit covers many requests. It never parses an envelope in JavaScript: Postgres parses the
 * JSON once anyway to store it as jsonb, and extracts the indexed columns there.
 *
 * This replaced a durable consumer (`ingestion-archive`) that read every event back from the
 * stream in the same process and acked each one: about a fifth of ingestion's CPU per event.
 */
@Injectable()
export class ArchiveWriter {
  private readonly logger = new Logger('archive-writer');
  private readonly statements = new MicroBatcher<SerializedEvent[], undefined>(async (groups) => {
    await this.write(groups.length === 1 ? groups[0]! : uniqueById(groups.flat()));
    return groups.map(() => undefined);
  }, 1);

  constructor(private readonly repository: IngestRepository) {}

  /** Resolves once every event's row is committed (or was already archived). */
  archive(events: SerializedEvent[]): Promise<void> {
    return this.statements.submit(events);
  }

  private async write(events: SerializedEvent[]): Promise<void> {
    const storedAt = Date.now();
    try {
      await this.repository.archiveEnvelopes(archiveDocument(events, storedAt));
    } catch (error) {
      if (!isDataError(error)) throw error;
      // Postgres refused one event's data (jsonb cannot hold \u0000, for one): keep the others of
      // the statement, and skip only that one, loudly. It is in the stream all the same.
      for (const event of events) {
        try {
          await this.repository.archiveEnvelopes(archiveDocument([event], storedAt));
        } catch (single) {
          if (!isDataError(single)) throw single;
          this.logger.error({ err: single, subject: event.subject, id: event.id }, 'event cannot be archived; skipped');
        }
      }
    }
  }
}

/**
 * `[{"t":<stored ms>,"e":<envelope>},...]` from the published JSON text, without parsing it (the
 * one contract with no receivedAt of its own, delivery statuses, takes `t` as its row's time).
 */
export function archiveDocument(events: SerializedEvent[], storedAtMs: number): string {
  const head = `{"t":${storedAtMs},"e":`;
  let document = '[';
  for (let i = 0; i < events.length; i++) document += (i ? ',' : '') + head + events[i]!.body + '}';
  return document + ']';
}

/**
 * Requests coalesced into one statement that carry the same event (a sender's concurrent retry)
 * would each insert a row: the statement's own rows are invisible to its duplicate check.
 */
function uniqueById(events: SerializedEvent[]): SerializedEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => !seen.has(e.id) && seen.add(e.id));
}

/** Postgres refused the data itself (classes 22 and 23), not the connection: retrying cannot help. */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
