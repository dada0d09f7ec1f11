// Imported first by main.ts: instrumentation must patch http and pg before they load.
import { initTracing } from '@tessera/observability';

initTracing({ serviceName: 'ingestion' });
