import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { PG_POOL } from '@tessera/service-kit';
import { CLOCK, type Clock } from '../clock';
import { withTransaction } from '@tessera/db';
import { reevaluateContacts } from '../evaluation/evaluator.service';
import { removeContacts } from '../evaluation/membership.repository';
import { OutboxKick } from '../evaluation/outbox-kick';
import {
  contactWorkspace,
  eraseContact,
  firstDelivery,
  insertEngagement,
  insertEvents,
  mergeContacts,
  setConsent,
  setListMembers,
  setTag,
  upsertContact,
  upsertObject,
  type NewEngagement,
  type NewEvent,
} from './projection.repository';

export type ContactChange =
  | { kind: 'upsert'; contactId: string; attrs: Record<string, unknown>; unset: string[] }
  | { kind: 'merge'; contactId: string; mergedContactId: string }
  | { kind: 'erase'; contactId: string }
  | { kind: 'consent'; contactId: string; channel: string; group: string; state: string; changedAt: string }
  | { kind: 'tag'; contactId: string; tag: string; added: boolean }
  | { kind: 'list'; listId: string; contactIds: string[]; added: boolean }
  | { kind: 'object'; recordId: string; objectType: string; contactId?: string; data?: Record<string, unknown>; deleted: boolean };

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

  /** CRM changes, one transaction each (they are rare next to behavioural events). */
  async contactsChanged(deliveries: Delivery<ContactChange>[]): Promise<void> {
    for (const d of deliveries) await withTransaction(this.pool, (client) => this.applyOne(client, d));
    this.outbox?.kick();
  }

  private async applyOne(client: PoolClient, d: Delivery<ContactChange>): Promise<void> {
    if (!(await firstDelivery(client, d.eventId))) return;
    const now = this.clock.now();
    const c = d.change;
    switch (c.kind) {
      case 'upsert': {
        const ext = typeof c.attrs.externalId === 'string' ? [`${d.workspaceId}|u:${c.attrs.externalId}`] : [];
        await client.query(personLock, [ext]);
        const { created, changed, claimedEvents } = await upsertContact(client, { workspaceId: d.workspaceId, contactId: c.contactId, attrs: c.attrs }, c.unset);
        const keys = new Set([...changed.map((n) => `attr:${n}`), ...claimedEvents.map((n) => `event:${n}`)]);
        // A new contact is evaluated against every segment: attribute-free ones ("not performed X") match it too.
        await reevaluateContacts(client, d.workspaceId, [c.contactId], created ? '*' : keys, now);
        return;
      }
      case 'merge': {
        const workspaceId = (await contactWorkspace(client, c.contactId)) ?? d.workspaceId;
        await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('contact:' || x, 0)) FROM unnest($1::text[]) AS x ORDER BY x`, [[c.contactId, c.mergedContactId]]);
        await removeContacts(client, [c.mergedContactId], now);
        await mergeContacts(client, workspaceId, c.contactId, c.mergedContactId);
        await reevaluateContacts(client, workspaceId, [c.contactId], '*', now);
        return;
      }
      case 'erase':
        await removeContacts(client, [c.contactId], now);
        await eraseContact(client, c.contactId);
        return;
      case 'consent':
        if (await setConsent(client, d.workspaceId, c.contactId, c.channel, c.group, c.state, c.changedAt))
          await reevaluateContacts(client, d.workspaceId, [c.contactId], new Set(['consent']), now);
        return;
      case 'tag':
        if (await setTag(client, d.workspaceId, c.contactId, c.tag, c.added)) await reevaluateContacts(client, d.workspaceId, [c.contactId], new Set(['tag']), now);
        return;
      case 'list':
        await reevaluateContacts(client, d.workspaceId, await setListMembers(client, d.workspaceId, c.listId, c.contactIds, c.added), new Set(['list']), now);
        return;
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
