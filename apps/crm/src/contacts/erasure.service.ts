import { Injectable, NotFoundException } from '@nestjs/common';
import { erasedEvents } from './contact-events';
import { ContactStore } from './contact-store.repository';
import { ErasureRepository } from './erasure.repository';

/**
 * Right to erasure: personal data goes, a tombstone (id + erased_at) stays so that late events
 * and lookups cannot bring the person back. Idempotent: erasing twice answers the first time.
 */
@Injectable()
export class ErasureService {
  constructor(
    private readonly store: ContactStore,
    private readonly relations: ErasureRepository,
  ) {}

  async erase(workspaceId: string, id: string): Promise<{ id: string; erasedAt: Date }> {
    return this.store.tx(async (c) => {
      const row = await this.store.lockLive(c, workspaceId, id);
      if (!row) throw new NotFoundException('Contact not found');
      if (row.erasedAt) return { id: row.id, erasedAt: row.erasedAt };
      const at = new Date();
      const hashes = await this.relations.identityHashes(c, workspaceId, row.id);
      await this.relations.eraseRelations(c, workspaceId, row.id);
      const tombstone = { ...row, externalId: null, email: null, phone: null, timezone: null, locale: null, attributes: {}, attrTs: {}, erasedAt: at, updatedAt: at, version: String(BigInt(row.version) + 1n) };
      await this.store.update(c, [tombstone]);
      await this.store.outbox(c, erasedEvents(workspaceId, row.id, at, hashes));
      return { id: row.id, erasedAt: at };
    });
  }
}
