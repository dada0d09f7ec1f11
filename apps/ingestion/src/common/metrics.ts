import { Counter } from 'prom-client';
import { metricsRegistry } from '@tessera/observability';

export const eventsAccepted = new Counter({
  name: 'tessera_ingestion_events_accepted_total',
  help: 'Events accepted and stored in JetStream, by subject',
  labelNames: ['subject'] as const,
  registers: [metricsRegistry],
});

export const eventsRejected = new Counter({
  name: 'tessera_ingestion_events_rejected_total',
  help: 'Events refused (invalid, too large), by reason',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

export const eventsDuplicate = new Counter({
  name: 'tessera_ingestion_events_duplicate_total',
  help: 'Events dropped as repeats of an already accepted messageId',
  registers: [metricsRegistry],
});

export const webhookSignatureFailures = new Counter({
  name: 'tessera_ingestion_webhook_signature_failures_total',
  help: 'Inbound webhooks refused for a missing, wrong or stale signature, by provider',
  labelNames: ['provider'] as const,
  registers: [metricsRegistry],
});

export const rateLimited = new Counter({
  name: 'tessera_ingestion_rate_limited_total',
  help: 'Requests answered 429, by scope (source or workspace)',
  labelNames: ['scope'] as const,
  registers: [metricsRegistry],
});
