import fc from 'fast-check';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMBERSHIP_ENTERED_V1, MEMBERSHIP_EXITED_V1, validateContract, type EventEnvelope } from '@tessera/contracts';
import { createPool } from '@tessera/db';
import { createTestDatabase, type TestDatabase } from '@tessera/testing';
import type { Clock } from '../src/clock';
import { compileMembership } from '../src/definition/compile-definition';
import { isTimeBased } from '../src/definition/compile-next-check';
import { definitionDeps } from '../src/definition/definition-deps';
import type { SegmentDefinition, SegmentNode } from '../src/definition/definition.types';
import { validateDefinition } from '../src/definition/validate-definition';
import { lockContacts } from '../src/evaluation/membership.repository';
import { runTimeChecks } from '../src/evaluation/time-check.service';
import { ProjectionService, type ContactChange } from '../src/projection/projection.service';
import { arbDefinition, arbOps, contactId, SEG_A, SEG_B, WS, type Op } from './generators';

/**
 * Property: whatever the definition and whatever happens to contacts (attribute changes, alone or several in one bus batch, events in
 * and out of order and late, unresolved events claimed later, merges, erasures, consent, time
 * passing across windows, midnights and time zones), the membership maintained incrementally
 * (real-time + time checks) equals a from-scratch batch evaluation of the same definition at the end.
 */
