import type { PoolClient } from 'pg';
import type { OutboxRow } from '@tessera/bus';
import type { ContactCreatedV1, ContactUpdatedV1 } from '@tessera/contracts';
import type { AttributesRepository, AttributeSchema } from '../attributes/attributes.repository';
import { bump, createdData, createdEvent, sameKindEvent, updatedData, updatedEvent, type StandardField } from '../contacts/contact-events';
import type { ContactMergeService } from '../contacts/contact-merge.service';
import type { ContactRow, ContactStore } from '../contacts/contact-store.repository';
import { emptyContact } from '../contacts/contacts.service';
import { normalizeFields } from '../contacts/fields';
import { applyValid, type AttributeType, type FieldError } from '../contacts/profile';
import type { IdentityKey, IdentityRepository } from './identity.repository';

export interface ResolutionDeps {
  store: ContactStore;
  identities: IdentityRepository;
  merger: ContactMergeService;
  attributes: AttributesRepository;
}

/** One person-level change taken from a bus event, applied in stream order. */
interface ProfileOp {
  workspaceId: string;
  contactId: string;
  fields: Partial<Pick<ContactRow, StandardField>>;
  traits: Record<string, unknown>;
  at: string;
}

const TRAIT_FIELDS: Record<string, StandardField> = { email: 'email', phone: 'phone', timezone: 'timezone', locale: 'locale' };

function identityKey(workspaceId: string, kind: IdentityKey['kind'], value: string): string {
  return `${workspaceId}|${kind}|${value}`;
}

/** Splits traits into standard fields (validated; bad ones dropped) and custom attributes. */
export function splitTraits(traits: Record<string, unknown>): { fields: ProfileOp['fields']; attributes: Record<string, unknown>; errors: FieldError[] } {
  const raw: Partial<Record<StandardField, unknown>> = {};
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(traits)) {
    if (TRAIT_FIELDS[k]) raw[TRAIT_FIELDS[k]!] = v;
    else if (k !== 'userId' && k !== 'anonymousId' && k !== 'id') attributes[k] = v;
  }
  const errors: FieldError[] = [];
  const fields = normalizeFields(raw, errors, 'traits.');
  return { fields, attributes, errors };
}

/**
 * Resolves a batch of identify/alias/group events to profiles inside one transaction, then
 * applies their changes with a few multi-row statements. Events run in stream order against an
 * in-memory view of the identities they touch (loaded in bulk up front). A merge is rare: it
 * flushes the pending segment, merges under row locks, and the batch goes on with the winner.
 */
export class ResolutionBatch {
  private readonly target = new Map<string, string | null>();
  private readonly externalIdOf = new Map<string, string | null>();
  private readonly erased = new Map<string, Date>();
  private created = new Map<string, ContactRow>();
  private ops: ProfileOp[] = [];
  private newIdentities: { workspaceId: string; kind: string; value: string; contactId: string }[] = [];
  private readonly events: OutboxRow[] = [];
  /** The first contact.created / contact.updated of each workspace in this batch, whose envelope the others reuse. */
  private readonly firstEvents = new Map<string, OutboxRow>();
  readonly problems: FieldError[] = [];

  constructor(
    private readonly c: PoolClient,
    private readonly deps: ResolutionDeps,
  ) {}

  async load(keys: IdentityKey[]): Promise<void> {
    const rows = await this.deps.identities.resolve(this.c, keys);
    for (const r of rows) {
      const key = `${r.w}|${r.k}|${r.v}`;
      if (r.erased_at) {
        if (!this.target.get(key)) this.erased.set(key, r.erased_at);
      } else if (r.id && !r.dead && !this.target.get(key)) {
        this.target.set(key, r.id);
        this.externalIdOf.set(r.id, r.ext);
      }
    }
  }

  /** identify: links anonymousId and userId (anonymous-to-known), then applies traits. */
  async identify(workspaceId: string, e: { userId?: string; anonymousId?: string; traits: Record<string, unknown>; timestamp: string }): Promise<void> {
    const at = new Date(e.timestamp);
    if (!e.userId && !e.anonymousId) return;
    if (this.isLate(workspaceId, e.userId, e.anonymousId, at)) return;
    const u = e.userId ? this.find(workspaceId, 'external_id', e.userId) : null;
    const a = e.anonymousId ? this.find(workspaceId, 'anonymous_id', e.anonymousId) : null;
    let targetId: string;
    if (e.userId) {
      if (u && a && u !== a) {
        // The anonymous profile joins the known one; a profile already known stays separate (shared device).
        if (this.externalIdOf.get(a) === null) await this.merge(workspaceId, u, a);
        targetId = u;
      } else if (u) {
        targetId = u;
        if (e.anonymousId && !a) this.link(workspaceId, 'anonymous_id', e.anonymousId, u);
      } else if (a && this.externalIdOf.get(a) === null) {
        targetId = a;
        this.promote(workspaceId, a, e.userId, at);
      } else {
        targetId = this.create(workspaceId, at, { externalId: e.userId });
        if (e.anonymousId && !a) this.link(workspaceId, 'anonymous_id', e.anonymousId, targetId);
      }
    } else if (a) {
      targetId = a;
    } else {
      targetId = this.create(workspaceId, at, {});
      this.link(workspaceId, 'anonymous_id', e.anonymousId!, targetId);
    }
    this.applyTraits(workspaceId, targetId, e.traits, at);
  }

