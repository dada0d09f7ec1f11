import { Injectable } from '@nestjs/common';
import { OnEvent, type Delivered } from '@tessera/bus';
import { CONTACT_UPDATE_REQUESTED_V1 } from '@tessera/contracts';
import { ContactsService } from './contacts.service';

@Injectable()
export class ContactsHandlers {
  constructor(private readonly contacts: ContactsService) {}

  /** Journeys' "update contact" steps: the CRM owns profiles, so journeys ask rather than write. */
  @OnEvent(CONTACT_UPDATE_REQUESTED_V1.subject, { ordered: true })
  async onJourneyUpdate(e: Delivered<typeof CONTACT_UPDATE_REQUESTED_V1.subject>): Promise<void> {
    await this.contacts.fromJourneyUpdate(e.envelope.workspaceId, e.envelope.id, e.data.contactId, e.data.attributes, e.data.unset);
  }
}
