import { MESSAGE_REQUESTED_V1 } from './events/message-requested.v1';

export * from './events/message-requested.v1';

/** Events journeys publishes. Adding one = a file under events/ + a line here. */
export const JOURNEYS_EVENTS = {
  [MESSAGE_REQUESTED_V1.subject]: MESSAGE_REQUESTED_V1,
} as const;

export const JOURNEYS_REQUESTS = {} as const;
