/** A pg.Pool bound to the service's schema: outbox relay, readiness, and raw hot-path SQL. */
export const PG_POOL = Symbol('PG_POOL');
/** The service's validated configuration object. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const SERVICE_KIT_OPTIONS = Symbol('SERVICE_KIT_OPTIONS');

/** Default HTTP ports, each overridable with PORT. */
export const SERVICE_PORTS = { crm: 3001, ingestion: 3002, segmentation: 3003, journeys: 3004, messaging: 3005, analytics: 3006 } as const;
