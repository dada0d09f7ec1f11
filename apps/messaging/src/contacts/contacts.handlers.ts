import { Injectable } from '@nestjs/common';
import { OnEvent, OnEvents, type Delivered } from '@tessera/bus';
import { CONSENT_CHANGED_V1, CONTACT_CREATED_V1, CONTACT_ERASED_V1, CONTACT_MERGED_V1, CONTACT_UPDATED_V1 } from '@tessera/contracts';
import { ContactsRepository } from './contacts.repository';

/**
 * Keeps the contact projection from crm events; every handler is idempotent (upserts and
 * set-to-value updates), ordered per contact (the batched ones keep stream order).
 */
@Injectable()
export class ContactsHandlers {
  constructor(private readonly contacts: ContactsRepository) {}

  /** Batched: one per identify of a new person, so as frequent as sign-ups and imports. */
  @OnEvents(CONTACT_CREATED_V1.subject, { maxSize: 500, maxWaitMs: 20 })
  async created(events: Delivered<typeof CONTACT_CREATED_V1.subject>[]): Promise<void> {
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    await this.contacts.upsertCreated(
      events.map(({ data, envelope }) => {
        const attributes = data.attributes ?? {};
        return { workspaceId: envelope.workspaceId, id: data.contactId, fields: { email: data.email, phone: data.phone, timezone: str(attributes.timezone), locale: str(attributes.locale) }, attributes };
      }),
    );
  }

  /** Batched, in stream order (one batch at a time): one per identify that changes a trait. */
  @OnEvents(CONTACT_UPDATED_V1.subject, { maxSize: 500, maxWaitMs: 20 })
  async updated(events: Delivered<typeof CONTACT_UPDATED_V1.subject>[]): Promise<void> {
    await this.contacts.applyUpdates(events.map(({ data, envelope }) => ({ workspaceId: envelope.workspaceId, id: data.contactId, fields: data.fields, attributes: data.attributes, unset: data.unset })));
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
