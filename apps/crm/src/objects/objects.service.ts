import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { outboxRow } from '@tessera/bus';
import { OBJECT_RECORD_CHANGED_V1 } from '@tessera/contracts';
import { ContactStore } from '../contacts/contact-store.repository';
import { validationFailed } from '../contacts/errors';
import { checkFields, checkRecord, type ObjectFields } from './object-schema';
import type { ObjectTypeView, RecordPage, RecordView } from './objects.dto';
import { ObjectsRepository, type ObjectTypeRow, type RecordRow } from './objects.repository';

@Injectable()
export class ObjectsService {
  constructor(
    private readonly store: ContactStore,
    private readonly objects: ObjectsRepository,
  ) {}

  async createType(workspaceId: string, name: string, fields: Record<string, unknown>): Promise<ObjectTypeView> {
    const errors = checkFields(fields);
    if (errors.length) throw validationFailed(errors);
    const created = await this.objects.createType(workspaceId, name, fields as ObjectFields);
    if (!created) throw new ConflictException(`Object type ${name} exists already`);
    return created;
  }

  types(workspaceId: string): Promise<ObjectTypeView[]> {
    return this.objects.types(workspaceId);
  }

  async type(workspaceId: string, name: string): Promise<ObjectTypeRow> {
    const type = await this.objects.type(this.objects.pool, workspaceId, name);
    if (!type) throw new NotFoundException(`Unknown object type ${name}`);
    return type;
  }

  async create(workspaceId: string, typeName: string, contactId: string | undefined, data: Record<string, unknown>): Promise<RecordView> {
    const type = await this.type(workspaceId, typeName);
    const checked = checkRecord(type.fields, data, false);
    if (checked.errors.length) throw validationFailed(checked.errors);
    return this.store.tx(async (c) => {
      const owner = contactId ? await this.liveContact(c, workspaceId, contactId) : null;
      const record = await this.objects.insert(c, workspaceId, { id: uuidv7(), type: type.name, contactId: owner, data: checked.data });
      await this.announce(c, workspaceId, record, 'created');
      return record;
    });
  }

  async get(workspaceId: string, typeName: string, id: string): Promise<RecordView> {
    const record = await this.objects.get(workspaceId, typeName, id);
    if (!record) throw new NotFoundException('Record not found');
    return record;
  }

  async list(workspaceId: string, typeName: string | undefined, q: { contactId?: string; cursor?: string; limit?: number }): Promise<RecordPage> {
    if (typeName) await this.type(workspaceId, typeName);
    let contactId = q.contactId;
    if (contactId) contactId = (await this.store.resolve(this.store.pool, workspaceId, contactId))?.id ?? contactId;
    const limit = q.limit ?? 100;
    const rows = await this.objects.list(workspaceId, { type: typeName, contactId, cursor: q.cursor, limit: limit + 1 });
    const items = rows.slice(0, limit);
    return { items, ...(rows.length > limit ? { nextCursor: items[items.length - 1]!.id } : {}) };
  }

  async patch(workspaceId: string, typeName: string, id: string, patch: { contactId?: string | null; data?: Record<string, unknown> }): Promise<RecordView> {
    const type = await this.type(workspaceId, typeName);
    return this.store.tx(async (c) => {
      const record = await this.objects.lock(c, workspaceId, type.name, id);
      if (!record) throw new NotFoundException('Record not found');
      const checked = checkRecord(type.fields, patch.data ?? {}, true, record.data);
      if (checked.errors.length) throw validationFailed(checked.errors);
      const owner = patch.contactId === undefined ? record.contactId : patch.contactId === null ? null : await this.liveContact(c, workspaceId, patch.contactId);
      const updated = await this.objects.update(c, id, owner, checked.data);
      await this.announce(c, workspaceId, updated, 'updated');
      return updated;
    });
  }

  async delete(workspaceId: string, typeName: string, id: string): Promise<{ id: string; deleted: true }> {
    return this.store.tx(async (c) => {
      const record = await this.objects.lock(c, workspaceId, typeName, id);
      if (!record) throw new NotFoundException('Record not found');
      await this.objects.delete(c, id);
      await this.announce(c, workspaceId, record, 'deleted');
      return { id, deleted: true };
    });
  }

  private async liveContact(c: PoolClient, workspaceId: string, contactId: string): Promise<string> {
    const contact = await this.store.resolve(c, workspaceId, contactId);
    if (!contact || contact.erasedAt) throw validationFailed([{ path: 'contactId', messages: ['no such contact'] }]);
    return contact.id;
  }

  private async announce(c: PoolClient, workspaceId: string, r: RecordRow, change: 'created' | 'updated' | 'deleted'): Promise<void> {
    const at = new Date();
    await this.store.outbox(c, [
      outboxRow(
        'crm',
        OBJECT_RECORD_CHANGED_V1.subject,
        { recordId: r.id, objectType: r.type, change, ...(r.contactId ? { contactId: r.contactId } : {}), ...(change !== 'deleted' ? { data: r.data } : {}), changedAt: at.toISOString() },
        { workspaceId, occurredAt: at },
      ),
    ]);
  }
}
