import { IsString, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { InstanceEventBase } from './instance-lifecycle';

export class GoalReachedV1 extends InstanceEventBase {
  @IsString()
  @MaxLength(255)
  goalId!: string;
}

export const GOAL_REACHED_V1 = defineEvent({
  subject: eventSubject('journeys', 'goal', 'reached', 1),
  payload: GoalReachedV1,
  description: 'A contact in a journey converted (reached one of its goals); the instance ends.',
  partitionKey: 'contactId',
});
