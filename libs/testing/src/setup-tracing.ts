// Runs before each integration test file: tracing must be started before Nest, Fastify or pg load.
import { initTracing } from '@tessera/observability';
import { testSpanExporter } from './tracing';

initTracing({ serviceName: 'test', exporter: testSpanExporter });
