import { Injectable } from '@nestjs/common';
import { OnEvent, type Delivered } from '@tessera/bus';
import { CONSENT_CHANGED_V1, CONTACT_CREATED_V1, CONTACT_ERASED_V1, CONTACT_MERGED_V1, CONTACT_UPDATED_V1 } from '@tessera/contracts';
import { ContactsRepository } from './contacts.repository';

/**
 * Keeps the contact projection from crm events; every handler is idempotent (upserts and
 * set-to-value updates), ordered per contact.
 */
@Injectable()
export class ContactsHandlers {
  constructor(private readonly contacts: ContactsRepository) {}

  @OnEvent(CONTACT_CREATED_V1.subject, { ordered: true })
  async created({ data, envelope }: Delivered<typeof CONTACT_CREATED_V1.subject>): Promise<void> {
    const attrs = data.attributes ?? {};
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    await this.contacts.upsertCreated(envelope.workspaceId, data.contactId, { email: data.email, phone: data.phone, timezone: str(attrs.timezone), locale: str(attrs.locale) }, attrs);
  }

  @OnEvent(CONTACT_UPDATED_V1.subject, { ordered: true })
  async updated({ data, envelope }: Delivered<typeof CONTACT_UPDATED_V1.subject>): Promise<void> {
    await this.contacts.applyUpdate(envelope.workspaceId, data.contactId, data.fields, data.attributes, data.unset);
  }

  @OnEvent(CONTACT_MERGED_V1.subject, { ordered: true })
  async merged({ data, envelope }: Delivered<typeof CONTACT_MERGED_V1.subject>): Promise<void> {
    await this.contacts.merge(envelope.workspaceId, data.contactId, data.mergedContactId);
  }

  @OnEvent(CONTACT_ERASED_V1.subject, { ordered: true })
  async erased({ data, envelope }: Delivered<typeof CONTACT_ERASED_V1.subject>): Promise<void> {
    await this.contacts.erase(envelope.workspaceId, data.contactId);
  }

  @OnEvent(CONSENT_CHANGED_V1.subject, { ordered: true })
  async consent({ data, envelope }: Delivered<typeof CONSENT_CHANGED_V1.subject>): Promise<void> {
    await this.contacts.setConsent(envelope.workspaceId, data.contactId, data.group ? `${data.channel}:${data.group}` : data.channel, data.state);
  }
}
