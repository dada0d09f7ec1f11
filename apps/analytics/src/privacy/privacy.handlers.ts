import { Injectable } from '@nestjs/common';
import { OnEvent, type Delivered } from '@tessera/bus';
import { CONTACT_ERASED_V1, CONTACT_MERGED_V1 } from '@tessera/contracts';
import { PrivacyRepository } from './privacy.repository';

@Injectable()
export class PrivacyHandlers {
  constructor(private readonly privacy: PrivacyRepository) {}

  @OnEvent(CONTACT_ERASED_V1.subject, { ordered: true })
  async contactErased({ envelope, data }: Delivered<typeof CONTACT_ERASED_V1.subject>): Promise<void> {
    await this.privacy.erase(envelope.workspaceId, data.contactId);
  }

  @OnEvent(CONTACT_MERGED_V1.subject, { ordered: true })
  async contactMerged({ envelope, data }: Delivered<typeof CONTACT_MERGED_V1.subject>): Promise<void> {
    await this.privacy.merge(envelope.workspaceId, data.contactId, data.mergedContactId);
  }
}
