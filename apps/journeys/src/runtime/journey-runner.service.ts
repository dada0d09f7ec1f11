import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { injectTraceContext } from '@tessera/observability';
import { fastOutboxRow as outboxRow, uuidV5In, type OutboxMeta } from './fast-outbox';
import { CONTACT_UPDATE_REQUESTED_V1, CUSTOM_EVENT_PUBLISHED_V1, GOAL_REACHED_V1, INSTANCE_ENTERED_V1, INSTANCE_EXITED_V1, MESSAGE_REQUESTED_V1, STEP_COMPLETED_V1, STEP_COMPLETED_V2, STEPS_PER_EVENT_MAX, type InstanceExitedV1, type StepCompletedV1 } from '@tessera/contracts';
import { parseDuration, type JourneyDefinition } from '../engine/definition';
import { advance } from '../engine/engine';
import { initialState, type Effect, type EngineInput, type EngineResult, type InstanceState } from '../engine/engine.types';
import { JourneyCatalog, type WorkspaceRules } from './journey-catalog.service';
import { emptyBatch, InstanceStoreRepository, type InstanceRow, type LoadedContact, type TimerRow, type WriteBatch } from './instance-store.repository';

/** Namespace for deterministic ids (instance ids from trigger ids, envelope ids from request ids). */
export const JOURNEYS_UUID_NS = '5f0c6c1e-2a3b-4c8d-9e7f-0a1b2c3d4e5f';
const journeysUuid = uuidV5In(JOURNEYS_UUID_NS);
const PRODUCER = 'journeys';

export interface EntryRequest {
  workspaceId: string;
  journeyId: string;
  version: number;
  definition: JourneyDefinition;
  contactId: string;
  entryKey: string;
  trigger: Record<string, unknown>;
  triggerType: 'event' | 'segment_entered' | 'segment_exited' | 'api' | 'date_attribute' | 'campaign';
  /** Unique per trigger occurrence (envelope id, API request id...): a redelivered trigger maps to the same instance. */
  triggerId: string;
  campaignId?: string;
}

export interface Delivery {
  instanceId: string;
  input: EngineInput;
}

export type WebhookJob = { instanceId: string; effect: Extract<Effect, { type: 'webhook' }> };

interface Job {
  row: Work['row'];
  definition: JourneyDefinition;
  state: InstanceState;
  input: EngineInput;
  campaignId?: string;
}

/** The fields every per-instance event carries. */
interface InstanceFields {
  instanceId: string;
  journeyId: string;
  journeyVersion: number;
  contactId: string;
  at: string;
  campaignId?: string;
}

/**
 * A per-instance event's payload: the instance's fields, then `fields`. Not `{ ...base, more }`:
 * in Node 20 an object literal that starts with a spread of an existing object costs 6-9 µs (a
 * spread after a first property, under 1 µs), and the step and exit payloads built that way were
 * 12% of the process's CPU per timer wake-up.
 */
function instancePayload<T extends object>(row: Work['row'], at: string, campaignId: string | undefined, fields: T): InstanceFields & T {
  const payload: InstanceFields & T = { instanceId: row.id, journeyId: row.journey_id, journeyVersion: row.version, contactId: row.contact_id, at, ...fields };
  if (campaignId) payload.campaignId = campaignId;
  return payload;
}

/** Thrown when an instance changed between a batch's read and its write: the batch rolls back and its input comes again. */
export class InstanceChangedError extends Error {}

interface Work {
  /** `seq` as read, for instances that exist (new ones have none). */
  row: Pick<InstanceRow, 'id' | 'workspace_id' | 'journey_id' | 'version' | 'contact_id'> & { seq?: number };
  result: EngineResult;
  campaignId?: string;
  /** Fed by a timer: its row, the instance's only one, was deleted when the timer was claimed. */
  timerFired: boolean;
}

/**
 * Runs the engine for batches of instances and commits, per batch and in ONE transaction: the
 * instances' new states, their history, their timers, the send log and every outbox event. A crash
 * before commit loses nothing (the input is redelivered or the timer is still there); after commit
 * the input is stale (tokens, states) so replaying it changes nothing.
 */
@Injectable()
export class JourneyRunner {
  private webhookSink?: (jobs: WebhookJob[]) => void;

  constructor(
    private readonly store: InstanceStoreRepository,
    private readonly catalog: JourneyCatalog,
  ) {}

  /** The webhook caller registers here (it runs calls after commit). */
  onWebhooks(sink: (jobs: WebhookJob[]) => void): void {
    this.webhookSink = sink;
  }

