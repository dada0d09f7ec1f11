/** Events the analytics service publishes. Adding one = a file under events/ + a line here. */
export const ANALYTICS_EVENTS = {} as const;

export const ANALYTICS_REQUESTS = {} as const;
