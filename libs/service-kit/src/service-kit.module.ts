import { Global, Inject, Module, RequestMethod, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import type { Pool } from 'pg';
import { BusModule } from '@tessera/bus';
import type { BaseConfig } from '@tessera/config';
import type { ServiceName } from '@tessera/contracts';
import { createPool } from '@tessera/db';
import type { Logger } from '@tessera/observability';
import { ApiKeyGuard } from './auth/api-key.guard';
import { BusKeyVerifier, KEY_VERIFIER } from './auth/key-verifier';
import { HealthController } from './health/health.controller';
import { MetricsController } from './health/metrics.controller';
import { HttpErrorFilter } from './http/error.filter';
import { createValidationPipe } from './http/validation';
import { OutboxRelayService } from './outbox-relay.service';
import { PG_POOL, SERVICE_CONFIG, SERVICE_KIT_OPTIONS } from './tokens';

export interface ServiceKitOptions {
  service: ServiceName;
  config: BaseConfig;
  logger: Logger;
  /** The service's Prisma migrations folder (readiness checks that all are applied). */
  migrationsDir: string;
  /**
   * Paths whose requests are not logged one by one (the tracking API at thousands of requests a
   * second): the request logger costs more there than the request's own work.
   */
  unloggedPaths?: string[];
  /**
   * The service also writes whole batches of events to an `outbox_batch` table (the bus's batch
   * layout, outbox-batch.ts); the one relay drains it beside the `outbox` table.
   */
  outboxBatches?: boolean;
}

/**
 * Everything a Tessera service shares: JSON logs, the bus, a pg pool on its schema, the outbox
 * relay, API-key auth, validation with field paths, one error filter, health and metrics.
 */
@Global()
@Module({})
export class ServiceKitModule implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  static forRoot(options: ServiceKitOptions): DynamicModule {
    return {
      module: ServiceKitModule,
      imports: [
        LoggerModule.forRoot({
          exclude: (options.unloggedPaths ?? []).map((path) => ({ path, method: RequestMethod.ALL })),
          pinoHttp: {
            logger: options.logger,
            // Paths only: query strings can carry personal data (lookup?email=...).
            serializers: {
              req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url.split('?')[0] }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
            autoLogging: { ignore: (req: { url?: string }) => /^\/(health|metrics)/.test(req.url ?? '') },
          },
        }),
        BusModule.forRoot({ service: options.service, natsUrl: options.config.NATS_URL, namespace: options.config.BUS_NAMESPACE, replicas: options.config.BUS_STREAM_REPLICAS, logger: options.logger }),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_KIT_OPTIONS, useValue: options },
        { provide: SERVICE_CONFIG, useValue: options.config },
        { provide: PG_POOL, useFactory: (): Pool => createPool(options.config.DATABASE_URL, { schema: options.service, max: options.config.PG_POOL_MAX, application_name: options.service }) },
        { provide: KEY_VERIFIER, useClass: BusKeyVerifier },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        OutboxRelayService,
      ],
      exports: [PG_POOL, SERVICE_CONFIG, SERVICE_KIT_OPTIONS, KEY_VERIFIER, OutboxRelayService],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
