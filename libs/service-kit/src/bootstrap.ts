import { type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { loadConfigOrExit, type BaseConfig } from '@tessera/config';
import type { ServiceName } from '@tessera/contracts';
import { applyMigrations } from '@tessera/db';
import { createLogger, httpRequestDuration, type Logger } from '@tessera/observability';
import { SERVICE_PORTS } from './tokens';

export interface ServiceAppOptions {
  service: ServiceName;
  title: string;
  description: string;
  /** Largest request body accepted, in bytes (Fastify answers 413 beyond it). */
  bodyLimit?: number;
}

/**
 * Creates the HTTP side of a service on Fastify, with OpenAPI at /docs-json and a browsable UI at
 * /docs. Tests call this too, so they exercise the same app a user runs.
 */
export async function createServiceApp(module: DynamicModule | Type<unknown>, options: ServiceAppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 1024 * 1024, trustProxy: true });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { bufferLogs: true });
  app.useLogger(app.get(PinoNestLogger));
  app.enableShutdownHooks();
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', async (request, reply) => {
    httpRequestDuration.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle(options.title).setDescription(options.description).setVersion('1').addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A workspace API key' }).build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  await app.init();
  return app;
}

export interface RunServiceOptions<C extends BaseConfig> extends ServiceAppOptions {
  configClass: new () => C;
  /** Builds the service's root module from its validated config. */
  appModule: (config: C, logger: Logger) => DynamicModule;
  migrationsDir: string;
}

/** main.ts of every service: validate config, migrate, start HTTP and the bus, log where it listens. */
export async function runService<C extends BaseConfig>(options: RunServiceOptions<C>): Promise<INestApplication> {
  const config = loadConfigOrExit(options.configClass, { PORT: SERVICE_PORTS[options.service] } as Partial<Record<keyof C, unknown>>);
  const logger = createLogger({ service: options.service, level: config.LOG_LEVEL });
  if (config.MIGRATE_ON_START) {
    await applyMigrations({ databaseUrl: config.DATABASE_URL, schema: options.service, migrationsDir: options.migrationsDir, log: (entry) => logger.info(entry, 'migration applied') });
  }
  const app = await createServiceApp(options.appModule(config, logger), options);
  await app.listen(config.PORT, '0.0.0.0');
  logger.info({ port: config.PORT, docs: `http://127.0.0.1:${config.PORT}/docs` }, `${options.service} ready to serve`);
  return app;
}
