import { IsIn, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { TrackingCallBase } from './common';

export class EventReceivedV1 extends TrackingCallBase {
  /** `track` for named events; `page` and `screen` for views. Webhook-mapped events are `track`. */
  @IsIn(['track', 'page', 'screen'])
  type!: 'track' | 'page' | 'screen';

  /** Event name (track) or page/screen name. */
  @IsOptional()
  @IsString()
  @MaxLength(255)
  name?: string;

  @IsObject()
  properties!: Record<string, unknown>;
}

export const EVENT_RECEIVED_V1 = defineEvent({
  subject: eventSubject('ingestion', 'event', 'received', 1),
  payload: EventReceivedV1,
  description: 'A track, page or screen call (from an SDK or mapped from a webhook), validated and de-duplicated.',
  partitionKey: 'routingKey',
  personalData: ['userId', 'anonymousId', 'properties', 'context'],
});
