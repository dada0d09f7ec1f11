import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { matchesFilters, readPath, withField } from '../engine/conditions';
import { listenedEvents } from '../engine/definition';
import { localParts, parseTimeOfDay, zonedToUtc } from '../engine/time';
import { JourneyCatalog, type ActiveJourney } from './journey-catalog.service';
import { InstanceStoreRepository, type DueTimer } from './instance-store.repository';
import { JourneyRunner, type Delivery, type EntryRequest, type WebhookJob } from './journey-runner.service';
import { ProjectionsRepository } from './projections.repository';
import { TimerPoller } from './timer-poller.service';

export interface IncomingEvent {
  id: string;
  contactId: string;
  name: string;
  properties: Record<string, unknown>;
  at: string;
}

/** When a date attribute fires: `offsetDays` from the date, at `time` local; yearly for birthdays and anniversaries. */
export function dateTriggerDue(value: unknown, offsetDays: number, time: string, tz: string, now: Date, yearly: boolean): Date | null {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const minutes = parseTimeOfDay(time) ?? 0;
  const at = (year: number): Date => {
    const day = new Date(Date.UTC(year, m - 1, d + offsetDays));
    return zonedToUtc(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), Math.floor(minutes / 60), minutes % 60, tz);
  };
  if (!yearly) {
    const due = at(y);
    return due.getTime() > now.getTime() ? due : null;
  }
  const thisYear = localParts(now, tz).year;
  for (const year of [thisYear - 1, thisYear, thisYear + 1]) {
    const due = at(year);
    if (due.getTime() > now.getTime()) return due;
  }
  return null;
}

/** Turns events, memberships, API calls and dates into entries and inputs for the runner. */
@Injectable()
export class TriggersService implements OnModuleInit {
  constructor(
    private readonly catalog: JourneyCatalog,
    private readonly runner: JourneyRunner,
    private readonly store: InstanceStoreRepository,
    private readonly projections: ProjectionsRepository,
    private readonly timers: TimerPoller,
  ) {}

  onModuleInit(): void {
    this.timers.register('date_trigger', (list, c) => this.fireDateTimers(list, c));
  }

  /** Events first reach instances in flight (goals, exits, waits), then start new instances. */
  async onEvents(workspaceId: string, events: IncomingEvent[]): Promise<void> {
    if (!events.length) return;
    const inflight = await this.store.activeInstancesOf(workspaceId, events.map((e) => e.contactId));
    if (inflight.length) {
      const deliveries: Delivery[] = [];
      for (const inst of inflight) {
        const def = await this.catalog.definition(inst.journey_id, inst.version);
        if (!def) continue;
        const names = listenedEvents(def);
        for (const e of events) if (e.contactId === inst.contact_id && names.has(e.name)) deliveries.push({ instanceId: inst.id, input: { type: 'event', name: e.name, properties: e.properties, at: e.at } });
      }
      await this.runner.deliver(deliveries);
    }
    const journeys = (await this.catalog.activeJourneys(workspaceId)).filter((j) => j.definition.trigger.type === 'event');
    const entries: EntryRequest[] = [];
    for (const e of events) {
      for (const j of journeys) {
        const t = j.definition.trigger;
        if (t.type !== 'event' || t.event !== e.name || !matchesFilters(e.properties, t.filters)) continue;
        const per = t.instancePer ? readPath(e.properties, t.instancePer) : undefined;
        if (t.instancePer && (per === undefined || per === null)) continue;
        const trigger = withField(e.properties, 'event', e.name);
        trigger.eventAt = e.at;
        entries.push(this.entry(workspaceId, j, e.contactId, trigger, 'event', e.id, per === undefined ? '' : String(per)));
      }
    }
    await this.runner.enter(entries);
  }

  async onSegmentChange(workspaceId: string, kind: 'segment_entered' | 'segment_exited', segmentId: string, contactId: string, triggerId: string): Promise<void> {
    if (kind === 'segment_exited') {
      const inflight = await this.store.activeInstancesOf(workspaceId, [contactId]);
      await this.runner.deliver(inflight.map((i) => ({ instanceId: i.id, input: { type: 'segment_exited' as const, segmentId } })));
    }
    const journeys = (await this.catalog.activeJourneys(workspaceId)).filter((j) => j.definition.trigger.type === kind && 'segmentId' in j.definition.trigger && j.definition.trigger.segmentId === segmentId);
    await this.runner.enter(journeys.map((j) => this.entry(workspaceId, j, contactId, { segmentId }, kind, triggerId, '')));
  }

