import { MEMBERSHIP_ENTERED_V1 } from './events/membership-entered.v1';
import { MEMBERSHIP_EXITED_V1 } from './events/membership-exited.v1';

export * from './events/membership-entered.v1';
export * from './events/membership-exited.v1';

/** Events the segmentation service publishes. Adding one = a file under events/ + a line here. */
export const SEGMENTATION_EVENTS = {
  [MEMBERSHIP_ENTERED_V1.subject]: MEMBERSHIP_ENTERED_V1,
  [MEMBERSHIP_EXITED_V1.subject]: MEMBERSHIP_EXITED_V1,
} as const;

export const SEGMENTATION_REQUESTS = {} as const;
