import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { PG_POOL } from '@tessera/service-kit';
import { CLOCK, type Clock } from '../clock';
import { withTransaction } from '@tessera/db';
import { reevaluateContacts } from '../evaluation/evaluator.service';
import { lockContacts, removeContacts } from '../evaluation/membership.repository';
import { OutboxKick } from '../evaluation/outbox-kick';
import {
  contactWorkspace,
  eraseContact,
  erasedAmong,
  firstDeliveries,
  firstDelivery,
  insertEngagement,
  insertEvents,
  mergeContacts,
  setConsent,
  setListMembers,
  setTag,
  upsertContacts,
  upsertObject,
  type NewEngagement,
  type NewEvent,
} from './projection.repository';

/** `fill` (a created event): values the projection already holds win and names an update removed stay removed, so a late or redelivered creation never undoes a newer update. */
type UpsertChange = { kind: 'upsert'; contactId: string; attrs: Record<string, unknown>; unset: string[]; fill?: boolean };

export type ContactChange =
  | UpsertChange
  | { kind: 'merge'; contactId: string; mergedContactId: string }
  | { kind: 'erase'; contactId: string }
  | { kind: 'consent'; contactId: string; channel: string; group: string; state: string; changedAt: string }
  | { kind: 'tag'; contactId: string; tag: string; added: boolean }
  | { kind: 'list'; listId: string; contactIds: string[]; added: boolean }
  | { kind: 'object'; recordId: string; objectType: string; contactId?: string; data?: Record<string, unknown>; deleted: boolean };

/** The contacts a change is about. */
function contactsOf(c: Exclude<ContactChange, UpsertChange>): string[] {
  switch (c.kind) {
    case 'list':
      return c.contactIds;
    case 'merge':
      return [c.contactId, c.mergedContactId];
    default:
      return c.contactId ? [c.contactId] : [];
  }
}

export interface Delivery<T> {
  eventId: string;
  workspaceId: string;
  change: T;
}

/** Per-person advisory locks (`<workspace>|<person key>`), in a fixed order so two batches never deadlock. */
export const personLock = `SELECT pg_advisory_xact_lock(hashtextextended('person:' || x, 0)) FROM unnest($1::text[]) AS x ORDER BY x`;

/**
 * Applies bus events to the projection and re-evaluates the affected memberships in the SAME
 * transaction, so a crash never leaves the projection ahead of memberships and redeliveries are
 * no-ops. Lock order everywhere: person keys, then contacts, then segments.
 */
@Injectable()
export class ProjectionService {
  constructor(@Inject(PG_POOL) private readonly pool: Pool, @Inject(CLOCK) private readonly clock: Clock, @Optional() private readonly outbox?: OutboxKick) {}

  /** A batch of behavioural events: one insert, one re-evaluation per workspace. */
  async eventsReceived(events: NewEvent[]): Promise<void> {
    if (!events.length) return;
    const changed = await withTransaction(this.pool, async (client) => {
      await client.query(personLock, [[...new Set(events.map((e) => `${e.workspaceId}|${e.personKey}`))]]);
      const inserted = await insertEvents(client, events);
      const byWorkspace = new Map<string, { contacts: string[]; names: Set<string> }>();
      for (const r of inserted) {
        if (r.contactId === null) continue;
        const w = byWorkspace.get(r.workspaceId) ?? { contacts: [], names: new Set<string>() };
        w.contacts.push(r.contactId);
        w.names.add(`event:${r.name}`);
        byWorkspace.set(r.workspaceId, w);
      }
      const now = this.clock.now();
      let changed = 0;
      for (const [workspaceId, w] of byWorkspace) {
        const r = await reevaluateContacts(client, workspaceId, w.contacts, w.names, now);
        changed += r.entered + r.exited;
      }
      return changed;
    });
    if (changed) this.outbox?.kick();
  }

  /**
   * CRM changes in their order. A run of upserts (contact created/updated: one per identify, so as
   * frequent as the calls) shares one transaction and one re-evaluation; the rarer kinds (merge,
   * erasure, consent, tags, lists, objects) take one transaction each.
   */
  async contactsChanged(deliveries: Delivery<ContactChange>[]): Promise<void> {
    for (let i = 0; i < deliveries.length; ) {
      let end = i;
      while (end < deliveries.length && deliveries[end]!.change.kind === 'upsert') end++;
      if (end > i) {
        const run = deliveries.slice(i, end) as Delivery<UpsertChange>[];
        await withTransaction(this.pool, (client) => this.applyUpserts(client, run));
        i = end;
      } else {
        const one = deliveries[i++] as Delivery<Exclude<ContactChange, UpsertChange>>;
        await withTransaction(this.pool, (client) => this.applyOne(client, one));
      }
    }
    this.outbox?.kick();
  }

