import { Injectable } from '@nestjs/common';
import { RuntimePool } from './runtime-pool';
import type { Pool, PoolClient } from 'pg';
import { outboxBatchText, type OutboxRow } from '@tessera/bus';
import { prepared, withTransaction } from '@tessera/db';
import { OutboxRelayService } from '@tessera/service-kit';
import type { ContactView, InstanceState } from '../engine/engine.types';

export interface InstanceRow {
  id: string;
  workspace_id: string;
  journey_id: string;
  version: number;
  contact_id: string;
  entry_key: string;
  status: string;
  state: InstanceState;
  seq: number;
}

export interface NewInstance {
  id: string;
  workspaceId: string;
  journeyId: string;
  version: number;
  contactId: string;
  entryKey: string;
  state: InstanceState;
  enteredAt: Date;
}

export interface InstanceUpdate {
  id: string;
  /** The row's seq when it was read: the update applies only if nobody changed the row since. */
  seq: number;
  status: string;
  node: string | null;
  state: InstanceState;
  exitReason: string | null;
  ended: boolean;
}

export interface StepRow {
  instanceId: string;
  journeyId: string;
  nodeId: string;
  outcome: string;
  reason: string | null;
  at: string;
}

export interface TimerRow {
  workspaceId: string;
  kind: 'instance' | 'date_trigger' | 'campaign_start' | 'campaign_send';
  instanceId?: string | null;
  token?: string | null;
  journeyId?: string | null;
  contactId?: string | null;
  campaignId?: string | null;
  dueAt: string;
}

export interface DueTimer {
  id: string;
  workspace_id: string;
  kind: TimerRow['kind'];
  instance_id: string | null;
  token: string | null;
  journey_id: string | null;
  contact_id: string | null;
  campaign_id: string | null;
  due_at: Date;
  attempts: number;
  /** Whether the instance's journey was paused when the timer was claimed (absent: not checked). */
  paused?: boolean;
}

export interface EntryStats {
  journey_id: string;
  contact_id: string;
  entries: number;
  last_entered: Date;
  active: boolean;
  /** Entry keys of the active instances (at most one active instance per journey, contact and key). */
  active_keys: string[];
  /** Which of the candidate instance ids exist already (a redelivered trigger). */
  existing: string[];
}

export interface SendRow {
  workspaceId: string;
  contactId: string;
  channel: string;
  journeyId: string | null;
  at: string;
}

export interface WriteBatch {
  /** New instances with the state their first steps reached. */
  inserts: NewInstance[];
  updates: InstanceUpdate[];
  /** Instances whose pending timers are dropped before `timers` are added. */
  clearTimersOf: string[];
  timers: TimerRow[];
  steps: StepRow[];
  sends: SendRow[];
  outbox: OutboxRow[];
}

export function emptyBatch(): WriteBatch {
  return { inserts: [], updates: [], clearTimersOf: [], timers: [], steps: [], sends: [], outbox: [] };
}

export interface LoadedContact {
  view: ContactView;
  segments: Set<string>;
  sends: { channel: string; at: string }[];
}

