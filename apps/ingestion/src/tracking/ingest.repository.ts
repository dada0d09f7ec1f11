import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { EventEnvelope } from '@tessera/contracts';
import { PG_POOL } from '@tessera/service-kit';

export interface AcceptedRow {
  sourceId: string;
  messageId: string;
  receivedAt: Date;
  envelope: EventEnvelope;
  userId?: string;
  anonymousId?: string;
}

export interface ArchivedRow {
  id: string;
  receivedAt: Date;
  subject: string;
  envelope: EventEnvelope;
}

/** Key of a ledger entry in the sets alreadyReceived returns. */
export function ledgerKey(sourceId: string, messageId: string): string {
  return `${sourceId}\n${messageId}`;
}

/** Hot-path SQL (de-dup ledger and archive), one multi-row statement per request, on the pg pool. */
@Injectable()
export class IngestRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Which of these (source, messageId) pairs were already accepted (within the ledger's 48 h). */
  async alreadyReceived(keys: { sourceId: string; messageId: string }[]): Promise<Set<string>> {
    if (!keys.length) return new Set();
    const { rows } = await this.pool.query<{ source_id: string; message_id: string }>(
      'SELECT r.source_id, r.message_id FROM received_message r JOIN unnest($1::uuid[], $2::text[]) AS k(source_id, message_id) USING (source_id, message_id)',
      [keys.map((k) => k.sourceId), keys.map((k) => k.messageId)],
    );
    return new Set(rows.map((r) => ledgerKey(r.source_id, r.message_id)));
  }

  /**
   * Records published events in the de-dup ledger and archives those that were new to it, in one
   * statement: a concurrent retry of the same message cannot archive it twice. Rows travel as one
   * JSON document (cheaper for pg to send than nine escaped arrays).
   */
  async recordAccepted(rows: AcceptedRow[]): Promise<number> {
    if (!rows.length) return 0;
    const doc = JSON.stringify(
      rows.map((r) => ({ s: r.sourceId, m: r.messageId, r: r.receivedAt, i: r.envelope.id, w: r.envelope.workspaceId, j: r.envelope.subject, u: r.userId ?? null, a: r.anonymousId ?? null, e: r.envelope })),
    );
    const result = await this.pool.query(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS a(s uuid, m text, r timestamptz, i uuid, w uuid, j text, u text, a text, e jsonb)
       ), claimed AS (
         INSERT INTO received_message (source_id, message_id, created_at)
         SELECT s, m, r FROM input
         ON CONFLICT DO NOTHING RETURNING source_id, message_id
       )
       INSERT INTO event_archive (id, received_at, workspace_id, source_id, subject, user_id, anonymous_id, envelope)
       SELECT input.i, input.r, input.w, input.s, input.j, input.u, input.a, input.e
       FROM input JOIN claimed ON claimed.source_id = input.s AND claimed.message_id = input.m
       ON CONFLICT DO NOTHING`,
      [doc],
    );
    return result.rowCount ?? 0;
  }

  /** Keeps a webhook payload we do not map (archived, never published), once per id. */
  async archiveUnhandled(row: { id: string; sourceId: string; workspaceId: string; receivedAt: Date; envelope: object }): Promise<void> {
    await this.pool.query(
      `INSERT INTO event_archive (id, received_at, workspace_id, source_id, subject, envelope) VALUES ($1, $2, $3, $4, 'webhook.unhandled', $5) ON CONFLICT DO NOTHING`,
      [row.id, row.receivedAt, row.workspaceId, row.sourceId, JSON.stringify(row.envelope)],
    );
  }

  /** Drops ledger entries older than `hours` (the de-dup horizon is 24 h; 48 h kept for margin). */
  async pruneReceived(hours: number): Promise<number> {
    const result = await this.pool.query(`DELETE FROM received_message WHERE created_at < now() - make_interval(hours => $1)`, [hours]);
    return result.rowCount ?? 0;
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
