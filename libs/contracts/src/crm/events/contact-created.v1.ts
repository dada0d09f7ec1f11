import { IsISO8601, IsObject, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class ContactCreatedV1 {
  @IsUUID()
  contactId!: string;

  @IsOptional()
  @IsString()
  @MaxLength(255)
  externalId?: string;

  @IsOptional()
  @IsString()
  email?: string;

  @IsOptional()
  @IsString()
  phone?: string;

  /** Custom attributes as set at creation, keyed by attribute name. */
  @IsObject()
  attributes!: Record<string, unknown>;

  @IsISO8601()
  createdAt!: string;
}

export const CONTACT_CREATED_V1 = defineEvent({
  subject: eventSubject('crm', 'contact', 'created', 1),
  payload: ContactCreatedV1,
  description: 'A contact profile was created in the CRM.',
  partitionKey: 'contactId',
  personalData: ['email', 'phone', 'externalId', 'attributes'],
});
