import { IsISO8601, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class ContactTaggedV1 {
  @IsUUID()
  contactId!: string;

  @IsString()
  @MaxLength(100)
  tag!: string;

  @IsISO8601()
  taggedAt!: string;
}

export const CONTACT_TAGGED_V1 = defineEvent({
  subject: eventSubject('crm', 'contact', 'tagged', 1),
  payload: ContactTaggedV1,
  description: 'A tag was added to a contact (not sent again when the contact already had it).',
  partitionKey: 'contactId',
});