  /** alias: previousId (a user id or anonymous id) and userId are one person; userId's profile wins. */
  async alias(workspaceId: string, e: { userId?: string; anonymousId?: string; previousId: string; timestamp: string }): Promise<void> {
    const at = new Date(e.timestamp);
    const userId = e.userId ?? e.anonymousId;
    if (!userId || userId === e.previousId) return;
    if (this.isLate(workspaceId, userId, e.previousId, at)) return;
    const previous = this.find(workspaceId, 'external_id', e.previousId) ?? this.find(workspaceId, 'anonymous_id', e.previousId);
    const current = this.find(workspaceId, 'external_id', userId);
    if (previous && current) {
      if (previous !== current) await this.merge(workspaceId, current, previous);
    } else if (previous) {
      if (this.externalIdOf.get(previous) === null) this.promote(workspaceId, previous, userId, at);
      else this.link(workspaceId, 'external_id', userId, previous);
    } else if (current) {
      this.link(workspaceId, 'anonymous_id', e.previousId, current);
    } else {
      const id = this.create(workspaceId, at, { externalId: userId });
      this.link(workspaceId, 'anonymous_id', e.previousId, id);
    }
  }

  /** group: the person's group ids are kept in the `groupIds` list attribute. */
  async group(workspaceId: string, e: { userId?: string; anonymousId?: string; groupId: string; timestamp: string }): Promise<void> {
    await this.identify(workspaceId, { userId: e.userId, anonymousId: e.anonymousId, traits: {}, timestamp: e.timestamp });
    const id = (e.userId && this.find(workspaceId, 'external_id', e.userId)) || (e.anonymousId && this.find(workspaceId, 'anonymous_id', e.anonymousId));
    if (id) this.ops.push({ workspaceId, contactId: id, fields: {}, traits: { groupIds: { $add: [e.groupId] } }, at: new Date(e.timestamp).toISOString() });
  }

  /** Writes everything pending together with all of the batch's events, in order, as one outbox row. */
  async finish(): Promise<void> {
    await this.flush(true);
  }

  private find(workspaceId: string, kind: IdentityKey['kind'], value: string): string | null {
    return this.target.get(identityKey(workspaceId, kind, value)) ?? null;
  }

  /** An event older than the erasure of the person it names is dropped, so erasure sticks. */
  private isLate(workspaceId: string, userId: string | undefined, anonymousId: string | undefined, at: Date): boolean {
    for (const [kind, value] of [['external_id', userId], ['anonymous_id', anonymousId]] as const) {
      const erasedAt = value ? this.erased.get(identityKey(workspaceId, kind, value)) : undefined;
      if (erasedAt && at <= erasedAt) return true;
    }
    return false;
  }

  private link(workspaceId: string, kind: IdentityKey['kind'], value: string, contactId: string): void {
    this.target.set(identityKey(workspaceId, kind, value), contactId);
    this.newIdentities.push({ workspaceId, kind, value, contactId });
  }

  private promote(workspaceId: string, contactId: string, userId: string, at: Date): void {
    this.externalIdOf.set(contactId, userId);
    this.target.set(identityKey(workspaceId, 'external_id', userId), contactId);
    this.ops.push({ workspaceId, contactId, fields: { externalId: userId }, traits: {}, at: at.toISOString() });
  }

  private create(workspaceId: string, at: Date, fields: Partial<ContactRow>): string {
    const row = { ...emptyContact(workspaceId, at), ...fields };
    this.created.set(row.id, row);
    this.externalIdOf.set(row.id, row.externalId);
    if (row.externalId) this.target.set(identityKey(workspaceId, 'external_id', row.externalId), row.id);
    return row.id;
  }

  private applyTraits(workspaceId: string, contactId: string, traits: Record<string, unknown>, at: Date): void {
    if (!Object.keys(traits).length) return;
    const split = splitTraits(traits);
    this.problems.push(...split.errors);
    this.ops.push({ workspaceId, contactId, fields: split.fields, traits: split.attributes, at: at.toISOString() });
  }

  private async merge(workspaceId: string, winnerId: string, loserId: string): Promise<void> {
    await this.flush();
    const result = await this.deps.merger.mergeInTx(this.c, workspaceId, winnerId, loserId);
    this.events.push(...result.events);
    for (const [key, id] of this.target) if (id === loserId) this.target.set(key, result.winner.id);
    this.externalIdOf.set(result.winner.id, result.winner.externalId);
  }

