/** Events the messaging service publishes. Adding one = a file under events/ + a line here. */
export const MESSAGING_EVENTS = {} as const;

export const MESSAGING_REQUESTS = {} as const;
