import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { InstanceEventBase } from './instance-lifecycle';

export const EXIT_KINDS = ['completed', 'goal', 'exit_criteria', 'exit_node', 'holdout', 'paused_archived', 'erased', 'migrated_out', 'error'] as const;

export class InstanceExitedV1 extends InstanceEventBase {
  @IsIn(EXIT_KINDS)
  kind!: (typeof EXIT_KINDS)[number];

  /** Human-readable detail, e.g. `left segment 7f...`, `unsubscribed from email`. */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}

export const INSTANCE_EXITED_V1 = defineEvent({
  subject: eventSubject('journeys', 'instance', 'exited', 1),
  payload: InstanceExitedV1,
  description: 'A journey instance ended (finished, converted, met an exit criterion, held out, or was erased).',
  partitionKey: 'contactId',
});
