import { IsObject, IsString, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { TrackingCallBase } from './common';

export class GroupReceivedV1 extends TrackingCallBase {
  @IsString()
  @MaxLength(255)
  groupId!: string;

  @IsObject()
  traits!: Record<string, unknown>;
}

export const GROUP_RECEIVED_V1 = defineEvent({
  subject: eventSubject('ingestion', 'group', 'received', 1),
  payload: GroupReceivedV1,
  description: 'A group call: the person belongs to an account/organisation with these traits.',
  partitionKey: 'routingKey',
  personalData: ['userId', 'anonymousId', 'traits', 'context'],
});