  async onUnsubscribed(workspaceId: string, contactId: string, channel: string): Promise<void> {
    const inflight = await this.store.activeInstancesOf(workspaceId, [contactId]);
    await this.runner.deliver(inflight.map((i) => ({ instanceId: i.id, input: { type: 'unsubscribed' as const, channel } })));
  }

  async stopContact(workspaceId: string, contactId: string, kind: string, reason: string): Promise<void> {
    const inflight = await this.store.activeInstancesOf(workspaceId, [contactId]);
    await this.runner.deliver(inflight.map((i) => ({ instanceId: i.id, input: { type: 'stop' as const, kind, reason } })));
  }

  /** (Re)schedules date-attribute entries for a contact whose attributes changed. */
  async onContactChanged(workspaceId: string, contactId: string, attributes: Record<string, unknown>, timezone: string | null | undefined): Promise<void> {
    const journeys = (await this.catalog.activeJourneys(workspaceId)).filter((j) => j.definition.trigger.type === 'date_attribute');
    if (!journeys.length) return;
    const rules = await this.catalog.workspaceRules(workspaceId);
    for (const j of journeys) {
      const t = j.definition.trigger;
      if (t.type !== 'date_attribute' || !(t.attribute in attributes)) continue;
      const due = dateTriggerDue(attributes[t.attribute], t.offsetDays, t.time, timezone || rules.timezone, new Date(), !!t.yearly);
      await this.projections.replaceDateTimer(workspaceId, j.id, contactId, due);
    }
  }

  /** At publish of a date-attribute journey: one timer per known contact with the attribute (paged). */
  async scheduleDateJourney(workspaceId: string, journey: ActiveJourney): Promise<number> {
    const t = journey.definition.trigger;
    if (t.type !== 'date_attribute') return 0;
    const rules = await this.catalog.workspaceRules(workspaceId);
    let after = '00000000-0000-0000-0000-000000000000';
    let count = 0;
    for (;;) {
      const page = await this.projections.contactsWithAttribute(workspaceId, t.attribute, after, 1000);
      for (const c of page) {
        const due = dateTriggerDue(c.value, t.offsetDays, t.time, c.timezone || rules.timezone, new Date(), !!t.yearly);
        await this.projections.replaceDateTimer(workspaceId, journey.id, c.contact_id, due);
        if (due) count++;
      }
      if (page.length < 1000) return count;
      after = page[page.length - 1]!.contact_id;
    }
  }

  async triggerApi(workspaceId: string, journey: ActiveJourney, contactId: string, payload: Record<string, unknown>, requestId: string): Promise<string | null> {
    const [id] = await this.runner.enter([this.entry(workspaceId, journey, contactId, payload, 'api', requestId, '')]);
    return id ?? null;
  }

  private async fireDateTimers(timers: DueTimer[], c: PoolClient): Promise<WebhookJob[]> {
    const entries: EntryRequest[] = [];
    for (const t of timers) {
      const journey = (await this.catalog.activeJourneys(t.workspace_id)).find((j) => j.id === t.journey_id);
      if (!journey || !t.contact_id || journey.definition.trigger.type !== 'date_attribute') continue;
      entries.push(this.entry(t.workspace_id, journey, t.contact_id, { attribute: journey.definition.trigger.attribute, firedAt: t.due_at.toISOString() }, 'date_attribute', `date:${t.due_at.toISOString()}`, ''));
      if (journey.definition.trigger.yearly) {
        const next = new Date(t.due_at);
        next.setUTCFullYear(next.getUTCFullYear() + 1);
        await c.query(`INSERT INTO timer (workspace_id, kind, journey_id, contact_id, due_at) VALUES ($1, 'date_trigger', $2, $3, $4)`, [t.workspace_id, t.journey_id, t.contact_id, next]);
      }
    }
    return (await this.runner.enterIn(c, entries)).hooks;
  }

  entry(workspaceId: string, j: ActiveJourney, contactId: string, trigger: Record<string, unknown>, triggerType: EntryRequest['triggerType'], triggerId: string, entryKey: string): EntryRequest {
    return { workspaceId, journeyId: j.id, version: j.version, definition: j.definition, contactId, entryKey, trigger, triggerType, triggerId };
  }
}
