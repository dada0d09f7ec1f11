import { Inject, Injectable, Logger } from '@nestjs/common';
import { SERVICE_CONFIG } from '@tessera/service-kit';
import type { JourneysConfig } from '../config/journeys.config';
import type { PoolClient } from 'pg';
import { v5 as uuidv5 } from 'uuid';
import type { OutboxRow } from '@tessera/bus';
import { fastOutboxRow as outboxRow } from './fast-outbox';
import { CONTACT_UPDATE_REQUESTED_V1, CUSTOM_EVENT_PUBLISHED_V1, GOAL_REACHED_V1, INSTANCE_ENTERED_V1, INSTANCE_EXITED_V1, MESSAGE_REQUESTED_V1, STEP_COMPLETED_V1, type InstanceExitedV1 } from '@tessera/contracts';
import { parseDuration, type JourneyDefinition } from '../engine/definition';
import { advance } from '../engine/engine';
import { initialState, type Effect, type EngineInput, type EngineResult } from '../engine/engine.types';
import { JourneyCatalog } from './journey-catalog.service';
import { InstanceStoreRepository, type InstanceRow, type InstanceUpdate, type NewInstance, type StepRow, type TimerRow } from './instance-store.repository';

/** Namespace for deterministic ids (instance ids from trigger ids, envelope ids from request ids). */
export const JOURNEYS_UUID_NS = '5f0c6c1e-2a3b-4c8d-9e7f-0a1b2c3d4e5f';
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

interface Work {
  row: Pick<InstanceRow, 'id' | 'workspace_id' | 'journey_id' | 'version' | 'contact_id'>;
  result: EngineResult;
  campaignId?: string;
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

  private readonly logger = new Logger(JourneyRunner.name);

