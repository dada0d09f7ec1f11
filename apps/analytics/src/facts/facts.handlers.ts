import { Injectable } from '@nestjs/common';
import { OnEvents, type Delivered } from '@tessera/bus';
import { CONTACT_CREATED_V1 } from '@tessera/contracts';
import { FactsRepository } from './facts.repository';

/** Appends bus events to the fact table, in batches. The event id is the fact id: idempotent. */
@Injectable()
export class FactsHandlers {
  constructor(private readonly facts: FactsRepository) {}

  @OnEvents(CONTACT_CREATED_V1.subject)
  async contactCreated(events: Delivered<typeof CONTACT_CREATED_V1.subject>[]): Promise<void> {
    await this.facts.insertMany(
      events.map(({ envelope, data }) => ({
        id: envelope.id,
        workspaceId: envelope.workspaceId,
        subject: envelope.subject,
        contactId: data.contactId,
        occurredAt: new Date(envelope.occurredAt),
        // Facts keep no personal data: ids and attribute names only.
        data: { attributeNames: Object.keys(data.attributes) },
      })),
    );
  }
}
