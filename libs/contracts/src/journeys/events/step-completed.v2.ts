import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, ValidateNested } from 'class-validator';
import { defineEvent, eventSubject } from '../../define';
import { StepCompletedV1 } from './step-completed.v1';

/**
 * Most steps in one event: a batch of journey steps is split into events of at most this many
 * (~150 KB; even with every reason at its 1,000-character limit, well under NATS's 1 MB payload).
 */
export const STEPS_PER_EVENT_MAX = 500;

/**
 * The steps one batch of journey instances completed, in events of up to 500: a timer batch of 500 wake-ups
 * completes ~1,000 steps, and an event per step was half of the events journeys published.
 */
export class StepCompletedV2 {
  /** Each item is what journeys.step.completed.v1 carries for one step, in the order the steps ran. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(STEPS_PER_EVENT_MAX)
  @ValidateNested({ each: true })
  @Type(() => StepCompletedV1)
  steps!: StepCompletedV1[];
}

export const STEP_COMPLETED_V2 = defineEvent({
  subject: eventSubject('journeys', 'step', 'completed', 2),
  payload: StepCompletedV2,
  description:
    'Journey instances of one workspace finished steps (with the branch taken and why), batched: the steps of one batch of instances the engine ran, in events of at most 500. ' +
    'Split steps are not in it: each is published alone as journeys.step.completed.v1, as the variant it assigns is a fact about its instance.',
});
