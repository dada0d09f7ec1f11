import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Collects every span of the test process (started by setup-tracing.ts before anything else loads). */
export const testSpanExporter = new InMemorySpanExporter();

/** Spans of one trace, for assertions that a request and its consumers share a trace. */
export function spansOfTrace(traceId: string): ReadableSpan[] {
  return testSpanExporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}
