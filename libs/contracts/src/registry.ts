import { CONTACT_CREATED_V1 } from './crm/events/contact-created.v1';
import { WORKSPACE_CREATED_V1 } from './crm/events/workspace-created.v1';
import { API_KEY_REVOKED_V1 } from './crm/events/api-key-revoked.v1';
import { VERIFY_API_KEY_V1 } from './crm/requests/api-key-verify.v1';
import type { EventDefinition, RequestDefinition } from './define';

/** Every event on the bus. Adding an event = one file under `<service>/events/` + one line here. */
export const EVENTS = {
  [CONTACT_CREATED_V1.subject]: CONTACT_CREATED_V1,
  [WORKSPACE_CREATED_V1.subject]: WORKSPACE_CREATED_V1,
  [API_KEY_REVOKED_V1.subject]: API_KEY_REVOKED_V1,
} as const;

/** Every request/reply message between services. */
export const REQUESTS = {
  [VERIFY_API_KEY_V1.subject]: VERIFY_API_KEY_V1,
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
