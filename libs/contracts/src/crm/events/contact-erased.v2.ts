import { IsArray, IsISO8601, IsUUID, Matches } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * v1 plus the person's identities as sha256 hex of their UTF-8 value (no personal data on the bus),
 * so services that know people by SDK ids or addresses (ingestion's archive) can find what to delete.
 */
export class ContactErasedV2 {
  @IsUUID()
  contactId!: string;

  @IsISO8601()
  erasedAt!: string;

  /** sha256 hex of each external id (the SDK's userId) the contact held, merged profiles' included. */
  @IsArray()
  @Matches(SHA256_HEX, { each: true })
  externalIdHashes!: string[];

  /** sha256 hex of each anonymous id (the SDK's anonymousId) linked to the contact. */
  @IsArray()
  @Matches(SHA256_HEX, { each: true })
  anonymousIdHashes!: string[];

  /** sha256 hex of each email (as the CRM stored it: trimmed, lower-cased), for stores keyed by email. */
  @IsArray()
  @Matches(SHA256_HEX, { each: true })
  emailHashes!: string[];

  /** sha256 hex of each phone number (E.164, as the CRM stored it): inbound SMS/WhatsApp senders. */
  @IsArray()
  @Matches(SHA256_HEX, { each: true })
  phoneHashes!: string[];
}

export const CONTACT_ERASED_V2 = defineEvent({
  subject: eventSubject('crm', 'contact', 'erased', 2),
  payload: ContactErasedV2,
  description:
    "A privacy erasure: every service must delete the contact's personal data from its own store. Carries sha256 hex of the contact's external ids, anonymous ids, emails and phone numbers (never the values), so stores keyed by those ids can match them. Published alongside v1 (same transaction) while consumers move.",
  partitionKey: 'contactId',
});
