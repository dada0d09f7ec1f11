import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@tessera/service-kit';
import { PrismaService } from '../database/prisma.service';
import type { ExportDestination, Prisma } from '../generated/prisma/client';

export type Destination = ExportDestination;

export interface ExportFact {
  id: string;
  workspaceId: string;
  subject: string;
  contactId: string | null;
  occurredAt: string;
  receivedAt: string;
  data: unknown;
  txid: string;
  seq: string;
}

const LAG_CAP = 100_000;
// (ORDER BY names fact.* so it sorts the bigints, not the text aliases.)
// Rows of transactions still running (or that could still commit) are never read: a cursor on
// (txid, seq) below the oldest running transaction cannot skip a row that commits later.
const VISIBLE = `txid < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint`;

@Injectable()
export class DestinationsRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(PG_POOL) private readonly pool: Pool,
  ) {}

  create(data: Prisma.ExportDestinationCreateInput): Promise<Destination> {
    return this.prisma.exportDestination.create({ data });
  }

  list(workspaceId: string): Promise<Destination[]> {
    return this.prisma.exportDestination.findMany({ where: { workspaceId }, orderBy: { createdAt: 'asc' } });
  }

  find(workspaceId: string, id: string): Promise<Destination | null> {
    return this.prisma.exportDestination.findFirst({ where: { workspaceId, id } });
  }

  async setEnabled(workspaceId: string, id: string, enabled: boolean): Promise<Destination | null> {
    const { count } = await this.prisma.exportDestination.updateMany({ where: { workspaceId, id }, data: { enabled, nextAttemptAt: new Date() } });
    return count ? this.find(workspaceId, id) : null;
  }

  async delete(workspaceId: string, id: string): Promise<boolean> {
    const { count } = await this.prisma.exportDestination.deleteMany({ where: { workspaceId, id } });
    return count > 0;
  }

  /** Enabled destinations whose next attempt is due. */
  due(limit: number): Promise<Destination[]> {
    return this.prisma.exportDestination.findMany({ where: { enabled: true, nextAttemptAt: { lte: new Date() } }, orderBy: { nextAttemptAt: 'asc' }, take: limit });
  }

  /** The next facts after the destination's cursor, in commit order. */
  async nextBatch(d: Destination): Promise<ExportFact[]> {
    const { rows } = await this.pool.query<ExportFact>(
      `SELECT id, workspace_id AS "workspaceId", subject, contact_id AS "contactId", occurred_at AS "occurredAt", received_at AS "receivedAt", data, txid::text AS "txid", seq::text AS "seq"
       FROM fact
       WHERE workspace_id = $1 AND (txid, seq) > ($2::bigint, $3::bigint) AND ${VISIBLE} AND subject = ANY($4::text[])
       ORDER BY fact.txid, fact.seq LIMIT $5`,
      [d.workspaceId, d.cursorTxid.toString(), d.cursorSeq.toString(), d.subjects, d.batchSize],
    );
    return rows;
  }

  /** Advances the cursor after a successful delivery, unless another worker moved it meanwhile. */
  async delivered(d: Destination, last: ExportFact, count: number): Promise<void> {
    await this.pool.query(
      `UPDATE export_destination SET cursor_txid = $2, cursor_seq = $3, delivered_count = delivered_count + $4, failures = 0, last_success_at = now(), next_attempt_at = now()
       WHERE id = $1 AND cursor_txid = $5 AND cursor_seq = $6`,
      [d.id, last.txid, last.seq, count, d.cursorTxid.toString(), d.cursorSeq.toString()],
    );
  }

  async failed(d: Destination, error: string, retryInMs: number): Promise<void> {
    await this.pool.query(
      `UPDATE export_destination SET failures = failures + 1, last_error = $2, last_error_at = now(), next_attempt_at = now() + make_interval(secs => $3::float8 / 1000) WHERE id = $1`,
      [d.id, error.slice(0, 1000), retryInMs],
    );
  }

  async idle(d: Destination, pollMs: number): Promise<void> {
    await this.pool.query(`UPDATE export_destination SET next_attempt_at = now() + make_interval(secs => $2::float8 / 1000) WHERE id = $1 AND failures = 0`, [d.id, pollMs]);
  }

  /** Undelivered facts (capped) and the age of the oldest one. */
  async lag(d: Destination): Promise<{ events: number; seconds: number | null }> {
    const { rows } = await this.pool.query<{ n: string; oldest: Date | null }>(
      `SELECT count(*) AS n, min(received_at) AS oldest FROM (
         SELECT received_at FROM fact WHERE workspace_id = $1 AND (txid, seq) > ($2::bigint, $3::bigint) AND subject = ANY($4::text[]) LIMIT ${LAG_CAP}) t`,
      [d.workspaceId, d.cursorTxid.toString(), d.cursorSeq.toString(), d.subjects],
    );
    const oldest = rows[0]?.oldest;
    return { events: Number(rows[0]?.n ?? 0), seconds: oldest ? Math.max(0, Math.round((Date.now() - oldest.getTime()) / 1000)) : null };
  }
}
