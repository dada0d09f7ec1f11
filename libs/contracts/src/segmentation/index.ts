/** Events the segmentation service publishes. Adding one = a file under events/ + a line here. */
export const SEGMENTATION_EVENTS = {} as const;

export const SEGMENTATION_REQUESTS = {} as const;
