import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@tessera/service-kit';
import { GRAIN_OF, type ReportRange } from './time-buckets';

export interface SeriesRow {
  bucket: string;
  metric: string;
  value: string;
  count: number;
}

export interface SeriesQuery {
  metrics: string[];
  dim: string;
  /** Only these values; or a prefix (`journeyId/`) for hierarchical values. */
  values?: string[];
  valuePrefix?: string;
}

// The lower bound is `from` floored to its bucket in the workspace's zone.
const LOWER = `date_trunc($5, $3::timestamptz AT TIME ZONE $4) AT TIME ZONE $4`;

/** Reads rollups (never raw facts) for reports. */
@Injectable()
export class ReportsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Every bucket start of the range, in order (for zero-filled series). */
  async buckets(range: ReportRange): Promise<string[]> {
    const { rows } = await this.pool.query<{ b: Date }>(
      `SELECT (g AT TIME ZONE $1) AS b FROM generate_series(date_trunc($2, $3::timestamptz AT TIME ZONE $1), ($4::timestamptz AT TIME ZONE $1) - interval '1 microsecond', ('1 ' || $2)::interval) AS g`,
      [range.timezone, range.bucket, range.from, range.to],
    );
    return rows.map((r) => r.b.toISOString());
  }

  async series(workspaceId: string, range: ReportRange, q: SeriesQuery): Promise<SeriesRow[]> {
    const params: unknown[] = [workspaceId, GRAIN_OF[range.bucket], range.from, range.timezone, range.bucket, range.to, q.dim, q.metrics];
    let filter = '';
    if (q.values) {
      params.push(q.values);
      filter = ` AND value = ANY($${params.length}::text[])`;
    } else if (q.valuePrefix !== undefined) {
      params.push(q.valuePrefix.replace(/[\\%_]/g, (m) => `\\${m}`) + '%');
      filter = ` AND value LIKE $${params.length}`;
    }
    const { rows } = await this.pool.query<{ b: Date; metric: string; value: string; n: string }>(
      `SELECT date_trunc($5, bucket AT TIME ZONE $4) AT TIME ZONE $4 AS b, metric, value, sum(count) AS n
       FROM rollup
       WHERE workspace_id = $1 AND grain = $2 AND dim = $7 AND bucket >= ${LOWER} AND bucket < $6 AND metric = ANY($8::text[])${filter}
       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      params,
    );
    return rows.map((r) => ({ bucket: r.b.toISOString(), metric: r.metric, value: r.value, count: Number(r.n) }));
  }

  /** Net members of a segment before the range (entries minus exits), from its day rollups and finer rows. */
  async segmentBaseline(workspaceId: string, range: ReportRange, segmentId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string | null }>(
      `SELECT sum(CASE metric WHEN 'segment.entered' THEN count ELSE -count END) AS n FROM rollup
       WHERE workspace_id = $1 AND grain = $2 AND dim = 'segment' AND value = $6 AND bucket < ${LOWER}
         AND metric IN ('segment.entered', 'segment.exited')`,
      [workspaceId, GRAIN_OF[range.bucket], range.from, range.timezone, range.bucket, segmentId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Distinct actors per bucket (day, week, month) for one scope, from the exact per-day table. */
  async distinctActors(workspaceId: string, range: ReportRange, scopes: string[]): Promise<{ bucket: string; scope: string; n: number }[]> {
    const { rows } = await this.pool.query<{ b: Date; scope: string; n: string }>(
      `SELECT date_trunc($5, day::timestamp) AT TIME ZONE $4 AS b, scope, count(DISTINCT actor) AS n
       FROM unique_actor
       WHERE workspace_id = $1 AND scope = ANY($2::text[]) AND day >= (${LOWER} AT TIME ZONE $4)::date AND day < ($6::timestamptz AT TIME ZONE $4)::date + CASE WHEN ($6::timestamptz AT TIME ZONE $4)::time > '00:00' THEN 1 ELSE 0 END
       GROUP BY 1, 2 ORDER BY 1`,
      [workspaceId, scopes, range.from, range.timezone, range.bucket, range.to],
    );
    return rows.map((r) => ({ bucket: r.b.toISOString(), scope: r.scope, n: Number(r.n) }));
  }

  /** Per variant: instances that entered in the range, and those that converted within the window. */
  async journeyConversions(workspaceId: string, journeyId: string, range: ReportRange, windowHours: number): Promise<{ variant: string | null; instances: number; conversions: number }[]> {
    const { rows } = await this.pool.query<{ variant: string | null; instances: string; conversions: string }>(
      `SELECT variant, count(*) AS instances,
              count(*) FILTER (WHERE goal_at IS NOT NULL AND goal_at >= entered_at AND goal_at <= entered_at + make_interval(hours => $5)) AS conversions
       FROM journey_instance
       WHERE workspace_id = $1 AND journey_id = $2 AND entered_at >= $3 AND entered_at < $4
       GROUP BY variant ORDER BY variant NULLS FIRST`,
      [workspaceId, journeyId, range.from, range.to, windowHours],
    );
    return rows.map((r) => ({ variant: r.variant, instances: Number(r.instances), conversions: Number(r.conversions) }));
  }

  /** Top values per property key of an event (or of all events) over the range, from day counters. */
  async topProperties(workspaceId: string, range: ReportRange, eventName: string | undefined, limit: number): Promise<{ key: string; value: string; count: number }[]> {
    const { rows } = await this.pool.query<{ dim: string; value: string; n: string }>(
      `SELECT dim, value, n FROM (
         SELECT dim, value, sum(count) AS n, row_number() OVER (PARTITION BY dim ORDER BY sum(count) DESC, value) AS rank
         FROM rollup
         WHERE workspace_id = $1 AND grain = 'd' AND dim LIKE 'prop:%' AND bucket >= date_trunc('day', $2::timestamptz AT TIME ZONE $4) AT TIME ZONE $4 AND bucket < $3
           AND (CASE WHEN $5::text IS NULL THEN metric LIKE 'event.prop:%' ELSE metric = 'event.prop:' || $5 END)
         GROUP BY dim, value) t
       WHERE rank <= $6 ORDER BY dim, n DESC, value`,
      [workspaceId, range.from, range.to, range.timezone, eventName ?? null, limit],
    );
    return rows.map((r) => ({ key: r.dim.slice('prop:'.length), value: r.value, count: Number(r.n) }));
  }
}
