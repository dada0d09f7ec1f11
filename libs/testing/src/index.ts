export { TEMPLATE_PREFIX, templateDatabase, createTestDatabase, databaseUrl, serverUrl, type TestDatabase } from './db';
export { TEST_NATS_URL, deleteNamespaceStreams, testBusNamespace } from './bus';
export { spansOfTrace, testSpanExporter } from './tracing';
export { startTestService, type TestService, type TestServiceOptions } from './service';
export { freePort, startServiceProcess, type PlatformProcess } from './platform';
export { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver';
export { checkConformance, type ConformanceOptions, type ConformanceReport } from './conformance';
