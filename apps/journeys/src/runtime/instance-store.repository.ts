import { Injectable } from '@nestjs/common';
import { RuntimePool } from './runtime-pool';
import type { Pool, PoolClient } from 'pg';
import type { OutboxRow } from '@tessera/bus';
import { withTransaction } from '@tessera/db';
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
}

export interface EntryStats {
  journey_id: string;
  contact_id: string;
  entries: number;
  last_entered: Date;
  active: boolean;
}

const json = (v: unknown): string => JSON.stringify(v);

/**
 * The journey runtime's tables (instances, history, timers, projections, send log, outbox), in raw
 * SQL on the service's pool: the hot path needs multi-row statements and one transaction per batch.
 */
@Injectable()
export class InstanceStoreRepository {
  private readonly pool: Pool;

  constructor(runtime: RuntimePool) {
    this.pool = runtime.pool;
  }

  transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, work);
  }


  /** Locks active instances in id order (so concurrent batches cannot deadlock). */
  async lockInstances(client: PoolClient, ids: string[]): Promise<InstanceRow[]> {
    if (!ids.length) return [];
    const { rows } = await client.query<InstanceRow>(`SELECT id, workspace_id, journey_id, version, contact_id, entry_key, status, state, seq FROM instance WHERE id = ANY($1::uuid[]) AND status = 'active' ORDER BY id FOR UPDATE`, [ids]);
    return rows;
  }

  /** Serialises entries of the same contact into the same journey across replicas. */
  async lockEntries(client: PoolClient, keys: string[]): Promise<void> {
    const sorted = [...new Set(keys)].sort();
    if (sorted.length) await client.query(`SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k ORDER BY k`, [sorted]);
  }

  async entryStats(client: PoolClient, pairs: { journeyId: string; contactId: string }[]): Promise<EntryStats[]> {
    if (!pairs.length) return [];
    const { rows } = await client.query<EntryStats>(
      `SELECT i.journey_id, i.contact_id, count(*)::int AS entries, max(i.entered_at) AS last_entered, bool_or(i.status = 'active') AS active
         FROM instance i JOIN unnest($1::uuid[], $2::uuid[]) AS p(j, c) ON i.journey_id = p.j AND i.contact_id = p.c
        GROUP BY i.journey_id, i.contact_id`,
      [pairs.map((p) => p.journeyId), pairs.map((p) => p.contactId)],
    );
    return rows;
  }

  /** Inserts new instances; returns the ids actually inserted (a redelivered trigger or a racing "once at a time" entry inserts nothing). */
  async insertInstances(client: PoolClient, list: NewInstance[]): Promise<Set<string>> {
    if (!list.length) return new Set();
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO instance (id, workspace_id, journey_id, version, contact_id, entry_key, status, state, entered_at, updated_at)
       SELECT id, ws, j, v, c, k, 'active', s, e, e FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::uuid[], $6::text[], $7::jsonb[], $8::timestamptz[]) AS t(id, ws, j, v, c, k, s, e)
       ON CONFLICT DO NOTHING RETURNING id`,
      [list.map((i) => i.id), list.map((i) => i.workspaceId), list.map((i) => i.journeyId), list.map((i) => i.version), list.map((i) => i.contactId), list.map((i) => i.entryKey), list.map((i) => json(i.state)), list.map((i) => i.enteredAt)],
    );
    return new Set(rows.map((r) => r.id));
  }

  async updateInstances(client: PoolClient, list: InstanceUpdate[]): Promise<void> {
    if (!list.length) return;
    await client.query(
      `UPDATE instance AS i SET status = u.status, current_node = u.node, state = u.state, exit_reason = u.reason, seq = i.seq + 1, updated_at = now(), ended_at = CASE WHEN u.ended THEN now() ELSE i.ended_at END
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::bool[]) AS u(id, status, node, state, reason, ended)
        WHERE i.id = u.id`,
      [list.map((u) => u.id), list.map((u) => u.status), list.map((u) => u.node), list.map((u) => json(u.state)), list.map((u) => u.exitReason), list.map((u) => u.ended)],
    );
  }

  async insertSteps(client: PoolClient, steps: StepRow[]): Promise<void> {
    if (!steps.length) return;
    await client.query(
      `INSERT INTO instance_step (instance_id, journey_id, node_id, outcome, reason, at) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])`,
      [steps.map((s) => s.instanceId), steps.map((s) => s.journeyId), steps.map((s) => s.nodeId), steps.map((s) => s.outcome), steps.map((s) => s.reason), steps.map((s) => s.at)],
    );
  }

  /**
   * Drops the timers of instances that moved on. A timer a worker has claimed right now is skipped
   * (not waited for, which would deadlock against that worker waiting for our instance lock): the
   * worker deletes it anyway and finds its token stale.
   */
  async deleteInstanceTimers(client: PoolClient, instanceIds: string[]): Promise<void> {
    if (instanceIds.length) await client.query(`DELETE FROM timer WHERE id IN (SELECT id FROM timer WHERE instance_id = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED)`, [instanceIds]);
  }

  async insertTimers(client: PoolClient, timers: TimerRow[]): Promise<void> {
    if (!timers.length) return;
    await client.query(
      `INSERT INTO timer (workspace_id, kind, instance_id, token, journey_id, contact_id, campaign_id, due_at) SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::uuid[], $6::uuid[], $7::uuid[], $8::timestamptz[])`,
      [timers.map((t) => t.workspaceId), timers.map((t) => t.kind), timers.map((t) => t.instanceId ?? null), timers.map((t) => t.token ?? null), timers.map((t) => t.journeyId ?? null), timers.map((t) => t.contactId ?? null), timers.map((t) => t.campaignId ?? null), timers.map((t) => t.dueAt)],
    );
  }

  async insertSendLog(client: PoolClient, sends: { workspaceId: string; contactId: string; channel: string; journeyId: string | null; at: string }[]): Promise<void> {
    if (!sends.length) return;
    await client.query(
      `INSERT INTO send_log (workspace_id, contact_id, channel, journey_id, sent_at) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::timestamptz[])`,
      [sends.map((s) => s.workspaceId), sends.map((s) => s.contactId), sends.map((s) => s.channel), sends.map((s) => s.journeyId), sends.map((s) => s.at)],
    );
  }

  /** Outbox rows with deterministic ids: a step replayed after a crash produces the same ids, absorbed here and by JetStream's de-duplication. */
  async insertOutbox(client: PoolClient, rows: OutboxRow[]): Promise<void> {
    if (!rows.length) return;
    await client.query(`INSERT INTO outbox (id, subject, envelope, headers) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::jsonb[]) ON CONFLICT (id) DO NOTHING`, [
      rows.map((r) => r.id),
      rows.map((r) => r.subject),
      rows.map((r) => json(r.envelope)),
      rows.map((r) => json(r.headers)),
    ]);
  }

  /** Profiles, memberships and recent sends of the contacts a batch touches (three queries, whatever the batch size). */
  async loadContacts(client: PoolClient | Pool, workspaceId: string, contactIds: string[], sendsSinceMs: number): Promise<Map<string, { view: ContactView; segments: Set<string>; sends: { channel: string; at: string }[] }>> {
    const out = new Map<string, { view: ContactView; segments: Set<string>; sends: { channel: string; at: string }[] }>();
    const ids = [...new Set(contactIds)];
    for (const id of ids) out.set(id, { view: { attributes: {}, timezone: null, consent: {} }, segments: new Set(), sends: [] });
    if (!ids.length) return out;
    // Sequential: a transaction's client runs one query at a time.
    const contacts = await client.query<{ contact_id: string; attributes: Record<string, unknown>; timezone: string | null; consent: Record<string, string> }>(`SELECT contact_id, attributes, timezone, consent FROM contact WHERE workspace_id = $1 AND contact_id = ANY($2::uuid[])`, [workspaceId, ids]);
    const members = await client.query<{ contact_id: string; segment_id: string }>(`SELECT contact_id, segment_id FROM segment_member WHERE workspace_id = $1 AND contact_id = ANY($2::uuid[])`, [workspaceId, ids]);
    const sends = await client.query<{ contact_id: string; channel: string; sent_at: Date }>(`SELECT contact_id, channel, sent_at FROM send_log WHERE workspace_id = $1 AND contact_id = ANY($2::uuid[]) AND sent_at > now() - make_interval(secs => $3)`, [workspaceId, ids, sendsSinceMs / 1000]);
    for (const c of contacts.rows) out.get(c.contact_id)!.view = { attributes: c.attributes, timezone: c.timezone, consent: c.consent };
    for (const m of members.rows) out.get(m.contact_id)!.segments.add(m.segment_id);
    for (const s of sends.rows) out.get(s.contact_id)!.sends.push({ channel: s.channel, at: s.sent_at.toISOString() });
    return out;
  }

  async activeInstancesOf(workspaceId: string, contactIds: string[]): Promise<{ id: string; journey_id: string; version: number; contact_id: string }[]> {
    if (!contactIds.length) return [];
    const { rows } = await this.pool.query(`SELECT id, journey_id, version, contact_id FROM instance WHERE workspace_id = $1 AND contact_id = ANY($2::uuid[]) AND status = 'active'`, [workspaceId, [...new Set(contactIds)]]);
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

  /** Takes up to `limit` due timers, locked for this transaction and deleted with it. */
  async claimDueTimers(client: PoolClient, limit: number): Promise<DueTimer[]> {
    const { rows } = await client.query<DueTimer>(
      `DELETE FROM timer WHERE id IN (SELECT id FROM timer WHERE due_at <= now() ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, workspace_id, kind, instance_id, token, journey_id, contact_id, campaign_id, due_at, attempts`,
      [limit],
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
    const { rows } = await this.pool.query<{ due_at: Date }>(`SELECT due_at FROM timer ORDER BY due_at LIMIT 1`);
    return rows[0]?.due_at ?? null;
  }
}
