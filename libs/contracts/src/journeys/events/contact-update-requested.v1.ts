import { IsArray, IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

/** A journey step asks the CRM (the owner of profiles) to set or unset contact attributes. */
export class ContactUpdateRequestedV1 {
  /** Idempotency key derived from instance and step: the CRM applies each key at most once. */
  @IsString()
  @MaxLength(255)
  requestId!: string;

  @IsUUID()
  contactId!: string;

  /** Attributes to set, keyed by attribute name. */
  @IsObject()
  attributes!: Record<string, unknown>;

  /** Attribute names to remove. */
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  unset?: string[];

  @IsOptional() @IsString() @MaxLength(255) journeyId?: string;
  @IsOptional() @IsString() @MaxLength(255) instanceId?: string;
  @IsOptional() @IsString() @MaxLength(255) stepId?: string;
}

export const CONTACT_UPDATE_REQUESTED_V1 = defineEvent({
  subject: eventSubject('journeys', 'contact_update', 'requested', 1),
  payload: ContactUpdateRequestedV1,
  description: 'A journey "update contact" step asks the CRM to change attributes of a contact.',
  partitionKey: 'contactId',
  personalData: ['attributes'],
});
