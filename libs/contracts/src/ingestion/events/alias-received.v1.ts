import { IsString, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { TrackingCallBase } from './common';

export class AliasReceivedV1 extends TrackingCallBase {
  /** The earlier identity (user id or anonymous id) that is the same person as `userId`. */
  @IsString()
  @MaxLength(255)
  previousId!: string;
}

export const ALIAS_RECEIVED_V1 = defineEvent({
  subject: eventSubject('ingestion', 'alias', 'received', 1),
  payload: AliasReceivedV1,
  description: 'An alias call: previousId and userId are one person. The CRM merges the profiles.',
  partitionKey: 'routingKey',
  personalData: ['userId', 'anonymousId', 'previousId', 'context'],
});
