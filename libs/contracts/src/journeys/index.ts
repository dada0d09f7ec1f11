import { CONTACT_UPDATE_REQUESTED_V1 } from './events/contact-update-requested.v1';
import { CUSTOM_EVENT_PUBLISHED_V1 } from './events/custom-event-published.v1';
import { GOAL_REACHED_V1 } from './events/goal-reached.v1';
import { INSTANCE_ENTERED_V1 } from './events/instance-entered.v1';
import { INSTANCE_EXITED_V1 } from './events/instance-exited.v1';
import { MESSAGE_REQUESTED_V1 } from './events/message-requested.v1';
import { STEP_COMPLETED_V1 } from './events/step-completed.v1';
import { STEP_COMPLETED_V2 } from './events/step-completed.v2';

export * from './events/contact-update-requested.v1';
export * from './events/custom-event-published.v1';
export * from './events/goal-reached.v1';
export * from './events/instance-entered.v1';
export * from './events/instance-exited.v1';
export * from './events/instance-lifecycle';
export * from './events/message-requested.v1';
export * from './events/step-completed.v1';
export * from './events/step-completed.v2';

/** Events journeys publishes. Adding one = a file under events/ + a line here. */
export const JOURNEYS_EVENTS = {
  [MESSAGE_REQUESTED_V1.subject]: MESSAGE_REQUESTED_V1,
  [CONTACT_UPDATE_REQUESTED_V1.subject]: CONTACT_UPDATE_REQUESTED_V1,
  [CUSTOM_EVENT_PUBLISHED_V1.subject]: CUSTOM_EVENT_PUBLISHED_V1,
  [INSTANCE_ENTERED_V1.subject]: INSTANCE_ENTERED_V1,
  [STEP_COMPLETED_V1.subject]: STEP_COMPLETED_V1,
  [STEP_COMPLETED_V2.subject]: STEP_COMPLETED_V2,
  [GOAL_REACHED_V1.subject]: GOAL_REACHED_V1,
  [INSTANCE_EXITED_V1.subject]: INSTANCE_EXITED_V1,
} as const;

export const JOURNEYS_REQUESTS = {} as const;
