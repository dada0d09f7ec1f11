import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@tessera/service-kit';
import type { Counter, InstanceUpdate } from './fact-mappers';

export interface FactRow {
  id: string;
  workspaceId: string;
  subject: string;
  contactId: string | null;
  actor: string | null;
  occurredAt: string;
  data: Record<string, unknown>;
  counters: Counter[];
  instance?: InstanceUpdate;
}

// Separates metric, dim and value inside unique_actor.scope; stripped from values on the way in.
const SEP = '\u001f';
const clean = (s: string): string => s.replaceAll(SEP, ' ');

/**
 * One statement per batch: insert the facts (a redelivered event hits (id, occurred_at) and is
 * skipped), then, for the rows actually inserted only, add distinct actors and bump the hour and
 * local-day rollups (minute rollups only for workspace totals and event names: they are the
 * costliest rows and a per-template minute series is rarely asked for). Atomic, so a retried batch never counts anything twice.
 */
const INGEST_SQL = `
WITH ins AS (
  INSERT INTO "analytics"."fact" (id, workspace_id, subject, contact_id, actor, occurred_at, data)
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::timestamptz[], $7::jsonb[])
  ON CONFLICT DO NOTHING
  RETURNING id, workspace_id, occurred_at, actor
), j AS (
  SELECT ins.workspace_id, ins.occurred_at, ins.actor, c.metric, c.dim, c.value, c.kind, COALESCE(w.timezone, 'UTC') AS tz
  FROM ins
  JOIN unnest($8::uuid[], $9::text[], $10::text[], $11::text[], $12::text[]) AS c(id, metric, dim, value, kind) ON c.id = ins.id
  LEFT JOIN workspace_setting w ON w.workspace_id = ins.workspace_id
), u AS (
  INSERT INTO unique_actor (workspace_id, scope, day, actor)
  SELECT DISTINCT workspace_id, metric || E'\\x1f' || dim || E'\\x1f' || value, (occurred_at AT TIME ZONE tz)::date, actor
  FROM j WHERE kind = 'unique' AND actor IS NOT NULL
  ORDER BY 1, 2, 3, 4
  ON CONFLICT DO NOTHING
  RETURNING workspace_id, scope, day
), deltas AS (
  SELECT j.workspace_id, g.grain, j.dim,
    CASE g.grain WHEN 'm' THEN date_trunc('minute', j.occurred_at) WHEN 'h' THEN date_trunc('hour', j.occurred_at)
      ELSE date_trunc('day', j.occurred_at AT TIME ZONE j.tz) AT TIME ZONE j.tz END AS bucket,
    j.metric, j.value
  FROM j CROSS JOIN LATERAL unnest(CASE WHEN j.kind = 'day' THEN ARRAY['d'] WHEN j.dim IN ('', 'name') THEN ARRAY['m', 'h', 'd'] ELSE ARRAY['h', 'd'] END) AS g(grain)
  UNION ALL
  SELECT u.workspace_id, 'd', split_part(u.scope, E'\\x1f', 2), u.day::timestamp AT TIME ZONE COALESCE(w.timezone, 'UTC'),
    'uniq:' || split_part(u.scope, E'\\x1f', 1), split_part(u.scope, E'\\x1f', 3)
  FROM u LEFT JOIN workspace_setting w ON w.workspace_id = u.workspace_id
), r AS (
  INSERT INTO rollup AS r (workspace_id, grain, dim, bucket, metric, value, count)
  SELECT workspace_id, grain, dim, bucket, metric, value, count(*) FROM deltas
  GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (workspace_id, grain, dim, bucket, metric, value) DO UPDATE SET count = r.count + EXCLUDED.count
)
SELECT id FROM ins`;

const INSTANCE_SQL = `
INSERT INTO journey_instance AS i (workspace_id, instance_id, journey_id, contact_id, entered_at, variant, goal_at, exited_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::timestamptz[], $6::text[], $7::timestamptz[], $8::timestamptz[])
ORDER BY 1, 2
ON CONFLICT (workspace_id, instance_id) DO UPDATE SET
  entered_at = LEAST(i.entered_at, EXCLUDED.entered_at),
  variant = COALESCE(EXCLUDED.variant, i.variant),
  goal_at = LEAST(i.goal_at, EXCLUDED.goal_at),
  exited_at = LEAST(i.exited_at, EXCLUDED.exited_at)`;

const minIso = (a?: string, b?: string): string | undefined => (!a ? b : !b ? a : new Date(a) <= new Date(b) ? a : b);

@Injectable()
export class IngestRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Records a batch; returns how many facts were new (the rest were redeliveries). */
  async ingest(rows: FactRow[]): Promise<number> {
    if (!rows.length) return 0;
    const byId = new Map<string, FactRow>();
    for (const row of rows) if (!byId.has(row.id)) byId.set(row.id, row);
    const facts = [...byId.values()];
    const counters = facts.flatMap((f) => f.counters.map((k) => [f.id, k.metric, clean(k.dim), clean(k.value), k.kind] as const));
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows: inserted } = await client.query<{ id: string }>(INGEST_SQL, [
        facts.map((f) => f.id),
        facts.map((f) => f.workspaceId),
        facts.map((f) => f.subject),
        facts.map((f) => f.contactId),
        facts.map((f) => f.actor),
        facts.map((f) => f.occurredAt),
        facts.map((f) => JSON.stringify(f.data)),
        counters.map((k) => k[0]),
        counters.map((k) => k[1]),
        counters.map((k) => k[2]),
        counters.map((k) => k[3]),
        counters.map((k) => k[4]),
      ]);
      const fresh = new Set(inserted.map((r) => r.id));
      const instances = mergeInstances(facts.filter((f) => f.instance && fresh.has(f.id)));
      if (instances.length) {
        await client.query(INSTANCE_SQL, [
          instances.map((i) => i.workspaceId),
          instances.map((i) => i.instanceId),
          instances.map((i) => i.journeyId),
          instances.map((i) => i.contactId),
          instances.map((i) => i.enteredAt ?? null),
          instances.map((i) => i.variant ?? null),
          instances.map((i) => i.goalAt ?? null),
          instances.map((i) => i.exitedAt ?? null),
        ]);
      }
      await client.query('COMMIT');
      return fresh.size;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

/** One row per instance per batch (an upsert may not touch a row twice in one statement). */
function mergeInstances(facts: FactRow[]): (InstanceUpdate & { workspaceId: string })[] {
  const merged = new Map<string, InstanceUpdate & { workspaceId: string }>();
  for (const f of facts) {
    const i = f.instance!;
    const key = `${f.workspaceId}/${i.instanceId}`;
    const prev = merged.get(key);
    merged.set(key, {
      ...i,
      workspaceId: f.workspaceId,
      enteredAt: minIso(prev?.enteredAt, i.enteredAt),
      goalAt: minIso(prev?.goalAt, i.goalAt),
      exitedAt: minIso(prev?.exitedAt, i.exitedAt),
      variant: i.variant ?? prev?.variant,
    });
  }
  return [...merged.values()];
}
