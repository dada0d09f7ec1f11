import { CONVERSATION_ROUTED_V1 } from './events/conversation-routed.v1';
import { MESSAGE_STATUS_CHANGED_V1 } from './events/message-status-changed.v1';
import { TEMPLATE_MISSING_V1 } from './events/template-missing.v1';
import { UNSUBSCRIBE_REQUESTED_V1 } from './events/unsubscribe-requested.v1';
import { LOOKUP_TEMPLATES_V1 } from './requests/template-lookup.v1';

export * from './events/conversation-routed.v1';
export * from './events/message-status-changed.v1';
export * from './events/template-missing.v1';
export * from './events/unsubscribe-requested.v1';
export * from './requests/template-lookup.v1';

/** Events the messaging service publishes. Adding one = a file under events/ + a line here. */
export const MESSAGING_EVENTS = {
  [MESSAGE_STATUS_CHANGED_V1.subject]: MESSAGE_STATUS_CHANGED_V1,
  [UNSUBSCRIBE_REQUESTED_V1.subject]: UNSUBSCRIBE_REQUESTED_V1,
  [CONVERSATION_ROUTED_V1.subject]: CONVERSATION_ROUTED_V1,
  [TEMPLATE_MISSING_V1.subject]: TEMPLATE_MISSING_V1,
} as const;

export const MESSAGING_REQUESTS = {
  [LOOKUP_TEMPLATES_V1.subject]: LOOKUP_TEMPLATES_V1,
} as const;
