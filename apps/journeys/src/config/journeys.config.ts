import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { BaseConfig } from '@tessera/config';

export class JourneysConfig extends BaseConfig {
  /** Connections of the runtime's own pool (event handlers, timer workers, outbox writes). */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(100)
  JOURNEYS_DB_POOL_SIZE: number = 10;

  /** Timer workers per replica; each claims its own batch with SKIP LOCKED. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(16)
  JOURNEYS_TIMER_WORKERS: number = 2;
}
