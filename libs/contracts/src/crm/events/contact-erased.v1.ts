import { IsISO8601, IsUUID } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class ContactErasedV1 {
  @IsUUID()
  contactId!: string;

  @IsISO8601()
  erasedAt!: string;
}

export const CONTACT_ERASED_V1 = defineEvent({
  subject: eventSubject('crm', 'contact', 'erased', 1),
  payload: ContactErasedV1,
  description: "A privacy erasure: every service must delete the contact's personal data from its own store.",
  partitionKey: 'contactId',
});
