import { Injectable, NotFoundException } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { outboxRow, type OutboxRow } from '@tessera/bus';
import { CONTACT_TAGGED_V1, CONTACT_UNTAGGED_V1, LIST_MEMBERSHIP_CHANGED_V1 } from '@tessera/contracts';
import { ContactStore } from '../contacts/contact-store.repository';
import type { AddMembersResult, ListView } from './lists.dto';
import { ListsRepository } from './lists.repository';

function membershipEvents(workspaceId: string, listId: string, change: 'added' | 'removed', ids: string[], at: Date): OutboxRow[] {
  const rows: OutboxRow[] = [];
  for (let i = 0; i < ids.length; i += 1000)
    rows.push(outboxRow('crm', LIST_MEMBERSHIP_CHANGED_V1.subject, { listId, change, contactIds: ids.slice(i, i + 1000), changedAt: at.toISOString() }, { workspaceId, occurredAt: at }));
  return rows;
}

/** Tags and static lists; every change that happened is announced, a no-op is not. */
@Injectable()
export class ListsService {
  constructor(
    private readonly store: ContactStore,
    private readonly lists: ListsRepository,
  ) {}

  async tag(workspaceId: string, contactId: string, tag: string, add: boolean): Promise<{ contactId: string; tag: string; changed: boolean }> {
    return this.store.tx(async (c) => {
      const contact = await this.store.lockLive(c, workspaceId, contactId);
      if (!contact || contact.erasedAt) throw new NotFoundException('Contact not found');
      const changed = add ? await this.lists.addTag(c, workspaceId, contact.id, tag) : await this.lists.removeTag(c, workspaceId, contact.id, tag);
      const at = new Date().toISOString();
      if (changed)
        await this.store.outbox(c, [
          add
            ? outboxRow('crm', CONTACT_TAGGED_V1.subject, { contactId: contact.id, tag, taggedAt: at }, { workspaceId })
            : outboxRow('crm', CONTACT_UNTAGGED_V1.subject, { contactId: contact.id, tag, untaggedAt: at }, { workspaceId }),
        ]);
      return { contactId: contact.id, tag, changed };
    });
  }

  create(workspaceId: string, name: string, description?: string): Promise<ListView> {
    return this.lists.create(workspaceId, uuidv7(), name, description ?? null);
  }

  all(workspaceId: string): Promise<ListView[]> {
    return this.lists.all(workspaceId);
  }

  async get(workspaceId: string, id: string): Promise<ListView> {
    const list = await this.lists.find(workspaceId, id);
    if (!list) throw new NotFoundException('List not found');
    return list;
  }

  async update(workspaceId: string, id: string, name?: string, description?: string | null): Promise<ListView> {
    const list = await this.lists.update(workspaceId, id, name, description);
    if (!list) throw new NotFoundException('List not found');
    return list;
  }

  async remove(workspaceId: string, id: string): Promise<{ id: string; removedMembers: number }> {
    return this.store.tx(async (c) => {
      const members = await this.lists.remove(c, workspaceId, id);
      if (!members) throw new NotFoundException('List not found');
      await this.store.outbox(c, membershipEvents(workspaceId, id, 'removed', members, new Date()));
      return { id, removedMembers: members.length };
    });
  }

  async addMembers(workspaceId: string, listId: string, contactIds: string[]): Promise<AddMembersResult> {
    return this.store.tx(async (c) => {
      if (!(await this.lists.lockList(c, workspaceId, listId))) throw new NotFoundException('List not found');
      const live = await this.lists.liveIds(c, workspaceId, contactIds);
      const notFound = contactIds.filter((id) => !live.has(id));
      const wanted = [...new Set(live.values())];
      const added = await this.lists.addMembers(c, workspaceId, listId, wanted);
      await this.store.outbox(c, membershipEvents(workspaceId, listId, 'added', added, new Date()));
      return { added: added.length, alreadyMembers: wanted.length - added.length, notFound };
    });
  }

  async removeMember(workspaceId: string, listId: string, contactId: string): Promise<{ removed: boolean }> {
    return this.store.tx(async (c) => {
      if (!(await this.lists.lockList(c, workspaceId, listId))) throw new NotFoundException('List not found');
      const live = (await this.lists.liveIds(c, workspaceId, [contactId])).get(contactId) ?? contactId;
      const removed = await this.lists.removeMember(c, workspaceId, listId, live);
      if (removed) await this.store.outbox(c, membershipEvents(workspaceId, listId, 'removed', [live], new Date()));
      return { removed };
    });
  }
}
