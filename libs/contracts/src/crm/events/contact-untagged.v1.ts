import { IsISO8601, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class ContactUntaggedV1 {
  @IsUUID()
  contactId!: string;

  @IsString()
  @MaxLength(100)
  tag!: string;

  @IsISO8601()
  untaggedAt!: string;
}

export const CONTACT_UNTAGGED_V1 = defineEvent({
  subject: eventSubject('crm', 'contact', 'untagged', 1),
  payload: ContactUntaggedV1,
  description: 'A tag was removed from a contact.',
  partitionKey: 'contactId',
});
