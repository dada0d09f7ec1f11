import { IsObject } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { TrackingCallBase } from './common';

export class IdentifyReceivedV1 extends TrackingCallBase {
  @IsObject()
  traits!: Record<string, unknown>;
}

export const IDENTIFY_RECEIVED_V1 = defineEvent({
  subject: eventSubject('ingestion', 'identify', 'received', 1),
  payload: IdentifyReceivedV1,
  description: 'An identify call: ties an anonymous id to a user id and/or sets traits. The CRM resolves it to a profile.',
  partitionKey: 'routingKey',
  personalData: ['userId', 'anonymousId', 'traits', 'context'],
});