  /** Starts instances in their own transaction; returns the ids of instances actually started. */
  async enter(requests: EntryRequest[]): Promise<string[]> {
    if (!requests.length) return [];
    const { ids, hooks } = await this.store.transaction((c) => this.enterIn(c, requests));
    this.dispatch(hooks);
    return ids;
  }

  /** Feeds inputs to existing instances (events, timers, webhook results, exits) in their own transaction. */
  async deliver(items: Delivery[]): Promise<void> {
    if (!items.length) return;
    const hooks = await this.store.transaction((c) => this.deliverIn(c, items));
    this.dispatch(hooks);
  }

  /** Hands webhook calls to the caller; only after the transaction that asked for them committed. */
  dispatch(hooks: WebhookJob[]): void {
    if (hooks.length) this.webhookSink?.(hooks);
  }

  /**
   * Entry rules, instance rows and first steps, in the caller's transaction. New instances are
   * advanced before they are written, so each is inserted once with the state its first steps
   * reached (no insert-then-update of the same row).
   */
  async enterIn(c: PoolClient, requests: EntryRequest[]): Promise<{ ids: string[]; hooks: WebhookJob[] }> {
    if (!requests.length) return { ids: [], hooks: [] };
    await this.store.lockEntries(c, requests.map((r) => `${r.journeyId}:${r.contactId}`));
    // `id` first, the request spread after it (see instancePayload).
    const candidates = requests.map((r) => ({ id: journeysUuid(`${r.journeyId}:${r.triggerId}:${r.contactId}:${r.entryKey}`), ...r }));
    const stats = await this.store.entryStats(c, candidates.map((r) => ({ journeyId: r.journeyId, contactId: r.contactId })), candidates.map((r) => r.id));
    const byPair = new Map(stats.map((s) => [`${s.journey_id}:${s.contact_id}`, { entries: s.entries, last: s.last_entered.getTime(), activeKeys: new Set(s.active_keys) }]));
    const taken = new Set(stats.flatMap((s) => s.existing));
    const now = new Date();
    const accepted: (EntryRequest & { id: string })[] = [];
    for (const r of candidates) {
      if (taken.has(r.id)) continue; // a redelivered trigger: this instance exists already
      const key = `${r.journeyId}:${r.contactId}`;
      const st = byPair.get(key);
      const rules = r.definition.entry ?? { mode: 'once_at_a_time' as const };
      if (st) {
        if (rules.mode === 'once') continue;
        if (st.activeKeys.has(r.entryKey)) continue; // at most one active instance per journey, contact and entry key
        if (rules.mode === 'cooldown' && now.getTime() - st.last < (parseDuration(rules.cooldown) ?? 0)) continue;
        if (rules.maxEntries && st.entries >= rules.maxEntries) continue;
      }
      accepted.push(r);
      taken.add(r.id);
      byPair.set(key, { entries: (st?.entries ?? 0) + 1, last: now.getTime(), activeKeys: new Set([...(st?.activeKeys ?? []), r.entryKey]) });
    }
    if (!accepted.length) return { ids: [], hooks: [] };
    const batch = emptyBatch();
    const enteredAt = now.toISOString();
    const trace = injectTraceContext();
    for (const r of accepted) {
      batch.outbox.push(
        outboxRow(PRODUCER, INSTANCE_ENTERED_V1.subject, { instanceId: r.id, journeyId: r.journeyId, journeyVersion: r.version, contactId: r.contactId, at: enteredAt, trigger: r.triggerType, ...(r.campaignId ? { campaignId: r.campaignId } : {}) }, { workspaceId: r.workspaceId, occurredAt: enteredAt, trace }),
      );
    }
    const { works, latest, at } = await this.run(
      c,
      accepted.map((r) => ({ row: { id: r.id, workspace_id: r.workspaceId, journey_id: r.journeyId, version: r.version, contact_id: r.contactId }, definition: r.definition, state: initialState(r.trigger), input: { type: 'start' as const }, ...(r.campaignId ? { campaignId: r.campaignId } : {}) })),
    );
    batch.inserts = accepted.map((r) => ({ id: r.id, workspaceId: r.workspaceId, journeyId: r.journeyId, version: r.version, contactId: r.contactId, entryKey: r.entryKey, state: latest.get(r.id) ?? initialState(r.trigger), enteredAt: now }));
    const hooks = this.collect(works, at, batch, false);
    const { inserted } = await this.store.writeBatch(c, batch);
    // Entries are serialised per journey and contact (lockEntries) and checked above, so a conflict
    // means a writer that skipped the lock: roll back and let the input be redelivered.
    if (inserted !== accepted.length) throw new Error(`journey entry conflict: ${accepted.length - inserted} of ${accepted.length} instances exist already`);
    return { ids: accepted.map((r) => r.id), hooks };
  }

