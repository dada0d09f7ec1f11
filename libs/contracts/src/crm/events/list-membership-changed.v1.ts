import { ArrayMaxSize, IsArray, IsIn, IsISO8601, IsUUID } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';

export class ListMembershipChangedV1 {
  @IsUUID()
  listId!: string;

  @IsIn(['added', 'removed'])
  change!: 'added' | 'removed';

  /** Contacts whose membership actually changed (at most 1000 per event; bulk adds are split). */
  @IsArray()
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  contactIds!: string[];

  @IsISO8601()
  changedAt!: string;
}

export const LIST_MEMBERSHIP_CHANGED_V1 = defineEvent({
  subject: eventSubject('crm', 'list_membership', 'changed', 1),
  payload: ListMembershipChangedV1,
  description: 'Contacts were added to or removed from a static list.',
  partitionKey: 'listId',
});