  /**
   * Upserts, each applied once (a redelivered id, or the same id twice in the batch, is skipped), then
   * every segment for new contacts (attribute-free ones, "not performed X", match them too) and the
   * segments that depend on what changed for the others.
   */
  private async applyUpserts(client: PoolClient, run: Delivery<UpsertChange>[]): Promise<void> {
    const fresh = await firstDeliveries(client, run.map((d) => d.eventId));
    const firstTime = run.filter((d) => fresh.delete(d.eventId.toLowerCase()));
    if (!firstTime.length) return;
    await client.query(personLock, [[...new Set(firstTime.flatMap((d) => (typeof d.change.attrs.externalId === 'string' ? [`${d.workspaceId}|u:${d.change.attrs.externalId}`] : [])))]]);
    // Contacts before their rows (the documented lock order): a merge holds a contact's lock while it
    // updates the row, and an erasure while it remembers the id, so the check below cannot miss one.
    await lockContacts(client, [...new Set(firstTime.map((d) => d.change.contactId))]);
    const erased = await erasedAmong(client, firstTime.map((d) => d.change.contactId));
    const todo = erased.size ? firstTime.filter((d) => !erased.has(d.change.contactId.toLowerCase())) : firstTime;
    if (!todo.length) return;
    const upserted = await upsertContacts(client, todo.map((d) => ({ workspaceId: d.workspaceId, contactId: d.change.contactId, attrs: d.change.attrs, unset: d.change.unset, fill: d.change.fill })));
    const byWorkspace = new Map<string, { created: string[]; updated: string[]; keys: Set<string> }>();
    for (const u of upserted) {
      const w = byWorkspace.get(u.workspaceId) ?? { created: [], updated: [], keys: new Set<string>() };
      if (u.created) w.created.push(u.contactId);
      else w.updated.push(u.contactId);
      for (const name of u.changed) w.keys.add(`attr:${name}`);
      for (const name of u.claimedEvents) w.keys.add(`event:${name}`);
      byWorkspace.set(u.workspaceId, w);
    }
    const now = this.clock.now();
    for (const [workspaceId, w] of byWorkspace) {
      await reevaluateContacts(client, workspaceId, w.created, '*', now);
      await reevaluateContacts(client, workspaceId, w.updated, w.keys, now);
    }
  }

  private async applyOne(client: PoolClient, d: Delivery<Exclude<ContactChange, UpsertChange>>): Promise<void> {
    if (!(await firstDelivery(client, d.eventId))) return;
    const now = this.clock.now();
    const c = d.change;
    // Contacts locked first, as by every write of them and by their erasure. An event about an erased
    // contact (arriving after its erasure) changes nothing; a list change skips only its erased members.
    const contacts = contactsOf(c);
    await lockContacts(client, contacts);
    const erased = c.kind === 'erase' ? new Set<string>() : await erasedAmong(client, contacts);
    if (erased.size && c.kind !== 'list') return;
    switch (c.kind) {
      case 'merge': {
        const workspaceId = (await contactWorkspace(client, c.contactId)) ?? d.workspaceId;
        await removeContacts(client, [c.mergedContactId], now);
        await mergeContacts(client, workspaceId, c.contactId, c.mergedContactId);
        await reevaluateContacts(client, workspaceId, [c.contactId], '*', now);
        return;
      }
      case 'erase':
        await removeContacts(client, [c.contactId], now);
        await eraseContact(client, d.workspaceId, c.contactId);
        return;
      case 'consent':
        if (await setConsent(client, d.workspaceId, c.contactId, c.channel, c.group, c.state, c.changedAt))
          await reevaluateContacts(client, d.workspaceId, [c.contactId], new Set(['consent']), now);
        return;
      case 'tag':
        if (await setTag(client, d.workspaceId, c.contactId, c.tag, c.added)) await reevaluateContacts(client, d.workspaceId, [c.contactId], new Set(['tag']), now);
        return;
      case 'list': {
        const live = c.contactIds.filter((id) => !erased.has(id.toLowerCase()));
        await reevaluateContacts(client, d.workspaceId, await setListMembers(client, d.workspaceId, c.listId, live, c.added), new Set(['list']), now);
        return;
      }
      case 'object':
        await reevaluateContacts(client, d.workspaceId, await upsertObject(client, { workspaceId: d.workspaceId, ...c }), new Set([`object:${c.objectType}`]), now);
        return;
    }
  }

  /** Message engagement (delivered/opened/clicked), batched like behavioural events. */
  async engagementReceived(rows: NewEngagement[]): Promise<void> {
    if (!rows.length) return;
    const changed = await withTransaction(this.pool, async (client) => {
      const inserted = await insertEngagement(client, rows);
      const byWorkspace = new Map<string, string[]>();
      for (const r of inserted) byWorkspace.set(r.workspaceId, [...(byWorkspace.get(r.workspaceId) ?? []), r.contactId]);
      let n = 0;
      for (const [workspaceId, contacts] of byWorkspace) {
        const r = await reevaluateContacts(client, workspaceId, contacts, new Set(['message']), this.clock.now());
        n += r.entered + r.exited;
      }
      return n;
    });
    if (changed) this.outbox?.kick();
  }
}
