import { IsArray, IsISO8601, IsObject, IsOptional, IsString, IsUUID } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

/** Thin: the fields that changed and their new values; an unset field is listed in `unset`. */
export class ContactUpdatedV1 {
  @IsUUID()
  contactId!: string;

  /** New values of changed standard fields (externalId, email, phone, timezone, locale). */
  @IsObject()
  fields!: Record<string, unknown>;

  /** New values of changed custom attributes. */
  @IsObject()
  attributes!: Record<string, unknown>;

  /** Custom attributes and standard fields that were removed. */
  @IsArray()
  @IsString({ each: true })
  unset!: string[];

  /** Version of the profile after this change; consumers ignore an update older than what they hold. */
  @IsOptional()
  @IsString()
  version?: string;

  @IsISO8601()
  updatedAt!: string;
}

export const CONTACT_UPDATED_V1 = defineEvent({
  subject: eventSubject('crm', 'contact', 'updated', 1),
  payload: ContactUpdatedV1,
  description: 'Standard fields or custom attributes of a contact changed.',
  partitionKey: 'contactId',
  personalData: ['fields', 'attributes'],
});
