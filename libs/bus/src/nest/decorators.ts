import type { EventSubject, RequestMap, RequestSubject, ResponseMap } from '@tessera/contracts';
import type { Delivered } from '../bus.port';

export const EVENT_HANDLER = Symbol('tessera:event-handler');
export const REQUEST_HANDLER = Symbol('tessera:request-handler');

export interface EventHandlerOptions {
  /** Serialise events with the same partition key (e.g. one contact's events in order). */
  ordered?: boolean;
  /** Handlers of this subject in flight at once, per replica. */
  concurrency?: number;
  /** Deliveries before the event is dead-lettered. */
  maxAttempts?: number;
}

export interface EventHandlerMeta extends EventHandlerOptions {
  subject: EventSubject;
  batch?: { maxSize: number; maxWaitMs: number };
}

// Only `value` is checked: a handler may take fewer parameters than it is offered.
type Method<A extends unknown[], R> = { value?: (...args: A) => Promise<R> };

function addMeta(symbol: symbol, target: object, key: string | symbol, meta: object): void {
  const list = Reflect.getMetadata(symbol, target, key) ?? [];
  Reflect.defineMetadata(symbol, [...list, meta], target, key);
}

/**
 * Marks a provider method as the handler of an event subject. The method's parameter type must
 * match the contract: a wrong subject/payload pairing fails to compile.
 */
export function OnEvent<S extends EventSubject>(subject: S, options: EventHandlerOptions = {}) {
  return (target: object, key: string | symbol, _descriptor: Method<[Delivered<S>], void>): void =>
    addMeta(EVENT_HANDLER, target, key, { ...options, subject } satisfies EventHandlerMeta);
}

/**
 * Like OnEvent, but receives up to `maxSize` events at once (in stream order), for batched writes.
 * `inFlight` (default 1) lets that many batches run at once: for handlers whose effects commute,
 * or, with `ordered`, over different partition keys only (each key's events stay in order).
 */
export function OnEvents<S extends EventSubject>(
  subject: S,
  batch: { maxSize?: number; maxWaitMs?: number; inFlight?: number; ordered?: boolean } = {},
  options: Omit<EventHandlerOptions, 'ordered' | 'concurrency'> = {},
) {
  return (target: object, key: string | symbol, _descriptor: Method<[Delivered<S>[]], void>): void =>
    addMeta(EVENT_HANDLER, target, key, {
      ...options,
      subject,
      batch: { maxSize: batch.maxSize ?? 500, maxWaitMs: batch.maxWaitMs ?? 20 },
      ...(batch.inFlight ? { concurrency: batch.inFlight } : {}),
      ...(batch.ordered ? { ordered: true } : {}),
    } satisfies EventHandlerMeta);
}

/** Marks a provider method as the responder of a request subject. */
export function OnRequest<S extends RequestSubject>(subject: S) {
  return (target: object, key: string | symbol, _descriptor: Method<[RequestMap[S], { workspaceId?: string }], ResponseMap[S]>): void =>
    addMeta(REQUEST_HANDLER, target, key, { subject });
}