  /**
   * Feeds inputs to instances; with `notBefore`, the steps run no earlier than that (timers claimed
   * slightly ahead). Instances are read unlocked and updated only if unchanged since: when another
   * transaction changed one meanwhile, InstanceChangedError rolls the whole batch back.
   */
  async deliverIn(c: PoolClient, items: Delivery[], notBefore?: Date): Promise<WebhookJob[]> {
    const rows = await this.store.readInstances(c, [...new Set(items.map((i) => i.instanceId))]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const jobs: Job[] = [];
    for (const item of items) {
      const row = byId.get(item.instanceId);
      if (!row) continue;
      const definition = await this.catalog.definition(row.journey_id, row.version);
      if (!definition) continue;
      jobs.push({ row, definition, state: row.state, input: item.input });
    }
    if (!jobs.length) return [];
    const { works, at } = await this.run(c, jobs, notBefore);
    const batch = emptyBatch();
    const hooks = this.collect(works, at, batch, true);
    const { updated } = await this.store.writeBatch(c, batch);
    if (updated !== batch.updates.length) throw new InstanceChangedError(`${batch.updates.length - updated} of ${batch.updates.length} journey instances changed while their steps ran`);
    return hooks;
  }

  /**
   * Runs the engine for each job in order (several inputs for one instance chain through the
   * latest state), after loading what the steps read: contacts, memberships and recent sends.
   */
  private async run(c: PoolClient, jobs: Job[], notBefore?: Date): Promise<{ works: Work[]; latest: Map<string, InstanceState>; at: Date }> {
    const byWorkspace = new Map<string, string[]>();
    for (const j of jobs) {
      const ids = byWorkspace.get(j.row.workspace_id);
      if (ids) ids.push(j.row.contact_id);
      else byWorkspace.set(j.row.workspace_id, [j.row.contact_id]);
    }
    const contacts = new Map<string, LoadedContact>();
    const rules = new Map<string, WorkspaceRules>();
    for (const [ws, ids] of byWorkspace) {
      const wsRules = await this.catalog.workspaceRules(ws);
      rules.set(ws, wsRules);
      const windowMs = Math.max(2 * 86_400_000, ...wsRules.frequencyCaps.map((cap) => parseDuration(cap.window) ?? 0));
      for (const [id, v] of await this.store.loadContacts(c, ws, ids, windowMs)) contacts.set(`${ws}:${id}`, v);
    }
    const wait = notBefore ? notBefore.getTime() - Date.now() : 0;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const now = new Date();
    const latest = new Map<string, InstanceState>();
    const works: Work[] = [];
    for (const j of jobs) {
      const contact = contacts.get(`${j.row.workspace_id}:${j.row.contact_id}`)!;
      const state = latest.get(j.row.id) ?? j.state;
      const campaignId = j.campaignId ?? (state.trigger.campaignId as string | undefined);
      const result = advance(j.definition, state, j.input, {
        now,
        instanceId: j.row.id,
        journeyId: j.row.journey_id,
        version: j.row.version,
        contactId: j.row.contact_id,
        ...(campaignId ? { campaignId } : {}),
        contact: contact.view,
        segments: contact.segments,
        recentSends: contact.sends,
        workspace: rules.get(j.row.workspace_id)!,
      });
      if (!result.changed) continue;
      latest.set(j.row.id, result.state);
      for (const e of result.effects) if (e.type === 'send') contact.sends.push({ channel: e.channel, at: now.toISOString() });
      works.push({ row: j.row, result, ...(campaignId ? { campaignId } : {}), timerFired: j.input.type === 'timer' });
    }
    return { works, latest, at: now };
  }

  /** Turns the engine's effects into rows of `batch` (updates of existing instances when `update`); returns the webhook calls to make after commit. */
  private collect(works: Work[], now: Date, batch: WriteBatch, update: boolean): WebhookJob[] {
    const finals = new Map<string, { row: Work['row']; state: InstanceState }>();
    const timers: TimerRow[] = [];
    const hooks: WebhookJob[] = [];
    const { steps, sends, outbox } = batch;
    const at = now.toISOString();
    const trace = injectTraceContext();
    // Completed steps go out batched, per workspace (journeys.step.completed.v2), not an event each.
    const completed = new Map<string, StepCompletedV1[]>();
    for (const { row, result, campaignId } of works) {
      finals.set(row.id, { row, state: result.state });
      const meta = (id?: string): OutboxMeta => ({ workspaceId: row.workspace_id, occurredAt: at, trace, id });
      const payload = <T extends object>(fields: T): InstanceFields & T => instancePayload(row, at, campaignId, fields);
      for (const e of result.effects) {
        switch (e.type) {
          case 'step':
            steps.push({ instanceId: row.id, journeyId: row.journey_id, nodeId: e.node, outcome: e.outcome, reason: e.reason ?? null, at: e.at });
            const step = payload({ stepId: e.node, stepType: e.stepType, outcome: e.outcome, ...(e.reason ? { reason: e.reason.slice(0, 1000) } : {}) });
            // A split's outcome is the instance's variant, which consumers keep per instance: it stays an event of its own.
            if (e.stepType === 'split') outbox.push(outboxRow(PRODUCER, STEP_COMPLETED_V1.subject, step, meta()));
            else {
              let list = completed.get(row.workspace_id);
              if (!list) completed.set(row.workspace_id, (list = []));
              list.push(step);
            }
            break;
          case 'send':
            sends.push({ workspaceId: row.workspace_id, contactId: row.contact_id, channel: e.channel, journeyId: row.journey_id, at });
            outbox.push(
              outboxRow(
                PRODUCER,
                MESSAGE_REQUESTED_V1.subject,
                { requestId: e.requestId, contactId: row.contact_id, channel: e.channel as 'email', templateId: e.templateId, data: e.data, ...(e.overrides ? { overrides: e.overrides } : {}), journeyId: row.journey_id, journeyVersion: String(row.version), instanceId: row.id, stepId: e.node, ...(campaignId ? { campaignId } : {}) },
                meta(journeysUuid(`message:${e.requestId}`)),
              ),
            );
            break;
          case 'schedule':
            timers.push({ workspaceId: row.workspace_id, kind: 'instance', instanceId: row.id, journeyId: row.journey_id, contactId: row.contact_id, token: e.token, dueAt: e.dueAt });
            break;
          case 'update_contact':
            outbox.push(outboxRow(PRODUCER, CONTACT_UPDATE_REQUESTED_V1.subject, { requestId: e.requestId, contactId: row.contact_id, attributes: e.attributes, ...(e.unset ? { unset: e.unset } : {}), journeyId: row.journey_id, instanceId: row.id, stepId: e.node }, meta(journeysUuid(`update:${e.requestId}`))));
            break;
          case 'publish_event':
            outbox.push(outboxRow(PRODUCER, CUSTOM_EVENT_PUBLISHED_V1.subject, { name: e.name, requestId: e.requestId, contactId: row.contact_id, properties: e.properties, journeyId: row.journey_id, instanceId: row.id, stepId: e.node }, meta(journeysUuid(`custom:${e.requestId}`))));
            break;
          case 'webhook':
            hooks.push({ instanceId: row.id, effect: e });
            break;
          case 'goal':
            outbox.push(outboxRow(PRODUCER, GOAL_REACHED_V1.subject, payload({ goalId: e.goalId }), meta()));
            break;
          case 'exit':
            outbox.push(outboxRow(PRODUCER, INSTANCE_EXITED_V1.subject, payload({ kind: e.kind as InstanceExitedV1['kind'], ...(e.reason ? { reason: e.reason.slice(0, 1000) } : {}) }), meta()));
            break;
        }
      }
    }
    for (const [workspaceId, list] of completed) {
      for (let i = 0; i < list.length; i += STEPS_PER_EVENT_MAX) outbox.push(outboxRow(PRODUCER, STEP_COMPLETED_V2.subject, { steps: list.slice(i, i + STEPS_PER_EVENT_MAX) }, { workspaceId, occurredAt: at, trace }));
    }
    if (update) {
      for (const [id, { row, state: s }] of finals) {
        const ended = s.status !== 'active';
        batch.updates.push({ id, seq: row.seq!, status: s.status, node: s.node, state: s, exitReason: ended ? (s.exitReason ?? null) : null, ended });
      }
      // Rows updated in id order, so two batches that share instances take their row locks in the same order.
      batch.updates.sort((a, b) => (a.id < b.id ? -1 : 1));
      // An instance has at most one timer (its current wait's; every write replaces it), so one
      // fed by its timer has none left to clear: 500 index probes fewer per timer batch.
      const timerFired = new Set(works.filter((w) => w.timerFired).map((w) => w.row.id));
      batch.clearTimersOf = [...finals.keys()].filter((id) => !timerFired.has(id));
    }
    // Only the timer for each instance's current wait survives (a chain of steps may schedule and move on).
    batch.timers.push(...timers.filter((t) => finals.get(t.instanceId!)?.state.waiting?.token === t.token));
    return hooks;
  }
}
