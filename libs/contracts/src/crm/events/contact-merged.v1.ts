import { IsISO8601, IsUUID } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class ContactMergedV1 {
  /** The surviving profile. */
  @IsUUID()
  contactId!: string;

  /** The profile merged into it; its id stays a pointer to `contactId`. Re-key your data. */
  @IsUUID()
  mergedContactId!: string;

  @IsISO8601()
  mergedAt!: string;
}

export const CONTACT_MERGED_V1 = defineEvent({
  subject: eventSubject('crm', 'contact', 'merged', 1),
  payload: ContactMergedV1,
  description: 'Two profiles were found to be one person and merged. Every service re-keys its data from mergedContactId to contactId.',
  partitionKey: 'contactId',
});
