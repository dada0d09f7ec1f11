import { context, propagation, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NestInstrumentation } from '@opentelemetry/instrumentation-nestjs-core';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, SimpleSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export interface TracingOptions {
  serviceName: string;
  /** Export spans here instead of OTLP (tests use an in-memory exporter). */
  exporter?: SpanExporter;
  /** Defaults to OTEL_EXPORTER_OTLP_ENDPOINT; without either, spans still get ids (for logs) but go nowhere. */
  otlpEndpoint?: string;
}

let sdk: NodeSDK | undefined;

/** Span attributes that can carry query strings, and with them personal data (lookup?email=...). */
const QUERY_ATTRIBUTES = ['url.query', 'http.target', 'url.full', 'http.url'];

/**
 * Redacts spans before they leave the process: query strings go (paths stay), so personal data in
 * URLs never reaches the tracing backend. Headers are never recorded at all (see HttpInstrumentation).
 */
export class RedactingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    for (const span of spans) {
      const attributes = span.attributes as Record<string, unknown>;
      for (const key of QUERY_ATTRIBUTES) {
        const value = attributes[key];
        if (typeof value !== 'string') continue;
        if (key === 'url.query') delete attributes[key];
        else attributes[key] = value.split('?')[0];
      }
    }
    this.inner.export(spans, done);
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * Starts OpenTelemetry. Must run before Nest, Fastify or pg are imported, so main.ts imports the
 * service's tracing file on its first line.
 */
export function initTracing(options: TracingOptions): () => Promise<void> {
  if (sdk) return () => Promise.resolve();
  // Metrics are served by prom-client at /metrics. Left unset, the SDK would also export OTLP metrics
  // (to localhost:4318) and record a histogram per HTTP request and per query: about 2% of the CPU of
  // a /v1/track call, for figures nobody collects. An operator's value wins.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  const endpoint = options.otlpEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const processors: SpanProcessor[] = [];
  if (options.exporter) processors.push(new SimpleSpanProcessor(new RedactingExporter(options.exporter)));
  else if (endpoint) processors.push(new BatchSpanProcessor(new RedactingExporter(new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` })), { scheduledDelayMillis: 500 }));
  sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    spanProcessors: processors,
    instrumentations: [
      // Never copy request headers into spans: they carry credentials.
      new HttpInstrumentation({ headersToSpanAttributes: { server: { requestHeaders: [] } } }),
      new NestInstrumentation(),
      // Queries outside any request or bus span (outbox relays, timer probes, pollers) would each be
      // a root trace of one span, several per second per service, and nobody follows them.
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
    ],
  });
  sdk.start();
  const started = sdk;
  return async () => {
    await started.shutdown();
    sdk = undefined;
  };
}

/** A string-keyed carrier that NATS headers can be copied to and from. */
export type TraceCarrier = Record<string, string>;

/** Writes the active trace context (traceparent, tracestate) into a carrier. */
export function injectTraceContext(carrier: TraceCarrier = {}, ctx: Context = context.active()): TraceCarrier {
  propagation.inject(ctx, carrier);
  return carrier;
}

/** Runs `fn` inside a span whose parent is the trace context found in `carrier`. */
export async function withSpanFromCarrier<T>(
  name: string,
  kind: SpanKind,
  carrier: TraceCarrier,
  attributes: Record<string, string | number | boolean>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), carrier);
  const tracer = trace.getTracer('@tessera/bus');
  return tracer.startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      const result = await fn(span);
      span.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Runs `fn` in a new active span (for producer-side work such as a publish). */
export async function withSpan<T>(name: string, kind: SpanKind, attributes: Record<string, string | number | boolean>, fn: (span: Span) => Promise<T>): Promise<T> {
  return withSpanFromCarrier(name, kind, injectTraceContext(), attributes, fn);
}

/** The ids of the active span, for log lines. */
export function activeTraceIds(): { trace_id: string; span_id: string } | Record<string, never> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

export { SpanKind };
