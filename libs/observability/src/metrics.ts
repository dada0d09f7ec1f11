import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** One registry per process, served at /metrics by every service. */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

export const httpRequestDuration = new Histogram({
  name: 'tessera_http_request_duration_seconds',
  help: 'HTTP request duration by route and status code',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

export const busMessages = new Counter({
  name: 'tessera_bus_messages_total',
  help: 'Bus messages handled by this service, by subject and outcome (ack, retry, dead_letter)',
  labelNames: ['subject', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const busHandlerDuration = new Histogram({
  name: 'tessera_bus_handler_duration_seconds',
  help: 'Time spent in bus handlers, by subject',
  labelNames: ['subject'] as const,
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  registers: [metricsRegistry],
});

export const busPublished = new Counter({
  name: 'tessera_bus_published_total',
  help: 'Events published to JetStream, by subject',
  labelNames: ['subject'] as const,
  registers: [metricsRegistry],
});

export const outboxLag = new Histogram({
  name: 'tessera_outbox_lag_seconds',
  help: 'Time from an outbox row being written to its event being stored in JetStream',
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30],
  registers: [metricsRegistry],
});