// The hot path's statements, prepared once per connection (see prepared.ts).
const READ_INSTANCES = prepared('read_instances', `SELECT id, workspace_id, journey_id, version, contact_id, entry_key, status, state, seq FROM instance WHERE id = ANY($1::uuid[]) AND status = 'active'`);
const LOCK_ENTRIES = prepared('lock_entries', `SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k ORDER BY k`);
const ENTRY_STATS = prepared(
  'entry_stats',
  `SELECT i.journey_id, i.contact_id, count(*)::int AS entries, max(i.entered_at) AS last_entered, bool_or(i.status = 'active') AS active,
              coalesce(array_agg(i.entry_key) FILTER (WHERE i.status = 'active'), '{}') AS active_keys,
              coalesce(array_agg(i.id::text) FILTER (WHERE i.id = ANY($3::uuid[])), '{}') AS existing
         FROM instance i JOIN (SELECT DISTINCT * FROM unnest($1::uuid[], $2::uuid[])) AS p(j, c) ON i.journey_id = p.j AND i.contact_id = p.c
        GROUP BY i.journey_id, i.contact_id`,
);
const WRITE_BATCH = prepared(
  'write_batch',
  `WITH doc AS MATERIALIZED (SELECT $1::jsonb AS d),
       ins AS (
         INSERT INTO instance (id, workspace_id, journey_id, version, contact_id, entry_key, status, current_node, state, exit_reason, entered_at, updated_at, ended_at)
         SELECT r.id, r.ws, r.j, r.v, r.c, r.k, r.st, r.n, r.s, r.reason, r.e, now(), CASE WHEN r.ended THEN now() END
           FROM jsonb_to_recordset((SELECT d->'i' FROM doc)) AS r(id uuid, ws uuid, j uuid, v int, c uuid, k text, st text, n text, s jsonb, reason text, e timestamptz, ended bool)
         ON CONFLICT DO NOTHING RETURNING 1),
       upd AS (
         UPDATE instance AS i SET status = r.st, current_node = r.n, state = r.s, exit_reason = r.reason, seq = i.seq + 1, updated_at = now(), ended_at = CASE WHEN r.ended THEN now() ELSE i.ended_at END
           FROM jsonb_to_recordset((SELECT d->'u' FROM doc)) AS r(id uuid, seq int, st text, n text, s jsonb, reason text, ended bool)
          WHERE i.id = r.id AND i.seq = r.seq RETURNING 1),
       -- A timer a worker has claimed right now is skipped, not waited for (that worker waits for our
       -- instance lock: a deadlock); the worker deletes it anyway and finds its token stale. = ANY(ARRAY):
       -- an index probe per id whatever the statistics (IN (subquery) hash-joined a scan of the whole
       -- table when they were missing).
       clr AS (
         DELETE FROM timer WHERE id IN (
           SELECT t.id FROM timer t WHERE t.instance_id = ANY (ARRAY(SELECT x::uuid FROM jsonb_array_elements_text((SELECT d->'d' FROM doc)) AS x)) FOR UPDATE OF t SKIP LOCKED)),
       tim AS (
         INSERT INTO timer (workspace_id, kind, instance_id, token, journey_id, contact_id, campaign_id, due_at)
         SELECT r.ws, r.kind, r.i, r.tok, r.j, r.c, r.cmp, r.due FROM jsonb_to_recordset((SELECT d->'t' FROM doc)) AS r(ws uuid, kind text, i uuid, tok text, j uuid, c uuid, cmp uuid, due timestamptz)),
       hist AS (
         INSERT INTO instance_step (instance_id, journey_id, node_id, outcome, reason, at)
         SELECT r.i, r.j, r.n, r.o, r.reason, r.at FROM jsonb_to_recordset((SELECT d->'h' FROM doc)) AS r(i uuid, j uuid, n text, o text, reason text, at timestamptz)),
       sends AS (
         INSERT INTO send_log (workspace_id, contact_id, channel, journey_id, sent_at)
         SELECT r.ws, r.c, r.ch, r.j, r.at FROM jsonb_to_recordset((SELECT d->'l' FROM doc)) AS r(ws uuid, c uuid, ch text, j uuid, at timestamptz)),
       -- All of the batch's events in one row, as text (see outboxBatchText in @tessera/bus). Deterministic ids: a step
       -- replayed after a crash produces the same ids, absorbed by JetStream's de-duplication.
       outbox_rows AS (
         INSERT INTO outbox_batch (events, count, direct) SELECT $2::text, $3::int, $4::bool WHERE $3::int > 0 RETURNING id)
       SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT count(*) FROM upd)::int AS updated, (SELECT id::text FROM outbox_rows) AS outbox_id`,
);
const LOAD_CONTACTS = prepared(
  'load_contacts',
  `SELECT x.id, c.attributes, c.timezone, c.consent,
              ARRAY(SELECT m.segment_id::text FROM segment_member m WHERE m.workspace_id = $1 AND m.contact_id = x.id) AS segments,
              s.channels, s.ats
         FROM unnest($2::uuid[]) AS x(id)
         LEFT JOIN contact c ON c.workspace_id = $1 AND c.contact_id = x.id
         LEFT JOIN LATERAL (
           SELECT array_agg(l.channel ORDER BY l.sent_at) AS channels, array_agg(l.sent_at ORDER BY l.sent_at) AS ats
             FROM send_log l WHERE l.workspace_id = $1 AND l.contact_id = x.id AND l.sent_at > now() - make_interval(secs => $3)) s ON true`,
);
const ACTIVE_INSTANCES_OF = prepared('active_instances_of', `SELECT id, journey_id, version, contact_id FROM instance WHERE workspace_id = $1 AND contact_id = ANY($2::uuid[]) AND status = 'active'`);
const NEXT_DUE_AT = prepared('next_due_at', `SELECT due_at FROM timer ORDER BY due_at LIMIT 1`);

/**
 * The journey runtime's tables (instances, history, timers, projections, send log, outbox), in raw
 * SQL on the service's pool: the hot path needs multi-row statements and one transaction per batch.
 */
