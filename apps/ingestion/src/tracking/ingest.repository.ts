import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { EventEnvelope } from '@tessera/contracts';
import { PG_POOL } from '@tessera/service-kit';

export interface ArchivedRow {
  id: string;
  receivedAt: Date;
  subject: string;
  envelope: EventEnvelope;
}

/** Hot-path SQL (de-dup lookups and the archive), multi-row statements on the pg pool. */
@Injectable()
export class IngestRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * Which of these event ids the archive already holds from the last `hours` (the de-dup horizon;
   * partition pruning keeps the probe to those days). Event ids are derived from (source,
   * messageId), so this is the messageId de-dup ledger.
   */
  async alreadyArchived(ids: string[], hours: number): Promise<Set<string>> {
    if (!ids.length) return new Set();
    // archived_event_ids (see its migration) keeps one generic plan per connection: planned per call, the query cost more to plan than to run.
    const { rows } = await this.pool.query<{ id: string }>({ name: 'ingestion-archived-event-ids', text: 'SELECT id FROM archived_event_ids($1::uuid[], $2) AS id', values: [ids, hours] });
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Archives published envelopes, given as one JSON document `[{"e": envelope, "t"?: stored ms}]`
   * (ArchiveWriter passes the bytes from JetStream as they are); the indexed columns are read out
   * here. A row that is already archived is skipped: by key when the payload has its receivedAt
   * (redeliveries and replays carry the original), by id otherwise.
   */
  async archiveEnvelopes(document: string): Promise<number> {
    const result = await this.pool.query({
      name: 'ingestion-archive-envelopes',
      text: `INSERT INTO event_archive (id, received_at, workspace_id, source_id, subject, user_id, anonymous_id, envelope)
       SELECT (x.e->>'id')::uuid,
              COALESCE((x.e->'data'->>'receivedAt')::timestamptz, to_timestamp(x.t / 1000.0)),
              (x.e->>'workspaceId')::uuid,
              (x.e->'data'->>'sourceId')::uuid,
              x.e->>'subject',
              -- the contact key: a Segment call's userId, an inbound message's sender
              COALESCE(x.e->'data'->>'userId', x.e->'data'->>'from'),
              x.e->'data'->>'anonymousId',
              x.e
       FROM jsonb_to_recordset($1::jsonb) AS x(t bigint, e jsonb)
       WHERE x.e->'data' ? 'receivedAt' OR NOT EXISTS (SELECT 1 FROM event_archive a WHERE a.id = (x.e->>'id')::uuid)
       ON CONFLICT DO NOTHING`,
      values: [document],
    });
    return result.rowCount ?? 0;
  }

  /** Keeps a webhook payload we do not map (archived, never published), once per id. */
  async archiveUnhandled(row: { id: string; sourceId: string; workspaceId: string; receivedAt: Date; envelope: object }): Promise<void> {
    await this.pool.query(
      `INSERT INTO event_archive (id, received_at, workspace_id, source_id, subject, envelope) VALUES ($1, $2, $3, $4, 'webhook.unhandled', $5) ON CONFLICT DO NOTHING`,
      [row.id, row.receivedAt, row.workspaceId, row.sourceId, JSON.stringify(row.envelope)],
    );
  }

  /** Creates the archive's daily partitions from `daysBack` ago to `daysAhead` ahead. */
  async ensurePartitions(daysBack: number, daysAhead: number): Promise<number> {
    const { rows } = await this.pool.query<{ created: number }>('SELECT ensure_archive_partitions($1, $2) AS created', [daysBack, daysAhead]);
    return rows[0]?.created ?? 0;
  }

  /** Archived events of one workspace by identity and time, oldest first. */
  async findArchived(workspaceId: string, filter: { userId?: string; anonymousId?: string; from: Date; to: Date; limit: number }): Promise<ArchivedRow[]> {
    const { rows } = await this.pool.query<{ id: string; received_at: Date; subject: string; envelope: EventEnvelope }>(
      `SELECT id, received_at, subject, envelope FROM event_archive
       WHERE workspace_id = $1 AND received_at >= $2 AND received_at < $3
         AND ($4::text IS NULL OR user_id = $4) AND ($5::text IS NULL OR anonymous_id = $5)
       ORDER BY received_at, id LIMIT $6`,
      [workspaceId, filter.from, filter.to, filter.userId ?? null, filter.anonymousId ?? null, filter.limit],
    );
    return rows.map((r) => ({ id: r.id, receivedAt: r.received_at, subject: r.subject, envelope: r.envelope }));
  }

  /** One page of a workspace's archive in a time range, after the (receivedAt, id) cursor. */
  async archivePage(workspaceId: string, from: Date, to: Date, after: { receivedAt: Date; id: string } | undefined, limit: number): Promise<ArchivedRow[]> {
    const { rows } = await this.pool.query<{ id: string; received_at: Date; subject: string; envelope: EventEnvelope }>(
      `SELECT id, received_at, subject, envelope FROM event_archive
       WHERE workspace_id = $1 AND received_at >= $2 AND received_at < $3
         AND ($4::timestamptz IS NULL OR (received_at, id) > ($4::timestamptz, $5::uuid))
       ORDER BY received_at, id LIMIT $6`,
      [workspaceId, from, to, after?.receivedAt ?? null, after?.id ?? null, limit],
    );
    return rows.map((r) => ({ id: r.id, receivedAt: r.received_at, subject: r.subject, envelope: r.envelope }));
  }
}
