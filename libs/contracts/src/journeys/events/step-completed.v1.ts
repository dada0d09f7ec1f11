import { IsOptional, IsString, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { InstanceEventBase } from './instance-lifecycle';

export class StepCompletedV1 extends InstanceEventBase {
  @IsString()
  @MaxLength(255)
  stepId!: string;

  /** Node type, e.g. `send`, `wait`, `condition`. */
  @IsString()
  @MaxLength(50)
  stepType!: string;

  /** What happened: `sent`, `yes`, `no`, `happened`, `timed_out`, `variant:A`, `skipped_quiet_hours`... */
  @IsString()
  @MaxLength(255)
  outcome!: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}

export const STEP_COMPLETED_V1 = defineEvent({
  subject: eventSubject('journeys', 'step', 'completed', 1),
  payload: StepCompletedV1,
  description: 'A journey instance finished a step (with the branch taken and why).',
  partitionKey: 'contactId',
});