  constructor(
    private readonly store: InstanceStoreRepository,
    private readonly catalog: JourneyCatalog,
    @Inject(SERVICE_CONFIG) private readonly config: JourneysConfig,
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

  /** Entry rules, instance rows and first steps, in the caller's transaction. */
  async enterIn(c: PoolClient, requests: EntryRequest[]): Promise<{ ids: string[]; hooks: WebhookJob[] }> {
    if (!requests.length) return { ids: [], hooks: [] };
    await this.store.lockEntries(c, requests.map((r) => `${r.journeyId}:${r.contactId}`));
    const stats = await this.store.entryStats(c, requests.map((r) => ({ journeyId: r.journeyId, contactId: r.contactId })));
    const byPair = new Map(stats.map((s) => [`${s.journey_id}:${s.contact_id}`, { entries: s.entries, last: s.last_entered.getTime() }]));
    const now = new Date();
    const accepted: (EntryRequest & { id: string })[] = [];
    for (const r of requests) {
      const key = `${r.journeyId}:${r.contactId}`;
      const st = byPair.get(key);
      const rules = r.definition.entry ?? { mode: 'once_at_a_time' as const };
      if (st) {
        if (rules.mode === 'once') continue;
        if (rules.mode === 'cooldown' && now.getTime() - st.last < (parseDuration(rules.cooldown) ?? 0)) continue;
        if (rules.maxEntries && st.entries >= rules.maxEntries) continue;
      }
      const id = uuidv5(`${r.journeyId}:${r.triggerId}:${r.contactId}:${r.entryKey}`, JOURNEYS_UUID_NS);
      accepted.push({ ...r, id });
      byPair.set(key, { entries: (st?.entries ?? 0) + 1, last: now.getTime() });
    }
    const fresh: NewInstance[] = accepted.map((r) => ({ id: r.id, workspaceId: r.workspaceId, journeyId: r.journeyId, version: r.version, contactId: r.contactId, entryKey: r.entryKey, state: initialState(r.trigger), enteredAt: now }));
    const inserted = await this.store.insertInstances(c, fresh);
    const started = accepted.filter((r) => inserted.has(r.id));
    await this.store.insertOutbox(
      c,
      started.map((r) =>
        outboxRow(PRODUCER, INSTANCE_ENTERED_V1.subject, { instanceId: r.id, journeyId: r.journeyId, journeyVersion: r.version, contactId: r.contactId, at: now.toISOString(), trigger: r.triggerType, ...(r.campaignId ? { campaignId: r.campaignId } : {}) }, { workspaceId: r.workspaceId }),
      ),
    );
    const hooks = await this.runAndSave(
      c,
      started.map((r) => ({ row: { id: r.id, workspace_id: r.workspaceId, journey_id: r.journeyId, version: r.version, contact_id: r.contactId }, definition: r.definition, state: initialState(r.trigger), input: { type: 'start' as const }, ...(r.campaignId ? { campaignId: r.campaignId } : {}) })),
    );
    return { ids: started.map((r) => r.id), hooks };
  }

  async deliverIn(c: PoolClient, items: Delivery[]): Promise<WebhookJob[]> {
    const rows = await this.store.lockInstances(c, [...new Set(items.map((i) => i.instanceId))]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const jobs: Parameters<JourneyRunner['runAndSave']>[1] = [];
    for (const item of items) {
      const row = byId.get(item.instanceId);
      if (!row) continue;
      const definition = await this.catalog.definition(row.journey_id, row.version);
      if (!definition) continue;
      jobs.push({ row, definition, state: row.state, input: item.input });
    }
    return this.runAndSave(c, jobs);
  }

  /**
   * Runs the engine for each job in order (several inputs for one instance chain through the
   * latest state) and writes every consequence in the caller's transaction.
   */
  private async runAndSave(c: PoolClient, jobs: { row: Work['row']; definition: JourneyDefinition; state: InstanceRow['state']; input: EngineInput; campaignId?: string }[]): Promise<WebhookJob[]> {
    if (!jobs.length) return [];
    const now = new Date();
    const byWorkspace = new Map<string, string[]>();
    for (const j of jobs) byWorkspace.set(j.row.workspace_id, [...(byWorkspace.get(j.row.workspace_id) ?? []), j.row.contact_id]);
    const contacts = new Map<string, Awaited<ReturnType<InstanceStoreRepository['loadContacts']>> extends Map<string, infer V> ? V : never>();
    const rules = new Map<string, Awaited<ReturnType<JourneyCatalog['workspaceRules']>>>();
    for (const [ws, ids] of byWorkspace) {
      const wsRules = await this.catalog.workspaceRules(ws);
      rules.set(ws, wsRules);
      const windowMs = Math.max(2 * 86_400_000, ...wsRules.frequencyCaps.map((cap) => parseDuration(cap.window) ?? 0));
      for (const [id, v] of await this.store.loadContacts(c, ws, ids, windowMs)) contacts.set(`${ws}:${id}`, v);
    }
    const latest = new Map<string, InstanceRow['state']>();
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
      works.push({ row: j.row, result, ...(campaignId ? { campaignId } : {}) });
    }
    return this.save(c, works, now);
  }

  private async save(c: PoolClient, works: Work[], now: Date): Promise<WebhookJob[]> {
    const updates = new Map<string, InstanceUpdate>();
    const steps: StepRow[] = [];
    const timers: TimerRow[] = [];
    const sends: { workspaceId: string; contactId: string; channel: string; journeyId: string | null; at: string }[] = [];
    const outbox: OutboxRow[] = [];
    const hooks: WebhookJob[] = [];
    for (const { row, result, campaignId } of works) {
      const s = result.state;
      const ended = s.status !== 'active';
      updates.set(row.id, { id: row.id, status: s.status, node: s.node, state: s, exitReason: ended ? (s.exitReason ?? null) : null, ended });
      const meta = { workspaceId: row.workspace_id };
      const base = { instanceId: row.id, journeyId: row.journey_id, journeyVersion: row.version, contactId: row.contact_id, at: now.toISOString(), ...(campaignId ? { campaignId } : {}) };
      for (const e of result.effects) {
        switch (e.type) {
          case 'step':
            steps.push({ instanceId: row.id, journeyId: row.journey_id, nodeId: e.node, outcome: e.outcome, reason: e.reason ?? null, at: e.at });
            if (this.config.JOURNEYS_STEP_EVENTS !== false) outbox.push(outboxRow(PRODUCER, STEP_COMPLETED_V1.subject, { ...base, stepId: e.node, stepType: e.stepType, outcome: e.outcome, ...(e.reason ? { reason: e.reason.slice(0, 1000) } : {}) }, meta));
            break;
          case 'send':
            sends.push({ workspaceId: row.workspace_id, contactId: row.contact_id, channel: e.channel, journeyId: row.journey_id, at: now.toISOString() });
            outbox.push(
              outboxRow(
                PRODUCER,
                MESSAGE_REQUESTED_V1.subject,
                { requestId: e.requestId, contactId: row.contact_id, channel: e.channel as 'email', templateId: e.templateId, data: e.data, ...(e.overrides ? { overrides: e.overrides } : {}), journeyId: row.journey_id, journeyVersion: String(row.version), instanceId: row.id, stepId: e.node, ...(campaignId ? { campaignId } : {}) },
                { ...meta, id: uuidv5(`message:${e.requestId}`, JOURNEYS_UUID_NS) },
              ),
            );
            break;
          case 'schedule':
            timers.push({ workspaceId: row.workspace_id, kind: 'instance', instanceId: row.id, journeyId: row.journey_id, contactId: row.contact_id, token: e.token, dueAt: e.dueAt });
            break;
          case 'update_contact':
            outbox.push(outboxRow(PRODUCER, CONTACT_UPDATE_REQUESTED_V1.subject, { requestId: e.requestId, contactId: row.contact_id, attributes: e.attributes, ...(e.unset ? { unset: e.unset } : {}), journeyId: row.journey_id, instanceId: row.id, stepId: e.node }, { ...meta, id: uuidv5(`update:${e.requestId}`, JOURNEYS_UUID_NS) }));
            break;
          case 'publish_event':
            outbox.push(outboxRow(PRODUCER, CUSTOM_EVENT_PUBLISHED_V1.subject, { name: e.name, requestId: e.requestId, contactId: row.contact_id, properties: e.properties, journeyId: row.journey_id, instanceId: row.id, stepId: e.node }, { ...meta, id: uuidv5(`custom:${e.requestId}`, JOURNEYS_UUID_NS) }));
            break;
          case 'webhook':
            hooks.push({ instanceId: row.id, effect: e });
            break;
          case 'goal':
            outbox.push(outboxRow(PRODUCER, GOAL_REACHED_V1.subject, { ...base, goalId: e.goalId }, meta));
            break;
          case 'exit':
            outbox.push(outboxRow(PRODUCER, INSTANCE_EXITED_V1.subject, { ...base, kind: e.kind as InstanceExitedV1['kind'], ...(e.reason ? { reason: e.reason.slice(0, 1000) } : {}) }, meta));
            break;
        }
      }
    }
    const changed = [...updates.keys()];
    await this.store.updateInstances(c, [...updates.values()]);
    await this.store.deleteInstanceTimers(c, changed);
    // Only the timer for each instance's current wait survives (a chain of steps may schedule and move on).
    const live = timers.filter((t) => updates.get(t.instanceId!)?.state.waiting?.token === t.token);
    await this.store.insertTimers(c, live);
    await this.store.insertSteps(c, steps);
    await this.store.insertSendLog(c, sends);
    await this.store.insertOutbox(c, outbox);
    if (works.length) this.logger.debug({ instances: works.length, events: outbox.length }, 'journey steps committed');
    return hooks;
  }
}
