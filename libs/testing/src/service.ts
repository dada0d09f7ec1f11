import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, type BaseConfig } from '@tessera/config';
import type { ServiceName } from '@tessera/contracts';
import { createLogger, type Logger } from '@tessera/observability';
import { createServiceApp } from '@tessera/service-kit';
import { TEST_NATS_URL } from './bus';

export interface TestServiceOptions<C extends BaseConfig> {
  service: ServiceName;
  configClass: new () => C;
  appModule: (config: C, logger: Logger) => DynamicModule;
  /** The test file's own database (createTestDatabase) and bus namespace (testBusNamespace). */
  databaseUrl: string;
  namespace: string;
  env?: Record<string, string>;
}

export interface TestService<C> {
  app: NestFastifyApplication;
  config: C;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  close: () => Promise<void>;
}

/**
 * Boots a service exactly as main.ts does (same module, pipes, guards, filters) on a free port,
 * against the test file's own database and bus namespace.
 */
export async function startTestService<C extends BaseConfig>(options: TestServiceOptions<C>): Promise<TestService<C>> {
  const config = loadConfig(options.configClass, {
    PORT: '0',
    DATABASE_URL: options.databaseUrl,
    NATS_URL: TEST_NATS_URL,
    BUS_NAMESPACE: options.namespace,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MIGRATE_ON_START: 'false',
    ...options.env,
  });
  const logger = createLogger({ service: options.service, level: config.LOG_LEVEL });
  const app = await createServiceApp(options.appModule(config, logger), { service: options.service, title: options.service, description: 'test' });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, config, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}
