import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { OutboxRow } from '@tessera/bus';
import { bump, mergedEvent, updatedEvent } from './contact-events';
import { ContactStore, type ContactRow } from './contact-store.repository';
import { MergeRepository } from './merge.repository';
import { mergeAttributes } from './profile';

/**
 * Merges one profile into another inside the caller's transaction. Both rows are locked in id
 * order; a second merge of the same pair finds the loser already pointing at the winner and does
 * nothing, so merges are idempotent and safe under concurrent calls.
 */
@Injectable()
export class ContactMergeService {
  constructor(
    private readonly store: ContactStore,
    private readonly relations: MergeRepository,
  ) {}

  async mergeInTx(c: PoolClient, workspaceId: string, winnerId: string, loserId: string, at = new Date()): Promise<{ winner: ContactRow; merged: boolean; events: OutboxRow[] }> {
    for (let round = 0; round < 5; round++) {
      const w0 = await this.store.resolve(c, workspaceId, winnerId);
      const l0 = await this.store.resolve(c, workspaceId, loserId);
      if (!w0 || !l0) throw new NotFoundException('Contact not found');
      if (w0.id === l0.id) return { winner: w0, merged: false, events: [] };
      const locked = await this.store.lockMany(c, workspaceId, [w0.id, l0.id]);
      const w = locked.get(w0.id)!;
      const l = locked.get(l0.id)!;
      if (w.mergedInto || l.mergedInto) continue; // moved while we waited for the locks
      if (w.erasedAt || l.erasedAt) throw new ConflictException('An erased contact cannot be merged');
      const identities: { workspaceId: string; kind: string; value: string; contactId: string }[] = [];
      const fields: Partial<ContactRow> = {};
      for (const key of ['externalId', 'email'] as const) {
        const value = l[key];
        if (!value) continue;
        if (!w[key]) fields[key] = value;
        else identities.push({ workspaceId, kind: key === 'externalId' ? 'external_id' : 'email', value, contactId: w.id });
      }
      for (const key of ['phone', 'timezone', 'locale'] as const) if (!w[key] && l[key]) fields[key] = l[key];
      const attrs = mergeAttributes({ attributes: w.attributes, attrTs: w.attrTs }, { attributes: l.attributes, attrTs: l.attrTs });
      const loserAfter = bump(l, { externalId: null, email: null, phone: null, timezone: null, locale: null, attributes: {}, attrTs: {}, mergedInto: w.id }, at);
      const winnerAfter = bump(w, { ...fields, attributes: attrs.attributes, attrTs: attrs.attrTs }, at);
      await this.store.update(c, [loserAfter]); // frees the loser's unique values first
      await this.store.update(c, [winnerAfter]);
      await this.store.upsertIdentities(c, identities);
      await this.relations.moveRelations(c, workspaceId, w.id, l.id);
      const events = [mergedEvent(workspaceId, w.id, l.id, at), updatedEvent(w, winnerAfter)].filter((e): e is OutboxRow => !!e);
      return { winner: winnerAfter, merged: true, events };
    }
    throw new ConflictException('Contact kept moving during the merge; retry');
  }
}