describe('incremental membership equals batch evaluation', () => {
  let db: TestDatabase;
  let pool: Pool;
  let now = new Date('2026-02-27T22:30:00Z');
  const clock: Clock = { now: () => now };
  let projection: ProjectionService;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPool(db.url, { schema: 'segmentation', max: 4 });
    projection = new ProjectionService(pool, clock);
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  const reset = async (): Promise<void> => {
    await pool.query(`TRUNCATE segmentation.contact, segmentation.identity, segmentation.contact_event, segmentation.consent, segmentation.membership,
      segmentation.time_check, segmentation.segment, segmentation.processed_event, segmentation.outbox, segmentation.contact_tag, segmentation.list_member,
      segmentation.custom_object, segmentation.message_engagement, segmentation.erased_contact`);
  };

  const saveSegment = async (id: string, def: SegmentDefinition, defs: Record<string, SegmentDefinition>): Promise<void> => {
    const resolve = (x: string): SegmentDefinition | undefined => defs[x];
    expect(validateDefinition(def, resolve, id)).toEqual([]);
    await pool.query(`INSERT INTO segmentation.segment (id, workspace_id, name, definition, deps, time_based, status) VALUES ($1::uuid, $2, $1::text, $3, $4, $5, 'ready')`, [
      id, WS, JSON.stringify(def), definitionDeps(def, resolve), isTimeBased(def, resolve),
    ]);
  };

  let eventSeq = 0;
  const uuid = (n: number): string => `0190c0de-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

  let last: (() => Promise<void>) | undefined;

  /** Applies one generated step through the real projection service; a redelivery replays the last bus delivery with its ids. */
  const apply = async (op: Op, gone: Set<number>): Promise<void> => {
    const id = (): string => uuid(++eventSeq);
    const deliver = async (fn: () => Promise<void>): Promise<void> => {
      last = fn;
      await fn();
    };
    switch (op.kind) {
      case 'upsert': {
        if (gone.has(op.contact)) return;
        const change = { eventId: id(), workspaceId: WS, change: { kind: 'upsert' as const, contactId: contactId(op.contact), attrs: op.attrs, unset: op.unset } };
        return deliver(() => projection.contactsChanged([change]));
      }
      case 'upserts': {
        const changes = op.changes
          .filter((c) => !gone.has(c.contact))
          .map((c) => ({ eventId: id(), workspaceId: WS, change: { kind: 'upsert' as const, contactId: contactId(c.contact), attrs: c.attrs, unset: c.unset } }));
        if (op.repeatFirst && changes.length) changes.push(changes[0]!);
        return deliver(() => projection.contactsChanged(changes));
      }
      case 'events': {
        const rows = op.events.map((e) => ({ id: id(), workspaceId: WS, personKey: `u:user-${e.person}`, name: e.name, occurredAt: new Date(now.getTime() + e.offsetMinutes * 60_000).toISOString(), properties: e.properties }));
        return deliver(() => projection.eventsReceived(rows));
      }
      case 'consent':
        if (gone.has(op.contact)) return;
        return projection.contactsChanged([{ eventId: id(), workspaceId: WS, change: { kind: 'consent', contactId: contactId(op.contact), channel: 'whatsapp', group: '', state: op.state, changedAt: now.toISOString() } }]);
      case 'merge':
        if (op.survivor === op.merged || gone.has(op.survivor) || gone.has(op.merged)) return;
        gone.add(op.merged);
        return projection.contactsChanged([{ eventId: id(), workspaceId: WS, change: { kind: 'merge', contactId: contactId(op.survivor), mergedContactId: contactId(op.merged) } }]);
      case 'erase':
        if (gone.has(op.contact)) return;
        gone.add(op.contact);
        return projection.contactsChanged([{ eventId: id(), workspaceId: WS, change: { kind: 'erase', contactId: contactId(op.contact) } }]);
      case 'redeliver':
        return last?.();
      case 'tag':
        if (gone.has(op.contact)) return;
        return projection.contactsChanged([{ eventId: id(), workspaceId: WS, change: { kind: 'tag', contactId: contactId(op.contact), tag: op.tag, added: op.added } }]);
      case 'list': {
        const ids = op.contacts.filter((c) => !gone.has(c)).map(contactId);
        return projection.contactsChanged([{ eventId: id(), workspaceId: WS, change: { kind: 'list', listId: 'fair', contactIds: ids, added: op.added } }]);
      }
      case 'object':
        if (gone.has(op.contact)) return;
        return projection.contactsChanged([
          { eventId: id(), workspaceId: WS, change: { kind: 'object', recordId: `r${op.record}`, objectType: 'order', contactId: contactId(op.contact), data: { total: op.total }, deleted: op.deleted } },
        ]);
      case 'engagement': {
        if (gone.has(op.contact)) return;
        const row = { id: id(), workspaceId: WS, contactId: contactId(op.contact), action: op.action, channel: 'email', templateId: 't1', occurredAt: new Date(now.getTime() + op.offsetMinutes * 60_000).toISOString() };
        return deliver(() => projection.engagementReceived([row]));
      }
      case 'advance':
        now = new Date(now.getTime() + op.minutes * 60_000);
        while ((await runTimeChecks(pool, now, 50)) > 0);
        return;
    }
  };

  const stored = async (segmentId: string): Promise<string[]> =>
    (await pool.query<{ contact_id: string; reason: { branch: unknown } }>(`SELECT contact_id, reason FROM segmentation.membership WHERE segment_id = $1 ORDER BY contact_id`, [segmentId])).rows.map(
      (r) => `${r.contact_id}:${JSON.stringify(r.reason.branch)}`,
    );

  /**
   * The membership that the outbox's entered/exited events announce, replayed in commit order: each
   * event must be valid against its contract and change something (no entry of a member, no exit of
   * a non-member), so consumers that follow the events hold exactly the stored membership.
   */
  const announced = async (segmentId: string): Promise<string[]> => {
    const { rows } = await pool.query<{ id: string; subject: string; envelope: EventEnvelope<{ segmentId: string; contactId: string }> }>(
      `SELECT id, subject, envelope FROM segmentation.outbox WHERE envelope -> 'data' ->> 'segmentId' = $1 ORDER BY created_at`,
      [segmentId],
    );
    const members = new Set<string>();
    for (const { id, subject, envelope: e } of rows) {
      const contract = subject === MEMBERSHIP_ENTERED_V1.subject ? MEMBERSHIP_ENTERED_V1 : MEMBERSHIP_EXITED_V1;
      expect(validateContract(contract.payload, e.data).ok).toBe(true);
      expect({ id: e.id, subject: e.subject, workspaceId: e.workspaceId, partitionKey: e.partitionKey, producer: e.producer }).toEqual({
        id, subject, workspaceId: WS, partitionKey: e.data.contactId, producer: 'segmentation',
      });
      const entered = subject === MEMBERSHIP_ENTERED_V1.subject;
      expect({ event: subject, contact: e.data.contactId, wasMember: members.has(e.data.contactId) }).toEqual({ event: subject, contact: e.data.contactId, wasMember: !entered });
      if (entered) members.add(e.data.contactId);
      else members.delete(e.data.contactId);
    }
    return [...members.keys()].sort();
  };

  const fromScratch = async (def: SegmentDefinition, defs: Record<string, SegmentDefinition>): Promise<string[]> => {
    const q = compileMembership(def, WS, now, (x) => defs[x]);
    const { rows } = await pool.query<{ contact_id: string; branch: number | null }>(`SELECT * FROM (${q.sql}) s ORDER BY contact_id`, q.params);
    return rows.map((r) => `${r.contact_id}:${JSON.stringify(r.branch ?? 'all')}`);
  };

  it('holds for random definitions and histories', async () => {
    await fc.assert(
      fc.asyncProperty(arbDefinition(false), arbDefinition(true), arbOps(), async (defB, defA, ops) => {
        // Generated trees past the size/depth limits (counting the inlined reference) are refused by validation, not evaluated.
        fc.pre(validateDefinition(defB).length === 0 && validateDefinition(defA, (x) => (x === SEG_B ? defB : undefined), SEG_A).length === 0);
        await reset();
        now = new Date('2026-02-27T22:30:00Z');
        const defs: Record<string, SegmentDefinition> = { [SEG_B]: defB };
        await saveSegment(SEG_B, defB, defs);
        defs[SEG_A] = defA;
        await saveSegment(SEG_A, defA, defs);
        const gone = new Set<number>();
        last = undefined;
        // After every step (real-time change, or time passing with the scheduler's ticks) the stored membership is exact.
        for (const [i, op] of ops.entries()) {
          await apply(op, gone);
          expect({ step: i, members: await stored(SEG_A) }).toEqual({ step: i, members: await fromScratch(defA, defs) });
          expect({ step: i, members: await stored(SEG_B) }).toEqual({ step: i, members: await fromScratch(defB, defs) });
          for (const seg of [SEG_A, SEG_B])
            expect({ step: i, announced: await announced(seg) }).toEqual({ step: i, announced: (await stored(seg)).map((m) => m.split(':')[0]) });
        }
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 20), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined, endOnFailure: true },
    );
  }, Math.max(120_000, Number(process.env.FC_RUNS ?? 20) * 2000));

  it('lets a late creation fill what a contact lacks without undoing a newer update', async () => {
    await reset();
    const c = contactId(1);
    const upsert = (attrs: Record<string, unknown>, unset: string[], fill?: boolean) =>
      projection.contactsChanged([{ eventId: uuid(++eventSeq), workspaceId: WS, change: { kind: 'upsert', contactId: c, attrs, unset, fill } }]);
    const attrs = async (): Promise<unknown> => (await pool.query(`SELECT attrs FROM segmentation.contact WHERE id = $1`, [c])).rows[0].attrs;
    // The update unset `city` and `email`: the creation, older, must not bring them back.
    await upsert({ plan: 'pro' }, ['city', 'email']);
    await upsert({ plan: 'free', country: 'BR', city: 'Recife', email: 'a@example.test' }, [], true);
    expect(await attrs()).toEqual({ plan: 'pro', country: 'BR' });
    // A name set again after its removal is a value like any other; a redelivered creation still fills nothing over it.
    await upsert({ city: 'Natal' }, []);
    await upsert({ plan: 'free', country: 'BR', city: 'Recife', email: 'a@example.test' }, [], true);
    expect(await attrs()).toEqual({ plan: 'pro', country: 'BR', city: 'Natal' });
  });

  it('brings nothing of an erased contact back when events about it arrive after the erasure', async () => {
    await reset();
    const [gone, kept] = [contactId(2), contactId(3)];
    const change = (c: ContactChange) => projection.contactsChanged([{ eventId: uuid(++eventSeq), workspaceId: WS, change: c }]);
    await change({ kind: 'upsert', contactId: gone, attrs: { plan: 'pro' }, unset: [] });
    await change({ kind: 'erase', contactId: gone });
    await change({ kind: 'upsert', contactId: gone, attrs: { plan: 'pro', email: 'gone@example.test' }, unset: [], fill: true });
    await change({ kind: 'tag', contactId: gone, tag: 'vip', added: true });
    await change({ kind: 'list', listId: uuid(900), contactIds: [gone, kept], added: true });
    expect((await pool.query(`SELECT 1 FROM segmentation.contact WHERE id = $1`, [gone])).rowCount).toBe(0);
    expect((await pool.query(`SELECT 1 FROM segmentation.contact_tag WHERE contact_id = $1`, [gone])).rowCount).toBe(0);
    expect((await pool.query(`SELECT contact_id FROM segmentation.list_member`)).rows).toEqual([{ contact_id: kept }]);
  });

  it('locks a contact under one key however its id is spelled', async () => {
    const [holder, waiter] = [await pool.connect(), await pool.connect()];
    try {
      await holder.query('BEGIN');
      await lockContacts(holder, [contactId(7).toUpperCase()]);
      await waiter.query('BEGIN');
      await waiter.query(`SET LOCAL lock_timeout = '200ms'`);
      await expect(lockContacts(waiter, [contactId(7)])).rejects.toMatchObject({ code: '55P03' });
      await waiter.query('ROLLBACK');
      await holder.query('COMMIT');
      await waiter.query('BEGIN');
      await lockContacts(waiter, [contactId(7)]);
      await waiter.query('COMMIT');
    } finally {
      holder.release();
      waiter.release();
    }
  });

  it('keeps a contact without the attribute out of not_equals but inside not(equals)', async () => {
    await reset();
    const ne: SegmentNode = { type: 'attribute', attribute: 'country', valueType: 'string', operator: 'not_equals', value: 'BR' };
    const notEq: SegmentNode = { type: 'not', child: { type: 'attribute', attribute: 'country', valueType: 'string', operator: 'equals', value: 'BR' } };
    const defs = { [SEG_A]: { version: 1, root: ne } as SegmentDefinition, [SEG_B]: { version: 1, root: notEq } as SegmentDefinition };
    await saveSegment(SEG_A, defs[SEG_A], defs);
    await saveSegment(SEG_B, defs[SEG_B], defs);
    await apply({ kind: 'upsert', contact: 1, attrs: { plan: 'pro' }, unset: [] }, new Set());
    expect(await stored(SEG_A)).toEqual([]);
    expect(await stored(SEG_B)).toEqual([`${contactId(1)}:"all"`]);
  });
});
