import { ALIAS_RECEIVED_V1 } from './events/alias-received.v1';
import { DELIVERY_STATUS_RECEIVED_V1 } from './events/delivery-status-received.v1';
import { EVENT_RECEIVED_V1 } from './events/event-received.v1';
import { GROUP_RECEIVED_V1 } from './events/group-received.v1';
import { IDENTIFY_RECEIVED_V1 } from './events/identify-received.v1';
import { INBOUND_MESSAGE_RECEIVED_V1 } from './events/inbound-message-received.v1';

export * from './events/common';
export * from './events/alias-received.v1';
export * from './events/delivery-status-received.v1';
export * from './events/event-received.v1';
export * from './events/group-received.v1';
export * from './events/identify-received.v1';
export * from './events/inbound-message-received.v1';

/** Events ingestion publishes. Adding one = a file under events/ + a line here. */
export const INGESTION_EVENTS = {
  [EVENT_RECEIVED_V1.subject]: EVENT_RECEIVED_V1,
  [IDENTIFY_RECEIVED_V1.subject]: IDENTIFY_RECEIVED_V1,
  [ALIAS_RECEIVED_V1.subject]: ALIAS_RECEIVED_V1,
  [GROUP_RECEIVED_V1.subject]: GROUP_RECEIVED_V1,
  [INBOUND_MESSAGE_RECEIVED_V1.subject]: INBOUND_MESSAGE_RECEIVED_V1,
  [DELIVERY_STATUS_RECEIVED_V1.subject]: DELIVERY_STATUS_RECEIVED_V1,
} as const;

export const INGESTION_REQUESTS = {} as const;
