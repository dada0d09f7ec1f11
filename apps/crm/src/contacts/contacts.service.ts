import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { PermanentError, type OutboxRow } from '@tessera/bus';
import { AttributesRepository } from '../attributes/attributes.repository';
import { bump, createdEvent, updatedEvent } from './contact-events';
import { ContactMergeService } from './contact-merge.service';
import { ContactStore, type ContactRow } from './contact-store.repository';
import type { ContactPage, ContactView, CreateContactDto, ListContactsQuery, LookupQuery, PatchContactDto } from './contacts.dto';
import { validationFailed } from './errors';
import { normalizeFields } from './fields';
import { normalizeEmail, normalizePhone } from './normalize';
import { applyAttributes, type FieldError } from './profile';

export function toView(c: ContactRow, tags?: string[]): ContactView {
  return {
    id: c.id,
    externalId: c.externalId,
    email: c.email,
    phone: c.phone,
    timezone: c.timezone,
    locale: c.locale,
    attributes: c.attributes,
    ...(tags ? { tags } : {}),
    version: c.version,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export function emptyContact(workspaceId: string, at: Date): ContactRow {
  return {
    id: uuidv7(),
    workspaceId,
    externalId: null,
    email: null,
    phone: null,
    timezone: null,
    locale: null,
    attributes: {},
    attrTs: {},
    version: '1',
    mergedInto: null,
    erasedAt: null,
    createdAt: at,
    updatedAt: at,
  };
}

@Injectable()
export class ContactsService {
  constructor(
    private readonly store: ContactStore,
    private readonly attributes: AttributesRepository,
    private readonly merger: ContactMergeService,
  ) {}

  /** Creates a contact, or updates the one with the same externalId (else email). */
  async upsert(workspaceId: string, dto: CreateContactDto): Promise<{ contact: ContactView; created: boolean }> {
    const errors: FieldError[] = [];
    const fields = normalizeFields(dto, errors);
    if (errors.length) throw validationFailed(errors);
    return this.store.tx(async (c) => {
      const keys = [fields.externalId && `${workspaceId}:external_id:${fields.externalId}`, fields.email && `${workspaceId}:email:${fields.email}`].filter((k): k is string => !!k);
      await this.store.lockIdentities(c, keys);
      const existingId =
        (fields.externalId && (await this.store.findIdBy(c, workspaceId, 'external_id', fields.externalId))) ||
        (fields.email && (await this.store.findIdBy(c, workspaceId, 'email', fields.email))) ||
        undefined;
      const existing = existingId ? await this.store.lockLive(c, workspaceId, existingId) : undefined;
      if (existing && !existing.erasedAt) return { contact: await this.applyPatch(c, existing, fields, dto.attributes ?? {}), created: false };
      const now = new Date();
      const row = { ...emptyContact(workspaceId, now), ...fields };
      const next = await this.writeAttributes(c, row, dto.attributes ?? {}, now);
      await this.store.insert(c, [next]);
      await this.store.outbox(c, [createdEvent(next)]);
      return { contact: toView(next, []), created: true };
    });
  }

  async get(workspaceId: string, id: string): Promise<ContactView> {
    const row = await this.store.resolve(this.store.pool, workspaceId, id);
    if (!row || row.erasedAt) throw new NotFoundException('Contact not found');
    const tags = await this.store.tags(this.store.pool, row.id);
    return toView(row, tags.map((t) => t.tag));
  }

  async list(workspaceId: string, q: ListContactsQuery): Promise<ContactPage> {
    const limit = q.limit ?? 100;
    const rows = await this.store.list(this.store.pool, workspaceId, {
      email: q.email?.toLowerCase(),
      externalId: q.externalId,
      tag: q.tag,
      list: q.list,
      updatedSince: q.updatedSince ? new Date(q.updatedSince) : undefined,
      cursor: q.cursor,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return { items: page.map((r) => toView(r)), ...(rows.length > limit ? { nextCursor: page[page.length - 1]!.id } : {}) };
  }

  async lookup(workspaceId: string, q: LookupQuery): Promise<ContactView> {
    const given = Object.entries(q).filter(([, v]) => v !== undefined);
    if (given.length !== 1) throw validationFailed([{ path: 'query', messages: ['give exactly one of externalId, email, phone, anonymousId'] }]);
    const [key, raw] = given[0] as [keyof LookupQuery, string];
    const value = key === 'email' ? normalizeEmail(raw) : key === 'phone' ? normalizePhone(raw) : raw;
    if (!value) throw validationFailed([{ path: key, messages: [`${key} is not valid`] }]);
    const kind = ({ externalId: 'external_id', email: 'email', phone: 'phone', anonymousId: 'anonymous_id' } as const)[key];
    if (kind !== 'phone') {
      const row = await this.store.lookupLive(this.store.pool, workspaceId, kind, value);
      if (!row || row.erasedAt || row.mergedInto) throw new NotFoundException('Contact not found');
      return toView(row, row.tags);
    }
    const id = await this.store.findIdBy(this.store.pool, workspaceId, kind, value);
    if (!id) throw new NotFoundException('Contact not found');
    return this.get(workspaceId, id);
  }

  async patch(workspaceId: string, id: string, dto: PatchContactDto): Promise<ContactView> {
    const errors: FieldError[] = [];
    const fields = normalizeFields(dto, errors);
    if (errors.length) throw validationFailed(errors);
    return this.store.tx(async (c) => {
      const row = await this.store.lockLive(c, workspaceId, id);
      if (!row || row.erasedAt) throw new NotFoundException('Contact not found');
      return this.applyPatch(c, row, fields, dto.attributes ?? {});
    });
  }

  /**
   * A journey's "update contact" step (`journeys.contact_update.requested.v1`): the attribute
   * operations of PATCH, applied once per event. Values the workspace's attribute rules refuse can
   * never succeed, so they become a PermanentError (dead-lettered with the reason).
   */
  async fromJourneyUpdate(workspaceId: string, eventId: string, contactId: string, attributes: Record<string, unknown>, unset: string[] = []): Promise<void> {
    const patch = { ...attributes, ...Object.fromEntries(unset.map((name) => [name, null])) };
    await this.store.tx(async (c) => {
      if (!(await this.store.claimEvents(c, [eventId])).size) return;
      const row = await this.store.lockLive(c, workspaceId, contactId);
      if (!row || row.erasedAt) return;
      try {
        await this.applyPatch(c, row, {}, patch);
      } catch (error) {
        if (!(error instanceof BadRequestException)) throw error;
        const body = error.getResponse() as { errors?: FieldError[] };
        throw new PermanentError(`attributes refused: ${(body.errors ?? []).map((e) => `${e.path}: ${e.messages.join(', ')}`).join('; ')}`);
      }
    });
  }

  async merge(workspaceId: string, winnerId: string, loserId: string): Promise<{ contact: ContactView; merged: boolean }> {
    return this.store.tx(async (c) => {
      const result = await this.merger.mergeInTx(c, workspaceId, winnerId, loserId);
      await this.store.outbox(c, result.events);
      return { contact: toView(result.winner), merged: result.merged };
    });
  }

  /** Applies fields and attribute operations to a locked row; all or nothing. */
  private async applyPatch(c: PoolClient, row: ContactRow, fields: Partial<ContactRow>, attributes: Record<string, unknown>): Promise<ContactView> {
    const now = new Date();
    const next = await this.writeAttributes(c, bump(row, fields, now), attributes, now);
    const event = updatedEvent(row, next);
    if (!event) return toView(row);
    await this.store.update(c, [next]);
    await this.store.outbox(c, [event as OutboxRow]);
    return toView(next);
  }

  /** Validates and applies attribute operations; records inferred definitions; 400 on any bad one. */
  private async writeAttributes(c: PoolClient, row: ContactRow, patch: Record<string, unknown>, at: Date): Promise<ContactRow> {
    if (!Object.keys(patch).length) return row;
    const schema = (await this.attributes.schemas(c, [row.workspaceId])).get(row.workspaceId)!;
    const result = applyAttributes({ attributes: row.attributes, attrTs: row.attrTs }, patch, { definitions: schema.definitions, policy: schema.policy, at: at.toISOString(), force: true });
    if (result.errors.length) throw validationFailed(result.errors);
    await this.attributes.insertInferred(c, result.newDefinitions.map((d) => ({ workspaceId: row.workspaceId, ...d })));
    return { ...row, attributes: result.attributes, attrTs: result.attrTs };
  }
}
