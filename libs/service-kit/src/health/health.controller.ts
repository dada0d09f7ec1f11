import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Pool } from 'pg';
import { EVENT_BUS, JetStreamBus } from '@tessera/bus';
import { pendingMigrations } from '@tessera/db';
import { Public } from '../auth/auth.decorators';
import type { ServiceKitOptions } from '../service-kit.module';
import { PG_POOL, SERVICE_KIT_OPTIONS } from '../tokens';

/**
 * Liveness says the process runs; readiness says it can do its job: Postgres and NATS answer and
 * every migration is applied. Kubernetes routes traffic only to ready pods.
 */
@ApiExcludeController()
@Public()
@Controller('health')
export class HealthController {
  private migrationsApplied = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(EVENT_BUS) private readonly bus: JetStreamBus,
    @Inject(SERVICE_KIT_OPTIONS) private readonly options: ServiceKitOptions,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.postgres(), () => this.nats(), () => this.migrations()]);
  }

  private async postgres(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('postgres');
    try {
      await this.pool.query('SELECT 1');
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }

  private async nats(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('nats');
    return this.bus.isConnected() ? indicator.up() : indicator.down({ message: 'not connected' });
  }

  private async migrations(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('migrations');
    if (this.migrationsApplied) return indicator.up();
    try {
      const pending = await pendingMigrations({ databaseUrl: this.options.config.DATABASE_URL, schema: this.options.service, migrationsDir: this.options.migrationsDir });
      // Once all are applied they stay applied for this process's code, so stop asking.
      this.migrationsApplied = pending.length === 0;
      return this.migrationsApplied ? indicator.up() : indicator.down({ pending });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