@Injectable()
export class InstanceStoreRepository {
  private readonly pool: Pool;

  constructor(
    runtime: RuntimePool,
    private readonly outbox: OutboxRelayService,
  ) {
    this.pool = runtime.pool;
  }

  /** One transaction whose events are published straight after its commit (OutboxRelayService.handingOffAfter). */
  transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.outbox.handingOffAfter((body) => withTransaction(this.pool, body), work);
  }

  /**
   * Reads active instances without locking them: writeBatch updates each only if its seq is still
   * the one read here (optimistic concurrency), which costs Postgres no row lock (a heap write and
   * a WAL record per row) ahead of the update itself.
   */
  async readInstances(client: PoolClient, ids: string[]): Promise<InstanceRow[]> {
    if (!ids.length) return [];
    const { rows } = await client.query<InstanceRow>(READ_INSTANCES([ids]));
    return rows;
  }

  /** Serialises entries of the same contact into the same journey across replicas. */
  async lockEntries(client: PoolClient, keys: string[]): Promise<void> {
    const sorted = [...new Set(keys)].sort();
    if (sorted.length) await client.query(LOCK_ENTRIES([sorted]));
  }

  /** Entries so far per (journey, contact), and which of `ids` exist already; call under lockEntries. */
  async entryStats(client: PoolClient, pairs: { journeyId: string; contactId: string }[], ids: string[]): Promise<EntryStats[]> {
    if (!pairs.length) return [];
    const { rows } = await client.query<EntryStats>(ENTRY_STATS([pairs.map((p) => p.journeyId), pairs.map((p) => p.contactId), ids]));
    return rows;
  }

  /**
   * Everything one batch of journey steps writes, in ONE statement (data-modifying CTEs fed by one
   * jsonb document): new instances (already advanced to their first wait or end), state updates, timers
   * replaced, history, send log, and the outbox events as one text row of outbox_batch. One round trip per batch instead of one per table, and
   * one JSON.stringify instead of pg's per-element array escaping of every jsonb value (measured on a
   * batch of 500 wake-ups: 27 ms instead of 72 ms of CPU here, the same in Postgres; a json rather
   * than jsonb document costs Postgres twice as much, re-parsed by every ->). Returns how
   * many of `inserts` were inserted (the caller checked, under the entry locks, that none exists)
   * and how many of `updates` applied (one whose row changed since it was read does not).
   */
  async writeBatch(client: PoolClient, b: WriteBatch): Promise<{ inserted: number; updated: number }> {
    if (!b.inserts.length && !b.updates.length && !b.timers.length && !b.steps.length && !b.sends.length && !b.outbox.length) return { inserted: 0, updated: 0 };
    const doc = {
      i: b.inserts.map((i) => ({ id: i.id, ws: i.workspaceId, j: i.journeyId, v: i.version, c: i.contactId, k: i.entryKey, st: i.state.status, n: i.state.node, s: i.state, reason: i.state.status === 'active' ? null : (i.state.exitReason ?? null), e: i.enteredAt, ended: i.state.status !== 'active' })),
      u: b.updates.map((u) => ({ id: u.id, seq: u.seq, st: u.status, n: u.node, s: u.state, reason: u.exitReason, ended: u.ended })),
      d: b.clearTimersOf,
      t: b.timers.map((t) => ({ ws: t.workspaceId, kind: t.kind, i: t.instanceId ?? null, tok: t.token ?? null, j: t.journeyId ?? null, c: t.contactId ?? null, cmp: t.campaignId ?? null, due: t.dueAt })),
      h: b.steps.map((s) => ({ i: s.instanceId, j: s.journeyId, n: s.nodeId, o: s.outcome, reason: s.reason, at: s.at })),
      l: b.sends.map((s) => ({ ws: s.workspaceId, c: s.contactId, ch: s.channel, j: s.journeyId, at: s.at })),
    };
    const events = b.outbox.length ? outboxBatchText(b.outbox) : '';
    // Inside transaction(), the row is handed off after commit; elsewhere the relay is woken for it.
    const direct = this.outbox.handsOff(client);
    const { rows } = await client.query<{ inserted: number; updated: number; outbox_id: string | null }>(WRITE_BATCH([JSON.stringify(doc), events, b.outbox.length, direct]));
    const { inserted, updated, outbox_id: key } = rows[0]!;
    if (direct && key) this.outbox.writtenDirect(client, key, events);
    return { inserted, updated };
  }

  async insertTimers(client: PoolClient, timers: TimerRow[]): Promise<void> {
    if (timers.length) await this.writeBatch(client, { ...emptyBatch(), timers });
  }

  /** Profiles, memberships and recent sends of the contacts a batch touches (one query, whatever the batch size). */
  async loadContacts(client: PoolClient | Pool, workspaceId: string, contactIds: string[], sendsSinceMs: number): Promise<Map<string, LoadedContact>> {
    const out = new Map<string, LoadedContact>();
    const ids = [...new Set(contactIds)];
    if (!ids.length) return out;
    const { rows } = await client.query<{ id: string; attributes: Record<string, unknown> | null; timezone: string | null; consent: Record<string, string> | null; segments: string[]; channels: string[] | null; ats: Date[] | null }>(
      LOAD_CONTACTS([workspaceId, ids, sendsSinceMs / 1000]),
    );
    for (const r of rows) {
      out.set(r.id, {
        view: { attributes: r.attributes ?? {}, timezone: r.timezone, consent: r.consent ?? {} },
        segments: new Set(r.segments),
        sends: (r.channels ?? []).map((channel, n) => ({ channel, at: r.ats![n]!.toISOString() })),
      });
    }
    return out;
  }

  async activeInstancesOf(workspaceId: string, contactIds: string[]): Promise<{ id: string; journey_id: string; version: number; contact_id: string }[]> {
    if (!contactIds.length) return [];
    const { rows } = await this.pool.query(ACTIVE_INSTANCES_OF([workspaceId, [...new Set(contactIds)]]));
    return rows;
  }

  poolForReads(): Pool {
    return this.pool;
  }

  async activeInstanceIds(workspaceId: string, journeyId: string, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM instance WHERE workspace_id = $1 AND journey_id = $2 AND status = 'active' LIMIT $3`, [workspaceId, journeyId, limit]);
    return rows.map((r) => r.id);
  }

  /** Re-points active instances on `node` of one version to another version (the caller then moves them to the mapped node). */
  async moveToVersion(client: PoolClient, workspaceId: string, journeyId: string, fromVersion: number, node: string, toVersion: number, limit: number): Promise<string[]> {
    const { rows } = await client.query<{ id: string }>(
      `UPDATE instance SET version = $5 WHERE id IN (
         SELECT id FROM instance WHERE workspace_id = $1 AND journey_id = $2 AND version = $3 AND status = 'active' AND current_node = $4 ORDER BY id LIMIT $6 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [workspaceId, journeyId, fromVersion, node, toVersion, limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Takes up to `limit` timers due within `aheadMs` (earliest first, on the due_at index), locked for
   * this transaction and deleted with it; SKIP LOCKED lets workers and replicas claim side by side.
   * Each says whether its journey is paused (one round trip fewer per batch).
   */
  async claimDueTimers(client: PoolClient, limit: number, aheadMs = 0): Promise<DueTimer[]> {
    // Not prepared: a generic plan cannot see the LIMIT and hash-joins a scan of the whole table.
    const { rows } = await client.query<DueTimer>(
      `DELETE FROM timer WHERE id IN (SELECT id FROM timer WHERE due_at <= now() + make_interval(secs => $2) ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, workspace_id, kind, instance_id, token, journey_id, contact_id, campaign_id, due_at, attempts,
                 (kind = 'instance' AND EXISTS (SELECT 1 FROM journey j WHERE j.id = timer.journey_id AND j.status = 'paused')) AS paused`,
      [limit, aheadMs / 1000],
    );
    return rows;
  }

  async pausedJourneys(client: PoolClient, ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM journey WHERE id = ANY($1::uuid[]) AND status = 'paused'`, [ids]);
    return new Set(rows.map((r) => r.id));
  }

  /** Claims one timer by id (the isolation path after a failed batch). */
  async claimTimer(client: PoolClient, id: string): Promise<boolean> {
    const { rowCount } = await client.query(`DELETE FROM timer WHERE id = $1`, [id]);
    return (rowCount ?? 0) > 0;
  }

  /** After a failed attempt the timer comes back later with a backoff; after 12 attempts it is dropped (logged by the caller). */
  async retryTimer(t: DueTimer): Promise<void> {
    if (t.attempts >= 12) await this.pool.query(`DELETE FROM timer WHERE id = $1`, [t.id]);
    else await this.pool.query(`UPDATE timer SET attempts = attempts + 1, due_at = now() + make_interval(secs => $2) WHERE id = $1`, [t.id, Math.min(2 ** t.attempts, 600)]);
  }

  async nextDueAt(): Promise<Date | null> {
    const { rows } = await this.pool.query<{ due_at: Date }>(NEXT_DUE_AT([]));
    return rows[0]?.due_at ?? null;
  }
}
