import { IsIn } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { InstanceEventBase } from './instance-lifecycle';

export class InstanceEnteredV1 extends InstanceEventBase {
  /** What started it. */
  @IsIn(['event', 'segment_entered', 'segment_exited', 'api', 'date_attribute', 'campaign'])
  trigger!: 'event' | 'segment_entered' | 'segment_exited' | 'api' | 'date_attribute' | 'campaign';
}

export const INSTANCE_ENTERED_V1 = defineEvent({
  subject: eventSubject('journeys', 'instance', 'entered', 1),
  payload: InstanceEnteredV1,
  description: 'A contact entered a journey (a new instance started).',
  partitionKey: 'contactId',
});
