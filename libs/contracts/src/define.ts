import 'reflect-metadata';

/** The six services; a subject's first token names the one that owns it. */
export const SERVICES = ['crm', 'ingestion', 'segmentation', 'journeys', 'messaging', 'analytics'] as const;
export type ServiceName = (typeof SERVICES)[number];

type Class<T> = new () => T;

/** Builds an event subject `<service>.<entity>.<action>.v<N>` so wildcards such as `crm.contact.>` stay predictable. */
export function eventSubject<S extends ServiceName, E extends string, A extends string, V extends number>(
  service: S,
  entity: E,
  action: A,
  version: V,
): `${S}.${E}.${A}.v${V}` {
  return `${service}.${entity}.${action}.v${version}`;
}

/** Request/reply subjects live under `rpc.` so no JetStream stream captures them (a stream would answer with its ack). */
export function requestSubject<S extends ServiceName, E extends string, A extends string, V extends number>(
  service: S,
  entity: E,
  action: A,
  version: V,
): `rpc.${S}.${E}.${A}.v${V}` {
  return `rpc.${service}.${entity}.${action}.v${version}`;
}

export interface EventDefinition<S extends string = string, P extends object = object> {
  readonly kind: 'event';
  readonly subject: S;
  readonly version: number;
  readonly producer: ServiceName;
  readonly payload: Class<P>;
  readonly description: string;
  /** Which payload field keys per-entity ordering (consumers that ask for ordering serialise on it). */
  readonly partitionKey?: keyof P & string;
  /** Personal data that the payload may carry; logs and exports redact these fields. */
  readonly personalData?: readonly (keyof P & string)[];
}

export interface RequestDefinition<S extends string = string, Q extends object = object, R extends object = object> {
  readonly kind: 'request';
  readonly subject: S;
  readonly version: number;
  readonly responder: ServiceName;
  readonly request: Class<Q>;
  readonly response: Class<R>;
  readonly description: string;
}

export function defineEvent<const S extends string, P extends object>(
  def: Omit<EventDefinition<S, P>, 'kind' | 'version' | 'producer'>,
): EventDefinition<S, P> {
  const [producer, , , version] = def.subject.split('.');
  return { ...def, kind: 'event', producer: producer as ServiceName, version: Number(version?.slice(1)) };
}

export function defineRequest<const S extends string, Q extends object, R extends object>(
  def: Omit<RequestDefinition<S, Q, R>, 'kind' | 'version' | 'responder'>,
): RequestDefinition<S, Q, R> {
  const [, responder, , , version] = def.subject.split('.');
  return { ...def, kind: 'request', responder: responder as ServiceName, version: Number(version?.slice(1)) };
}
