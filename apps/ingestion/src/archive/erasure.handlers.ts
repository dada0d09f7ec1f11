import { Injectable, Logger } from '@nestjs/common';
import { OnEvent, type Delivered } from '@tessera/bus';
import { CONTACT_ERASED_V2 } from '@tessera/contracts';
import { ArchiveWriter } from '../tracking/archive-writer.service';
import { ArchiveErasureRepository } from './erasure.repository';

/**
 * Privacy erasure of the raw archive. v1 carries only the CRM's contact id, which ingestion never
 * sees; v2 carries sha256 of the person's external ids, anonymous ids, emails and phones. The
 * archive's user_id may hold any of those (apps and Shopify identify by email; an inbound
 * message's sender is a phone), so every hash is matched against both id columns.
 */
@Injectable()
export class ArchiveErasureHandlers {
  private readonly logger = new Logger('archive-erasure');

  constructor(
    private readonly repository: ArchiveErasureRepository,
    private readonly writer: ArchiveWriter,
  ) {}

  @OnEvent(CONTACT_ERASED_V2.subject, { ordered: true })
  async contactErased({ envelope, data }: Delivered<typeof CONTACT_ERASED_V2.subject>): Promise<void> {
    // Events this replica accepted before the erasure may still be on their way into the archive.
    await this.writer.caughtUp();
    const hashes = [...data.externalIdHashes, ...data.anonymousIdHashes, ...data.emailHashes, ...data.phoneHashes];
    const deleted = await this.repository.erase(envelope.workspaceId, hashes, new Date(data.erasedAt));
    this.logger.log({ contactId: data.contactId, identities: hashes.length, archivedEventsDeleted: deleted }, 'contact erased from the archive');
  }
}
