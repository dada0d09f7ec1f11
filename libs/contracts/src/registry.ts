import { ANALYTICS_EVENTS, ANALYTICS_REQUESTS } from './analytics';
import { CRM_EVENTS, CRM_REQUESTS } from './crm';
import type { EventDefinition, RequestDefinition } from './define';
import { INGESTION_EVENTS, INGESTION_REQUESTS } from './ingestion';
import { JOURNEYS_EVENTS, JOURNEYS_REQUESTS } from './journeys';
import { MESSAGING_EVENTS, MESSAGING_REQUESTS } from './messaging';
import { SEGMENTATION_EVENTS, SEGMENTATION_REQUESTS } from './segmentation';

/** Every event on the bus, from each service's own list (libs/contracts/src/<service>/index.ts). */
export const EVENTS = {
  ...CRM_EVENTS,
  ...INGESTION_EVENTS,
  ...SEGMENTATION_EVENTS,
  ...JOURNEYS_EVENTS,
  ...MESSAGING_EVENTS,
  ...ANALYTICS_EVENTS,
} as const;

/** Every request/reply message between services. */
export const REQUESTS = {
  ...CRM_REQUESTS,
  ...INGESTION_REQUESTS,
  ...SEGMENTATION_REQUESTS,
  ...JOURNEYS_REQUESTS,
  ...MESSAGING_REQUESTS,
  ...ANALYTICS_REQUESTS,
} as const;

type PayloadOf<D> = D extends EventDefinition<string, infer P> ? P : never;
type RequestOf<D> = D extends RequestDefinition<string, infer Q, object> ? Q : never;
type ResponseOf<D> = D extends RequestDefinition<string, object, infer R> ? R : never;

export type EventSubject = keyof typeof EVENTS;
export type RequestSubject = keyof typeof REQUESTS;
/** Subject -> payload type: drives `publish` and handler signatures, so a wrong payload fails to compile. */
export type EventMap = { [S in EventSubject]: PayloadOf<(typeof EVENTS)[S]> };
export type RequestMap = { [S in RequestSubject]: RequestOf<(typeof REQUESTS)[S]> };
export type ResponseMap = { [S in RequestSubject]: ResponseOf<(typeof REQUESTS)[S]> };

export function eventDefinition(subject: string): EventDefinition | undefined {
  return (EVENTS as Record<string, EventDefinition>)[subject];
}

export function requestDefinition(subject: string): RequestDefinition | undefined {
  return (REQUESTS as Record<string, RequestDefinition>)[subject];
}