  /** Queues an event: the first of its kind in a workspace is built in full (`make`), the others like it. */
  private emit(kind: 'created' | 'updated', workspaceId: string, data: ContactCreatedV1 | ContactUpdatedV1, at: Date, make: () => OutboxRow): void {
    const key = `${kind}|${workspaceId}`;
    const first = this.firstEvents.get(key);
    if (first) this.events.push(sameKindEvent(first, data, at));
    else {
      const event = make();
      this.firstEvents.set(key, event);
      this.events.push(event);
    }
  }

  /**
   * Applies the pending segment: lock existing rows in id order, compute, write in bulk. The last
   * flush (`final`) writes the batch's events in the same statement.
   */
  private async flush(final = false): Promise<void> {
    if (!this.ops.length && !this.created.size && !this.newIdentities.length && !(final && this.events.length)) return;
    const { store, attributes, identities } = this.deps;
    const locked = new Map<string, ContactRow>();
    const byWorkspace = new Map<string, string[]>();
    for (const op of this.ops) {
      if (this.created.has(op.contactId)) continue;
      const list = byWorkspace.get(op.workspaceId) ?? [];
      list.push(op.contactId);
      byWorkspace.set(op.workspaceId, list);
    }
    // A profile merged away while we waited for its lock sends its changes on to the winner.
    const redirect = new Map<string, string>();
    for (const [ws, ids] of byWorkspace) {
      let wanted = ids;
      for (let hop = 0; wanted.length && hop < 5; hop++) {
        const rows = await store.lockMany(this.c, ws, wanted);
        wanted = [];
        for (const [id, row] of rows) {
          if (row.mergedInto) {
            redirect.set(id, row.mergedInto);
            if (!locked.has(row.mergedInto)) wanted.push(row.mergedInto);
          } else locked.set(id, row);
        }
      }
    }
    const live = (id: string): string => {
      for (let hop = 0; redirect.has(id) && hop < 5; hop++) id = redirect.get(id)!;
      return id;
    };
    const before = new Map(locked);
    const schemas: Map<string, AttributeSchema> = await attributes.recentSchemas(this.c, [...new Set(this.ops.map((o) => o.workspaceId))]);
    const emails = this.ops.filter((o) => o.fields.email).map((o) => ({ workspaceId: o.workspaceId, email: o.fields.email! }));
    const owners = await identities.emailOwners(this.c, emails);
    const inferred: { workspaceId: string; name: string; type: AttributeType }[] = [];
    const retimed = new Set<string>();
    for (const op of this.ops) {
      let row = this.created.get(op.contactId) ?? locked.get(live(op.contactId));
      if (!row || row.mergedInto || row.erasedAt) continue;
      const fields = { ...op.fields };
      if (fields.email) {
        const owner = owners.get(`${op.workspaceId}|${fields.email}`);
        if (owner && owner !== row.id) {
          this.problems.push({ path: 'traits.email', messages: [`email is held by another contact; not moved`] });
          delete fields.email;
        } else owners.set(`${op.workspaceId}|${fields.email}`, row.id);
      }
      row = { ...row, ...fields };
      if (Object.keys(op.traits).length) {
        const schema = schemas.get(op.workspaceId)!;
        const result = applyValid({ attributes: row.attributes, attrTs: row.attrTs }, op.traits, { definitions: schema.definitions, policy: schema.policy, at: op.at, force: false });
        // Only the op's attributes can have new times (an unset of an absent one changes nothing else).
        for (const name in op.traits) if (result.attrTs[name] !== row.attrTs[name]) retimed.add(row.id);
        this.problems.push(...result.errors);
        for (const d of result.newDefinitions) {
          schema.definitions.set(d.name, d.type);
          inferred.push({ workspaceId: op.workspaceId, ...d });
        }
        row = { ...row, attributes: result.attributes, attrTs: result.attrTs };
      }
      if (this.created.has(row.id)) this.created.set(row.id, row);
      else locked.set(row.id, row);
    }
    const now = new Date();
    const inserts = [...this.created.values()];
    const updates: ContactRow[] = [];
    for (const [id, row] of locked) {
      const after = bump(row, {}, now);
      const changed = updatedData(before.get(id)!, after);
      if (!changed && !retimed.has(id)) continue;
      updates.push(after);
      if (changed) this.emit('updated', after.workspaceId, changed, now, () => updatedEvent(before.get(id)!, after)!);
    }
    for (const row of inserts) this.emit('created', row.workspaceId, createdData(row), row.createdAt, () => createdEvent(row));
    await store.writeBatch(this.c, { inserts, updates, identities: this.newIdentities, events: final ? this.events.splice(0) : [] });
    await attributes.insertInferred(this.c, inferred);
    attributes.rememberInferred(inferred);
    this.ops = [];
    this.created = new Map();
    this.newIdentities = [];
  }
}
